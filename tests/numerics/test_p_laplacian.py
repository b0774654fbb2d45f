"""p-Laplacian and the Energy condition: the exact solution satisfies the strong form, minimises the
energy, and the Monte Carlo energy estimates the integral.

Tolerances: float64. The closed-form source and the autograd divergence evaluate the same
derivatives by different roundings; terms are O(π⁴ · 4) ≈ 400 for p = 4, so 1e-9 absolute is ~1e-12
relative, while a wrong coefficient in f gives O(1) or more.
"""

import math

import pytest
import torch

from physopt.problems import Energy, Rectangle, get
from physopt.problems.zoo import p_laplacian_source, poisson2d_exact

TOL = 1e-9


def _exact_model(x):
    return poisson2d_exact(x)[:, None]


def _points(n=400, seed=0):
    # Away from nothing in particular: uniform in the square, including near the critical point.
    return Rectangle((0, 0), (1, 1)).sample_interior(
        n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


@pytest.mark.parametrize("p", [2.0, 3.0, 4.0, 6.0])
def test_strong_form_residual_vanishes_at_the_exact_solution(p):
    problem = get("p-laplacian", p=p)
    batch = {"x": _points()}
    r = problem.conditions["pde"].residual(_exact_model, batch, {})
    assert r.shape == (400, 1) and r.abs().max().item() < TOL
    # The energy's own Euler–Lagrange residual is the same operator.
    e = problem.energy.residual(_exact_model, batch, {})
    assert e.abs().max().item() < TOL
    # Not vacuous: the source is large and a perturbed solution has an O(1) residual.
    assert p_laplacian_source(batch["x"], p).abs().max() > 10
    wrong = problem.conditions["pde"].residual(lambda x: 1.1 * _exact_model(x), batch, {})
    assert wrong.abs().max().item() > 1.0


def test_p2_source_is_the_poisson_source():
    x = _points()
    assert torch.allclose(p_laplacian_source(x, 2.0), 2 * math.pi**2 * poisson2d_exact(x), rtol=0, atol=TOL)


def test_exact_solution_minimises_the_energy():
    problem = get("p-laplacian", p=4.0)
    batch = problem.energy.sample(problem.domain, 20000, generator=torch.Generator().manual_seed(1),
                                  dtype=torch.float64)
    e0 = problem.energy.energy(_exact_model, batch, {}).item()
    bump = lambda x: (x[:, 0] * (1 - x[:, 0]) * x[:, 1] * (1 - x[:, 1]) * torch.exp(x[:, 0]))[:, None]  # noqa: E731
    # The bump is at most ~0.1, so these perturbations change u by up to ~10%. Smaller ones are not
    # tested: E(u* + εφ) - E(u*) = O(ε²) only for the exact integral; the Monte Carlo estimate adds a
    # first-order term ε·(quadrature error of the weak form), which wins below ε ≈ 0.1 at n = 20000.
    for eps in (1.0, -1.0, 0.3, -0.3):
        assert problem.energy.energy(lambda x, e=eps: _exact_model(x) + e * bump(x), batch, {}).item() > e0


def test_poisson_energy_estimate_matches_the_integral():
    # E(u*) = ½∫|∇u|² - ∫f u = π²/4 - π²/2 = -π²/4 for u* = sin(πx) sin(πy).
    energy = get("poisson2d").energy
    batch = energy.sample(Rectangle((0, 0), (1, 1)), 40000, generator=torch.Generator().manual_seed(2),
                          dtype=torch.float64)
    est = energy.energy(_exact_model, batch, {}).item()
    # The density ranges over ~[-20, 5] with std ≈ 6: the MC standard error at n = 40000 is ~0.03;
    # 0.15 is 5 standard errors.
    assert abs(est - (-(math.pi**2) / 4)) < 0.15


def test_energy_rejects_bad_exponent_and_space_time():
    with pytest.raises(ValueError, match="p >= 2"):
        Energy(source=1.0, p=1.5)
    with pytest.raises(ValueError, match="p >= 2"):
        get("p-laplacian", p=1.0)
    with pytest.raises(ValueError, match="space-time"):
        Energy(source=1.0).sample(get("burgers").domain, 4, generator=torch.Generator(), dtype=torch.float64)
