"""Name → linear solver for the 2-D Poisson system (``cg``, ``ic-cg``, ``dcdm``).

Each :class:`SolverSpec` declares what it needs: ``trained`` solvers (DCDM) take the direction
network; the others take nothing but the grid size. :func:`make_solver` looks the name up and never
branches on it; adding a solver is one entry in :data:`SOLVERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._cg import IncompleteCholesky, LinearSolve, conjugate_gradient
from ._dcdm import dcdm_solve

__all__ = ["SOLVERS", "Solver", "SolverSpec", "make_solver"]

Solver = Callable[[Tensor, float, int], LinearSolve]  # (b, rtol, max_iter) -> LinearSolve


@dataclass(frozen=True)
class SolverSpec:
    """A solver: one line for listings, whether it needs a trained network, and its factory
    ``(n, dtype, device, net) -> Solver``."""

    summary: str
    trained: bool
    make: Callable[[int, torch.dtype, torch.device, nn.Module | None], Solver]


def _cg(n, dtype, device, net) -> Solver:
    return lambda b, rtol, max_iter: conjugate_gradient(b, rtol=rtol, max_iter=max_iter)


def _ic_cg(n, dtype, device, net) -> Solver:
    ic = IncompleteCholesky(n, dtype=dtype, device=device)
    return lambda b, rtol, max_iter: conjugate_gradient(b, rtol=rtol, max_iter=max_iter, preconditioner=ic.apply)


def _dcdm(n, dtype, device, net) -> Solver:
    return lambda b, rtol, max_iter: dcdm_solve(net, b, rtol=rtol, max_iter=max_iter)


SOLVERS: dict[str, SolverSpec] = {
    "cg": SolverSpec("conjugate gradients (Hestenes & Stiefel 1952)", False, _cg),
    "ic-cg": SolverSpec("CG preconditioned by incomplete Cholesky IC(0)", False, _ic_cg),
    "dcdm": SolverSpec("Deep Conjugate Direction Method (Kaneda et al. 2023)", True, _dcdm),
}


def make_solver(name: str, *, n: int, dtype: torch.dtype = torch.float64, device: torch.device | None = None,
                net: nn.Module | None = None) -> Solver:
    """The solver ``name`` for the ``n × n`` Poisson system (``ValueError`` naming the known ones)."""
    try:
        spec = SOLVERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"linear solver must be one of {', '.join(SOLVERS)}, got {name!r}") from None
    if spec.trained and net is None:
        raise ValueError(f"linear solver {name!r} needs a trained direction network (net=...)")
    if not spec.trained and net is not None:
        raise ValueError(f"linear solver {name!r} takes no network, got net={type(net).__name__}")
    return spec.make(n, dtype, torch.device("cpu") if device is None else device, net)
