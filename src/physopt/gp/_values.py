"""How GP-HM updates the grid values ``U``: with Adam (the paper) or by solving for them.

The GP-HM objective (:meth:`physopt.gp.GPHM.objective`) is quadratic in ``U`` once the kernel
hyper-parameters and the precisions ``θ`` are fixed:

    L(U, θ) = ½ Uᵀ K⁻¹ U + ½ λ_b τ_b ‖M (U - g)‖² + ½ τ_r ‖A U - f‖² + (terms in θ only),

with ``M`` the boundary mask and ``A = Σ_d a_d (I ⊗ … ⊗ K_d'' K_d⁻¹ ⊗ … ⊗ I) + c I`` the PDE
operator on the grid. Fang et al. (2024) run Adam on ``U`` and ``θ`` together
(:attr:`ValuesUpdate.ADAM`). On a multi-scale solution that stalls: the residual's Hessian in ``U``
is ``τ_r AᵀA``, whose eigenvalues grow like ω⁴, so on u = sin(100x) + sin(x) the two modes' curvatures
differ by 10⁸ and Adam's per-node step resolves the high mode long before it moves the low one
(measured: the error stays at 0.707, the missing sin x, through 1000 steps; docs/methods.md).

:attr:`ValuesUpdate.SOLVE` removes ``U`` from the optimiser: before every Adam step on ``θ`` it sets
``U`` to the exact minimiser of ``L(·, θ)``, the solution of the normal equations

    (K⁻¹ + λ_b τ_b M + τ_r AᵀA) U = λ_b τ_b M g + τ_r Aᵀ f,

so Adam descends the profiled objective ``L(U*(θ), θ)`` (at ``U*`` the gradient in ``U`` vanishes, so
the gradient in ``θ`` with ``U`` held at ``U*`` is the profiled objective's gradient). Decided here: the
system is formed densely (``N × N``, ``N`` the number of grid nodes) and solved by Cholesky, so it is
offered up to :data:`MAX_DENSE_NODES` nodes (1-D grids, small 2-D ones); larger grids raise
``ValueError`` and keep the paper's Adam.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import torch

from ._kron import kron_dense

if TYPE_CHECKING:
    from ._gphm import GPHM, GridPDE

__all__ = ["MAX_DENSE_NODES", "VALUES_RULES", "ValuesRule", "ValuesUpdate", "solve_values"]

# 2500 nodes: each dense N × N float64 matrix is 50 MB and the solve ~5 GFLOP, about a second per step
# on one core; a 400-node 1-D grid costs ~2 ms.
MAX_DENSE_NODES = 2500


class ValuesUpdate(Enum):
    """Who updates the grid values ``U`` in :func:`physopt.gp.gphm_fit`."""

    ADAM = "adam"
    SOLVE = "solve"


@dataclass(frozen=True)
class ValuesRule:
    """One way of updating ``U``: whether Adam owns it, and what runs before each Adam step."""

    adam_owns_values: bool
    before_step: Callable[[GPHM, GridPDE, float], None] | None


def _operator(model: GPHM, pde: GridPDE, inverses: list[torch.Tensor]) -> torch.Tensor:
    """The dense grid operator ``A`` (N × N) of ``Σ_d a_d ∂²/∂x_d² + c``."""
    shape = pde.shape
    n = math.prod(shape)
    ref = model.values
    a = pde.zeroth * torch.eye(n, dtype=ref.dtype, device=ref.device)
    for d, a_d in enumerate(pde.second):
        if a_d == 0.0:
            continue
        factors = [torch.eye(m, dtype=ref.dtype, device=ref.device) for m in shape]
        factors[d] = model.grid_matrix(d, derivative=2) @ inverses[d]
        a = a + a_d * kron_dense(factors)
    return a


def solve_values(model: GPHM, pde: GridPDE, boundary_weight: float) -> None:
    """Set ``model.values`` to the minimiser of the objective in ``U`` at the current ``θ`` (no grad)."""
    n = model.values.numel()
    if n > MAX_DENSE_NODES:
        raise ValueError(f"gp-hm values = 'solve' forms the dense {n} x {n} system of a {pde.shape} grid; "
                         f"it allows at most {MAX_DENSE_NODES} nodes (use values = 'adam')")
    with torch.no_grad():
        cov = model.covariance()
        inverses = [torch.cholesky_inverse(low) for low in cov.cholesky]
        a = _operator(model, pde, inverses)
        mask = pde.boundary_mask().reshape(-1).to(a.dtype)
        tb = boundary_weight * model.log_boundary_precision.exp()
        tr = model.log_residual_precision.exp()
        h = kron_dense(inverses) + torch.diag(tb * mask) + tr * (a.T @ a)
        rhs = tb * mask * pde.boundary.reshape(-1) + tr * (a.T @ pde.source.reshape(-1))
        low, info = torch.linalg.cholesky_ex(h)
        if int(info) != 0:
            raise ValueError(f"gp-hm values = 'solve': the normal matrix is not positive definite "
                             f"(Cholesky failed at column {int(info)}); raise the jitter")
        model.values.copy_(torch.cholesky_solve(rhs[:, None], low).reshape(pde.shape))


VALUES_RULES: dict[ValuesUpdate, ValuesRule] = {
    # Adam on U with the hyper-parameters (Fang et al. 2024)
    ValuesUpdate.ADAM: ValuesRule(adam_owns_values=True, before_step=None),
    # U solved exactly before each Adam step on the hyper-parameters (the profiled objective)
    ValuesUpdate.SOLVE: ValuesRule(adam_owns_values=False, before_step=solve_values),
}
