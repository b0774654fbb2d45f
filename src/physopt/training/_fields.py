"""The modules behind unknown fields: a(x) = T(ρ₀ + ρ(x)) with ρ a network or a grid.

:func:`build_field` turns a :class:`~physopt.problems.UnknownField` into a :class:`FieldModule`
(weights from the run's generator, on the run's device and dtype); :class:`Parameters` holds one per
field and residuals call it. Both representations start at ρ ≡ 0, i.e. at the constant ``initial``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..models import MLP
from ..problems import FieldGrid, FieldNetwork, UnknownField

__all__ = ["FieldModule", "GridField", "build_field"]


class GridField(nn.Module):
    """Nodal values on a regular grid over the box ``[lo, hi]``, multilinear interpolation.

    ρ(x) = Σ_corners w_c(x) v_c over the 2^d nodes of x's cell (w the products of the 1-D hat
    weights), so ρ is continuous, piecewise multilinear, and differentiable in x inside cells;
    points outside the box take the value of the nearest face (clamped).
    """

    def __init__(self, *, shape: Sequence[int], lo: Sequence[float], hi: Sequence[float], dtype: torch.dtype) -> None:
        super().__init__()
        self.values = nn.Parameter(torch.zeros(tuple(shape), dtype=dtype))
        self.register_buffer("lo", torch.tensor(list(lo), dtype=dtype))
        self.register_buffer("step", (torch.tensor(list(hi), dtype=dtype) - self.lo) /
                             (torch.tensor(list(shape), dtype=dtype) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = self.values.shape
        s = (x - self.lo) / self.step  # grid coordinates, node k at s = k
        out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        cells, fracs = [], []
        for i, n in enumerate(shape):
            si = s[:, i].clamp(0.0, n - 1.0)
            c = si.detach().floor().clamp(max=n - 2).long()  # the cell's lower node (the last cell includes s = n-1)
            cells.append(c)
            fracs.append(si - c.to(x.dtype))
        flat = self.values.reshape(-1)
        strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
        for corner in range(2 ** len(shape)):
            weight = torch.ones_like(out)
            index = torch.zeros_like(cells[0])
            for i in range(len(shape)):
                up = (corner >> i) & 1
                weight = weight * (fracs[i] if up else 1.0 - fracs[i])
                index = index + (cells[i] + up) * strides[i]
            out = out + weight * flat[index]
        return out[:, None]


class FieldModule(nn.Module):
    """a(x) = T(ρ₀ + ρ(x[:, columns])), ``(n, 1)``: the callable residuals read as ``params[name]``."""

    def __init__(self, spec: UnknownField, raw: nn.Module, columns: Sequence[int], dtype: torch.dtype) -> None:
        super().__init__()
        self.spec = spec
        self.raw = raw
        self.columns = list(columns)
        self.rho0 = float(spec.pointwise.raw_initial())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rho = self.raw(x[:, self.columns])
        return self.spec.pointwise.value(self.rho0 + rho)


def _network(rep: FieldNetwork, lo: list[float], hi: list[float], generator: torch.Generator,
             dtype: torch.dtype) -> nn.Module:
    net = MLP(in_dim=len(lo), out_dim=1, width=rep.width, depth=rep.depth, activation=rep.activation,
              bounds=(lo, hi), generator=generator, dtype=dtype)
    with torch.no_grad():  # ρ ≡ 0 at the start: a is the constant `initial`
        net.layers[-1].weight.zero_()
    return net


def _grid(rep: FieldGrid, lo: list[float], hi: list[float], generator: torch.Generator,
          dtype: torch.dtype) -> nn.Module:
    return GridField(shape=rep.shape, lo=lo, hi=hi, dtype=dtype)


# Representation type -> builder of the raw field ρ on the box [lo, hi]; a new representation is one entry.
_BUILDERS: dict[type, Callable[..., nn.Module]] = {FieldNetwork: _network, FieldGrid: _grid}


def build_field(spec: UnknownField, *, bounds: tuple[Sequence[float], Sequence[float]], generator: torch.Generator,
                dtype: torch.dtype, device: torch.device) -> FieldModule:
    """The module of ``spec`` on a problem whose inputs span ``bounds`` (the domain's bounding box)."""
    cols = spec.columns(len(bounds[0]))
    lo, hi = [float(bounds[0][i]) for i in cols], [float(bounds[1][i]) for i in cols]
    raw = _BUILDERS[type(spec.representation)](spec.representation, lo, hi, generator, dtype)
    return FieldModule(spec, raw, cols, dtype).to(device)
