"""Error metrics: pure functions of arrays."""

from __future__ import annotations

import numpy as np

__all__ = ["comparable_metrics", "l1_rel", "max_abs_error", "mse", "nrmse", "rel_l2"]


def _pair(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, r = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if p.shape != r.shape:
        raise ValueError(f"prediction shape {p.shape} differs from reference shape {r.shape}")
    return p, r


def rel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    """Relative L2 error ``‖pred - ref‖₂ / ‖ref‖₂`` over all points and components."""
    p, r = _pair(pred, ref)
    denom = np.linalg.norm(r)
    if denom == 0:
        raise ValueError("relative error is undefined for an all-zero reference")
    return float(np.linalg.norm(p - r) / denom)


def max_abs_error(pred: np.ndarray, ref: np.ndarray) -> float:
    """Largest absolute pointwise error."""
    p, r = _pair(pred, ref)
    return float(np.max(np.abs(p - r)))


def l1_rel(pred: np.ndarray, ref: np.ndarray) -> float:
    """Relative L1 error ``‖pred - ref‖₁ / ‖ref‖₁`` over all points and components (PINNacle's L1RE:
    ``mean|pred - ref| / mean|ref|``; Hao et al., NeurIPS 2024, ``src/utils/callbacks.py``)."""
    p, r = _pair(pred, ref)
    denom = np.abs(r).sum()
    if denom == 0:
        raise ValueError("relative error is undefined for an all-zero reference")
    return float(np.abs(p - r).sum() / denom)


def mse(pred: np.ndarray, ref: np.ndarray) -> float:
    """Mean squared error ``mean((pred - ref)²)`` over all points and components (PINNacle's MSE)."""
    p, r = _pair(pred, ref)
    return float(np.mean((p - r) ** 2))


def nrmse(pred: np.ndarray, ref: np.ndarray, *, times: np.ndarray | None = None) -> float:
    """PDEBench's normalised RMSE (Takamoto et al., "PDEBench", NeurIPS 2022 D&B; ``metric_func`` in
    ``pdebench/models/metrics.py``): for every output component ``c`` and every time step ``t``,
    ``RMSE_x(pred - ref) / RMS_x(ref) = ‖pred_{c,t} - ref_{c,t}‖₂ / ‖ref_{c,t}‖₂`` over the spatial
    points, then the mean over components and time steps (their batch mean is over one solution here).

    ``pred``/``ref`` are ``(n, components)``; ``times`` ``(n,)`` assigns each point its time step
    (points with the same value form one step); ``None`` treats all points as one step (a steady
    problem). Raises ``ValueError`` when a step's reference is all zero (the ratio is undefined).
    """
    p, r = _pair(pred, ref)
    p, r = p.reshape(len(p), -1), r.reshape(len(r), -1)
    steps = np.zeros(len(r), dtype=np.int64) if times is None else np.unique(np.asarray(times), return_inverse=True)[1]
    if steps.shape != (len(r),):
        raise ValueError(f"times must give one time per point ({len(r)}), got shape {np.shape(times)}")
    ratios = []
    for k in range(int(steps.max()) + 1 if len(steps) else 0):
        rows = steps == k
        denom = np.linalg.norm(r[rows], axis=0)
        if (denom == 0).any():
            raise ValueError(f"nRMSE is undefined: the reference is all zero at time step {k}")
        ratios.append(np.linalg.norm(p[rows] - r[rows], axis=0) / denom)
    return float(np.mean(ratios))


def comparable_metrics(
    pred: np.ndarray, ref: np.ndarray, *, times: np.ndarray | None = None
) -> dict[str, float | None]:
    """The metrics of PINNacle's and PDEBench's tables, ``None`` where undefined: ``l1_rel``,
    ``mse`` and ``nrmse`` (per time step when ``times`` lie on a grid — at most half as many
    distinct times as points; scattered times have no time steps, so ``nrmse`` is ``None``)."""
    out: dict[str, float | None] = {"mse": mse(pred, ref)}
    try:
        out["l1_rel"] = l1_rel(pred, ref)
    except ValueError:
        out["l1_rel"] = None
    on_grid = times is None or 2 * len(np.unique(np.asarray(times))) <= len(np.asarray(times))
    try:
        out["nrmse"] = nrmse(pred, ref, times=times) if on_grid else None
    except ValueError:
        out["nrmse"] = None
    return out
