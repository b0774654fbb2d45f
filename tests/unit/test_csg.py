"""Boolean combinations of domains: sampling, normals, measures, distance, device."""

from __future__ import annotations

import math

import pytest
import torch
from test_device_audit import _Audit

from physopt.problems import Ball, Box, Difference, Disk, Intersection, Polygon, Rectangle, Union

F64 = torch.float64
N = 4000


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _binomial_ok(count: int, n: int, p: float) -> bool:
    # 5 standard deviations: a false alarm about once in 3 million runs; seeds are fixed anyway.
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))


ANNULUS = Disk((0.2, -0.1), 1.0) - Disk((0.2, -0.1), 0.5)
HOLES = [Disk((sx * 0.3, sy * 0.3), 0.1) for sx in (1, -1) for sy in (1, -1)]
PLATE = Difference(Rectangle((-0.5, -0.5), (0.5, 0.5)), *HOLES)


def test_annulus_interior_is_uniform_and_inside():
    x = ANNULUS.sample_interior(N, generator=_gen(), dtype=F64)
    r = (x - torch.tensor([0.2, -0.1], dtype=F64)).norm(dim=1)
    assert ANNULUS.contains(x).all() and (r >= 0.5).all() and (r <= 1.0).all()
    # Uniform in area: P(r < 0.75) = (0.75² - 0.5²) / (1 - 0.5²).
    assert _binomial_ok(int((r < 0.75).sum()), N, (0.75**2 - 0.25) / 0.75)


def test_annulus_boundary_points_and_analytic_normals():
    x, n = ANNULUS.sample_boundary(N, generator=_gen(), dtype=F64)
    rel = x - torch.tensor([0.2, -0.1], dtype=F64)
    r = rel.norm(dim=1)
    outer = (r - 1.0).abs() < 1e-12
    inner = (r - 0.5).abs() < 1e-12
    assert (outer | inner).all()  # every point on one of the circles (to round-off)
    torch.testing.assert_close(n.norm(dim=1), torch.ones(N, dtype=F64), rtol=0, atol=1e-14)
    torch.testing.assert_close(n[outer], rel[outer] / r[outer, None], rtol=0, atol=1e-12)  # away from the centre
    torch.testing.assert_close(n[inner], -rel[inner] / r[inner, None], rtol=0, atol=1e-12)  # into the hole
    # Uniform in arc length: the outer circle carries 2π / (2π + π) = 2/3 of the points.
    assert _binomial_ok(int(outer.sum()), N, 2 / 3)


def test_plate_with_holes_boundary_and_normals():
    x, n = PLATE.sample_boundary(N, generator=_gen(1), dtype=F64)
    assert PLATE.contains(x).all()
    on_square = (x.abs() >= 0.5 - 1e-12).any(dim=1)
    square_normals = torch.where(x.abs() >= 0.5 - 1e-12, torch.sign(x), torch.zeros_like(x))
    torch.testing.assert_close(n[on_square], square_normals[on_square], rtol=0, atol=0)
    centres = torch.tensor([h.center for h in HOLES], dtype=F64)
    gap = (x[:, None, :] - centres[None]).norm(dim=2)  # (N, 4)
    hole = gap.argmin(dim=1)
    rest = ~on_square
    assert ((gap[rest, hole[rest]] - 0.1).abs() < 1e-12).all()
    expected = -(x[rest] - centres[hole[rest]]) / 0.1
    torch.testing.assert_close(n[rest], expected, rtol=0, atol=1e-12)
    perimeter = 4.0 + 4 * 2 * math.pi * 0.1
    assert _binomial_ok(int(on_square.sum()), N, 4.0 / perimeter)
    for k in range(4):  # each hole gets its share
        assert _binomial_ok(int((rest & (hole == k)).sum()), N, 0.2 * math.pi / perimeter)


def _lens_area(r: float, d: float) -> float:
    """Area of the intersection of two disks of radius r whose centres are d apart."""
    return 2 * r * r * math.acos(d / (2 * r)) - 0.5 * d * math.sqrt(4 * r * r - d * d)


CASES = [  # (domain, closed-form area, closed-form boundary length)
    (ANNULUS, math.pi * 0.75, 3 * math.pi),
    (PLATE, 1.0 - 4 * math.pi * 0.01, 4.0 + 0.8 * math.pi),
    (Disk((0, 0), 1) | Disk((1, 0), 1), 2 * math.pi - _lens_area(1, 1), 2 * (2 * math.pi - 2 * math.pi / 3)),
    (Disk((0, 0), 1) & Disk((1, 0), 1), _lens_area(1, 1), 2 * (2 * math.pi / 3)),
    # Two unit squares sharing an edge: the shared edge is not boundary.
    (Rectangle((0, 0), (1, 1)) | Rectangle((1, 0), (2, 1)), 2.0, 6.0),
    (Box((0, 0, 0), (1, 1, 1)) - Ball((0.5, 0.5, 0.5), 0.25), 1 - 4 / 3 * math.pi * 0.25**3, 6 + 4 * math.pi / 16),
    (Polygon([(0, 0), (2, 0), (2, 2), (0, 2)]) - Rectangle((1, 1), (3, 3)), 3.0, 8.0),
]


@pytest.mark.parametrize(("domain", "area", "length"), CASES)
def test_measure_and_boundary_measure_match_closed_forms(domain, area, length):
    # measure: 2^16 scrambled Sobol points (error ≲ 3e-4 here); boundary: 2^16 points per leaf,
    # binomial relative error ≤ 1/sqrt(2^16·p) ≈ 0.5 % for the smallest kept fraction p ≈ 1/3.
    assert domain.measure == pytest.approx(area, rel=2e-3)
    assert domain.boundary_measure == pytest.approx(length, rel=1.5e-2)


@pytest.mark.parametrize(("domain", "area", "length"), CASES)
def test_boundary_points_lie_on_the_boundary_with_outward_unit_normals(domain, area, length):
    x, n = domain.sample_boundary(2000, generator=_gen(2), dtype=F64)
    torch.testing.assert_close(n.norm(dim=1), torch.ones(2000, dtype=F64), rtol=0, atol=1e-14)
    assert domain.signed_distance(x).abs().max() < 1e-12
    h = 1e-4  # features are ≥ 0.1 wide; points within h of a corner are a fraction ~1e-3
    outward_ok = ~domain.contains(x + h * n) & domain.contains(x - h * n)
    assert outward_ok.double().mean() > 0.99


def test_r_function_distance_vanishes_on_the_boundary_and_is_positive_inside():
    xb, nb = PLATE.sample_boundary(500, generator=_gen(3), dtype=F64)
    assert PLATE.ansatz_distance(xb).abs().max() < 1e-14
    xi = PLATE.sample_interior(500, generator=_gen(3), dtype=F64)
    assert (PLATE.ansatz_distance(xi) > 0).all()
    # Normalised to first order: the inward normal derivative is 1 away from corners.
    x = xb.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(PLATE.ansatz_distance(x).sum(), x)
    torch.testing.assert_close((g * -nb).sum(dim=1), torch.ones(500, dtype=F64), rtol=0, atol=1e-9)


def test_hard_ansatz_with_the_combination_distance():
    from physopt.problems import Dirichlet, Problem, Residual, distance_ansatz, ops

    problem = Problem(name="annulus", domain=ANNULUS, input_names=("x", "y"), output_names=("u",),
                      conditions={"pde": Residual(lambda x, u, p: ops.laplacian(u, x)), "bc": Dirichlet(2.0)})
    ansatz = distance_ansatz(problem, distance=ANNULUS.ansatz_distance)
    xb, _ = ANNULUS.sample_boundary(100, generator=_gen(4), dtype=F64)
    assert ansatz.distance(xb).abs().max() < 1e-14


def test_outputs_are_made_on_the_generator_device():
    # No GPU here: a function mode records every tensor factory called without a device.
    gen = _gen()
    with _Audit() as audit:
        for domain, _, _ in CASES:
            x = domain.sample_interior(50, generator=gen, dtype=F64)
            xb, nb = domain.sample_boundary(50, generator=gen, dtype=F64)
            assert x.device == xb.device == nb.device == gen.device
            domain.ansatz_distance(x), domain.signed_distance(x)
    assert not audit.missing, audit.missing


@pytest.mark.gpu
def test_sampling_on_an_accelerator_stays_there():
    devices = (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])
    if not devices:
        pytest.skip("no CUDA or MPS device on this machine")
    for device in devices:
        gen = torch.Generator(device=device).manual_seed(0)
        dtype = torch.float32 if device == "mps" else F64  # MPS has no float64
        x = PLATE.sample_interior(200, generator=gen, dtype=dtype)
        xb, nb = PLATE.sample_boundary(200, generator=gen, dtype=dtype)
        assert x.device.type == xb.device.type == nb.device.type == device
        assert PLATE.contains(x).all() and PLATE.contains(xb).all()


def test_float32_sampling_keeps_the_dtype():
    x, n = PLATE.sample_boundary(100, generator=_gen(), dtype=torch.float32)
    assert x.dtype == n.dtype == torch.float32 and PLATE.contains(x).all()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Union(Disk((0, 0), 1)), "at least 2"),
        (lambda: Union(Disk((0, 0), 1), Box((0, 0, 0), (1, 1, 1))), "one dimension"),
        (lambda: Intersection(Disk((0, 0), 1), Disk((5, 0), 1)), "empty"),
        (lambda: Difference(Disk((0, 0), 1), "hole"), "spatial domains"),
    ],
)
def test_bad_combinations_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_docs_geometry_example_runs():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "problems.md").read_text()
    block = doc.split("## Geometry: Boolean combinations", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "docs/problems.md:geometry", "exec"), {})  # noqa: S102 - the block asserts what it shows
