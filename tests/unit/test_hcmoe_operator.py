"""PI-HC-MoE on an FNO backbone against its definition: the grid operator is the darcy family's matrix, the
batched ridge equals the PINN version's solve, each expert's function satisfies the PDE on its block, the
global constraint (one expert, enough basis functions) solves the discrete PDE, u = 0 on the boundary."""

import numpy as np
import pytest
import torch

from physopt.config import build_learn, resolve_learn
from physopt.models import OPERATORS, OperatorShape, expert_coefficients
from physopt.models._hcmoe import HardConstrainedOperator, batched_ridge, darcy_operator
from physopt.operators._darcy import node_faces, solve_darcy

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _coefficient(n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.as_tensor(np.where(rng.normal(size=(n, n)) > 0, 12.0, 3.0))


def test_darcy_operator_is_the_family_matrix():
    a = _coefficient(10, 0)
    u = solve_darcy(*node_faces(a.numpy()))  # the family's five-point solve with two-node harmonic faces
    lu = darcy_operator(a[None], torch.as_tensor(u)[None, None])
    torch.testing.assert_close(lu, torch.ones_like(lu), rtol=0, atol=1e-10)  # sparse LU round-off, times 1/h²


@pytest.mark.parametrize(("rows", "cols"), [(12, 5), (4, 9)])
def test_batched_ridge_is_the_pinn_experts_solve(rows, cols):
    a = torch.randn(3, rows, cols, generator=_gen(1), dtype=F64)
    f = torch.randn(3, rows, generator=_gen(2), dtype=F64)
    got = batched_ridge(a, f, ridge=1e-6)
    for i in range(3):
        torch.testing.assert_close(got[i], expert_coefficients(a[i], f[i], ridge=1e-6), rtol=1e-8, atol=1e-10)


def _model(experts: int, basis: int, n: int = 8) -> HardConstrainedOperator:
    spec = OPERATORS["hc-moe"]  # projection > basis: the basis functions are not confined to a small span
    return spec.factory(spec.config(modes=3, width=8, projection=64, basis=basis, experts=experts, ridge=1e-12),
                        shape=OperatorShape(1, 1, (n, n), False), generator=_gen(), dtype=F64)


def test_each_expert_satisfies_the_pde_on_its_block_and_u_vanishes_on_the_boundary():
    net = _model(experts=3, basis=12)  # 6x6 interior, 3x3 experts of 2x2 nodes: 4 rows, 12 unknowns each
    a = _coefficient(8, 1)[None, None]
    basis, omega = net.coefficients(a)
    for k in range(9):
        u_k = torch.einsum("n,n...->...", omega[0, k], basis[0])[None, None]  # expert k's function everywhere
        lu = net.blocks(darcy_operator(a[:, 0], u_k))[0, k, 0]
        torch.testing.assert_close(lu, torch.ones_like(lu), rtol=0, atol=1e-6)  # ridge 1e-12 relative, 4 rows
    u = net(a)
    assert u.shape == (1, 1, 8, 8)
    edge = torch.cat([u[0, 0, 0], u[0, 0, -1], u[0, 0, :, 0], u[0, 0, :, -1]])
    assert torch.equal(edge, torch.zeros_like(edge))


def test_one_expert_with_enough_basis_functions_solves_the_discrete_pde():
    net = _model(experts=1, basis=40)  # 36 interior nodes <= 40 basis functions: the constraint is exact
    a = _coefficient(8, 2)
    u = net(a[None, None])
    want = torch.as_tensor(solve_darcy(*node_faces(a.numpy())))
    torch.testing.assert_close(u[0, 0], want, rtol=0, atol=1e-6 * float(want.abs().max()))  # ridge 1e-12


def test_hcmoe_through_learn_predicts_physical_units_and_checks_its_experts():
    sets = ["data.n_train=4", "data.n_val=1", "data.n_test=1", "data.resolution=16", "model.kind=hc-moe",
            "model.modes=3", "model.width=8", "model.projection=8", "model.lifting=0", "model.mlp=0",
            "model.experts=2", "epochs=1"]
    b = build_learn(resolve_learn("darcy", overrides=sets))
    assert isinstance(b.model, HardConstrainedOperator)  # not wrapped in Normalized: the PDE needs physical a, u
    with pytest.raises(Exception, match="experts must be a positive int dividing the 14"):
        build_learn(resolve_learn("darcy", overrides=[*sets, "model.experts=3"]))
