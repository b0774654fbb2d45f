"""DGNO's physics: weak-form residuals of Darcy flow against compactly supported test functions.

For ``-div(a grad u) = f`` on the unit square with ``u = 0`` on the boundary, a test function
``psi`` supported inside the square gives, after one integration by parts (no boundary term, no
second derivative of ``u``, no derivative of ``a``: discontinuous ``a`` is fine),

    R_psi(u, a) = int a grad u . grad psi - int f psi = 0.

The test functions are Wendland's C2 radial functions ``psi(x) = phi(|x - c| / r)``,
``phi(s) = (1 - s)^4_+ (4 s + 1)`` (the CSRBFs of DGNO, Zang & Koutsourelakis 2025), with centres
``c`` and radii ``r`` drawn afresh every step so that, over training, they probe the whole domain.
The integrals are sums over the cells of the node grid, ``q x q`` midpoints per cell: ``u``
bilinear in each cell (its gradient from the cell's four nodes, exact at every sub-point), ``a``
there the mean of the four node values; each residual is divided by ``int f psi`` so every test
function weighs the same whatever its radius. (Midpoints at the cell centres alone, ``q = 1``,
misjudge a radius of ~1.5 cells by half: measured 0.54 relative residual on a solver's output.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["WeakTests", "WendlandTests", "darcy_weak_residual"]


class WendlandTests:
    """``K`` Wendland test functions with random centres/radii at the cell centres of an ``m x m`` node grid."""

    def __init__(self, *, resolution: int, count: int, radius: tuple[float, float] = (0.05, 0.2),
                 subpoints: int = 4) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"the number of test functions must be a positive int, got {count!r}")
        lo, hi = radius
        if not 0 < lo <= hi < 0.5:
            raise ValueError(f"test-function radii must satisfy 0 < lo <= hi < 0.5, got {radius!r}")
        self.resolution, self.count, self.radius = resolution, count, (float(lo), float(hi))
        self.subpoints = subpoints

    def draw(self, *, generator: torch.Generator, dtype: torch.dtype, device: torch.device | str) -> WeakTests:
        """Fresh centres and radii (supports inside the square) and their cell integrals."""
        lo, hi = self.radius
        u = torch.rand((self.count, 3), generator=generator, dtype=dtype, device=generator.device).to(device)
        r = lo + (hi - lo) * u[:, 0]
        c = r[:, None] + (1 - 2 * r[:, None]) * u[:, 1:]  # |c - boundary| >= r: support inside
        m, q = self.resolution, self.subpoints
        h = 1.0 / (m - 1)
        local = (torch.arange(q, dtype=dtype, device=device) + 0.5) / q  # midpoints of q x q sub-cells
        corner = torch.arange(m - 1, dtype=dtype, device=device) * h
        # sub-point (s, t) of cell (i, j): x = ((i + s) h, (j + t) h); arrays (cells, q, q)
        x1 = (corner[:, None] + local[None, :] * h)[:, None, :, None].expand(m - 1, m - 1, q, q).reshape(-1, q, q)
        x2 = (corner[:, None] + local[None, :] * h)[None, :, None, :].expand(m - 1, m - 1, q, q).reshape(-1, q, q)
        d1 = x1[None] - c[:, 0, None, None, None]
        d2 = x2[None] - c[:, 1, None, None, None]
        rr = r[:, None, None, None]
        s = (torch.sqrt(d1**2 + d2**2) / rr).clamp(max=1.0)
        psi = (1 - s) ** 4 * (4 * s + 1)
        # grad psi = phi'(s) d / (r rho) = -20 s (1 - s)^3 d / (r rho) = -20 (1 - s)^3 d / r^2 (finite at rho = 0)
        w = -20 * (1 - s) ** 3 / rr**2
        g1, g2 = w * d1, w * d2
        t1, t2 = local[:, None], local[None, :]  # bilinear u: du/dx1 = (1 - t) D1 + t D1', t the x2-offset
        return WeakTests(psi.mean((2, 3)), (g1 * (1 - t2)).mean((2, 3)), (g1 * t2).mean((2, 3)),
                         (g2 * (1 - t1)).mean((2, 3)), (g2 * t1).mean((2, 3)))


@dataclass(frozen=True)
class WeakTests:
    """Cell integrals (divided by h^2) of ``K`` test functions, each ``(K, (m-1)^2)``: ``psi``, and
    ``grad psi`` against the bilinear weights of a cell's node differences (``g1a`` with the lower
    x2-edge difference, ``g1b`` the upper; ``g2a`` / ``g2b`` likewise along x1)."""

    psi: torch.Tensor
    g1a: torch.Tensor
    g1b: torch.Tensor
    g2a: torch.Tensor
    g2b: torch.Tensor


def darcy_weak_residual(u: torch.Tensor, a: torch.Tensor, tests: WeakTests, *, f: float = 1.0) -> torch.Tensor:
    """Relative weak residuals ``R_psi / int f psi`` ``(B, K)`` of ``u``, ``a`` ``(B, 1, m, m)`` on the node grid
    (``u`` bilinear in each cell, ``a`` the mean of the cell's four node values)."""
    m = u.shape[-1]
    h = 1.0 / (m - 1)
    u, a = u[:, 0], a[:, 0]
    ac = ((a[:, 1:, 1:] + a[:, 1:, :-1] + a[:, :-1, 1:] + a[:, :-1, :-1]) / 4).flatten(1)
    lower1 = (u[:, 1:, :-1] - u[:, :-1, :-1]).flatten(1) / h  # d/dx1 on the cell's x2 = low edge
    upper1 = (u[:, 1:, 1:] - u[:, :-1, 1:]).flatten(1) / h
    lower2 = (u[:, :-1, 1:] - u[:, :-1, :-1]).flatten(1) / h  # d/dx2 on the x1 = low edge
    upper2 = (u[:, 1:, 1:] - u[:, 1:, :-1]).flatten(1) / h
    flux = ((ac * lower1) @ tests.g1a.T + (ac * upper1) @ tests.g1b.T + (ac * lower2) @ tests.g2a.T
            + (ac * upper2) @ tests.g2b.T)
    load = f * tests.psi.sum(1)
    return (flux - load) / load
