"""Differential operators on autograd graphs.

All operators take a field ``u`` computed from points ``x`` (``x.requires_grad`` must be true) and
return tensors with a graph (``create_graph=True``), so they compose (``partial(u, x, 0, 0)`` is
``u_xx``) and can be trained through. Scalar fields are ``(n,)`` or ``(n, 1)``; results of scalar
operators are ``(n, 1)``. Nothing is cached: each call differentiates once, which keeps the
functions pure (DeepXDE's global derivative cache is exactly what we avoid). So a residual that needs
several derivatives of the same ``u`` should take ``g = grad(u, x)`` once, slice ``g[:, :1]``,
``g[:, 1:]``, and differentiate a slice for the second derivatives (``partial(g[:, :1], x, 0)`` is
``u_xx``): ``dt(u, x) + u * partial(u, x, 0) - nu * partial(u, x, 0, 0)`` differentiates ``u`` four
times, the Burgers zoo residual written that way twice, at 0.71x the CPU (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["SAMPLED_DIMS", "div", "dt", "grad", "laplacian", "partial"]

# The key under which an SDGD run passes the sampled dimensions in the ``params`` mapping residual
# functions receive: ``laplacian(u, x, dims=params.get(SAMPLED_DIMS))``.
SAMPLED_DIMS = "sampled_dims"


def _scalar(u: torch.Tensor, name: str) -> torch.Tensor:
    if u.ndim == 2 and u.shape[1] == 1:
        return u[:, 0]
    if u.ndim == 1:
        return u
    raise ValueError(f"{name} needs a scalar field of shape (n,) or (n, 1), got {tuple(u.shape)}")


def _check_x(x: torch.Tensor) -> None:
    if x.ndim != 2:
        raise ValueError(f"points must have shape (n, dim), got {tuple(x.shape)}")
    if not x.requires_grad:
        raise ValueError("points must have requires_grad=True to take derivatives")


def grad(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Gradient ``∇u`` of a scalar field, shape ``(n, dim)``."""
    _check_x(x)
    s = _scalar(u, "grad")
    (g,) = torch.autograd.grad(s, x, grad_outputs=torch.ones_like(s), create_graph=True, allow_unused=True)
    # A field that does not depend on x has zero gradient, not None.
    return torch.zeros_like(x) if g is None else g


def partial(u: torch.Tensor, x: torch.Tensor, *axes: int) -> torch.Tensor:
    """Mixed partial derivative ``∂^k u / ∂x_{a1} ... ∂x_{ak}``, shape ``(n, 1)``.

    ``partial(u, x, 0)`` is ``u_x``; ``partial(u, x, 0, 0)`` is ``u_xx``; ``partial(u, x, 0, 1)`` is
    ``u_xy``. With no axes it returns ``u`` itself as ``(n, 1)``.
    """
    _check_x(x)
    out = _scalar(u, "partial")[:, None]
    for a in axes:
        if not -x.shape[1] <= a < x.shape[1]:
            raise ValueError(f"axis {a} out of range for points of dim {x.shape[1]}")
        out = grad(out, x)[:, a : a + 1 if a != -1 else None]
    return out


def dt(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Time derivative ``u_t`` for space-time points (time is the last column), ``(n, 1)``."""
    return partial(u, x, -1)


def laplacian(
    u: torch.Tensor,
    x: torch.Tensor,
    *,
    axes: Sequence[int] | None = None,
    dims: torch.Tensor | None = None,
) -> torch.Tensor:
    """Laplacian ``Σ_i ∂²u/∂x_i²`` over ``axes`` (default: every column), ``(n, 1)``.

    For space-time points pass the spatial axes, e.g. ``axes=range(x.shape[1] - 1)``.

    ``dims`` (SDGD, Hu et al. 2024, arXiv 2307.12306) is a sampled subset of positions in
    ``axes``, e.g. ``params.get(SAMPLED_DIMS)``: the result is the unbiased estimate
    ``(|axes| / |dims|) Σ_{j ∈ dims} ∂²u/∂x_{axes[j]}²`` and only the ``|dims|`` sampled second
    derivatives enter the graph, so memory and backward cost grow with ``|dims|``, not ``|axes|``.
    ``None`` (the default, and what a run without ``sdgd.dims`` passes) is the full Laplacian.
    """
    _check_x(x)
    idx = list(range(x.shape[1])) if axes is None else list(axes)
    if not idx:
        raise ValueError("laplacian needs at least one axis")
    scale = 1.0
    if dims is not None:
        picked = [int(j) for j in dims.tolist()]
        if not picked or not all(0 <= j < len(idx) for j in picked):
            raise ValueError(f"laplacian: sampled dims must be non-empty positions in 0..{len(idx) - 1}, got {picked}")
        scale = len(idx) / len(picked)
        idx = [idx[j] for j in picked]
    g = grad(u, x)
    total = torch.zeros_like(g[:, :1])
    for a in idx:
        total = total + grad(g[:, a], x)[:, a : a + 1]
    return total * scale if dims is not None else total


def div(v: torch.Tensor, x: torch.Tensor, *, axes: Sequence[int] | None = None) -> torch.Tensor:
    """Divergence ``Σ_i ∂v_i/∂x_{axes[i]}`` of a vector field ``v`` of shape ``(n, k)``, ``(n, 1)``.

    ``axes`` defaults to ``range(k)``: component ``i`` is differentiated along column ``i``.
    """
    _check_x(x)
    if v.ndim != 2:
        raise ValueError(f"div needs a vector field of shape (n, k), got {tuple(v.shape)}")
    idx = list(range(v.shape[1])) if axes is None else list(axes)
    if len(idx) != v.shape[1]:
        raise ValueError(f"div: {v.shape[1]} components but {len(idx)} axes {idx}")
    total = torch.zeros_like(v[:, :1])
    for i, a in enumerate(idx):
        total = total + grad(v[:, i], x)[:, a : a + 1]
    return total
