"""Closed-form zoo references satisfy their own problem: PDE, boundary, initial and integral conditions.

The check goes through each problem's *own* condition objects (the residual functions that training
uses), with the closed form as the "model", evaluated by autograd in float64. A correct closed form
leaves only rounding: second derivatives of O(1)-amplitude trigonometric/exponential fields with
frequencies up to 8π give terms up to ~1e3, so rounding residuals are ~1e-13·1e3 = 1e-10 at worst;
a wrong coefficient anywhere gives O(1). Each test also shows the check is not vacuous: a 1e-3
perturbation of the solution raises the PDE residual far above the tolerance.
"""

import math

import numpy as np
import pytest
import torch

from physopt.problems import get
from physopt.problems.zoo import (
    QUANTUM_WELL_ENERGY,
    convection_exact,
    diffusion_reaction_exact,
    helmholtz2d_exact,
    kovasznay_exact,
    poisson1d_hf_exact,
    poisson2d_exact,
    poisson2d_multiscale_exact,
    quantum_well_exact,
    taylor_green_exact,
    wave_exact,
)

CLOSED_FORMS = {
    "poisson2d": poisson2d_exact,
    "helmholtz2d": helmholtz2d_exact,
    "convection": lambda p: convection_exact(p, beta=30.0),
    "convection-50": lambda p: convection_exact(p, beta=50.0),
    "diffusion-reaction": diffusion_reaction_exact,
    "wave": wave_exact,
    "quantum-well": quantum_well_exact,
    "kovasznay": kovasznay_exact,
    "poisson1d-hf": poisson1d_hf_exact,
    "poisson2d-multiscale": poisson2d_multiscale_exact,
    "taylor-green": taylor_green_exact,
}
# Exact values of trainable scalars (the eigenvalue of the well).
EXACT_TRAINABLE = {"quantum-well": {"E": QUANTUM_WELL_ENERGY}}
TOL = 1e-10


def _model(fn):
    def model(x: torch.Tensor) -> torch.Tensor:
        u = fn(x)
        return u[:, None] if u.ndim == 1 else u

    return model


def _params(name, problem):
    params = {k: torch.tensor(v, dtype=torch.float64) for k, v in problem.params.items()}
    trainable = EXACT_TRAINABLE.get(name, {})
    assert set(trainable) == set(problem.trainable)
    params.update({k: torch.tensor(v, dtype=torch.float64) for k, v in trainable.items()})
    return params


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_reference_is_the_closed_form(name):
    problem = get(name)
    ref = problem.reference
    exact = np.asarray(CLOSED_FORMS[name](ref.points))
    exact = exact[:, None] if exact.ndim == 1 else exact
    assert ref.values.shape == (ref.points.shape[0], problem.output_dim)
    np.testing.assert_array_equal(ref.values, exact)
    # The same formula through torch gives the same numbers (the residual tests below use torch).
    via_torch = _model(CLOSED_FORMS[name])(torch.as_tensor(ref.points)).numpy()
    np.testing.assert_allclose(via_torch, exact, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_closed_form_satisfies_every_condition(name):
    problem = get(name)
    params = _params(name, problem)
    model = _model(CLOSED_FORMS[name])
    gen = torch.Generator().manual_seed(0)
    for cname, cond in problem.conditions.items():
        batch = cond.sample(problem.domain, 512, generator=gen, dtype=torch.float64)
        r = cond.residual(model, batch, params).detach()
        assert r.abs().max().item() < TOL, f"{name}: condition {cname!r} residual {r.abs().max().item():.2e}"


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_residual_check_is_not_vacuous(name):
    problem = get(name)
    params = _params(name, problem)
    exact = _model(CLOSED_FORMS[name])

    def perturbed(x):
        bump = 1e-3 * torch.sin(2.0 * x[:, :1] + 1.0) * torch.cos(3.0 * x[:, -1:])
        return exact(x) + bump

    gen = torch.Generator().manual_seed(1)
    batch = problem.conditions["pde"].sample(problem.domain, 512, generator=gen, dtype=torch.float64)
    r = problem.conditions["pde"].residual(perturbed, batch, params).detach()
    assert r.abs().max().item() > 1e-4


def test_quantum_well_energy_is_the_eigenvalue_and_others_are_not():
    problem = get("quantum-well")
    gen = torch.Generator().manual_seed(0)
    batch = problem.conditions["pde"].sample(problem.domain, 256, generator=gen, dtype=torch.float64)
    for energy in (QUANTUM_WELL_ENERGY * 1.01, 4 * QUANTUM_WELL_ENERGY):
        r = problem.conditions["pde"].residual(_model(quantum_well_exact), batch, {"E": torch.tensor(energy)})
        assert r.abs().max().item() > 1e-2
    # Excited states also satisfy pde, bc and norm (and `sign` when ∫ψ >= 0): the ground state is
    # selected by the initial guess of E, the variational upper bound 10 (see the module docstring).
    assert problem.trainable == {"E": 10.0}
    assert QUANTUM_WELL_ENERGY < 10.0 < 4 * QUANTUM_WELL_ENERGY


def test_kovasznay_lambda_and_divergence_free():
    # λ = Re/2 - sqrt(Re²/4 + 4π²) for Re = 20: the value quoted by DeepXDE's example.
    from physopt.problems.zoo._kovasznay import kovasznay_lambda

    assert kovasznay_lambda(20.0) == pytest.approx(10 - math.sqrt(100 + 4 * math.pi**2), rel=1e-15)
    assert kovasznay_lambda(20.0) == pytest.approx(-1.8101, abs=1e-4)
