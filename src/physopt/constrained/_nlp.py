"""The user's nonlinear program seen as flat tensors, with input validation and evaluation counters.

``minimize`` accepts an ``x0`` of any shape and constraint callables returning scalars or 1-D
tensors. :func:`build_nlp` checks all of that once, up front, and raises ``ValueError`` naming the
offending argument; afterwards the solvers only see flat ``(n,)`` vectors, stacked constraint
vectors ``h (m_eq,)`` and ``g (m_ineq,)`` and the bound vectors ``lower``/``upper`` (``±inf`` where
absent). Derivatives come from autograd on a fresh leaf at every evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ._bounds import read_bounds

__all__ = ["NLP", "Point", "build_nlp", "project"]

Fn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Point:
    """One evaluation: flat ``x`` (a leaf that requires grad when built with a graph), ``f`` (0-d),
    stacked equality values ``h (m_eq,)`` and inequality values ``g (m_ineq,)``."""

    x: Tensor
    f: Tensor
    h: Tensor
    g: Tensor


def project(x: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    """Euclidean projection on the box ``[lower, upper]`` (pure)."""
    return torch.minimum(torch.maximum(x, lower), upper)


class NLP:
    """Flat, validated view of ``min f(x) s.t. h(x) = 0, g(x) <= 0, lower <= x <= upper``.

    Holds the callables, the shapes and the evaluation counters ``nfev``/``ngev``/``nhev``/``nhvp``;
    the solvers keep all algorithmic state themselves.
    """

    def __init__(
        self,
        fun: Fn,
        eq: Sequence[Fn],
        ineq: Sequence[Fn],
        shape: torch.Size,
        dtype: torch.dtype,
        lower: Tensor,
        upper: Tensor,
    ) -> None:
        self.fun, self.eq, self.ineq = fun, list(eq), list(ineq)
        self.shape, self.dtype = shape, dtype
        self.lower, self.upper = lower, upper
        self.n = int(lower.numel())
        self.eq_sizes: list[int] = []
        self.ineq_sizes: list[int] = []
        self.nfev = self.ngev = self.nhev = self.nhvp = 0

    @property
    def m_eq(self) -> int:
        return sum(self.eq_sizes)

    @property
    def m_ineq(self) -> int:
        return sum(self.ineq_sizes)

    def _call(self, fn: Fn, x: Tensor, name: str, scalar: bool) -> Tensor:
        out = fn(x.reshape(self.shape))
        if not isinstance(out, Tensor):
            raise ValueError(  # noqa: TRY004 - the package contract: bad input is a ValueError
                f"{name} must return a torch.Tensor (autograd needs it); got {type(out).__name__}"
            )
        if not (out.is_floating_point() and not out.is_complex()):
            raise ValueError(f"{name} must return a real floating tensor; got dtype {out.dtype}")
        if scalar and out.numel() != 1:
            raise ValueError(f"{name} must return a scalar; got shape {tuple(out.shape)}")
        if not scalar and out.dim() > 1:
            raise ValueError(
                f"{name} must return a scalar or a 1-D tensor; got shape {tuple(out.shape)}"
            )
        return out.to(self.dtype).reshape(-1)

    def _stack(self, fns: list[Fn], sizes: list[int], x: Tensor, kind: str) -> Tensor:
        parts = []
        for i, fn in enumerate(fns):
            v = self._call(fn, x, f"{kind}[{i}]", scalar=False)
            if len(sizes) <= i:
                sizes.append(v.numel())
            elif v.numel() != sizes[i]:
                raise ValueError(
                    f"{kind}[{i}] returned {v.numel()} values, but {sizes[i]} at the first call"
                )
            parts.append(v)
        return torch.cat(parts) if parts else x.new_zeros(0)

    def values(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(f, h, g)`` at flat ``x`` as functions of ``x`` itself (no new leaf, not counted)."""
        f = self._call(self.fun, x, "fun", scalar=True).reshape(())
        return f, self._stack(self.eq, self.eq_sizes, x, "eq"), self._stack(self.ineq, self.ineq_sizes, x, "ineq")

    def evaluate(self, x: Tensor, *, graph: bool) -> Point:
        """Evaluate objective and constraints at flat ``x``; keep the autograd graph if ``graph``."""
        self.nfev += 1
        leaf = x.detach().clone().requires_grad_(graph)
        with torch.set_grad_enabled(graph):
            f, h, g = self.values(leaf)
        return Point(leaf, f, h, g)

    def grad(self, value: Tensor, point: Point, *, keep_graph: bool = False) -> Tensor:
        """``∂ value / ∂x`` for a scalar built from ``point`` (counts one gradient evaluation)."""
        self.ngev += 1
        if not value.requires_grad:
            return torch.zeros_like(point.x)
        (gx,) = torch.autograd.grad(value, point.x, allow_unused=True, retain_graph=keep_graph)
        return torch.zeros_like(point.x) if gx is None else gx.detach()

    def nonfinite(self, point: Point) -> str | None:
        """Name the first function that returned NaN/Inf at ``point`` (``None`` if all finite)."""
        if not bool(torch.isfinite(point.f)):
            return f"fun returned {float(point.f.detach())}"
        for kind, values, sizes in (("eq", point.h, self.eq_sizes), ("ineq", point.g, self.ineq_sizes)):
            start = 0
            for i, size in enumerate(sizes):
                chunk = values[start : start + size]
                if not bool(torch.isfinite(chunk).all()):
                    return f"{kind}[{i}] returned a non-finite value"
                start += size
        return None


def _as_callables(fns: object, name: str) -> list[Fn]:
    if fns is None:
        return []
    if callable(fns):
        return [fns]  # type: ignore[list-item]
    if isinstance(fns, (str, bytes)) or not isinstance(fns, Sequence):
        raise ValueError(f"{name} must be a list of callables; got {type(fns).__name__}")  # noqa: TRY004
    for i, fn in enumerate(fns):
        if not callable(fn):
            raise ValueError(f"{name}[{i}] is not callable; got {fn!r} ({type(fn).__name__})")  # noqa: TRY004
    return list(fns)


def build_nlp(
    fun: object,
    x0: object,
    eq: object,
    ineq: object,
    bounds: object,
    dtype: torch.dtype,
) -> tuple[NLP, Tensor]:
    """Validate the user's input and return the flat problem and the projected flat start point.

    Raises ``ValueError`` (naming what was given) for a non-callable objective or constraint, an
    ``x0`` that is not a finite real array, ``bounds`` in no accepted form (or an ambiguous one, see
    :mod:`._bounds`) or with ``lower > upper``, and functions that return the wrong type or shape at ``x0``.
    """
    if not callable(fun):
        raise ValueError(f"fun is not callable; got {fun!r} ({type(fun).__name__})")  # noqa: TRY004
    try:
        x = torch.as_tensor(x0).detach().to(dtype)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"x0 could not be read as a real tensor: {x0!r}") from err
    if x.numel() == 0:
        raise ValueError(f"x0 is empty; got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"x0 contains NaN or Inf: {x.reshape(-1).tolist()}")
    eq_fns, ineq_fns = _as_callables(eq, "eq"), _as_callables(ineq, "ineq")
    flat = x.reshape(-1).clone()
    lower, upper = read_bounds(bounds, flat, x.shape)
    nlp = NLP(fun, eq_fns, ineq_fns, x.shape, dtype, lower, upper)  # type: ignore[arg-type]
    start = project(flat, lower, upper)
    nlp.evaluate(start, graph=False)  # validates return types and records constraint sizes
    nlp.nfev = 0
    return nlp, start
