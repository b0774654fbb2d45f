"""Identify the Navier–Stokes coefficients λ1, λ2 from velocity samples (Raissi et al. 2019, §4.2).

    u_t + λ1 (u u_x + v u_y) = −p_x + λ2 Δu,   v_t + λ1 (u v_x + v v_y) = −p_y + λ2 Δv,
    u_x + v_y = 0,   (x, y) ∈ [0, 1]² periodic, t ∈ [0, 1],   truth λ1 = 1, λ2 = ν = 0.01.

Raissi, Perdikaris & Karniadakis (J. Comput. Phys. 378, 2019) and PhysicsFormer (Barman et al. 2026)
identify (λ1, λ2) from samples of (u, v) in the wake of a cylinder; its data set is not shipped
here, so the flow is decaying turbulence-like motion on the periodic square from three wavenumber
shells (benchmarks/make_ns_inverse_reference.py: physopt's pseudo-spectral solver, resolved to
1e-13 against twice the modes). The steady version of this problem could not separate the two
coefficients (λ1 u·∇u + ∇p − λ2 Δu = 0 is invariant under (λ1, λ2, p) → c (λ1, λ2, p)); the time
derivative fixes the scale. As in those papers the pressure is observed nowhere and no boundary
condition is imposed: the PDE and ``sensors`` samples of (u, v) at grid nodes (drawn from ``seed``,
``noise`` relative Gaussian) are the loss. Both unknowns start at 0 (Raissi's initial guess).
Reference: (u, v, p) on the 32 x 32 x 21 nodes (p with zero mean in space: the network's pressure
is fixed only up to a function of t, so its error is that of p minus its mean).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._conditions import Data, Residual
from .._domain import Rectangle, TimeInterval
from .._ops import grad, laplacian
from .._problem import Problem, Reference
from .._unknowns import Unknown

__all__ = ["navier_stokes_inverse", "ns_inverse_reference"]

DATA = Path(__file__).parent / "data" / "ns_inverse.npz"


def ns_inverse_reference() -> tuple[np.ndarray, np.ndarray]:
    """Points ``(x, y, t)`` of the 32 x 32 x 21 nodes (C order: x, y, t) and (u, v, p) there."""
    with np.load(DATA) as f:
        uvp, times = f["uvp"], f["times"]  # (t, x, y, 3)
    nodes = np.arange(uvp.shape[1]) / uvp.shape[1]
    points = np.stack(np.meshgrid(nodes, nodes, times, indexing="ij"), -1).reshape(-1, 3)
    return points, np.moveaxis(uvp, 0, 2).reshape(-1, 3)


def _pde(x: torch.Tensor, out: torch.Tensor, params) -> torch.Tensor:
    l1, l2 = params["lambda1"], params["lambda2"]
    u, v, p = out[:, 0:1], out[:, 1:2], out[:, 2:3]
    gu, gv, gp = grad(u, x), grad(v, x), grad(p, x)
    mom_x = gu[:, 2:3] + l1 * (u * gu[:, 0:1] + v * gu[:, 1:2]) + gp[:, 0:1] - l2 * laplacian(u, x, axes=[0, 1])
    mom_y = gv[:, 2:3] + l1 * (u * gv[:, 0:1] + v * gv[:, 1:2]) + gp[:, 1:2] - l2 * laplacian(v, x, axes=[0, 1])
    return torch.cat([mom_x, mom_y, gu[:, 0:1] + gv[:, 1:2]], dim=1)


def navier_stokes_inverse(*, noise: float = 0.0, sensors: int = 2000, seed: int = 0) -> Problem:
    """(λ1, λ2) from ``sensors`` samples of (u, v) with relative noise ``noise`` (0.01 = 1 %)."""
    points, values = ns_inverse_reference()
    if not (isinstance(sensors, int) and 1 <= sensors <= len(points)):
        raise ValueError(f"sensors must be an int in [1, {len(points)}], got {sensors!r}")
    pick = np.random.default_rng(seed).choice(len(points), size=sensors, replace=False)
    gen = torch.Generator().manual_seed(seed + 1)  # the noise stream is not the sensor-placement stream
    data = Data.noisy(torch.from_numpy(points[pick]), torch.from_numpy(values[pick, :2]), level=noise,
                      generator=gen, components=(0, 1))
    return Problem(
        name="navier-stokes-inverse",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)) * TimeInterval(0.0, 1.0),
        input_names=("x", "y", "t"), output_names=("u", "v", "p"),
        conditions={"pde": Residual(_pde), "data": data},
        trainable={"lambda1": Unknown(0.0, truth=1.0), "lambda2": Unknown(0.0, truth=0.01)},
        reference=Reference(points=points, values=values, grid_shape=(32, 32, 21),
                            source="pseudo-spectral (64² modes, RK4), decaying flow, ν = 0.01, 32 x 32 x 21 nodes",
                            error=1e-13, note="64² vs 128² modes (benchmarks/make_ns_inverse_reference.py)"),
        sizes={"pde": 2000, "data": sensors},
        description=f"2-D Navier–Stokes, λ1 (truth 1) and λ2 (truth 0.01) from {sensors} (u, v) samples, "
                    f"{noise:.0%} noise",
    )
