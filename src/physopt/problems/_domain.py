"""Geometric domains: where collocation points live.

Every domain samples points with an explicit ``torch.Generator`` and returns tensors of shape
``(n, dim)``. Boundary samples come with outward unit normals (``(n, dim)``) so that Neumann
conditions need no geometry of their own. Space-time domains put time in the last column.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

__all__ = [
    "Box",
    "Disk",
    "Domain",
    "Instant",
    "Interval",
    "Polygon",
    "Rectangle",
    "SpaceTime",
    "TimeInterval",
]


def _uniform(n: int, lo: torch.Tensor, hi: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand((n, lo.numel()), generator=generator, dtype=lo.dtype, device=lo.device)
    return lo + (hi - lo) * u


def fill_by_rejection(
    n: int,
    draw: Callable[[int], torch.Tensor],
    keep: Callable[[torch.Tensor], torch.Tensor],
    *,
    factor: int = 2,
) -> torch.Tensor:
    """``n`` rows of ``draw(m)`` that pass ``keep``, drawing ``max(factor·missing, 16)`` at a time.

    Rejection from a superset keeps ``draw``'s distribution, restricted to the kept region.
    """
    chunks: list[torch.Tensor] = []
    have = 0
    while have < n:
        cand = draw(max(factor * (n - have), 16))
        cand = cand[keep(cand)]
        chunks.append(cand)
        have += cand.shape[0]
    return torch.cat(chunks)[:n]


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"number of points must be a non-negative int, got {n!r}")


class Domain(ABC):
    """A spatial domain of dimension ``dim``.

    Subclasses implement :meth:`sample_interior`, :meth:`sample_boundary` (points and outward
    normals), :meth:`contains` and :attr:`bounds`.
    """

    dim: int

    @property
    @abstractmethod
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Axis-aligned bounding box ``(lo, hi)``."""

    @property
    @abstractmethod
    def measure(self) -> float:
        """Length/area/volume, used by integral conditions."""

    @abstractmethod
    def contains(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean mask ``(n,)``: which rows of ``x`` lie in the closed domain."""

    def sample_interior(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """``n`` uniform points inside the domain, ``(n, dim)``.

        The default draws in the bounding box and rejects points outside, which is exact in
        distribution for any shape (used by :class:`Disk` and :class:`Polygon`).
        """
        _check_n(n)
        lo, hi = (torch.tensor(b, dtype=dtype, device=generator.device) for b in self.bounds)
        return fill_by_rejection(n, lambda m: _uniform(m, lo, hi, generator), self.contains)

    @abstractmethod
    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` points uniform along the boundary and their outward unit normals."""

    def __or__(self, other: Domain) -> Domain:
        """``a | b``: the :class:`~physopt.problems.Union` of two domains."""
        from ._csg import Union  # here: _csg builds on this module

        return Union(self, other)

    def __and__(self, other: Domain) -> Domain:
        """``a & b``: the :class:`~physopt.problems.Intersection` of two domains."""
        from ._csg import Intersection

        return Intersection(self, other)

    def __sub__(self, other: Domain) -> Domain:
        """``a - b``: the :class:`~physopt.problems.Difference` (``a`` with ``b`` cut out)."""
        from ._csg import Difference

        return Difference(self, other)

    def __mul__(self, other: TimeInterval) -> SpaceTime:
        if not isinstance(other, TimeInterval):
            raise ValueError(f"a domain can only be multiplied by a TimeInterval, got {other!r}")
        return SpaceTime(self, other)


@dataclass(frozen=True)
class Box(Domain):
    """Axis-aligned box ``[lo_0, hi_0] x ... x [lo_{d-1}, hi_{d-1}]`` of any dimension."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    def __post_init__(self) -> None:
        lo, hi = tuple(float(v) for v in self.lo), tuple(float(v) for v in self.hi)
        if len(lo) != len(hi) or not lo:
            raise ValueError(f"Box needs lo and hi of equal non-zero length, got lo={self.lo}, hi={self.hi}")
        if any(not (a < b) for a, b in zip(lo, hi, strict=True)):
            raise ValueError(f"Box needs lo < hi in every axis, got lo={self.lo}, hi={self.hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return len(self.lo)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.lo, self.hi

    @property
    def measure(self) -> float:
        return math.prod(b - a for a, b in zip(self.lo, self.hi, strict=True))

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        lo = torch.tensor(self.lo, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.hi, dtype=x.dtype, device=x.device)
        return ((x >= lo) & (x <= hi)).all(dim=1)

    def distance_to_boundary(self, x: torch.Tensor) -> torch.Tensor:
        """Distance ``(n,)`` from points inside to the nearest face (0 on and outside the boundary)."""
        lo = torch.tensor(self.lo, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.hi, dtype=x.dtype, device=x.device)
        return torch.minimum(x - lo, hi - x).min(dim=1).values.clamp_min(0)

    def signed_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Exact signed distance ``(n,)`` to the boundary: negative inside, positive outside."""
        lo = torch.tensor(self.lo, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.hi, dtype=x.dtype, device=x.device)
        q = torch.maximum(lo - x, x - hi)  # per axis: > 0 outside that slab
        return q.clamp_min(0).norm(dim=1) + q.max(dim=1).values.clamp_max(0)

    def ansatz_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Smooth distance factor ``(n, 1)`` for the hard ansatz: the R-conjunction (Rvachev) of the
        slabs ``(x_k - a_k)(b_k - x_k)/(b_k - a_k)``; positive inside, 0 on the faces, unit inward
        slope on them (first-order normalised)."""
        from ._csg import r_and

        lo = torch.tensor(self.lo, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.hi, dtype=x.dtype, device=x.device)
        slabs = (x - lo) * (hi - x) / (hi - lo)
        phi = slabs[:, 0]
        for k in range(1, self.dim):
            phi = r_and(phi, slabs[:, k])
        return phi[:, None]

    @property
    def boundary_measure(self) -> float:
        """Total face area (perimeter in 2-D; 2 points in 1-D)."""
        return sum(self.face_areas())

    def sample_interior(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        _check_n(n)
        dev = generator.device
        return _uniform(n, torch.tensor(self.lo, dtype=dtype, device=dev),
                        torch.tensor(self.hi, dtype=dtype, device=dev), generator)

    def face_areas(self) -> list[float]:
        """Areas of the 2·dim faces, ordered (axis 0 lo, axis 0 hi, axis 1 lo, ...)."""
        if self.dim == 1:
            return [1.0, 1.0]
        sides = [b - a for a, b in zip(self.lo, self.hi, strict=True)]
        areas = []
        for k in range(self.dim):
            area = math.prod(s for j, s in enumerate(sides) if j != k)
            areas += [area, area]
        return areas

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_n(n)
        dev = generator.device
        areas = torch.tensor(self.face_areas(), dtype=dtype, device=dev)
        face = torch.multinomial(areas / areas.sum(), n, replacement=True, generator=generator)
        x = self.sample_interior(n, generator=generator, dtype=dtype)
        normals = torch.zeros_like(x)
        axis, side = face // 2, face % 2
        lo, hi = torch.tensor(self.lo, dtype=dtype, device=dev), torch.tensor(self.hi, dtype=dtype, device=dev)
        rows = torch.arange(n, device=dev)
        x[rows, axis] = torch.where(side == 0, lo[axis], hi[axis])
        normals[rows, axis] = torch.where(side == 0, -1.0, 1.0).to(dtype)
        return x, normals


def Interval(a: float, b: float) -> Box:  # noqa: N802 - a constructor, named like a class
    """The interval ``[a, b]`` (a one-dimensional :class:`Box`)."""
    return Box((a,), (b,))


def Rectangle(lo: Sequence[float], hi: Sequence[float]) -> Box:  # noqa: N802
    """The rectangle ``[lo_0, hi_0] x [lo_1, hi_1]`` (a two-dimensional :class:`Box`)."""
    if len(lo) != 2 or len(hi) != 2:
        raise ValueError(f"Rectangle needs two corners in 2-D, got lo={lo}, hi={hi}")
    return Box(tuple(lo), tuple(hi))


@dataclass(frozen=True)
class Disk(Domain):
    """The closed disk of ``radius`` around ``center`` in 2-D."""

    center: tuple[float, float]
    radius: float

    def __post_init__(self) -> None:
        if len(self.center) != 2 or not self.radius > 0:
            raise ValueError(f"Disk needs a 2-D center and radius > 0, got {self.center}, {self.radius}")
        object.__setattr__(self, "center", tuple(float(c) for c in self.center))

    dim = 2

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        cx, cy = self.center
        r = self.radius
        return (cx - r, cy - r), (cx + r, cy + r)

    @property
    def measure(self) -> float:
        return math.pi * self.radius**2

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return ((x - c) ** 2).sum(dim=1) <= self.radius**2 * (1 + 1e-12)

    def distance_to_boundary(self, x: torch.Tensor) -> torch.Tensor:
        """Distance ``(n,)`` from points inside to the circle (0 on and outside it)."""
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return (self.radius - (x - c).norm(dim=1)).clamp_min(0)

    def signed_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Exact signed distance ``(n,)``: ``‖x - c‖ - r`` (negative inside)."""
        return (x - torch.tensor(self.center, dtype=x.dtype, device=x.device)).norm(dim=1) - self.radius

    def ansatz_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Smooth distance factor ``(n, 1)``: ``(r² - ‖x - c‖²)/(2r)`` (unit slope on the circle)."""
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return ((self.radius**2 - ((x - c) ** 2).sum(dim=1)) / (2 * self.radius))[:, None]

    @property
    def boundary_measure(self) -> float:
        """Circumference ``2πr``."""
        return 2 * math.pi * self.radius

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_n(n)
        theta = 2 * math.pi * torch.rand(n, generator=generator, dtype=dtype, device=generator.device)
        normals = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
        return torch.tensor(self.center, dtype=dtype, device=generator.device) + self.radius * normals, normals


@dataclass(frozen=True)
class Polygon(Domain):
    """A simple (possibly non-convex) polygon given by its vertices in order.

    Interior sampling is rejection in the bounding box with an even-odd point-in-polygon test;
    boundary sampling is uniform in arc length. Normals point outward whatever the orientation.
    """

    vertices: tuple[tuple[float, float], ...]
    _edges: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        verts = tuple((float(a), float(b)) for a, b in self.vertices)
        if len(verts) < 3:
            raise ValueError(f"Polygon needs at least 3 vertices, got {len(verts)}")
        object.__setattr__(self, "vertices", verts)
        v = torch.tensor(verts, dtype=torch.float64)
        object.__setattr__(self, "_edges", torch.stack([v, v.roll(-1, dims=0)], dim=1))
        if abs(self._signed_area()) < 1e-300:
            raise ValueError(f"Polygon has zero area: {verts}")

    dim = 2

    def _signed_area(self) -> float:
        a, b = self._edges[:, 0], self._edges[:, 1]
        return 0.5 * float((a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]).sum())

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        xs, ys = zip(*self.vertices, strict=True)
        return (min(xs), min(ys)), (max(xs), max(ys))

    @property
    def measure(self) -> float:
        return abs(self._signed_area())

    def _distance_to_boundary(self, x: torch.Tensor) -> torch.Tensor:
        e = self._edges.to(dtype=x.dtype, device=x.device)
        a, b = e[:, 0], e[:, 1]
        ab = b - a
        ap = x[:, None, :] - a[None]
        s = ((ap * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
        closest = a[None] + s[..., None] * ab[None]
        return (x[:, None, :] - closest).norm(dim=-1).min(dim=1).values

    def distance_to_boundary(self, x: torch.Tensor) -> torch.Tensor:
        """Distance ``(n,)`` to the nearest edge (unsigned: meant for points inside)."""
        return self._distance_to_boundary(x)

    def signed_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Exact signed distance ``(n,)`` to the edges: negative inside, positive outside."""
        d = self._distance_to_boundary(x)
        return torch.where(self.contains(x), -d, d)

    def ansatz_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Distance factor ``(n, 1)``: the exact distance to the edges (not smooth on the medial axis)."""
        return (-self.signed_distance(x))[:, None]

    @property
    def boundary_measure(self) -> float:
        """Perimeter."""
        return float((self._edges[:, 1] - self._edges[:, 0]).norm(dim=1).sum())

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        e = self._edges.to(dtype=x.dtype, device=x.device)
        a, b = e[:, 0][None], e[:, 1][None]
        px, py = x[:, 0:1], x[:, 1:2]
        crosses = (a[..., 1] > py) != (b[..., 1] > py)
        with torch.no_grad():
            t = (py - a[..., 1]) / torch.where(crosses, b[..., 1] - a[..., 1], torch.ones_like(py))
            xint = a[..., 0] + t * (b[..., 0] - a[..., 0])
        inside = (crosses & (px < xint)).sum(dim=1) % 2 == 1
        return inside | (self._distance_to_boundary(x) <= 1e-12)

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_n(n)
        e = self._edges.to(dtype=dtype, device=generator.device)
        a, b = e[:, 0], e[:, 1]
        lengths = (b - a).norm(dim=1)
        edge = torch.multinomial(lengths / lengths.sum(), n, replacement=True, generator=generator)
        s = torch.rand(n, 1, generator=generator, dtype=dtype, device=generator.device)
        x = a[edge] + s * (b[edge] - a[edge])
        d = (b - a) / lengths[:, None]
        # (dy, -dx) is the outward normal of a counter-clockwise polygon; flip for clockwise.
        sign = 1.0 if self._signed_area() > 0 else -1.0
        normals = sign * torch.stack([d[:, 1], -d[:, 0]], dim=1)
        return x, normals[edge]


@dataclass(frozen=True)
class TimeInterval:
    """The time interval ``[t0, t1]``."""

    t0: float
    t1: float

    def __post_init__(self) -> None:
        if not float(self.t0) < float(self.t1):
            raise ValueError(f"TimeInterval needs t0 < t1, got t0={self.t0}, t1={self.t1}")

    def sample(self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``n`` uniform times, ``(n, 1)``."""
        _check_n(n)
        return self.t0 + (self.t1 - self.t0) * torch.rand(
            n, 1, generator=generator, dtype=dtype, device=generator.device
        )


@dataclass(frozen=True)
class Instant(Domain):
    """The zero-dimensional space of an ODE: ``Instant() * TimeInterval(t0, t1)`` is time alone.

    Points have no spatial columns (``(n, 0)``), so the product's points are just ``(t,)``;
    :class:`~physopt.problems.Initial` then imposes ``u(t0) = u0``. A :class:`Problem` given a bare
    :class:`TimeInterval` as its domain builds this product itself. There is no spatial boundary.
    """

    dim: int = 0

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return (), ()

    @property
    def measure(self) -> float:
        return 1.0  # the counting measure of the single point: integrals reduce to time integrals

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)

    def sample_interior(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        _check_n(n)
        return torch.empty((n, 0), dtype=dtype, device=generator.device)

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise ValueError("a time-only (ODE) domain has no spatial boundary: use Initial for u(t0), "
                         "Data for observations")


@dataclass(frozen=True)
class SpaceTime:
    """The product ``space x [t0, t1]``; points are ``(x_0, ..., x_{d-1}, t)``."""

    space: Domain
    time: TimeInterval

    @property
    def dim(self) -> int:
        return self.space.dim + 1

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        lo, hi = self.space.bounds
        return (*lo, self.time.t0), (*hi, self.time.t1)

    @property
    def measure(self) -> float:
        return self.space.measure * (self.time.t1 - self.time.t0)

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        t = x[:, -1]
        return self.space.contains(x[:, :-1]) & (t >= self.time.t0) & (t <= self.time.t1)

    def sample_interior(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        xs = self.space.sample_interior(n, generator=generator, dtype=dtype)
        return torch.cat([xs, self.time.sample(n, generator=generator, dtype=dtype)], dim=1)

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Points on the spatial boundary at uniform times; normals have a zero time component."""
        xs, normals = self.space.sample_boundary(n, generator=generator, dtype=dtype)
        t = self.time.sample(n, generator=generator, dtype=dtype)
        return torch.cat([xs, t], dim=1), torch.cat([normals, torch.zeros_like(t)], dim=1)

    def sample_initial(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """Points of the spatial domain at ``t = t0``."""
        xs = self.space.sample_interior(n, generator=generator, dtype=dtype)
        return torch.cat([xs, torch.full((n, 1), self.time.t0, dtype=dtype, device=xs.device)], dim=1)
