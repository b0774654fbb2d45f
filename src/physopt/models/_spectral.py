"""Spectral convolution of the Fourier Neural Operator (Li et al. 2021, "Fourier Neural Operator for
Parametric Partial Differential Equations", eq. 4-5).

On a uniform grid of ``d`` axes (sizes ``n_1..n_d``) the layer is

    y = F⁻¹( R · truncate(F(x)) ),    (R · X)[o, k] = Σ_i X[i, k] W[i, o, k]

with ``F`` the real FFT over the last ``d`` axes (``rfftn``: the last axis keeps the frequencies
``0 .. n_d/2``) and ``W`` one complex ``C_in × C_out`` matrix per kept frequency ``k``. The kept
frequencies are the paper's: ``0 .. m_a-1`` and ``-m_a .. -1`` on every axis but the last,
``0 .. m_d-1`` on the last, so ``W`` has the mode shape ``(2 m_1, .., 2 m_{d-1}, m_d)`` (frequencies
stored in FFT order). All other coefficients of ``F(x)`` are set to zero: the layer is blind to them
(mode truncation) and, because ``W`` lives on frequencies rather than grid points, the same weights
act on any resolution (a coarser grid keeps only the frequencies it has).

Two evaluations of the same map:

- :func:`spectral_conv_reference`: rfftn, a complex einsum over the kept corner blocks, irfftn.
  Readable, the definition the tests check against the explicit DFT sum.
- :func:`spectral_conv_fast`: the truncated DFT as a real matrix ``(N, 2M)`` (cosines and sines of
  the kept frequencies only; ``N`` grid points, ``M`` kept modes) and the complex mixing as one real
  batched matmul with the packed weight ``[[Wr, Wi], [-Wi, Wr]]`` per mode. On the small grids operators
  train on, four real GEMMs replace FFTs, complex tensors, zero-filled spectra and scatter copies;
  the matrices are built once per grid and device (:class:`SpectralConv` keeps them). On large grids
  (``N·M`` past a threshold) the transforms are FFTs over the last axes and only the mixing is packed.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

__all__ = ["SpectralConv", "dft_matrices", "kept_modes", "spectral_conv_fast", "spectral_conv_reference"]

# Past this many matrix entries (grid points × kept modes) the dense DFT costs more than FFTs.
_DENSE_DFT_LIMIT = 1 << 21


def kept_modes(modes: tuple[int, ...], grid: tuple[int, ...]) -> tuple[int, ...]:
    """The modes a grid can hold: ``min(m_a, n_a // 2)`` on the first axes, ``min(m_d, n_d // 2 + 1)`` on
    the last (``n//2`` keeps the positive and negative blocks from overlapping on a coarse grid)."""
    if len(modes) != len(grid):
        raise ValueError(f"{len(modes)} mode counts for a {len(grid)}-D grid {grid}")
    *first, last = grid
    return tuple(min(m, n // 2) for m, n in zip(modes[:-1], first, strict=True)) + (min(modes[-1], last // 2 + 1),)


def _frequencies(m: int, *, last: bool, device: torch.device) -> torch.Tensor:
    """Kept frequencies of one axis in FFT order: ``0..m-1`` (last axis) or ``0..m-1, -m..-1``."""
    pos = torch.arange(m, device=device, dtype=torch.float64)
    return pos if last else torch.cat([pos, pos - m])


def _weight_index(modes: tuple[int, ...], kept: tuple[int, ...], device: torch.device) -> list[torch.Tensor]:
    """Per axis, the positions in the weight's mode axis of the frequencies a grid keeps."""
    index = []
    for a, (m, k) in enumerate(zip(modes, kept, strict=True)):
        pos = torch.arange(k, device=device)
        index.append(pos if a == len(modes) - 1 else torch.cat([pos, pos + 2 * m - k]))
    return index


def _select_modes(weight: torch.Tensor, modes: tuple[int, ...], kept: tuple[int, ...]) -> torch.Tensor:
    """``weight[..., *mode axes]`` restricted to the kept frequencies (a view when nothing is dropped)."""
    if kept == modes:
        return weight
    d = len(modes)
    for a, idx in enumerate(_weight_index(modes, kept, weight.device)):
        weight = weight.index_select(weight.dim() - d + a, idx)
    return weight


def dft_matrices(grid: tuple[int, ...], kept: tuple[int, ...], *, device: torch.device,
                 dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """``(forward (N, 2M), inverse (2M, N))`` real matrices of the truncated real DFT (C order on both).

    ``x.reshape(-1, N) @ forward`` is ``[Re, Im]`` of ``rfftn(x)`` at the kept modes; ``Y @ inverse`` is
    ``irfftn`` of the spectrum that holds ``Y`` there and zeros elsewhere: ``(1/N) Σ_k c_k Re(Y_k e^{iθ})``
    with ``c_k = 2`` for last-axis frequencies other than ``0`` and ``n_d/2`` (their conjugates are implied)."""
    theta = torch.zeros((), device=device, dtype=torch.float64)
    for a, (n, m) in enumerate(zip(grid, kept, strict=True)):
        j = torch.arange(n, device=device, dtype=torch.float64)
        f = _frequencies(m, last=a == len(grid) - 1, device=device)
        angle = (2 * math.pi / n) * j[:, None] * f[None, :]  # (n, k)
        theta = theta[..., None, None] + angle if a else angle  # (n_1, k_1, .., n_a, k_a)
    # theta is now (n_1, k_1, n_2, k_2, ...): bring the grid axes first, modes last
    d = len(grid)
    theta = theta.permute(*range(0, 2 * d, 2), *range(1, 2 * d, 2)).reshape(math.prod(grid), -1)
    f_last = _frequencies(kept[-1], last=True, device=device)
    c_last = 2.0 - ((f_last == 0) | (2 * f_last == grid[-1])).to(torch.float64)
    c = c_last.repeat(theta.shape[1] // kept[-1]) / math.prod(grid)
    cos, sin = torch.cos(theta), torch.sin(theta)
    forward = torch.cat([cos, -sin], dim=1)
    inverse = torch.cat([c[:, None] * cos.T, -c[:, None] * sin.T], dim=0)
    return forward.to(dtype), inverse.to(dtype)


def spectral_conv_reference(x: torch.Tensor, weight: torch.Tensor, modes: tuple[int, ...]) -> torch.Tensor:
    """The definition: ``irfftn(R · truncate(rfftn(x)))``.

    Args:
        x: ``(B, C_in, *grid)`` real.
        weight: ``(2, C_in, C_out, 2m_1, .., 2m_{d-1}, m_d)`` real and imaginary parts of ``W``.
        modes: ``(m_1, .., m_d)``.
    """
    d = len(modes)
    grid = tuple(x.shape[2:])
    kept = kept_modes(modes, grid)
    w = _select_modes(weight, modes, kept)
    w = torch.complex(w[0], w[1])
    axes = tuple(range(-d, 0))
    x_ft = torch.fft.rfftn(x, dim=axes)
    out = torch.zeros(x.shape[0], w.shape[1], *x_ft.shape[2:], dtype=x_ft.dtype, device=x.device)
    # the kept modes are the corners of the spectrum: low or high (negative) block on each first axis
    for corner in itertools.product((0, 1), repeat=d - 1):
        grid_sl = [slice(0, k) if c == 0 else slice(n - k, n) for c, k, n in zip(corner, kept, grid, strict=False)]
        w_sl = [slice(0, k) if c == 0 else slice(k, 2 * k) for c, k in zip(corner, kept, strict=False)]
        grid_sl.append(slice(0, kept[-1]))
        w_sl.append(slice(0, kept[-1]))
        block = x_ft[(slice(None), slice(None), *grid_sl)]
        out[(slice(None), slice(None), *grid_sl)] = torch.einsum("bi...,io...->bo...", block,
                                                                 w[(slice(None), slice(None), *w_sl)])
    return torch.fft.irfftn(out, s=grid, dim=axes)


def pack_weight(weight: torch.Tensor) -> torch.Tensor:
    """``(2, C_in, C_out, *mode_shape)`` → ``(M, 2 C_in, 2 C_out)`` with ``[[Wr, Wi], [-Wi, Wr]]`` per mode, so
    ``[Xr, Xi] @ packed = [Xr Wr - Xi Wi, Xr Wi + Xi Wr]``: the complex product as one real matmul."""
    wr, wi = (w.flatten(2).permute(2, 0, 1) for w in weight)  # (M, C_in, C_out)
    return torch.cat([torch.cat([wr, wi], dim=2), torch.cat([-wi, wr], dim=2)], dim=1)


def _mix(xm: torch.Tensor, packed: torch.Tensor) -> torch.Tensor:
    """``(B, C_in, 2, M)`` spectrum → ``(B, C_out, 2, M)`` by one real bmm over the modes."""
    b, c_in, _, m = xm.shape
    c_out = packed.shape[2] // 2
    y = torch.bmm(xm.permute(3, 0, 2, 1).reshape(m, b, 2 * c_in), packed)  # (M, B, 2 C_out)
    return y.view(m, b, 2, c_out).permute(1, 3, 2, 0)


def spectral_conv_fast(x: torch.Tensor, weight: torch.Tensor, modes: tuple[int, ...],
                       dft: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The same map as :func:`spectral_conv_reference` by real GEMMs (``dft`` from :func:`dft_matrices`
    for ``x``'s grid), or by FFTs with the packed real mixing when ``dft`` is ``None``."""
    d = len(modes)
    b, c_in, *grid = x.shape
    grid = tuple(grid)
    kept = kept_modes(modes, grid)
    packed = pack_weight(_select_modes(weight, modes, kept))
    c_out = packed.shape[2] // 2
    n_modes = packed.shape[0]
    if dft is not None:
        forward, inverse = dft
        xm = (x.reshape(b * c_in, -1) @ forward).view(b, c_in, 2, n_modes)
        y = _mix(xm, packed).reshape(b * c_out, 2 * n_modes) @ inverse
        return y.view(b, c_out, *grid)
    axes = tuple(range(-d, 0))
    x_ft = torch.fft.rfftn(x, dim=axes)
    index = [torch.cat([torch.arange(k, device=x.device), torch.arange(n - k, n, device=x.device)])
             for k, n in zip(kept[:-1], grid[:-1], strict=True)]
    sel = x_ft[..., :kept[-1]]
    for a, idx in enumerate(index):
        sel = sel.index_select(2 + a, idx)
    xm = torch.view_as_real(sel).movedim(-1, 2).reshape(b, c_in, 2, n_modes)
    y = _mix(xm, packed).reshape(b, c_out, 2, *sel.shape[2:])
    spectrum = torch.complex(y[:, :, 0], y[:, :, 1])
    for a, idx in enumerate(index):
        shape = list(spectrum.shape)
        shape[2 + a] = grid[a]
        spectrum = spectrum.new_zeros(shape).index_copy(2 + a, idx, spectrum)
    pad = grid[-1] // 2 + 1 - kept[-1]
    spectrum = torch.nn.functional.pad(spectrum, (0, pad))
    return torch.fft.irfftn(spectrum, s=grid, dim=axes)


class SpectralConv(nn.Module):
    """``x (B, C_in, *grid) → (B, C_out, *grid)``: the FNO spectral convolution with ``modes`` per axis.

    The weight is a dense real ``(2, C_in, C_out, *mode_shape)`` parameter, or given by ``weight`` (a
    module returning it, e.g. a Tucker factorisation). Each complex entry is drawn with real and
    imaginary parts ``N(0, σ²/2)``, ``σ² = 2 / (C_in + C_out)`` (Glorot scale, neuraloperator's default).
    ``fast = False`` evaluates by the reference formula.
    """

    def __init__(self, in_channels: int, out_channels: int, modes: tuple[int, ...], *,
                 generator: torch.Generator, dtype: torch.dtype, weight: nn.Module | None = None,
                 fast: bool = True) -> None:
        super().__init__()
        if not modes or any(not isinstance(m, int) or m < 1 for m in modes):
            raise ValueError(f"modes must be positive ints, one per axis, got {modes!r}")
        self.in_channels, self.out_channels, self.modes, self.fast = in_channels, out_channels, tuple(modes), fast
        self.factorised = weight
        if weight is None:
            std = math.sqrt(1.0 / (in_channels + out_channels))  # per part: σ²/2
            self.weight = nn.Parameter(std * torch.randn(self.weight_shape(), generator=generator, dtype=dtype))
        self._dft: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def weight_shape(self) -> tuple[int, ...]:
        return (2, self.in_channels, self.out_channels, *mode_shape(self.modes))

    def dense_weight(self) -> torch.Tensor:
        return self.weight if self.factorised is None else self.factorised()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.dense_weight()
        if not self.fast:
            return spectral_conv_reference(x, weight, self.modes)
        grid = tuple(x.shape[2:])
        kept = kept_modes(self.modes, grid)
        if math.prod(grid) * math.prod(kept) > _DENSE_DFT_LIMIT:
            return spectral_conv_fast(x, weight, self.modes)
        key = (grid, x.device, x.dtype)
        if key not in self._dft:  # built once per grid and device: no per-call allocation of the bases
            self._dft[key] = dft_matrices(grid, kept, device=x.device, dtype=x.dtype)
        return spectral_conv_fast(x, weight, self.modes, self._dft[key])


def mode_shape(modes: tuple[int, ...]) -> tuple[int, ...]:
    """``(2m_1, .., 2m_{d-1}, m_d)``: kept frequencies per axis."""
    return tuple(2 * m for m in modes[:-1]) + (modes[-1],)
