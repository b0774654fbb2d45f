"""Reading the ``bounds`` argument of :func:`minimize` in the forms users type, refusing ambiguous ones.

Accepted forms (``n`` = number of entries of ``x0``):

1. :class:`Bounds` ``(lower=..., upper=...)`` or ``scipy.optimize.Bounds(lb, ub)``: never ambiguous.
2. ``(lower, upper)``: each ``None`` (unbounded), a scalar, or an array of ``x0``'s shape (or ``(n,)``).
3. SciPy's per-variable pairs ``[(lo_0, hi_0), ..., (lo_{n-1}, hi_{n-1})]``: exactly ``n`` pairs, each
   entry a scalar or ``None``.

A value that is a valid box under both 2 and 3 (only possible for ``n = 2``: two 2-element items, e.g.
``[(0, 2), (0, 2)]``, which means ``x ∈ [0, 2]²`` to SciPy and ``lower = (0, 2), upper = (0, 2)`` to form
2) is refused with a ``ValueError`` naming both readings: we never guess. If only one reading is a box
(``lower <= upper`` everywhere, no NaN), e.g. ``((2, -50), (50, 50))``, that reading is used. SciPy's ``Bounds`` is
recognised by an ``isinstance`` check against ``scipy.optimize.Bounds`` when ``scipy.optimize`` is
already imported (a user holding such an object has imported it); the library never imports SciPy.
Its ``keep_feasible`` flag is irrelevant here: iterates always stay inside the bounds.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Bounds", "read_bounds"]


@dataclass(frozen=True)
class Bounds:
    """Box ``lower <= x <= upper``; each side ``None`` (unbounded), a scalar or an array of ``x0``'s shape.

    The unambiguous form for any ``n`` (the same meaning as ``scipy.optimize.Bounds(lb, ub)``)."""

    lower: object = None
    upper: object = None


def _scipy_bounds(value: object) -> tuple[object, object] | None:
    """``(lb, ub)`` if ``value`` is a ``scipy.optimize.Bounds`` (only checked if SciPy is loaded)."""
    module = sys.modules.get("scipy.optimize")
    cls = getattr(module, "Bounds", None) if module is not None else None
    if not (isinstance(cls, type) and isinstance(value, cls)):
        return None
    # SciPy stores a scalar bound as a 1-element array: it broadcasts, as in SciPy
    sides = [torch.as_tensor(v, dtype=torch.float64) for v in (value.lb, value.ub)]
    return tuple(float(t.reshape(())) if t.numel() == 1 else t for t in sides)  # type: ignore[return-value]


def _side(value: object, which: str, flat: Tensor, fill: float, shape: torch.Size) -> Tensor:
    if value is None:
        return torch.full_like(flat, fill)
    try:
        t = torch.as_tensor(value, dtype=flat.dtype)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"bounds {which} could not be read as a tensor: {value!r}") from err
    if t.dim() == 0:
        return torch.full_like(flat, float(t))
    if t.shape != shape and not (t.dim() == 1 and t.numel() == flat.numel()):
        raise ValueError(f"bounds {which} has shape {tuple(t.shape)}, but x0 has shape {tuple(shape)}")
    return t.reshape(-1).clone().to(flat.device)


def _is_scalar(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):  # int, float, NumPy scalars
        return True
    return isinstance(value, Tensor) and value.numel() == 1 and value.dim() == 0


def _is_side(value: object, shape: torch.Size, n: int) -> bool:
    """Valid as one side of form 2: None, a scalar, or an array of x0's shape / (n,)."""
    if value is None or _is_scalar(value):
        return True
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    return t.dim() == 0 or t.shape == shape or (t.dim() == 1 and t.numel() == n)


def _is_pair(value: object) -> bool:
    """Valid as one item of form 3: a 2-entry sequence of scalars or None."""
    if isinstance(value, Tensor):
        return value.dim() == 1 and value.numel() == 2
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        return False
    return all(v is None or _is_scalar(v) for v in value)


def _pairs(pairs: Sequence[object], flat: Tensor) -> tuple[Tensor, Tensor]:
    lo, hi = [], []
    for pair in pairs:
        a, b = pair[0], pair[1]  # type: ignore[index]
        lo.append(-math.inf if a is None else float(a))
        hi.append(math.inf if b is None else float(b))
    return (torch.tensor(lo, dtype=flat.dtype, device=flat.device),
            torch.tensor(hi, dtype=flat.dtype, device=flat.device))


def _is_box(lower: Tensor, upper: Tensor) -> bool:
    return not bool(torch.isnan(lower).any() | torch.isnan(upper).any() | (lower > upper).any())


def read_bounds(bounds: object, flat: Tensor, shape: torch.Size) -> tuple[Tensor, Tensor]:
    """Flat ``(lower, upper)`` tensors from any accepted form (see the module docstring).

    Raises ``ValueError`` naming what was given for an ambiguous or unreadable value, NaN entries
    or ``lower > upper``.
    """
    n = flat.numel()
    if bounds is None:
        return torch.full_like(flat, -math.inf), torch.full_like(flat, math.inf)
    sides = (bounds.lower, bounds.upper) if isinstance(bounds, Bounds) else _scipy_bounds(bounds)
    if sides is None:
        if isinstance(bounds, (str, bytes)) or not isinstance(bounds, (tuple, list)):
            raise ValueError(
                f"bounds must be Bounds(lower=..., upper=...), scipy.optimize.Bounds, a pair (lower, upper) "
                f"or a list of {n} per-variable (low, high) pairs; got {type(bounds).__name__}: {bounds!r}"
            )
        as_sides = len(bounds) == 2 and all(_is_side(b, shape, n) for b in bounds)
        as_pairs = len(bounds) == n and all(_is_pair(b) for b in bounds)
        if as_sides and as_pairs:
            # both shapes fit (n = 2, two 2-element items): refuse unless only one reading is a box
            a_ok = _is_box(*(_side(b, "", flat, f, shape) for b, f in zip(bounds, (-math.inf, math.inf), strict=True)))
            b_ok = _is_box(*_pairs(bounds, flat))
            if a_ok and b_ok:
                raise ValueError(
                    f"bounds={bounds!r} is ambiguous for {n} variables: it reads both as (lower, upper) = "
                    f"({bounds[0]!r}, {bounds[1]!r}) and as per-variable (low, high) pairs; pass "
                    "Bounds(lower=..., upper=...) (or scipy.optimize.Bounds) to say which"
                )
            as_pairs = b_ok
        if as_pairs:
            lower, upper = _pairs(bounds, flat)
        elif len(bounds) == 2:
            sides = (bounds[0], bounds[1])
        else:
            raise ValueError(
                f"bounds must be a pair (lower, upper), each a scalar, None or an array of x0's shape "
                f"{tuple(shape)}, or a list of {n} per-variable (low, high) pairs; got {bounds!r}"
            )
    if sides is not None:
        lower = _side(sides[0], "lower", flat, -math.inf, shape)
        upper = _side(sides[1], "upper", flat, math.inf, shape)
    if bool(torch.isnan(lower).any() | torch.isnan(upper).any()):
        raise ValueError(f"bounds contain NaN: lower={lower.tolist()}, upper={upper.tolist()}")
    bad = (lower > upper).nonzero().reshape(-1)
    if bad.numel():
        i = int(bad[0])
        raise ValueError(f"bounds have lower > upper at index {i}: {float(lower[i])} > {float(upper[i])}")
    return lower, upper
