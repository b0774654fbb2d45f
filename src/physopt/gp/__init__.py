"""Gaussian-process PDE solvers: GP-HM (Fang et al., ICLR 2024) for high-frequency and
multi-scale linear PDEs, with a learned spectral-mixture kernel per axis and Kronecker algebra on a
grid of collocation points.

Example — solve u'' = f on [0, 2π] with u = sin(20x) + sin(x)::

    import math, torch
    from physopt.gp import GPHM, gphm_fit, grid_pde

    u = lambda x: torch.sin(20 * x[:, 0]) + torch.sin(x[:, 0])
    f = lambda x: -400 * torch.sin(20 * x[:, 0]) - torch.sin(x[:, 0])
    pde = grid_pde(lo=[0.0], hi=[2 * math.pi], points=[100], source=f, boundary=u, second=[1.0])
    model = GPHM(pde.axes, max_frequency=5.0)
    gphm_fit(model, pde, iterations=2000)
"""

from ._gphm import GPHM, GPHMResult, GridPDE, gphm_fit, grid_pde, grid_points
from ._kernel import ENVELOPES, Envelope, EnvelopeSpec, SpectralMixture
from ._kron import KroneckerCholesky, kron_dense, kron_matvec, mode_product
from ._values import MAX_DENSE_NODES, VALUES_RULES, ValuesRule, ValuesUpdate, solve_values

__all__ = [
    "ENVELOPES",
    "GPHM",
    "MAX_DENSE_NODES",
    "VALUES_RULES",
    "Envelope",
    "EnvelopeSpec",
    "GPHMResult",
    "GridPDE",
    "KroneckerCholesky",
    "SpectralMixture",
    "ValuesRule",
    "ValuesUpdate",
    "gphm_fit",
    "grid_pde",
    "grid_points",
    "kron_dense",
    "kron_matvec",
    "mode_product",
    "solve_values",
]
