"""Walk on Spheres against closed forms, with tolerances from the Monte Carlo standard error.

With boundary data g equal to the exact solution (defined off the boundary too), the ε-stopped
estimate is exactly unbiased (u(X_K) + the source sum is a martingale ending at the stopping
point), so the only error is Monte Carlo noise: each estimate is the mean of W = 4000 i.i.d. walks,
approximately normal with the reported standard error σ̂/√W. Over n points, max |z| stays below 4.5
with probability > 1 - n·7e-6 (normal tail); the generator is seeded, so the test is deterministic,
but a wrong estimator (e.g. a Green's-function constant off by 2) gives |z| in the hundreds.
"""

import math

import pytest
import torch

from physopt.problems import Ball, Disk, Polygon, Rectangle, walk_on_spheres

Z_MAX = 4.5
WALKS = 4000


def _z(domain, points, exact, source, seed=0, epsilon=1e-4):
    mean, se = walk_on_spheres(points, distance=domain.distance_to_boundary, boundary=exact, source=source,
                               walks=WALKS, epsilon=epsilon, generator=torch.Generator().manual_seed(seed))
    assert (se > 0).all()
    return ((mean - exact(points)) / se).abs().max().item(), se


def _inside(domain, n, shrink, seed=1):
    return domain.sample_interior(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * shrink


def test_laplace_on_a_disk_with_harmonic_boundary_data():
    disk = Disk((0.0, 0.0), 1.0)
    points = _inside(disk, 16, 0.95)
    z, _ = _z(disk, points, lambda p: p[:, 0] ** 3 - 3 * p[:, 0] * p[:, 1] ** 2, None)  # Re z³
    assert z < Z_MAX


def test_poisson_on_the_square():
    square = Rectangle((0.0, 0.0), (1.0, 1.0))
    u = lambda p: torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])  # noqa: E731
    # Points in [0.1, 0.9]²: right at the boundary the mean rests on rare long walks and the sample
    # standard error of a few thousand walks underestimates the spread (see the integration test).
    z, se = _z(square, 0.1 + _inside(square, 16, 0.8), u, lambda p: 2 * math.pi**2 * u(p))
    assert z < Z_MAX
    assert se.max() < 0.02  # the importance-sampled source keeps the noise at O(1/√W)


@pytest.mark.parametrize("d", [1, 3, 4])
def test_poisson_in_a_ball_in_d_dimensions(d):
    # u = Σ x_i² + x_0: -Δu = -2d; exercises the 1-D, rejection (d >= 3) radius samplers.
    ball = Ball.unit(d)
    u = lambda p: (p**2).sum(1) + p[:, 0]  # noqa: E731
    z, _ = _z(ball, _inside(ball, 5, 0.9), u, lambda p: torch.full((p.shape[0],), -2.0 * d, dtype=p.dtype))
    assert z < Z_MAX


def test_laplace_on_a_non_convex_polygon():
    # L-shape, harmonic data u = x² - y² + xy: unbiased whatever the shape.
    poly = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])
    points = torch.tensor([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [-0.1, -0.1]], dtype=torch.float64)
    z, _ = _z(poly, points, lambda p: p[:, 0] ** 2 - p[:, 1] ** 2 + p[:, 0] * p[:, 1], None)
    assert z < Z_MAX


def test_same_generator_same_estimates_and_bad_input():
    disk = Disk((0.0, 0.0), 1.0)
    pts = _inside(disk, 3, 0.5)
    kw = dict(distance=disk.distance_to_boundary, boundary=lambda p: p[:, 0], walks=10)
    a = walk_on_spheres(pts, generator=torch.Generator().manual_seed(4), **kw)
    b = walk_on_spheres(pts, generator=torch.Generator().manual_seed(4), **kw)
    assert torch.equal(a[0], b[0])
    with pytest.raises(ValueError, match="walks >= 2"):
        walk_on_spheres(pts, distance=disk.distance_to_boundary, boundary=lambda p: p[:, 0], walks=1,
                        generator=torch.Generator())
    with pytest.raises(ValueError, match="epsilon"):
        walk_on_spheres(pts, epsilon=0.0, generator=torch.Generator(), **kw)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        walk_on_spheres(pts[0], generator=torch.Generator(), **kw)


@pytest.mark.parametrize(
    ("domain", "point", "expected"),
    [(Rectangle((0, 0), (1, 2)), [0.2, 1.5], 0.2), (Disk((1.0, 0.0), 2.0), [1.5, 0.0], 1.5),
     (Ball.unit(3), [0.0, 0.6, 0.0], 0.4), (Polygon([(0, 0), (2, 0), (0, 2)]), [0.5, 0.5], 0.5)],
)
def test_distance_to_boundary(domain, point, expected):
    d = domain.distance_to_boundary(torch.tensor([point], dtype=torch.float64))
    assert d.shape == (1,) and abs(d.item() - expected) < 1e-12  # exact geometry, rounding only
