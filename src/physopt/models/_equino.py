"""EquiNO, the Equilibrium Neural Operator (Eivazi, Tröger, Wittek, Hartmann & Rausch, "EquiNO: A
Physics-Informed Neural Operator for Multiscale Simulations", J. Comput. Phys. 2026, arXiv 2504.07976).

A microscale surrogate for FE²-type homogenisation: for one periodic unit cell, the macroscale load
(a strain, here a macroscopic gradient ``G``) maps to the microscale fields. EquiNO writes the fields in a
reduced basis of proper-orthogonal-decomposition modes of solved fields, so every prediction inherits
the linear constraints every snapshot satisfies — equilibrium (``div σ = 0``; here ``div q = 0``) and
periodicity — by construction, with no penalty term::

    u(G) = ū + Σ_{j<K} c_j(G) s_j Ψ_j,   c = MLP(G)

``ū`` the snapshots' mean, ``Ψ_j`` and ``s_j`` their ``K`` leading POD modes and singular values (divided
by ``√N``, so the coefficients of training snapshots are of order one). The network is trained either on
data or, physics-informed as in the paper, on the constitutive law alone (equilibrium already holds):
for the ``unit-cell`` family, :func:`constitutive_residual`.

Decisions (ours). One joint basis over all output channels (the paper keeps separate bases per field);
the macroscale load is read as the grid means of the input channels (the ``unit-cell`` family carries
``G`` as constant channels; the microstructure channels' means are the same for every instance). The basis is
computed from the training set when the model is built (:attr:`OperatorSpec.fit`), in the units the
network sees: a per-channel affine normalisation maps divergence-free fluctuations to divergence-free
fluctuations, so the constraint survives it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ._mlp import MLP
from ._operator_spec import OperatorShape

__all__ = ["EquiNO", "EquiNOConfig", "build_equino", "constitutive_residual", "fit_equino"]


@dataclass(frozen=True)
class EquiNOConfig:
    """``[model] kind = "equino"``: ``modes`` POD modes, coefficients from an MLP of ``depth`` × ``width``."""

    kind: str = "equino"
    modes: int = 8
    width: int = 64
    depth: int = 3
    activation: str = "tanh"


class EquiNO(nn.Module):
    """``a (B, C_in, *grid) → u (B, C_out, *grid)`` in the POD basis of the training outputs (see the module doc)."""

    def __init__(self, *, in_channels: int, out_channels: int, grid: tuple[int, ...], modes: int, width: int,
                 depth: int, activation: str, generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        if isinstance(modes, bool) or not isinstance(modes, int) or modes < 1:
            raise ValueError(f"model.modes must be a positive int (POD modes), got {modes!r}")
        self.grid, self.modes = tuple(grid), modes
        self.coefficients = MLP(in_dim=in_channels, out_dim=modes, width=width, depth=depth, activation=activation,
                                bounds=None, generator=generator, dtype=dtype)
        self.register_buffer("mean", torch.zeros(out_channels, *grid, dtype=dtype))
        self.register_buffer("basis", torch.zeros(modes, out_channels, *grid, dtype=dtype))
        self.register_buffer("scale", torch.zeros(modes, dtype=dtype))  # set by fit() or a checkpoint

    def fit(self, outputs: torch.Tensor) -> None:
        """The POD of ``outputs`` ``(N, C_out, *grid)``: mean, ``modes`` leading modes and ``s_j / √N``."""
        n = outputs.shape[0]
        if tuple(outputs.shape[1:]) != tuple(self.mean.shape):
            raise ValueError(f"EquiNO was built for outputs {tuple(self.mean.shape)}, got {tuple(outputs.shape[1:])}")
        if self.modes > n:
            raise ValueError(f"model.modes ({self.modes}) exceeds the training instances ({n})")
        y = outputs.double().flatten(1)
        mean = y.mean(0)
        _, s, vh = torch.linalg.svd(y - mean, full_matrices=False)
        with torch.no_grad():
            self.mean.copy_(mean.view_as(self.mean))
            self.basis.copy_(vh[:self.modes].view_as(self.basis))
            self.scale.copy_(s[:self.modes] / n**0.5)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if tuple(a.shape[2:]) != self.grid:
            raise ValueError(f"EquiNO predicts on its training grid {self.grid}, got inputs on {tuple(a.shape[2:])}")
        c = self.coefficients(a.flatten(2).mean(-1)) * self.scale  # (B, K)
        return self.mean + torch.einsum("bk,k...->b...", c, self.basis)


def fit_equino(net: nn.Module, inputs: torch.Tensor, outputs: torch.Tensor) -> None:
    """:attr:`OperatorSpec.fit` of ``equino``: the POD basis of the training outputs."""
    net.fit(outputs)


def build_equino(options: EquiNOConfig, *, shape: OperatorShape, generator: torch.Generator,
                 dtype: torch.dtype) -> EquiNO:
    """An :class:`EquiNO` for ``shape`` (its basis is set by :func:`fit_equino`)."""
    return EquiNO(in_channels=shape.in_channels, out_channels=shape.out_channels, grid=shape.grid,
                  modes=options.modes, width=options.width, depth=options.depth, activation=options.activation,
                  generator=generator, dtype=dtype)


def constitutive_residual(inputs: torch.Tensor, outputs: torch.Tensor, *, beta: float) -> torch.Tensor:
    """Per-instance mean squared ``q − a (g + β g³)`` of the ``unit-cell`` family's discrete law, ``(B,)``.

    ``inputs`` ``(B, 4, n, n)``: east/north face conductivities and ``G``; ``outputs`` ``(B, 3, n, n)``:
    ``q_x, q_y, φ`` in physical units. ``g = G + ∇φ`` by periodic forward differences (the family's finite
    volumes), weighted by ``1/a`` (the constitutive-relation error of the hypercircle: zero exactly at the
    discrete solution when ``q`` is divergence-free)."""
    n = outputs.shape[-1]
    east, north, gx0, gy0 = inputs[:, 0], inputs[:, 1], inputs[:, 2], inputs[:, 3]
    qx, qy, phi = outputs[:, 0], outputs[:, 1], outputs[:, 2]
    gx = gx0 + (phi.roll(-1, 1) - phi) * n
    gy = gy0 + (phi.roll(-1, 2) - phi) * n
    rx = qx - east * (gx + beta * gx**3)
    ry = qy - north * (gy + beta * gy**3)
    return (rx**2 / east + ry**2 / north).flatten(1).mean(1)
