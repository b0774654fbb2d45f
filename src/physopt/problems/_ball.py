"""The ball ``{x : ‖x - center‖ <= radius}`` in any dimension (the domain of high-dimensional problems).

Rejection in the bounding box (the :class:`Domain` default) accepts a fraction V_d / 2^d of the
candidates, which is 2.5e-8 already at d = 20, so the ball samples directly: a uniform direction is a
normalised standard Gaussian vector (the Gaussian is rotation invariant), and a uniform radius in the
d-ball is ``radius · U^{1/d}`` with U uniform on [0, 1] (the volume within radius r grows like r^d).
Boundary points are ``center + radius · direction`` with the outward normal ``direction``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._domain import Domain, _check_n

__all__ = ["Ball"]


@dataclass(frozen=True)
class Ball(Domain):
    """The closed ball of ``radius`` around ``center``; ``dim = len(center)`` (any dimension >= 1).

    ``Ball.unit(d)`` is the unit ball B^d around the origin.
    """

    center: tuple[float, ...]
    radius: float = 1.0

    def __post_init__(self) -> None:
        center = tuple(float(c) for c in self.center)
        if not center or not float(self.radius) > 0:
            raise ValueError(f"Ball needs a non-empty center and radius > 0, got {self.center}, {self.radius}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "radius", float(self.radius))

    @classmethod
    def unit(cls, dim: int) -> Ball:
        """The unit ball around the origin in ``dim`` dimensions."""
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"Ball.unit needs a positive integer dimension, got {dim!r}")
        return cls((0.0,) * dim, 1.0)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return len(self.center)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        r = self.radius
        return tuple(c - r for c in self.center), tuple(c + r for c in self.center)

    @property
    def measure(self) -> float:
        """π^{d/2} r^d / Γ(d/2 + 1), through logarithms (it underflows to 0.0 for d ≳ 800 at r = 1)."""
        d = self.dim
        return math.exp(0.5 * d * math.log(math.pi) + d * math.log(self.radius) - math.lgamma(0.5 * d + 1))

    def _center(self, dtype: torch.dtype, device: torch.device | None = None) -> torch.Tensor:
        return torch.tensor(self.center, dtype=dtype, device=device)

    def contains(self, x: torch.Tensor) -> torch.Tensor:
        r2 = ((x - self._center(x.dtype, x.device)) ** 2).sum(dim=1)
        # Relative slack for rounding of boundary samples: |n|² of a normalised d-vector is 1 ± O(d·eps).
        return r2 <= self.radius**2 * (1 + 1e-12)

    def _directions(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
        g = torch.randn((n, self.dim), generator=generator, dtype=dtype, device=generator.device)
        norm = g.norm(dim=1, keepdim=True)
        # A zero Gaussian vector has probability 0; guard the division anyway.
        return g / torch.where(norm > 0, norm, torch.ones_like(norm))

    def sample_interior(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        _check_n(n)
        direction = self._directions(n, generator, dtype)
        u = torch.rand((n, 1), generator=generator, dtype=dtype, device=generator.device)
        return self._center(dtype, generator.device) + self.radius * u ** (1.0 / self.dim) * direction

    def sample_boundary(
        self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_n(n)
        normals = self._directions(n, generator, dtype)
        return self._center(dtype, generator.device) + self.radius * normals, normals

    def distance_to_boundary(self, x: torch.Tensor) -> torch.Tensor:
        """Distance ``(n,)`` from points inside to the sphere (0 on and outside it)."""
        return (self.radius - (x - self._center(x.dtype, x.device)).norm(dim=1)).clamp_min(0)

    def signed_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Exact signed distance ``(n,)``: ``‖x - c‖ - r`` (negative inside)."""
        return (x - self._center(x.dtype, x.device)).norm(dim=1) - self.radius

    def ansatz_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Smooth distance factor ``(n, 1)``: ``(r² - ‖x - c‖²)/(2r)`` (unit slope on the sphere)."""
        return self.distance_squared(x) / (2 * self.radius)

    @property
    def boundary_measure(self) -> float:
        """Surface area ``d·V_d(r)/r`` (2 points in 1-D)."""
        return self.dim * self.measure / self.radius

    def distance_squared(self, x: torch.Tensor) -> torch.Tensor:
        """``radius² - ‖x - center‖²`` as ``(n, 1)``: positive inside, zero on the sphere (an ansatz factor)."""
        return self.radius**2 - ((x - self._center(x.dtype, x.device)) ** 2).sum(dim=1, keepdim=True)
