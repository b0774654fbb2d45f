"""Linear solvers for discrete PDE systems: CG, IC(0)-preconditioned CG and the Deep Conjugate
Direction Method (a network proposes the search directions; Kaneda et al., ICML 2023).

Example — train DCDM's direction network and solve a 64 × 64 Poisson system::

    import torch
    from physopt.linsolve import DcdmTraining, make_solver, train_direction_net

    net, _ = train_direction_net(DcdmTraining(steps=300), generator=torch.Generator().manual_seed(0))
    b = torch.rand(64, 64, dtype=torch.float64)
    solve = make_solver("dcdm", n=64, net=net)
    print(solve(b, 1e-6, 500).iterations)
"""

from ._cg import IncompleteCholesky, LinearSolve, conjugate_gradient, poisson_apply
from ._dcdm import DcdmTraining, DirectionNet, dcdm_solve, sample_residuals, train_direction_net
from ._registry import SOLVERS, Solver, SolverSpec, make_solver

__all__ = [
    "SOLVERS",
    "DcdmTraining",
    "DirectionNet",
    "IncompleteCholesky",
    "LinearSolve",
    "Solver",
    "SolverSpec",
    "conjugate_gradient",
    "dcdm_solve",
    "make_solver",
    "poisson_apply",
    "sample_residuals",
    "train_direction_net",
]
