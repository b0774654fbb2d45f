"""Pseudo-spectral time stepping on the periodic unit cube, shared by Burgers and Navier–Stokes.

``v_t = L v + N(v)`` in Fourier space with ``L`` diagonal (diffusion) is advanced by the
integrating-factor RK4 scheme (as reviewed by Kassam & Trefethen 2005, SIAM J. Sci. Comput.): the
stiff diffusion is integrated exactly, the nonlinear term by classical RK4. Nonlinear products are
dealiased by the 2/3 rule. Samples of a solution on another grid are exact evaluations of its
trigonometric polynomial, so every output resolution sees the same solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["check_resolved", "dealias_mask", "evaluate_periodic", "integrating_factor_rk4", "wavenumbers"]


def wavenumbers(n: int, dim: int) -> list[np.ndarray]:
    """Angular wavenumbers ``2 pi k`` of an ``rfftn`` of an ``n^dim`` grid, broadcastable per axis."""
    axes = [np.fft.fftfreq(n, 1.0 / n)] * (dim - 1) + [np.fft.rfftfreq(n, 1.0 / n)]
    return [2 * math.pi * k for k in np.meshgrid(*axes, indexing="ij", sparse=True)]


def dealias_mask(n: int, dim: int) -> np.ndarray:
    """True on the modes the 2/3 rule keeps (``|k_j| < n/3`` on every axis)."""
    ks = wavenumbers(n, dim)
    mask = np.ones(np.broadcast_shapes(*(k.shape for k in ks)), dtype=bool)
    for k in ks:
        mask &= np.abs(k) / (2 * math.pi) < n / 3
    return mask


# RK4's stability interval on the imaginary axis: advection needs dt * speed * k_max below it.
RK4_IMAGINARY_LIMIT = 2 * math.sqrt(2.0)


def integrating_factor_rk4(v: np.ndarray, linear: np.ndarray, nonlinear: Callable[[np.ndarray], np.ndarray], *,
                           dt: float, times: np.ndarray, speed: Callable[[np.ndarray], float],
                           k_max: float) -> np.ndarray:
    """Advance Fourier coefficients ``v`` (``(batch, *modes)``) and return them at every time in ``times``.

    ``times`` (increasing, positive) are hit exactly: each interval is split into ``ceil(interval / dt)``
    equal steps. Before each interval the advective number ``h * speed(v) * k_max`` is checked against
    RK4's stability limit: beyond it the integrating factor damps the instability into a smooth, wrong
    solution, so it is refused (``ValueError`` naming ``dt``). Returns ``(len(times), batch, *modes)``."""
    out = np.empty((len(times), *v.shape), dtype=v.dtype)
    t = 0.0
    for j, t_next in enumerate(times):
        steps = max(1, math.ceil((t_next - t) / dt - 1e-9))
        h = (t_next - t) / steps
        courant = h * speed(v) * k_max
        if not courant <= RK4_IMAGINARY_LIMIT:
            raise ValueError(f"dt={dt} is too large: the advective number dt * max speed * k_max is {courant:.3g} "
                             f"at t={t:g}, above RK4's limit {RK4_IMAGINARY_LIMIT:.3g} (reduce dt)")
        e1, e2 = np.exp(linear * h), np.exp(linear * h / 2)
        for _ in range(steps):
            n1 = nonlinear(v)
            n2 = nonlinear(e2 * (v + h / 2 * n1))
            n3 = nonlinear(e2 * v + h / 2 * n2)
            n4 = nonlinear(e1 * v + h * e2 * n3)
            v = e1 * v + h / 6 * (e1 * n1 + 2 * e2 * (n2 + n3) + n4)
        t = float(t_next)
        out[j] = v
    return out


def check_resolved(v: np.ndarray, dim: int, option: str, *, tolerance: float = 1e-5) -> None:
    """``ValueError`` naming ``option`` unless the spectrum ``v`` (``(..., *rfft modes)`` of an ``n^dim``
    grid) has decayed below ``tolerance`` (relative to its largest mode) on the top fifth of the modes the
    2/3 rule keeps: an under-resolved solution is refused rather than delivered as trusted data."""
    n = v.shape[-2] if dim > 1 else 2 * (v.shape[-1] - 1)
    reach = np.zeros(v.shape[-dim:])
    for k in wavenumbers(n, dim):
        reach = np.maximum(reach, np.abs(k) / (2 * math.pi))
    top = (reach >= 0.8 * n / 3) & (reach < n / 3)
    size = np.abs(v).reshape(*v.shape[:-dim], -1)
    ratio = size[..., top.ravel()].max(axis=-1) / size.max(axis=-1)
    if ratio.max() > tolerance:
        raise ValueError(f"the solution is under-resolved on {n} points per axis (its top resolved modes are "
                         f"{ratio.max():.1e} of its largest, above {tolerance:g}): increase {option}")


def _evaluation_matrix(n_from: int, n_to: int) -> np.ndarray:
    """``(n_to, n_from)``: values at ``i / n_to`` of the trigonometric interpolant of ``n_from`` samples."""
    k = np.fft.fftfreq(n_from, 1.0 / n_from)
    if n_from % 2 == 0:
        k = np.delete(k, n_from // 2)  # the Nyquist mode (zero after dealiasing) is dropped, not aliased
    x = np.arange(n_to) / n_to
    m = np.arange(n_from) / n_from
    return np.real(np.exp(2j * math.pi * np.multiply.outer(x, k)) @ np.exp(-2j * math.pi * np.multiply.outer(k, m))) \
        / n_from


def evaluate_periodic(values: np.ndarray, n: int, dim: int) -> np.ndarray:
    """Samples on the ``n^dim`` periodic grid of the trigonometric polynomial whose samples on the
    ``m^dim`` grid are ``values`` (the last ``dim`` axes); exact (up to rounding) for any ``n`` when it
    has no Nyquist mode, as after dealiasing."""
    m = values.shape[-1]
    if m == n:
        return values
    matrix = _evaluation_matrix(m, n)
    out = values
    for axis in range(values.ndim - dim, values.ndim):
        out = np.moveaxis(np.tensordot(out, matrix, axes=([axis], [1])), -1, axis)
    return out
