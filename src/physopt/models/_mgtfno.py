"""Multi-grid tensorised FNO (Kossaifi et al. 2023, "Multi-Grid Tensorized Fourier Neural Operator for
High-Resolution PDEs", section 3.1): a TFNO applied patch by patch, each patch with multi-resolution context.

The domain is cut into ``P_a`` equal patches per axis (patch size ``s_a = n_a / P_a``). Patch ``p`` is
given to the network as ``L + 1`` stacked copies of the input (plus its grid coordinates):

    level l = 0..L:  the window of size ``2^l (s + 2e)`` centred on the patch, average-pooled by ``2^l``

so level 0 is the patch at full resolution (with ``e`` points of overlap on each side) and level ``l``
sees a neighbourhood ``2^l`` times larger at ``2^l`` times coarser resolution; all levels have the same
``s + 2e`` points per axis. Windows leaving the domain wrap around on periodic data and repeat the
boundary value otherwise. The TFNO maps the ``(C_in + d)(L + 1)`` channels of every patch (a batch of
``B Π P_a`` small problems) to the output on the patch; the overlap is cut off and the patches are
stitched back into the full grid. Grids of any size divisible by the patch counts work, so the model
predicts at other resolutions like the FNO it wraps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._fno import FNO, fno_arguments
from ._operator_spec import OperatorShape, grid_points
from ._tfno import TFNOConfig, spectral_factorisation

__all__ = ["MGTFNO", "MGTFNOConfig", "build_mgtfno", "multigrid_patches", "stitch_patches"]


@dataclass(frozen=True)
class MGTFNOConfig(TFNOConfig):
    """``[model] kind = "mgtfno"``: :class:`~physopt.models.TFNOConfig`'s options plus the decomposition.

    Attributes:
        patches: patches per axis (one int for all axes or one per axis; grids must be divisible by them).
        levels: coarser context levels ``L`` stacked on each patch (0: the patch alone).
        overlap: extra points on each side of a patch as a fraction of the patch size (cut off after).
    """

    kind: str = "mgtfno"
    modes: int | Sequence[int] = 8
    patches: int | Sequence[int] = 2
    levels: int = 2
    overlap: float = 0.125


def _margins(grid: Sequence[int], patches: Sequence[int], overlap: float) -> tuple[int, ...]:
    return tuple(round(overlap * (n // p)) for n, p in zip(grid, patches, strict=True))


def _window_axis(x: torch.Tensor, axis: int, *, patches: int, margin: int, level: int, periodic: bool) -> torch.Tensor:
    """``x`` with grid ``axis`` replaced by ``(patches, s + 2e)``: the level's windows, average-pooled by 2^level."""
    n = x.shape[axis]
    s = n // patches
    size = s + 2 * margin
    w = size * 2 ** level
    left = (w - s) // 2  # window start before the patch start
    idx = torch.arange(-left, (patches - 1) * s + w - left, device=x.device)
    idx = idx.remainder(n) if periodic else idx.clamp(0, n - 1)  # wrap around, or repeat the boundary value
    win = x.index_select(axis, idx).unfold(axis, w, s)  # (.., P, .., w)
    win = win.unflatten(-1, (size, 2 ** level)).mean(-1)
    return win.movedim(-1, axis + 1)  # the window axis right after its patch axis


def multigrid_patches(x: torch.Tensor, *, patches: tuple[int, ...], levels: int, overlap: float,
                      periodic: bool) -> torch.Tensor:
    """``(B, C, *grid) → (B Π P, C (L + 1), *(s + 2e))``: every patch with its context levels as channels."""
    b, c, *grid = x.shape
    d = len(grid)
    for n, p in zip(grid, patches, strict=True):
        if n % p:
            raise ValueError(f"MG-TFNO needs grid sizes divisible by the patches {patches}, got grid {tuple(grid)}")
    margins = _margins(grid, patches, overlap)
    levels_out = []
    for lv in range(levels + 1):
        h = x
        for a in range(d):  # axis a of the grid sits at 2 + 2a once the earlier axes are split in two
            h = _window_axis(h, 2 + 2 * a, patches=patches[a], margin=margins[a], level=lv, periodic=periodic)
        levels_out.append(h)  # (B, C, P_1, w_1, .., P_d, w_d)
    h = torch.stack(levels_out, dim=2)  # (B, C, L+1, P_1, w_1, ..)
    perm = [0, *range(3, 3 + 2 * d, 2), 1, 2, *range(4, 4 + 2 * d, 2)]
    h = h.permute(perm)  # (B, P_1..P_d, C, L+1, w_1..w_d)
    return h.reshape(b * math.prod(patches), c * (levels + 1), *h.shape[-d:])


def stitch_patches(y: torch.Tensor, *, batch: int, patches: tuple[int, ...], margins: tuple[int, ...]) -> torch.Tensor:
    """``(B Π P, C, *(s + 2e)) → (B, C, *grid)``: cut each patch's overlap and put the patches in place."""
    d = len(patches)
    core = y[(slice(None), slice(None), *(slice(e, y.shape[2 + a] - e) for a, e in enumerate(margins)))]
    c, sizes = core.shape[1], core.shape[2:]
    h = core.reshape(batch, *patches, c, *sizes)
    perm = [0, d + 1] + [i for a in range(d) for i in (1 + a, d + 2 + a)]
    return h.permute(perm).reshape(batch, c, *(p * s for p, s in zip(patches, sizes, strict=True)))


class MGTFNO(nn.Module):
    """``a (B, C_in, *grid) → (B, C_out, *grid)``: a TFNO over multigrid patches (module docstring)."""

    def __init__(self, *, in_channels: int, out_channels: int, patches: tuple[int, ...], levels: int,
                 overlap: float, periodic: bool, inner: FNO) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.patches, self.levels, self.overlap, self.periodic = patches, levels, overlap, periodic
        self.inner = inner

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        d = len(self.patches)
        if a.dim() != d + 2:
            raise ValueError(f"MG-TFNO over {d}-D grids takes (B, C, *grid) with {d} grid axes, "
                             f"got shape {tuple(a.shape)}")
        b, _, *grid = a.shape
        coords = grid_points(tuple(grid), periodic=self.periodic, device=a.device, dtype=a.dtype)
        h = torch.cat([a, coords.T.reshape(1, d, *grid).expand(b, -1, *grid)], dim=1)
        h = multigrid_patches(h, patches=self.patches, levels=self.levels, overlap=self.overlap,
                              periodic=self.periodic)
        margins = _margins(grid, self.patches, self.overlap)
        return stitch_patches(self.inner(h), batch=b, patches=self.patches, margins=margins)


def _positive_ints(value: int | Sequence[int], dim: int, name: str) -> tuple[int, ...]:
    values = (value,) * dim if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(values) != dim or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
        raise ValueError(f"model.{name} must be a positive int or {dim} positive ints, got {value!r}")
    return values


def build_mgtfno(options: MGTFNOConfig, *, shape: OperatorShape, generator: torch.Generator,
                 dtype: torch.dtype) -> MGTFNO:
    """The :class:`MGTFNO` of ``options`` for data of ``shape`` (the training grid must split into the patches)."""
    patches = _positive_ints(options.patches, shape.dim, "patches")
    if isinstance(options.levels, bool) or not isinstance(options.levels, int) or options.levels < 0:
        raise ValueError(f"model.levels must be an int >= 0, got {options.levels!r}")
    if not isinstance(options.overlap, int | float) or not 0.0 <= options.overlap <= 0.5:
        raise ValueError(f"model.overlap must be a fraction in [0, 0.5] of the patch size, got {options.overlap!r}")
    if any(n % p for n, p in zip(shape.grid, patches, strict=True)):
        raise ValueError(f"model.patches {patches} must divide the training grid {shape.grid}")
    arguments = fno_arguments(options, shape) | {"in_channels": (shape.in_channels + shape.dim) * (options.levels + 1)}
    inner = FNO(**arguments, generator=generator, dtype=dtype, positional=False,
                spectral_weight=spectral_factorisation(options.factorization, options.rank))
    return MGTFNO(in_channels=shape.in_channels, out_channels=shape.out_channels, patches=patches,
                  levels=options.levels, overlap=float(options.overlap), periodic=shape.periodic, inner=inner)
