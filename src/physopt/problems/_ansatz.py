"""Automatic hard-constraint ansätze ``u = g + d·N`` from a problem's Dirichlet and initial conditions.

Method. The domain is a product of *factors*: the axes of a :class:`Box` (each with faces ``lo`` and
``hi``), the sphere of a :class:`Disk`/:class:`Ball`, a user's implicit boundary ``{d = 0}``, and the
initial face ``t = t0`` of a :class:`TimeInterval`. Each factor ``f`` with constrained faces has

* a distance factor ``d_f`` that vanishes exactly on those faces and nowhere else in the domain:
  ``4ξ(1 - ξ)`` (both faces of an axis, ``ξ = (x - a)/(b - a)``), ``ξ`` or ``1 - ξ`` (one face),
  ``1 - s²`` (sphere, ``s = ‖x - c‖/r``), ``τ = (t - t0)/(t1 - t0)`` (initial face; ``τ²`` with an
  initial velocity), the user's ``d``;
  ``d = Π_f d_f`` (Lagaris et al. 1998). Products of polynomials are exactly zero in floating point on
  an axis face (``x - a`` is 0 there), so the violation there is the lift's round-off alone;
* a projector ``P_f`` that interpolates boundary data from its faces: ``(1 - ξ) h|_{x=a} + ξ h|_{x=b}``
  (both faces), ``h|_{x=a}`` (one face; constant extension along the axis), ``s⁴ h(c + r(x - c)/‖x - c‖)``
  (sphere), ``h|_{t=t0}`` (initial face; ``+ (t - t0) v1`` with an initial velocity ``v1``, always
  taken from the velocity condition), ``h(x)`` (implicit boundary: the data callable itself).

The lift is the Boolean sum (transfinite interpolation, Gordon & Hall 1973; Coons patches in 2-D)
``g = (1 - Π_f (1 - P_f)) h = Σ_{S≠∅} (-1)^{|S|+1} Π_{f∈S} P_f h``. On a face of factor ``k`` the
factor ``(1 - P_k)`` vanishes, so ``g`` equals the data there whenever the data of faces that meet
agree (the compatibility any exact solution needs). Every evaluation of ``h`` is at a point on a
constrained face (the projections move points onto faces), so the data are needed only on the
boundary — except for a user's implicit boundary, where the callable is evaluated at ``x``.

Decisions. (1) Where projected points lie on several faces, the data of the condition listed first in
the problem are used. (2) The sphere projector carries the weight ``s⁴`` so that the lift is C³ at
the centre, where the radial projection is undefined (``r⁴ h(θ)`` is C³ for smooth periodic ``h``);
a constant datum skips interpolation altogether (``g`` = the constant). (3) A Dirichlet condition
restricted with ``on=`` must select whole faces: each face is probed at 64 points; a face selected
only in part raises ValueError. (4) Neumann and Periodic conditions are not enforced (they need a
derivative-matching ansatz or periodic features), nor ``Initial(order=1)`` without an order-0
``Initial``; they stay in the loss. With both, ``u_t(x, t0) = v1`` holds exactly when the wall data
satisfy ``∂_t g(x, t0) = v1`` on the walls (compatibility again).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ._ball import Ball
from ._conditions import Condition, Dirichlet, Initial, Value
from ._domain import Box, Disk, Domain, SpaceTime
from ._problem import Ansatz, Problem

__all__ = ["build_ansatz", "distance_ansatz"]

Fn = Callable[[torch.Tensor], torch.Tensor]
_PROBES = 64  # points per face when testing which faces a Dirichlet `on` selector picks
_MAX_TERMS = 3**7  # data evaluations of one Boolean sum (an 8-D box with all faces would need 6560)


def _column(v: torch.Tensor) -> torch.Tensor:
    return v[:, None] if v.ndim == 1 else v


def _with_column(x: torch.Tensor, col: int, value: float) -> torch.Tensor:
    """``x`` with column ``col`` set to ``value``, differentiable in the other columns."""
    cols = list(x.unbind(dim=1))
    cols[col] = torch.full_like(cols[col], value)
    return torch.stack(cols, dim=1)


@dataclass(frozen=True)
class _Axis:
    col: int
    lo: float
    hi: float
    faces = 2

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> list[tuple[torch.Tensor | None, torch.Tensor, int]]:
        if len(sides) == 1:
            return [(None, _with_column(x, self.col, (self.lo, self.hi)[sides[0]]), sides[0])]
        xi = (x[:, self.col : self.col + 1] - self.lo) / (self.hi - self.lo)
        return [(1 - xi, _with_column(x, self.col, self.lo), 0), (xi, _with_column(x, self.col, self.hi), 1)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        xi = (x[:, self.col : self.col + 1] - self.lo) / (self.hi - self.lo)
        if len(sides) == 2:
            return 4 * xi * (1 - xi)
        return xi if sides[0] == 0 else 1 - xi

    def probe(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [_with_column(x, self.col, self.lo), _with_column(x, self.col, self.hi)]


@dataclass(frozen=True)
class _Sphere:
    center: tuple[float, ...]
    radius: float
    faces = 1

    def _parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        d = len(self.center)
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        rel = x[:, :d] - c
        rho2 = (rel**2).sum(dim=1, keepdim=True)
        # The clamp keeps the direction finite at the centre, where the weight s⁴ is exactly 0.
        rho = rho2.clamp_min((torch.finfo(x.dtype).eps * self.radius) ** 2).sqrt()
        return c, rel, rho2, rho

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> list[tuple[torch.Tensor | None, torch.Tensor, int]]:
        d = len(self.center)
        c, rel, rho2, rho = self._parts(x)
        onto = c + self.radius * rel / rho
        return [((rho2 / self.radius**2) ** 2, torch.cat([onto, x[:, d:]], dim=1), 0)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        _, _, rho2, _ = self._parts(x)
        return 1 - rho2 / self.radius**2

    def probe(self, x: torch.Tensor) -> list[torch.Tensor]:
        d = len(self.center)
        c, rel, _, rho = self._parts(x)
        return [torch.cat([c + self.radius * rel / rho, x[:, d:]], dim=1)]


@dataclass(frozen=True)
class _Time:
    t0: float
    t1: float

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> list[tuple[torch.Tensor | None, torch.Tensor, int]]:
        at_t0 = _with_column(x, x.shape[1] - 1, self.t0)
        if len(sides) == 1:
            return [(None, at_t0, 0)]
        # Hermite in time: value at t0 plus (t - t0) times the initial velocity (side 1).
        return [(None, at_t0, 0), (x[:, -1:] - self.t0, at_t0, 1)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        tau = (x[:, -1:] - self.t0) / (self.t1 - self.t0)
        return tau if len(sides) == 1 else tau**2


@dataclass(frozen=True)
class _Implicit:
    fn: Fn

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> list[tuple[torch.Tensor | None, torch.Tensor, int]]:
        return [(None, x, 0)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        return _column(self.fn(x))


Factor = _Axis | _Sphere | _Time | _Implicit
Face = tuple[int, int]  # (factor index, side)


def _data(value: Value, column: int) -> tuple[float | None, Fn]:
    """The constant (or ``None``) and a callable giving one output column of a condition's value."""
    if not callable(value):
        v = float(value)
        return v, lambda x: torch.full((x.shape[0], 1), v, dtype=x.dtype, device=x.device)

    def fn(x: torch.Tensor) -> torch.Tensor:
        out = _column(value(x))
        return out[:, column : column + 1] if out.shape[1] > 1 else out

    return None, fn


@dataclass(frozen=True)
class _Component:
    """The constrained faces of one output component, with their data, in priority order."""

    faces: tuple[tuple[Face, float | None, Fn], ...]
    velocity: Face | None = None  # the face key of an initial-velocity datum, if any

    def sides(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for (f, s), _, _ in self.faces:
            if s not in out.setdefault(f, []):
                out[f].append(s)
        return {f: sorted(s) for f, s in out.items()}

    def data_on(self, faces: set[Face]) -> Fn:
        for face, _, fn in self.faces:
            if face in faces:
                return fn
        raise AssertionError("a projected point lies on no constrained face")  # cannot happen

    def constant(self) -> float | None:
        """The common constant datum, if every value datum is that constant and any velocity is 0."""
        values = {c for face, c, _ in self.faces if face != self.velocity}
        still = all(c == 0.0 for face, c, _ in self.faces if face == self.velocity)
        return values.pop() if still and len(values) == 1 and None not in values else None


def _lift(factors: Sequence[Factor], comp: _Component, x: torch.Tensor) -> torch.Tensor:
    const = comp.constant()
    if const is not None:
        return torch.full((x.shape[0], 1), const, dtype=x.dtype, device=x.device)
    sides = comp.sides()
    out = torch.zeros((x.shape[0], 1), dtype=x.dtype, device=x.device)
    for size in range(1, len(sides) + 1):
        for subset in itertools.combinations(sorted(sides), size):
            sign = 1.0 if size % 2 else -1.0
            # Projections of different factors touch different columns, so they compose in any
            # order; apply each to the point the previous ones produced. Only an axis constrained
            # on both faces, and time with a velocity condition, have two terms.
            for combo in itertools.product(*(range(len(sides[f])) if isinstance(factors[f], _Axis | _Time)
                                             else [0] for f in subset)):
                weight, point, faces = None, x, set()
                for f, k in zip(subset, combo, strict=True):
                    w, point, side = factors[f].terms(point, sides[f])[k]
                    weight = w if weight is None else (weight if w is None else weight * w)
                    faces.add((f, side))
                value = comp.data_on(faces)(point)
                out = out + sign * (value if weight is None else weight * value)
    return out


def _distance(factors: Sequence[Factor], comp: _Component, x: torch.Tensor) -> torch.Tensor:
    d = torch.ones((x.shape[0], 1), dtype=x.dtype, device=x.device)
    for f, s in comp.sides().items():
        d = d * factors[f].distance(x, s)
    return d


def _make(factors: list[Factor], comps: list[_Component], enforces: tuple[str, ...]) -> Ansatz:
    for comp in comps:
        if comp.constant() is None and math.prod(len(s) + 1 for s in comp.sides().values()) - 1 > _MAX_TERMS:
            raise ValueError(
                f"the transfinite lift would need more than {_MAX_TERMS} data evaluations per point "
                f"(faces on {len(comp.sides())} axes); give lift= to Ansatz yourself"
            )
    shared = len({c.sides().__repr__() for c in comps}) == 1

    def lift(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([_lift(factors, c, x) for c in comps], dim=1)

    def distance(x: torch.Tensor) -> torch.Tensor:
        if shared:  # one (n, 1) factor broadcast over the outputs
            return _distance(factors, comps[0], x)
        return torch.cat([_distance(factors, c, x) for c in comps], dim=1)

    return Ansatz(lift=lift, distance=distance, enforces=enforces)


def _factors(domain: Domain | SpaceTime, implicit: Fn | None) -> tuple[list[Factor], list[int], int | None]:
    """Factors of the domain, the indices of its spatial factors, and the index of the time factor."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    factors: list[Factor]
    if implicit is not None:
        factors = [_Implicit(implicit)]
    elif isinstance(space, Box):
        factors = [_Axis(k, a, b) for k, (a, b) in enumerate(zip(space.lo, space.hi, strict=True))]
    elif isinstance(space, Disk | Ball):
        factors = [_Sphere(tuple(space.center), float(space.radius))]
    else:
        raise ValueError(
            f"no automatic ansatz for a {type(space).__name__} domain (only Interval/Rectangle/Box, Disk, Ball, "
            "and their products with a TimeInterval); give a distance function: "
            "physopt.problems.distance_ansatz(problem, distance=...)"
        )
    spatial = list(range(len(factors)))
    time = None
    if isinstance(domain, SpaceTime):
        factors.append(_Time(float(domain.time.t0), float(domain.time.t1)))
        time = len(factors) - 1
    return factors, spatial, time


def _selected_faces(
    name: str, cond: Dirichlet, domain: Domain | SpaceTime, factors: list[Factor], spatial: list[int]
) -> list[Face]:
    if isinstance(factors[spatial[0]], _Implicit) or cond.on is None:
        return [(f, s) for f in spatial for s in range(getattr(factors[f], "faces", 1))]
    gen = torch.Generator().manual_seed(0)  # fixed probe points: the answer must not depend on a seed
    x = domain.sample_interior(_PROBES, generator=gen, dtype=torch.float64)
    faces = []
    for f in spatial:
        for side, pts in enumerate(factors[f].probe(x)):
            hit = cond.on(pts).bool()
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
) -> list[_Component]:
    faces: list[list[tuple[Face, float | None, Fn]]] = [[] for _ in problem.output_names]
    for name in names:
        cond = problem.conditions[name]
        if isinstance(cond, Dirichlet):
            comps = list(cond.components) if cond.components is not None else list(range(problem.output_dim))
            selected = _selected_faces(name, cond, problem.domain, factors, spatial)
            for i, c in enumerate(comps):
                if not 0 <= c < problem.output_dim:
                    raise ValueError(f"Dirichlet condition {name!r}: component {c} out of range")
                const, fn = _data(cond.value, i)
                faces[c] += [(face, const, fn) for face in selected]
        else:  # Initial, checked by the caller
            assert time is not None
            for c in range(problem.output_dim):
                const, fn = _data(cond.value, c)
                # The velocity datum goes first: it answers every term with the factor (t - t0), so
                # the Hermite terms cancel exactly on the walls (module docstring).
                if cond.order == 1:
                    faces[c].insert(0, ((time, 1), const, fn))
                else:
                    faces[c].append(((time, 0), const, fn))
    out = []
    for fl in faces:
        seen: dict[Face, tuple[Face, float | None, Fn]] = {}
        for item in fl:
            seen.setdefault(item[0], item)  # a face constrained twice: the first condition wins
        out.append(_Component(tuple(seen.values()), velocity=(time, 1) if time is not None else None))
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
                    "only Dirichlet and Initial (order 1 with an order-0 Initial) can; Neumann and Periodic stay in the loss"
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
    optionally times a :class:`TimeInterval` (see the module docstring for the formulas). Raises
    ValueError naming the reason when it cannot be built (a Polygon: use :func:`distance_ansatz`; a
    Dirichlet condition on part of a face; no enforceable condition).
    """
    names = _enforceable(problem, None)
    factors, spatial, time = _factors(problem.domain, None)
    return _make(factors, _components(problem, factors, spatial, time, names), names)


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
