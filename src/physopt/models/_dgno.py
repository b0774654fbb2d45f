"""DGNO's network: a latent code of the input field, decoded into the input and into the solution
(Zang & Koutsourelakis 2025, "DGNO: a physics-aware neural operator for solving forward and inverse
PDE problems based on deep, generative probabilistic modeling", arXiv 2502.06250).

    encoder   q(beta | a) = N(mu(a), diag sigma(a)^2)            (a conv net on the input grid)
    decoders  a(beta): the input field on the grid             (an MLP: beta -> grid values)
              u(beta, x) = b(x) [ (1/K) sum_l w_l <B_l(beta), T_l(x)> + bias ]   (MultiONet on beta)

with ``b(x) = 16 x1 (1 - x1) x2 (1 - x2)`` making ``u = 0`` on the boundary of the unit square
exactly (the Darcy setting; DGNO multiplies by such a factor too) and ``B_l`` / ``T_l`` the hidden
layers of a branch MLP on ``beta`` and a trunk MLP on ``x``, as in :class:`~physopt.models.MultiONet`.
Both decoders read the same ``beta``: the forward map is ``a -> mu(a) -> u``; the inverse problem
searches ``beta`` so that ``u(beta)`` matches sparse observations and reads the field off ``a(beta)``
(:func:`physopt.training.dgno_invert`). Training without labels is :class:`physopt.training.DGNOLoss`.

Decided here: the encoder is a two-layer strided conv net (the paper's is an MLP or a CNN depending
on the example); inputs are standardised by the buffers ``in_mean`` / ``in_std`` (set from the
training fields), and ``u`` is multiplied by the ``output_scale`` option (Darcy's ``u`` is ~0.02).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ._deeponet import check_positive, seeded_mlp
from ._operator_spec import OperatorShape, grid_points

__all__ = ["DGNO", "DGNOConfig", "build_dgno", "fit_dgno"]


@dataclass(frozen=True)
class DGNOConfig:
    """``[model] kind = "dgno"``: ``latent`` code size; MultiONet decoder of ``depth`` layers of
    ``width`` summing the last ``sum_layers`` products; ``channels`` of the conv encoder."""

    kind: str = "dgno"
    latent: int = 32
    width: int = 64
    depth: int = 4
    sum_layers: int = 3
    channels: int = 16
    output_scale: float = 0.05


def _seeded_conv(cin: int, cout: int, generator: torch.Generator, dtype: torch.dtype) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1, dtype=dtype)
    bound = (6.0 / (9 * (cin + cout))) ** 0.5
    with torch.no_grad():
        conv.weight.copy_((torch.rand(conv.weight.shape, generator=generator, dtype=dtype) * 2 - 1) * bound)
        conv.bias.zero_()
    return conv


class DGNO(nn.Module):
    """See the module docstring; ``forward(a)`` is the forward operator ``u(mu(a))`` on the grid."""

    def __init__(self, *, shape: OperatorShape, latent: int = 32, width: int = 64, depth: int = 4, sum_layers: int = 3,
                 channels: int = 16, output_scale: float = 0.05, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_positive("DGNO", latent=latent, width=width, depth=depth, sum_layers=sum_layers, channels=channels)
        if shape.dim != 2 or shape.in_channels != 1 or shape.out_channels != 1:
            raise ValueError(f"DGNO maps one 2-D field to one 2-D field, got {shape.in_channels} -> "
                             f"{shape.out_channels} channels on grid {shape.grid}")
        if depth < 2 or sum_layers > depth:
            raise ValueError(f"DGNO needs depth >= 2 and sum_layers <= depth, got depth={depth}, "
                             f"sum_layers={sum_layers}")
        if not output_scale > 0:
            raise ValueError(f"DGNO output_scale must be > 0, got {output_scale!r}")
        self.shape, self.depth, self.sum_layers, self.output_scale = shape, depth, sum_layers, float(output_scale)
        self.encoder = nn.Sequential(_seeded_conv(1, channels, generator, dtype), nn.GELU(),
                                     _seeded_conv(channels, 2 * channels, generator, dtype), nn.GELU(), nn.Flatten())
        with torch.no_grad():
            flat = self.encoder(torch.zeros((1, 1, *shape.grid), dtype=dtype)).shape[1]
        self.head = seeded_mlp(in_dim=flat, out_dim=2 * latent, width=width, depth=1, activation="gelu", bounds=None,
                               generator=generator, dtype=dtype)
        cells = shape.grid[0] * shape.grid[1]
        self.field = seeded_mlp(in_dim=latent, out_dim=cells, width=4 * width, depth=2, activation="gelu", bounds=None,
                                generator=generator, dtype=dtype)
        self.branch = seeded_mlp(in_dim=latent, out_dim=width, width=width, depth=depth - 1, activation="tanh",
                                 bounds=None, generator=generator, dtype=dtype)
        self.trunk = seeded_mlp(in_dim=2, out_dim=width, width=width, depth=depth - 1, activation="tanh",
                                bounds=([0.0, 0.0], [1.0, 1.0]), generator=generator, dtype=dtype)
        self.weights = nn.Parameter(torch.ones(sum_layers, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros((), dtype=dtype))
        self.register_buffer("in_mean", torch.zeros((), dtype=dtype))
        self.register_buffer("in_std", torch.ones((), dtype=dtype))
        self.register_buffer("points", grid_points(shape.grid, periodic=shape.periodic, dtype=dtype))

    def encode(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, log sigma)`` of ``q(beta | a)``, each ``(B, latent)``."""
        h = self.head(self.encoder((a - self.in_mean) / self.in_std))
        mu, log_sigma = h.chunk(2, dim=1)
        # start nearly deterministic (sigma ~ e^-3): with sigma ~ 1 at initialisation the decoders first
        # see codes drowned in noise, and the KL term only slowly pulls sigma up where it is affordable
        return mu, (log_sigma - 3.0).clamp(-8.0, 2.0)

    def decode_field(self, beta: torch.Tensor) -> torch.Tensor:
        """The input field ``a(beta)`` ``(B, 1, *grid)`` in the data's units."""
        return (self.field(beta) * self.in_std + self.in_mean).reshape(beta.shape[0], 1, *self.shape.grid)

    def decode(self, beta: torch.Tensor, points: torch.Tensor | None = None) -> torch.Tensor:
        """``u(beta, x)``: ``(B, 1, *grid)`` on the grid, or ``(B, Q)`` at ``points`` ``(Q, 2)``."""
        x = self.points if points is None else points
        hb, ht = beta, (x - self.trunk.shift) * self.trunk.scale
        out = 0.0
        first = self.depth - self.sum_layers
        for i, (lb, lt) in enumerate(zip(self.branch.layers, self.trunk.layers, strict=True)):
            hb = self.branch.act(lb(hb))
            ht = self.trunk.act(lt(ht))
            if i >= first:
                out = out + self.weights[i - first] * (hb @ ht.T)
        bubble = 16 * x[:, 0] * (1 - x[:, 0]) * x[:, 1] * (1 - x[:, 1])
        u = self.output_scale * bubble * (out / self.sum_layers + self.bias)
        return u if points is not None else u.reshape(beta.shape[0], 1, *self.shape.grid)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(a)[0])


def build_dgno(options: DGNOConfig, *, shape: OperatorShape, generator: torch.Generator, dtype: torch.dtype) -> DGNO:
    """The registry factory of ``kind = "dgno"``."""
    return DGNO(shape=shape, latent=options.latent, width=options.width, depth=options.depth,
                sum_layers=options.sum_layers, channels=options.channels, output_scale=options.output_scale,
                generator=generator, dtype=dtype)


def fit_dgno(net: nn.Module, inputs: torch.Tensor, outputs: torch.Tensor) -> None:
    """The registry's ``fit``: the input standardisation from the training fields (the outputs are not read:
    a data-free run has none worth reading). DGNO scales itself (``output_scale``, the exact boundary factor),
    so the kind is not wrapped in :class:`~physopt.models.Normalized`."""
    with torch.no_grad():
        std = float(inputs.std())
        net.in_mean.fill_(float(inputs.mean()))
        net.in_std.fill_(std if std > 0 else 1.0)  # a constant coefficient: only centred
