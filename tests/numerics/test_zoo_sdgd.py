"""`poisson-nd` and `allen-cahn-nd`: the closed-form source term is the Laplacian of the exact solution,
and the exact solution satisfies every condition through the problems' own residual functions.

Tolerances: everything is float64. The closed form and autograd compute the same second derivatives
by different roundings; the terms are O(d·|c|) (e.g. 2d·s with s = Σ c_i sin θ_i), so at d <= 100
rounding differences stay below ~1e-12 relative to the largest term, 1e-10 absolute is a safe bound,
and any wrong coefficient or sign in the derivation gives O(1).
"""


import numpy as np
import pytest
import torch

from physopt.problems import Ball, get, ops
from physopt.problems.zoo import allen_cahn_nd, poisson_nd, sdgd_coefficients, sdgd_exact, sdgd_laplacian

TOL = 1e-10


def _points(dim, n=256, seed=0):
    return Ball.unit(dim).sample_interior(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _autograd_laplacian(x, c):
    x = x.clone().requires_grad_(True)
    u = sdgd_exact(x, c)[:, None]
    return ops.laplacian(u, x)[:, 0].detach()


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_closed_form_laplacian_matches_autograd(dim):
    c = sdgd_coefficients(dim, seed=dim)
    x = _points(dim)
    closed = sdgd_laplacian(x, c)
    assert closed.abs().max().item() > 1e-1  # not trivially zero
    assert (closed - _autograd_laplacian(x, c)).abs().max().item() < TOL
    # numpy and torch evaluate the same formula.
    np.testing.assert_allclose(sdgd_laplacian(x.numpy(), c), closed.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(sdgd_exact(x.numpy(), c), sdgd_exact(x, c).numpy(), rtol=0, atol=1e-14)


def test_source_term_at_d_1000():
    # Its cost (O(n·d), no autograd) is measured in benchmarks/sdgd.py source, not asserted here.
    c = sdgd_coefficients(1000)
    x = _points(1000, n=1000)
    g = sdgd_laplacian(x, c)
    assert g.shape == (1000,) and torch.isfinite(g).all()
    # ... and still right: compare with autograd (d backward passes) on 2 points.
    assert (sdgd_laplacian(x[:2], c) - _autograd_laplacian(x[:2], c)).abs().max().item() < 1e-8


@pytest.mark.parametrize("factory", [poisson_nd, allen_cahn_nd])
@pytest.mark.parametrize("dim", [3, 5, 100])
def test_exact_solution_satisfies_every_condition(factory, dim):
    problem = factory(dim=dim)
    c = sdgd_coefficients(dim)
    model = lambda x: sdgd_exact(x, c)[:, None]  # noqa: E731
    gen = torch.Generator().manual_seed(1)
    for name, cond in problem.conditions.items():
        batch = cond.sample(problem.domain, 128, generator=gen, dtype=torch.float64)
        r = cond.residual(model, batch, {}).detach()
        assert r.abs().max().item() < TOL, f"{problem.name} d={dim}: {name} residual {r.abs().max().item():.2e}"
    # Not vacuous: a small perturbation is seen by the PDE residual.
    batch = problem.conditions["pde"].sample(problem.domain, 128, generator=gen, dtype=torch.float64)
    bumped = lambda x: model(x) + 1e-3 * torch.sin(x[:, :1] + 2 * x[:, 1:2])  # noqa: E731
    assert problem.conditions["pde"].residual(bumped, batch, {}).abs().max().item() > 1e-4


def test_allen_cahn_and_poisson_differ_by_the_reaction_term():
    x = _points(5, n=64)
    c = sdgd_coefficients(5)
    model = lambda x: sdgd_exact(x, c)[:, None] * 0.5  # noqa: E731
    batch = {"x": x}
    rp = poisson_nd(dim=5).conditions["pde"].residual(model, batch, {})
    ra = allen_cahn_nd(dim=5).conditions["pde"].residual(model, batch, {})
    u, ue = model(x), sdgd_exact(x, c)[:, None]
    torch.testing.assert_close(ra - rp, (u - u**3) - (ue - ue**3), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["poisson-nd", "allen-cahn-nd"])
def test_registry_defaults_and_reference(name):
    problem = get(name)
    assert problem.domain == Ball.unit(100) and problem.input_dim == 100
    assert problem.input_names[0] == "x1" and problem.input_names[-1] == "x100"
    ref = problem.reference
    assert ref.points.shape == (2000, 100) and ref.grid_shape == (2000,)
    assert (np.linalg.norm(ref.points, axis=1) < 1).all()
    np.testing.assert_array_equal(ref.values[:, 0], sdgd_exact(ref.points, sdgd_coefficients(100)))
    assert np.linalg.norm(ref.values) > 0
    # Reproducible: same coefficients and evaluation points on every build; the seed changes c.
    np.testing.assert_array_equal(get(name).reference.points, ref.points)
    assert not np.array_equal(sdgd_coefficients(100, seed=1), sdgd_coefficients(100))
    # The hard constraint u = (1 - ‖x‖²)·N vanishes on the sphere.
    xb, _ = problem.domain.sample_boundary(16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert problem.ansatz.distance(xb).abs().max().item() < 1e-13


def test_dimension_is_a_parameter():
    p = poisson_nd(dim=1000)
    assert p.input_dim == 1000 and p.reference.points.shape == (2000, 1000)
    with pytest.raises(ValueError):
        poisson_nd(dim=1)
