"""Automatic hard-constraint ansätze ``u = g + d·N`` from a problem's Dirichlet and initial conditions.

The formulas — a distance factor and an interpolation projector per factor of the domain, the lift as
their Boolean sum (Gordon & Hall 1973) — are in ``_transfinite.py``; this module reads a problem's
conditions into per-component face data, refuses data that jump where faces meet
(``_compatibility.py``), and returns an :class:`Ansatz`.

Decisions. (1) Where two conditions constrain the same face of the same component, the one listed
first in the problem is used. (2) A Dirichlet condition restricted with ``on=`` must select whole
faces: each face is probed at 64 points; a face selected only in part raises ValueError. (3) Neumann
and Periodic conditions are not enforced (they need a derivative-matching ansatz or periodic
features), nor ``Initial(order=1)`` without an order-0 ``Initial``; they stay in the loss. With both,
``u_t(x, t0) = v1`` holds exactly when the wall data satisfy ``∂_t g(x, t0) = v1`` on the walls
(compatibility again, not checked). (4) Data that are incompatible where two faces meet (the
lid-driven cavity's lid and walls) are refused by :func:`build_ansatz`, not silently lifted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from ._ball import Ball
from ._compatibility import check_compatible
from ._conditions import Condition, Dirichlet, Initial, Value
from ._domain import Box, Disk, Domain, Instant, SpaceTime
from ._problem import Ansatz, Problem
from ._transfinite import (
    AxisFactor,
    Component,
    Datum,
    Face,
    Factor,
    ImplicitFactor,
    SphereFactor,
    TimeFactor,
    boolean_sum,
    column,
    distance_product,
)

__all__ = ["build_ansatz", "distance_ansatz"]

Fn = Callable[[torch.Tensor], torch.Tensor]
_PROBES = 64  # points per face for `on` selectors and per edge for the compatibility check
_MAX_TERMS = 3**7  # data evaluations of one Boolean sum (an 8-D box with all faces would need 6560)


def _data(value: Value, index: int) -> tuple[float | None, Fn]:
    """The constant (or ``None``) and a callable giving one output column of a condition's value."""
    if not callable(value):
        v = float(value)
        return v, lambda x: torch.full((x.shape[0], 1), v, dtype=x.dtype, device=x.device)

    def fn(x: torch.Tensor) -> torch.Tensor:
        out = column(value(x))
        return out[:, index : index + 1] if out.shape[1] > 1 else out

    return None, fn


def _make(factors: list[Factor], comps: list[Component], enforces: tuple[str, ...]) -> Ansatz:
    for comp in comps:
        if comp.constant() is None and math.prod(len(s) + 1 for s in comp.sides().values()) - 1 > _MAX_TERMS:
            raise ValueError(
                f"the transfinite lift would need more than {_MAX_TERMS} data evaluations per point "
                f"(faces on {len(comp.sides())} axes); give lift= to Ansatz yourself"
            )
    shared = len({c.sides().__repr__() for c in comps}) == 1

    def lift(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([boolean_sum(factors, c, x) for c in comps], dim=1)

    def distance(x: torch.Tensor) -> torch.Tensor:
        if shared:  # one (n, 1) factor broadcast over the outputs
            return distance_product(factors, comps[0], x)
        return torch.cat([distance_product(factors, c, x) for c in comps], dim=1)

    return Ansatz(lift=lift, distance=distance, enforces=enforces)


def _factors(domain: Domain | SpaceTime, implicit: Fn | None) -> tuple[list[Factor], list[int], int | None]:
    """Factors of the domain, the indices of its spatial factors, and the index of the time factor."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    factors: list[Factor]
    if implicit is not None:
        factors = [ImplicitFactor(implicit)]
    elif isinstance(space, Box):
        factors = [AxisFactor(k, a, b) for k, (a, b) in enumerate(zip(space.lo, space.hi, strict=True))]
    elif isinstance(space, Disk | Ball):
        factors = [SphereFactor(tuple(space.center), float(space.radius))]
    elif isinstance(space, Instant):
        factors = []  # an ODE: no spatial boundary, only the time factor below
    else:
        raise ValueError(
            f"no automatic ansatz for a {type(space).__name__} domain (only Interval/Rectangle/Box, Disk, Ball, "
            "and their products with a TimeInterval); give a distance function: "
            "physopt.problems.distance_ansatz(problem, distance=...)"
        )
    spatial = list(range(len(factors)))
    time = None
    if isinstance(domain, SpaceTime):
        factors.append(TimeFactor(float(domain.time.t0), float(domain.time.t1)))
        time = len(factors) - 1
    return factors, spatial, time


def _selected_faces(
    name: str, cond: Dirichlet, domain: Domain | SpaceTime, factors: list[Factor], spatial: list[int]
) -> list[Face]:
    if isinstance(factors[spatial[0]], ImplicitFactor) or cond.on is None:
        return [(f, s) for f in spatial for s in range(getattr(factors[f], "faces", 1))]
    gen = torch.Generator().manual_seed(0)  # fixed probe points: the answer must not depend on a seed
    x = domain.sample_interior(_PROBES, generator=gen, dtype=torch.float64)
    faces = []
    for f in spatial:
        factor = factors[f]
        assert isinstance(factor, AxisFactor | SphereFactor)  # implicit boundaries returned above
        for side in range(factor.faces):
            hit = cond.on(factor.onto(x, side)).bool()
            if bool(hit.all()):
                faces.append((f, side))
            elif bool(hit.any()):
                raise ValueError(
                    f"Dirichlet condition {name!r} selects part of a face of the domain; the automatic "
                    "ansatz needs whole faces (give distance_ansatz(problem, distance=..., lift=...) or "
                    "use penalty constraints)"
                )
    if not faces:
        raise ValueError(f"Dirichlet condition {name!r} selects no whole face of the domain")
    return faces


def _components(
    problem: Problem, factors: list[Factor], spatial: list[int], time: int | None, names: Sequence[str]
) -> list[Component]:
    faces: list[list[Datum]] = [[] for _ in problem.output_names]
    for name in names:
        cond = problem.conditions[name]
        if isinstance(cond, Dirichlet):
            comps = list(cond.components) if cond.components is not None else list(range(problem.output_dim))
            selected = _selected_faces(name, cond, problem.domain, factors, spatial)
            for i, c in enumerate(comps):
                if not 0 <= c < problem.output_dim:
                    raise ValueError(f"Dirichlet condition {name!r}: component {c} out of range")
                const, fn = _data(cond.value, i)
                faces[c] += [Datum(face, const, fn, name) for face in selected]
        else:  # Initial, checked by the caller
            assert time is not None
            for c in range(problem.output_dim):
                const, fn = _data(cond.value, c)
                # The velocity datum goes first: it answers every term with the factor (t - t0), so
                # the Hermite terms cancel exactly on the walls (module docstring).
                if cond.order == 1:
                    faces[c].insert(0, Datum((time, 1), const, fn, name))
                else:
                    faces[c].append(Datum((time, 0), const, fn, name))
    out = []
    for fl in faces:
        seen: dict[Face, Datum] = {}
        for item in fl:
            seen.setdefault(item.face, item)  # a face constrained twice: the first condition wins
        out.append(Component(tuple(seen.values()), velocity=(time, 1) if time is not None else None))
    return out


def _enforceable(problem: Problem, names: Sequence[str] | None) -> tuple[str, ...]:
    has_value = any(isinstance(c, Initial) and c.order == 0 for c in problem.conditions.values())

    def ok(c: Condition) -> bool:  # a velocity condition only together with the initial value
        return isinstance(c, Dirichlet) or (isinstance(c, Initial) and (c.order == 0 or has_value))

    if names is None:
        chosen = tuple(k for k, c in problem.conditions.items() if ok(c))
    else:
        chosen = tuple(names)
        for k in chosen:
            if k not in problem.conditions:
                raise ValueError(f"unknown condition {k!r}; conditions: {list(problem.conditions)}")
            if not ok(problem.conditions[k]):
                raise ValueError(
                    f"condition {k!r} ({type(problem.conditions[k]).__name__}) cannot be enforced by u = g + d·N: "
                    "only Dirichlet and Initial (order 1 with an order-0 Initial) can; "
                    "Neumann and Periodic stay in the loss"
                )
    if not chosen:
        raise ValueError(
            f"problem {problem.name!r} has no Dirichlet or Initial(order=0) condition to enforce exactly "
            "(Neumann and Periodic need a different ansatz; train them as penalties)"
        )
    if any(isinstance(problem.conditions[k], Initial) for k in chosen) and not isinstance(problem.domain, SpaceTime):
        raise ValueError("an Initial condition needs a space-time domain")
    return chosen


def build_ansatz(problem: Problem) -> Ansatz:
    """The automatic ansatz ``u = g + d·N`` for every Dirichlet and Initial condition (an
    ``Initial(order=1)`` only together with an order-0 one).

    Domains: :func:`Interval`, :func:`Rectangle`, :class:`Box`, :class:`Disk`, :class:`Ball`, each
    optionally times a :class:`TimeInterval` (formulas: Boolean-sum transfinite interpolation, Gordon &
    Hall 1973, with Lagaris et al. 1998 distance factors; ``_transfinite.py``). Raises ValueError naming
    the reason when it cannot be built (a Polygon: use :func:`distance_ansatz`; a Dirichlet condition on
    part of a face; no enforceable condition; data that disagree or jump where two constrained faces
    meet, such as the lid-driven cavity's lid and walls: the message names the faces, the point and
    both values).
    """
    names = _enforceable(problem, None)
    factors, spatial, time = _factors(problem.domain, None)
    comps = _components(problem, factors, spatial, time, names)
    gen = torch.Generator().manual_seed(0)  # fixed probe points: the answer must not depend on a seed
    points = problem.domain.sample_interior(_PROBES, generator=gen, dtype=torch.float64)
    check_compatible(factors, comps, points=points, input_names=problem.input_names,
                     output_names=problem.output_names)
    return _make(factors, comps, names)


def distance_ansatz(
    problem: Problem,
    *,
    distance: Fn,
    lift: Fn | None = None,
    enforces: Sequence[str] | None = None,
) -> Ansatz:
    """An ansatz from a user's distance function ``distance(x) -> (n, 1)`` for any spatial domain.

    ``distance`` must vanish where the enforced Dirichlet conditions hold (checked on 64 sampled
    points of each) and be positive inside. Without ``lift``, the lift is the conditions' data: a
    constant, or the Dirichlet callable evaluated at ``x`` itself (so it must be defined inside the
    domain; it is exact on the boundary by definition). An ``Initial(order=0)`` condition on a
    space-time domain is combined by the Boolean sum ``g = h_D(x, t) + u0(x) - h_D(x, t0)`` and a
    factor ``(t - t0)/(t1 - t0)`` in the distance. ``enforces`` defaults to every Dirichlet and
    order-0 Initial condition; with several Dirichlet conditions of different data, give ``lift``.
    """
    if not callable(distance):
        raise ValueError(f"distance must be a callable (n, dim) -> (n, 1), got {type(distance).__name__}")
    names = _enforceable(problem, enforces)
    gen = torch.Generator().manual_seed(0)  # fixed check points, independent of any run seed
    for k in names:
        cond = problem.conditions[k]
        if isinstance(cond, Dirichlet):
            x = cond.sample(problem.domain, _PROBES, generator=gen, dtype=torch.float64)["x"]
            worst = float(distance(x).abs().max())
            # Boundary samples are exact to round-off; a distance built from them is ~1e-15 there.
            if worst > 1e-10:
                raise ValueError(f"distance does not vanish on condition {k!r}: max |d| = {worst:.3g} on its points")
    factors, spatial, time = _factors(problem.domain, distance)
    if lift is not None:  # the user's lift: d = (their distance if Dirichlet is enforced) · (τ if Initial is)
        with_d = any(isinstance(problem.conditions[k], Dirichlet) for k in names)
        with_t = time is not None and any(isinstance(problem.conditions[k], Initial) for k in names)

        def product(x: torch.Tensor) -> torch.Tensor:
            d = factors[0].distance(x, [0]) if with_d else torch.ones_like(x[:, :1])
            return d * factors[time].distance(x, [0]) if with_t else d  # type: ignore[index]

        return Ansatz(lift=lift, distance=product, enforces=names)
    dirichlet = [problem.conditions[k] for k in names if isinstance(problem.conditions[k], Dirichlet)]
    if len({repr(c.value) for c in dirichlet}) > 1:  # one implicit boundary cannot tell its parts apart
        raise ValueError(f"conditions {list(names)} have different Dirichlet data; give lift=")
    return _make(factors, _components(problem, factors, spatial, time, names), names)
