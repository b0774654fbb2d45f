"""Compatibility of boundary data where constrained faces meet, checked before a transfinite lift.

The Boolean-sum lift (``_transfinite.py``) reproduces the data on every face only if the data of
two faces that meet agree on their common edge (a corner in 2-D), and it is a sensible interior
field only if each face's data are continuous up to that edge. The lid-driven cavity breaks both:
the lid datum u = 1 meets u = 0 on the side walls at the two top corners, the corner terms of the
Coons patch cancel the lid term, the lift is 0 inside the cavity and u = 0 solves the PDE exactly.

Method. For every pair of constrained faces ``A``, ``B`` of different factors (two axes of a box, a
wall and the initial face ``t = t0``) and 64 fixed points ``e`` on their common edge, four values of
each output component are compared: ``h_A(e)``, ``h_A`` at ``e`` moved a distance ``δ`` into face
``A`` (away from ``B``), and the same two for ``B``. Continuous, compatible data give four values
within ``|∇h|·δ`` of each other; a jump at the edge (a discontinuity of either face's data, or two
faces that disagree) gives an O(1) spread. The data are refused when the spread exceeds
``RTOL`` times the data scale (the largest ``|h|`` over every constrained face at the probe points).

Decisions. (1) ``δ = 1e-9`` of the factor's length (axis length, radius, time span) and
``RTOL = 1e-5``: data whose gradient is below ``RTOL/δ = 1e4`` data scales per domain length pass,
which covers any datum a network of ordinary width can follow, while float64 round-off (1e-16) stays
far below it; every zoo problem but the cavity spreads at most 1e-7 of its data scale
(``tests/unit/test_ansatz.py``, the margin test). A datum defined by a tolerance test such as
``y >= 1 - 1e-12`` is seen as the discontinuity it is; one defined with a tolerance wider than ``δ``
(``y >= 1 - 1e-6``) jumps at a distance from the edge and is not detected: jumps away from the
edges, along a face, would need a dense scan of every face and are not looked for. (2) Initial
velocities (``Initial(order=1)``) are not checked: their compatibility is a condition on ``∂_t``
of the wall data. (3) A user's implicit boundary (``distance_ansatz``) is not checked: the data are
read at ``x`` itself there, there is no projection onto an edge.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch

from ._transfinite import Component, Datum, Factor, ImplicitFactor

__all__ = ["check_compatible"]

DELTA = 1e-9  # distance from the edge, as a fraction of the factor's length (module docstring)
RTOL = 1e-5  # allowed spread of the four values, relative to the data scale (module docstring)
# Index pairs into (h_A(e), h_A(e + δ into A), h_B(e), h_B(e + δ into B)), in reporting preference.
_PAIRS = ((1, 3), (0, 2), (1, 2), (0, 3), (0, 1), (2, 3))


def _point(x: torch.Tensor, names: Sequence[str]) -> str:
    return f"({', '.join(names)}) = ({', '.join(f'{float(v):.10g}' for v in x)})"


def _face(factors: Sequence[Factor], d: Datum, names: Sequence[str]) -> str:
    return factors[d.face[0]].name(d.face[1], names)  # type: ignore[union-attr]  # no implicit faces here


def _scale(factors: Sequence[Factor], data: Sequence[Datum], points: torch.Tensor) -> float:
    return max(float(d.fn(factors[d.face[0]].onto(points, d.face[1])).abs().max()) for d in data)


def check_compatible(
    factors: Sequence[Factor],
    comps: Sequence[Component],
    *,
    points: torch.Tensor,
    input_names: Sequence[str],
    output_names: Sequence[str],
) -> None:
    """Raise ValueError naming the faces, the point and the values where constrained data disagree.

    ``points`` ``(n, dim)`` are fixed points of the domain; they are projected onto every edge.
    ``comps`` are the components in output order (``comps[i]`` is output ``output_names[i]``).
    """
    with torch.no_grad():  # a check of values; data callables may build graphs
        for out, comp in zip(output_names, comps, strict=True):
            _check_component(factors, comp, points, input_names, out)


def _check_component(
    factors: Sequence[Factor], comp: Component, points: torch.Tensor, input_names: Sequence[str], out: str
) -> None:
    if comp.constant() is not None:  # one constant on every face: compatible by construction
        return
    data = [d for d in comp.data
            if d.face != comp.velocity and not isinstance(factors[d.face[0]], ImplicitFactor)]
    if len(data) < 2:
        return
    scale = _scale(factors, data, points)
    for a, b in itertools.combinations(data, 2):
        (fa, sa), (fb, sb) = a.face, b.face
        if fa == fb:  # the two faces of one axis never meet
            continue
        edge = factors[fb].onto(factors[fa].onto(points, sa), sb)
        near_a = factors[fb].inward(edge, sb, DELTA)  # still on face A, δ away from B
        near_b = factors[fa].inward(edge, sa, DELTA)
        where = [(a, edge), (a, near_a), (b, edge), (b, near_b)]
        values = torch.cat([d.fn(x)[:, :1] for d, x in where], dim=1)  # (n, 4)
        spread = values.max(dim=1).values - values.min(dim=1).values
        k = int(spread.argmax())
        if not float(spread[k]) > RTOL * scale:
            continue
        # Report the pair of values that differ most; the limits of the two faces first, a
        # jump inside one face's data (its value at the edge vs next to it) last.
        gaps = [abs(float(values[k, i] - values[k, j])) for i, j in _PAIRS]
        i, j = _PAIRS[max(range(len(_PAIRS)), key=lambda m: (gaps[m], -m))]
        (d1, x1), (d2, x2) = where[i], where[j]
        face_a, face_b, face1, face2 = (_face(factors, d, input_names) for d in (a, b, d1, d2))
        raise ValueError(
            f"incompatible data for output {out!r} where the faces {face_a} and {face_b} meet: "
            f"condition {d1.condition!r} on {face1} gives {float(values[k, i]):.6g} at "
            f"{_point(x1[k], input_names)}, condition {d2.condition!r} on {face2} gives "
            f"{float(values[k, j]):.6g} at {_point(x2[k], input_names)} (data scale {scale:.3g}); "
            "a Boolean-sum lift of data that jump at an edge is wrong inside the domain (for the "
            "lid-driven cavity it cancels to 0 and u = 0 solves the PDE). Keep these conditions as "
            "penalties (--constraints penalty, lagrangian or alm), or regularise the data so that "
            "they are continuous where the faces meet (e.g. a lid velocity 16 x² (1 - x)² that "
            "vanishes at the corners)"
        )
