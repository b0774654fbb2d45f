"""Transfinite interpolation on product domains: the factors, distance and lift of ``u = g + d·N``.

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
agree (the compatibility any exact solution needs; ``_compatibility.py`` checks it). Every evaluation
of ``h`` is at a point on a constrained face (the projections move points onto faces), so the data
are needed only on the boundary — except for a user's implicit boundary, where the callable is
evaluated at ``x``.

Decisions. (1) Where projected points lie on several faces, the data of the condition listed first in
the problem are used. (2) The sphere projector carries the weight ``s⁴`` so that the lift is C³ at
the centre, where the radial projection is undefined (``r⁴ h(θ)`` is C³ for smooth periodic ``h``);
a constant datum skips interpolation altogether (``g`` = the constant).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "AxisFactor",
    "Component",
    "Datum",
    "Face",
    "Factor",
    "ImplicitFactor",
    "SphereFactor",
    "TimeFactor",
    "boolean_sum",
    "column",
    "distance_product",
]

Fn = Callable[[torch.Tensor], torch.Tensor]
Terms = list[tuple[torch.Tensor | None, torch.Tensor, int]]  # (weight or None, projected point, side)


def column(v: torch.Tensor) -> torch.Tensor:
    return v[:, None] if v.ndim == 1 else v


def _with_column(x: torch.Tensor, col: int, value: float) -> torch.Tensor:
    """``x`` with column ``col`` set to ``value``, differentiable in the other columns."""
    cols = list(x.unbind(dim=1))
    cols[col] = torch.full_like(cols[col], value)
    return torch.stack(cols, dim=1)


def _fmt(v: float) -> str:
    return f"{v:g}"


@dataclass(frozen=True)
class AxisFactor:
    """Axis ``col`` of a box, ``lo <= x_col <= hi``; side 0 is the face ``x_col = lo``, side 1 ``hi``."""

    col: int
    lo: float
    hi: float
    faces = 2

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> Terms:
        if len(sides) == 1:
            return [(None, self.onto(x, sides[0]), sides[0])]
        xi = (x[:, self.col : self.col + 1] - self.lo) / (self.hi - self.lo)
        return [(1 - xi, self.onto(x, 0), 0), (xi, self.onto(x, 1), 1)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        xi = (x[:, self.col : self.col + 1] - self.lo) / (self.hi - self.lo)
        if len(sides) == 2:
            return 4 * xi * (1 - xi)
        return xi if sides[0] == 0 else 1 - xi

    def onto(self, x: torch.Tensor, side: int) -> torch.Tensor:
        return _with_column(x, self.col, (self.lo, self.hi)[side])

    def inward(self, x: torch.Tensor, side: int, delta: float) -> torch.Tensor:
        """Points of face ``side`` moved ``delta`` (a fraction of the axis length) into the domain."""
        step = delta * (self.hi - self.lo)
        return _with_column(x, self.col, self.lo + step if side == 0 else self.hi - step)

    def name(self, side: int, names: Sequence[str]) -> str:
        return f"{names[self.col]} = {_fmt((self.lo, self.hi)[side])}"


@dataclass(frozen=True)
class SphereFactor:
    """The boundary sphere ``‖x - center‖ = radius`` of a disk or ball (one face, side 0)."""

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

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> Terms:
        _, _, rho2, _ = self._parts(x)
        return [((rho2 / self.radius**2) ** 2, self.onto(x, 0), 0)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        _, _, rho2, _ = self._parts(x)
        return 1 - rho2 / self.radius**2

    def onto(self, x: torch.Tensor, side: int) -> torch.Tensor:
        d = len(self.center)
        c, rel, _, rho = self._parts(x)
        return torch.cat([c + self.radius * rel / rho, x[:, d:]], dim=1)

    def inward(self, x: torch.Tensor, side: int, delta: float) -> torch.Tensor:
        """Points of the sphere moved ``delta·radius`` towards the centre."""
        d = len(self.center)
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return torch.cat([c + (1 - delta) * (x[:, :d] - c), x[:, d:]], dim=1)

    def name(self, side: int, names: Sequence[str]) -> str:
        centre = ", ".join(_fmt(v) for v in self.center)
        kind = "circle" if len(self.center) == 2 else "sphere"
        return f"{kind} |({', '.join(names[: len(self.center)])}) - ({centre})| = {_fmt(self.radius)}"


# Where the initial-velocity distance τ²/(τ² + c²) saturates, as a fraction c of the time interval.
VELOCITY_SATURATION = 0.2


@dataclass(frozen=True)
class TimeFactor:
    """The initial face ``t = t0`` (last column); side 1 is the initial velocity, not a face.

    Distance, with ``τ = (t - t0)/(t1 - t0)``: ``τ`` for the initial value alone; with the initial
    velocity ``τ²/(τ² + c²)`` (``c`` = :data:`VELOCITY_SATURATION`), which vanishes to second order at
    ``t0`` as ``τ²`` does (so ``u_t(x, t0)`` is exact) but tends to 1 after ``~c`` of the interval.
    With ``τ²`` itself the network had to carry ``(u - g)/τ²``, e.g. ``0.5 sin 4πx (cos 8πt - 1)/τ²``
    ≈ 300 near ``t0`` on the zoo's ``wave``: measured there, 120 CPU s of the generic recipe
    reached 0.32 relative L2 with ``τ²`` and 5.2e-2 with the saturating factor (docs/benchmarks.md,
    "Zoo defaults").
    """

    t0: float
    t1: float

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> Terms:
        at_t0 = self.onto(x, 0)
        if len(sides) == 1:
            return [(None, at_t0, 0)]
        # Hermite in time: value at t0 plus (t - t0) times the initial velocity (side 1).
        return [(None, at_t0, 0), (x[:, -1:] - self.t0, at_t0, 1)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        tau = (x[:, -1:] - self.t0) / (self.t1 - self.t0)
        return tau if len(sides) == 1 else tau**2 / (tau**2 + VELOCITY_SATURATION**2)

    def onto(self, x: torch.Tensor, side: int) -> torch.Tensor:
        return _with_column(x, x.shape[1] - 1, self.t0)

    def inward(self, x: torch.Tensor, side: int, delta: float) -> torch.Tensor:
        return _with_column(x, x.shape[1] - 1, self.t0 + delta * (self.t1 - self.t0))

    def name(self, side: int, names: Sequence[str]) -> str:
        return f"{names[-1]} = {_fmt(self.t0)}"


@dataclass(frozen=True)
class ImplicitFactor:
    """A user's boundary ``{fn = 0}``: no projection, the data callable is read at ``x`` itself."""

    fn: Fn

    def terms(self, x: torch.Tensor, sides: Sequence[int]) -> Terms:
        return [(None, x, 0)]

    def distance(self, x: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
        return column(self.fn(x))


Factor = AxisFactor | SphereFactor | TimeFactor | ImplicitFactor
Face = tuple[int, int]  # (factor index, side)


@dataclass(frozen=True)
class Datum:
    """The data of one output component on one face, and the condition they come from."""

    face: Face
    constant: float | None  # the value when the condition's value is a number
    fn: Fn  # (n, dim) points on the face -> (n, 1)
    condition: str


@dataclass(frozen=True)
class Component:
    """The constrained faces of one output component, with their data, in priority order."""

    data: tuple[Datum, ...]
    velocity: Face | None = None  # the face key of an initial-velocity datum, if any

    def sides(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for item in self.data:
            f, s = item.face
            if s not in out.setdefault(f, []):
                out[f].append(s)
        return {f: sorted(s) for f, s in out.items()}

    def data_on(self, faces: set[Face]) -> Fn:
        for item in self.data:
            if item.face in faces:
                return item.fn
        raise AssertionError("a projected point lies on no constrained face")  # cannot happen

    def constant(self) -> float | None:
        """The common constant datum, if every value datum is that constant and any velocity is 0."""
        values = {d.constant for d in self.data if d.face != self.velocity}
        still = all(d.constant == 0.0 for d in self.data if d.face == self.velocity)
        return values.pop() if still and len(values) == 1 and None not in values else None


def boolean_sum(factors: Sequence[Factor], comp: Component, x: torch.Tensor) -> torch.Tensor:
    """The lift ``g(x)`` of one component, ``(n, 1)``: the Boolean sum of the module docstring."""
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
            for combo in itertools.product(*(range(len(sides[f])) if isinstance(factors[f], AxisFactor | TimeFactor)
                                             else [0] for f in subset)):
                weight, point, faces = None, x, set()
                for f, k in zip(subset, combo, strict=True):
                    w, point, side = factors[f].terms(point, sides[f])[k]
                    weight = w if weight is None else (weight if w is None else weight * w)
                    faces.add((f, side))
                value = comp.data_on(faces)(point)
                out = out + sign * (value if weight is None else weight * value)
    return out


def distance_product(factors: Sequence[Factor], comp: Component, x: torch.Tensor) -> torch.Tensor:
    """``d(x) = Π_f d_f(x)`` over the factors with constrained faces, ``(n, 1)``."""
    d = torch.ones((x.shape[0], 1), dtype=x.dtype, device=x.device)
    for f, s in comp.sides().items():
        d = d * factors[f].distance(x, s)
    return d
