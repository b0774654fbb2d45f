"""physopt.linsolve: the Poisson matrix, IC(0), CG and DCDM against their definitions."""

from __future__ import annotations

import pytest
import torch

from physopt.linsolve import (
    DcdmTraining,
    DirectionNet,
    IncompleteCholesky,
    dcdm_solve,
    make_solver,
    poisson_apply,
    sample_residuals,
    train_direction_net,
)


def _dense(apply, n):
    eye = torch.eye(n * n, dtype=torch.float64)
    return torch.stack([apply(eye[k].reshape(n, n)).reshape(-1) for k in range(n * n)], dim=1)


def test_poisson_matrix_is_the_five_point_laplacian():
    n = 4
    a = _dense(poisson_apply, n)
    t = 2 * torch.eye(n, dtype=torch.float64) - torch.diag(torch.ones(n - 1, dtype=torch.float64), 1) \
        - torch.diag(torch.ones(n - 1, dtype=torch.float64), -1)
    expected = torch.kron(t, torch.eye(n, dtype=torch.float64)) + torch.kron(torch.eye(n, dtype=torch.float64), t)
    assert torch.equal(a, expected)


def test_incomplete_cholesky_matches_a_on_its_sparsity_and_is_symmetric():
    n = 6
    a = _dense(poisson_apply, n)
    minv = _dense(IncompleteCholesky(n).apply, n)
    m = torch.linalg.inv(minv)
    # IC(0)'s defining property: M = L Lᵀ equals A wherever A is nonzero (fill is dropped elsewhere);
    # 1e-12: inverting a 36 × 36 well-conditioned matrix costs a few ulp × cond.
    assert ((m - a) * (a != 0)).abs().max() < 1e-12
    assert (minv - minv.T).abs().max() < 1e-14
    assert (m - a).abs().max() > 1e-3  # and it is incomplete: the dropped fill is not zero


@pytest.mark.parametrize("name", ["cg", "ic-cg"])
def test_cg_solves_to_the_requested_tolerance(name):
    n = 24
    b = torch.rand(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = make_solver(name, n=n)(b, 1e-10, 2000)
    assert out.residual <= 1e-10 * 1.01  # the true residual, 1% for the recurrence's drift
    x = torch.linalg.solve(_dense(poisson_apply, n), b.reshape(-1)).reshape(n, n)
    assert torch.allclose(out.x, x, atol=1e-8, rtol=0)  # cond(A) ~ 300 at n = 24: 1e-10 · cond · |x|


def test_dcdm_with_the_exact_inverse_as_network_converges_in_one_step():
    # f = A⁻¹ gives d = A⁻¹ r̂, α = 1/‖r‖⁻¹: the first step is the exact solution.
    n = 8
    ainv = torch.linalg.inv(_dense(poisson_apply, n))

    class Exact(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

        def forward(self, r):
            return (ainv @ r.reshape(-1)).reshape(n, n)

    b = torch.rand(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = dcdm_solve(Exact(), b, rtol=1e-12, max_iter=5)
    assert out.iterations == 1 and out.residual < 1e-13


def test_dcdm_energy_never_increases():
    n = 16
    net = DirectionNet(channels=4, generator=torch.Generator().manual_seed(0)).double()
    b = torch.rand(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    # Each step is the energy minimiser on its A-orthogonalised direction: the energy
    # ½xᵀAx - bᵀx never increases, and r = b - A x is kept by the recurrence.
    energies = []
    for k in range(1, 6):
        x = dcdm_solve(net, b, rtol=1e-14, max_iter=k).x
        energies.append(float(0.5 * (x * poisson_apply(x)).sum() - (b * x).sum()))
    assert all(e2 <= e1 + 1e-12 for e1, e2 in zip(energies, energies[1:], strict=False))


def test_dcdm_with_all_directions_kept_terminates_within_n_steps_even_with_an_untrained_net():
    # A-orthogonal to every previous direction, DCDM is a conjugate-direction method: the error is
    # minimised over the span of the directions, so N = n² independent directions solve the system.
    # An untrained network's directions are poor, so only that structure can bring the residual down;
    # with keep=2 the same net is still far off after N steps (measured below), which makes this fail
    # if the full A-orthogonalisation is lost. 1e-8: N = 36 steps in float64 leave round-off ~1e-12.
    n = 6
    net = DirectionNet(channels=4, generator=torch.Generator().manual_seed(0)).double()
    b = torch.rand(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    full = dcdm_solve(net, b, rtol=1e-10, max_iter=n * n + 2)
    assert full.residual < 1e-8 and full.iterations <= n * n + 2
    two = dcdm_solve(net, b, rtol=1e-10, max_iter=n * n + 2, keep=2)
    assert two.residual > 1e3 * full.residual


def test_dcdm_rejects_a_negative_keep():
    with pytest.raises(ValueError, match="keep"):
        dcdm_solve(DirectionNet(channels=2), torch.ones(4, 4), rtol=1e-6, max_iter=5, keep=-1)


@pytest.mark.slow  # ~20 s on a loaded 2-core machine (150 training steps)
def test_training_reduces_the_residual_loss_and_the_iteration_count():
    gen = torch.Generator().manual_seed(0)
    net, losses = train_direction_net(DcdmTraining(sizes=(16,), steps=150, batch=8), generator=gen)
    assert losses[-1] < 0.2 * losses[0]  # measured ~1.0 -> ~0.02; a fivefold drop is far from noise
    b = sample_residuals(16, 1, generator=gen, dtype=torch.float64)[0]
    dcdm = make_solver("dcdm", n=16, net=net)(b, 1e-6, 200)
    cg = make_solver("cg", n=16)(b, 1e-6, 200)
    assert dcdm.residual <= 1e-6 and dcdm.iterations < cg.iterations


def test_make_solver_rejects_unknown_names_and_missing_networks():
    with pytest.raises(ValueError, match="one of cg, ic-cg, dcdm"):
        make_solver("gmres", n=4)
    with pytest.raises(ValueError, match="needs a trained direction network"):
        make_solver("dcdm", n=4)
    with pytest.raises(ValueError, match="sizes"):
        DcdmTraining(sizes=())
