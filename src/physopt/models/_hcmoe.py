"""PI-HC-MoE on an operator backbone: hard PDE constraints solved per expert subdomain on top of an FNO.

Chalapathi, Du & Krishnapriyan, "Scaling physics-informed hard constraints with mixture-of-experts", ICLR
2024 (arXiv 2402.13412), "usable with any architecture"; the PINN version is :mod:`physopt.models._moe`.
Here the backbone is an FNO whose ``basis`` output channels are ``N`` basis functions ``b_j`` on the
grid (zeroed on the boundary, so ``u = 0`` there exactly). The interior nodes are split into ``E^d``
equal blocks (the experts); expert ``k`` picks its coefficients by the ridge least-squares solve::

    ω_k = argmin ‖A_k ω − f_k‖² + λ_k ‖ω‖²,   A_k[i, j] = (L b_j)(x_{k,i}),  f_k = f(x_{k,i})

for a linear grid operator ``L`` (:data:`GRID_PDES`; ``darcy``: the five-point ``−div(a ∇u)`` with two-node
harmonic face means and ``f = 1``), ``λ_k = ridge · tr(A_kᵀA_k)/rows`` (the relative ridge of
:func:`~physopt.models.expert_coefficients`). All ``batch × E^d`` solves are one batched Cholesky solve of the
smaller normal system (rows ≤ N: ``(AAᵀ + λI)μ = f, ω = Aᵀμ``; else ``(AᵀA + λI)ω = Aᵀf``); gradients reach
the backbone through it (the implicit-function derivative of the linear solve). The prediction at a node is
``Σ_j ω_{k,j} b_j`` of the expert owning it. Each solve costs ``O(m_k N² + N³)`` for ``m_k`` nodes per
expert, so at a fixed expert size the cost per node is independent of the mesh; one global constraint
with the same degrees of freedom (``E^d N`` basis functions) costs ``O(m (E^d N)²)``.

``experts = 1`` is the global hard constraint (Négiar et al. 2023). The model predicts physical units
(``normalizable = False`` in its registry entry: the PDE acts on the physical ``a`` and ``u``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ._fno import FNO, FNOConfig, fno_arguments
from ._operator_spec import OperatorShape

__all__ = ["GRID_PDES", "HCMoEConfig", "HardConstrainedOperator", "batched_ridge", "build_hcmoe", "darcy_operator"]


def darcy_operator(a: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``−div(a ∇u)`` at the interior nodes of the ``n × n`` node grid of ``[0, 1]^2`` (``h = 1/(n − 1)``).

    ``a`` ``(B, n, n)`` node values (faces: two-node harmonic means, ``physopt.operators`` darcy's ``node_faces``),
    ``u`` ``(B, N, n, n)`` one or many functions; returns ``(B, N, n − 2, n − 2)``."""
    n = a.shape[-1]
    ex = (2 * a[:, 1:, 1:-1] * a[:, :-1, 1:-1] / (a[:, 1:, 1:-1] + a[:, :-1, 1:-1]))[:, None]  # (B, 1, n-1, n-2)
    ny = (2 * a[:, 1:-1, 1:] * a[:, 1:-1, :-1] / (a[:, 1:-1, 1:] + a[:, 1:-1, :-1]))[:, None]  # (B, 1, n-2, n-1)
    dx = u[:, :, 1:, 1:-1] - u[:, :, :-1, 1:-1]  # (B, N, n-1, n-2)
    dy = u[:, :, 1:-1, 1:] - u[:, :, 1:-1, :-1]
    fx, fy = ex * dx, ny * dy
    return -((fx[:, :, 1:] - fx[:, :, :-1]) + (fy[:, :, :, 1:] - fy[:, :, :, :-1])) * (n - 1) ** 2


# name → (operator L(a, u) on the interior, the source f): the linear grid PDEs the constraint can enforce.
GRID_PDES: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], float]] = {
    "darcy": (darcy_operator, 1.0),
}


def batched_ridge(a: torch.Tensor, f: torch.Tensor, *, ridge: float) -> torch.Tensor:
    """``argmin ‖a ω − f‖² + λ‖ω‖²`` for a batch ``a`` ``(..., rows, N)``, ``f`` ``(..., rows)``; ``λ = ridge ·
    tr(aᵀa)/rows`` per system. Cholesky of the smaller normal system (see the module docstring)."""
    rows, cols = a.shape[-2:]
    lam = ridge * (a * a).sum(dim=(-2, -1)) / rows
    if rows <= cols:
        gram = a @ a.mT + lam[..., None, None] * torch.eye(rows, dtype=a.dtype, device=a.device)
        mu = torch.cholesky_solve(f[..., None], torch.linalg.cholesky(gram))
        return (a.mT @ mu)[..., 0]
    gram = a.mT @ a + lam[..., None, None] * torch.eye(cols, dtype=a.dtype, device=a.device)
    return torch.cholesky_solve(a.mT @ f[..., None], torch.linalg.cholesky(gram))[..., 0]


@dataclass(frozen=True)
class HCMoEConfig(FNOConfig):
    """``[model] kind = "hc-moe"``: the FNO backbone's options plus ``basis`` functions, ``experts`` per axis,
    the relative ``ridge`` and the ``pde`` (a key of :data:`GRID_PDES`; the input's first channel is ``a``)."""

    kind: str = "hc-moe"
    basis: int = 16
    experts: int = 2
    ridge: float = 1e-8
    pde: str = "darcy"


class HardConstrainedOperator(nn.Module):
    """``a (B, C_in, n, n) → u (B, 1, n, n)``: backbone basis, per-expert ridge solves, assembled prediction."""

    def __init__(self, backbone: nn.Module, *, grid: tuple[int, ...], experts: int, ridge: float, pde: str) -> None:
        super().__init__()
        if pde not in GRID_PDES:
            raise ValueError(f"model.pde must be one of {', '.join(sorted(GRID_PDES))}, got {pde!r}")
        if len(grid) != 2 or grid[0] != grid[1]:
            raise ValueError(f"hc-moe takes square 2-D node grids, got {grid}")
        interior = grid[0] - 2
        if isinstance(experts, bool) or not isinstance(experts, int) or experts < 1 or interior % experts:
            raise ValueError(f"model.experts must be a positive int dividing the {interior} interior nodes per axis, "
                             f"got {experts!r}")
        if not ridge > 0:
            raise ValueError(f"model.ridge must be > 0 (relative ridge of the expert solves), got {ridge!r}")
        self.backbone, self.experts, self.ridge, self.pde = backbone, experts, float(ridge), pde

    def blocks(self, t: torch.Tensor) -> torch.Tensor:
        """``(B, C, s, s)`` interior values → ``(B, E², C, (s/E)²)`` per expert."""
        b, c, s, _ = t.shape
        e, w = self.experts, s // self.experts
        return t.view(b, c, e, w, e, w).permute(0, 2, 4, 1, 3, 5).reshape(b, e * e, c, w * w)

    def unblocks(self, t: torch.Tensor, s: int) -> torch.Tensor:
        """The inverse of :meth:`blocks` for one channel: ``(B, E², (s/E)²) → (B, s, s)``."""
        b, e, w = t.shape[0], self.experts, s // self.experts
        return t.view(b, e, e, w, w).permute(0, 1, 3, 2, 4).reshape(b, s, s)

    def coefficients(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The boundary-zeroed basis ``(B, N, n, n)`` and every expert's coefficients ``(B, E², N)``."""
        operator, source = GRID_PDES[self.pde]
        basis = self.backbone(a)
        mask = torch.zeros_like(basis[:1, :1])
        mask[..., 1:-1, 1:-1] = 1.0
        basis = basis * mask  # u = 0 on the boundary for every coefficient
        mat = self.blocks(operator(a[:, 0], basis)).transpose(-1, -2)  # (B, K, m_k, N)
        f = torch.full(mat.shape[:-1], source, dtype=a.dtype, device=a.device)
        return basis, batched_ridge(mat, f, ridge=self.ridge)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        basis, omega = self.coefficients(a)
        s = basis.shape[-1] - 2
        values = torch.einsum("bkn,bknm->bkm", omega, self.blocks(basis[..., 1:-1, 1:-1]))
        u = torch.zeros_like(basis[:, :1])
        u[:, 0, 1:-1, 1:-1] = self.unblocks(values, s)
        return u


def build_hcmoe(options: HCMoEConfig, *, shape: OperatorShape, generator: torch.Generator,
                dtype: torch.dtype) -> HardConstrainedOperator:
    """An FNO of ``options`` with ``basis`` output channels under the per-expert hard constraint."""
    if shape.out_channels != 1:
        raise ValueError(f"hc-moe predicts one output channel (the PDE's solution), the data have {shape.out_channels}")
    if isinstance(options.basis, bool) or not isinstance(options.basis, int) or options.basis < 1:
        raise ValueError(f"model.basis must be a positive int, got {options.basis!r}")
    args = {**fno_arguments(options, shape), "out_channels": options.basis}
    return HardConstrainedOperator(FNO(**args, generator=generator, dtype=dtype), grid=shape.grid,
                                   experts=options.experts, ridge=options.ridge, pde=options.pde)
