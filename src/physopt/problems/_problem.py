"""The :class:`Problem` value: what to solve, independent of how it is trained."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._conditions import Condition
from ._domain import Domain, Instant, SpaceTime, TimeInterval
from ._energy import Energy
from ._fields import UnknownField
from ._gauge import SignGauge
from ._unknowns import Unknown

__all__ = ["Ansatz", "Problem", "Reference", "Transport"]


class Reference:
    """Reference solution values on an evaluation set of points.

    Build it from data (``Reference(points=..., values=...)``) or from a function evaluated on
    given points (``Reference.from_function(fn, points)``). A function reference is evaluated
    lazily, once, the first time :attr:`values` is read (the cache belongs to this object).

    ``grid_shape`` (e.g. ``(256, 100)`` for 256 x-values by 100 t-values, points in C order)
    lets reports draw the solution as an image.

    ``error`` is how accurate the reference itself is (relative L2 on these points, from the
    problem's convergence test; ``None`` if unknown) and ``note`` says in one line how that was
    measured. Leaderboards print both next to the solvers' errors.
    """

    def __init__(
        self,
        *,
        points: np.ndarray,
        values: np.ndarray | None = None,
        function: Callable[[np.ndarray], np.ndarray] | None = None,
        grid_shape: tuple[int, ...] | None = None,
        source: str = "",
        error: float | None = None,
        note: str = "",
    ) -> None:
        if error is not None and not (np.isfinite(error) and error >= 0):
            raise ValueError(f"reference error must be a finite number >= 0 or None, got {error!r}")
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2:
            raise ValueError(f"reference points must be (n, dim), got shape {pts.shape}")
        if (values is None) == (function is None):
            raise ValueError("give exactly one of `values` or `function` for a Reference")
        if grid_shape is not None and int(np.prod(grid_shape)) != pts.shape[0]:
            raise ValueError(f"grid_shape {grid_shape} does not match {pts.shape[0]} points")
        self.points = pts
        self.grid_shape = tuple(grid_shape) if grid_shape is not None else None
        self.source = source
        self.error = None if error is None else float(error)
        self.note = note
        self._function = function
        self._values = None if values is None else self._check(np.asarray(values, dtype=np.float64))

    @classmethod
    def from_function(
        cls,
        function: Callable[[np.ndarray], np.ndarray],
        points: np.ndarray,
        *,
        grid_shape: tuple[int, ...] | None = None,
        source: str = "",
        error: float | None = None,
        note: str = "",
    ) -> Reference:
        return cls(points=points, function=function, grid_shape=grid_shape, source=source, error=error, note=note)

    def _check(self, values: np.ndarray) -> np.ndarray:
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] != self.points.shape[0]:
            raise ValueError(f"reference values must be (n, k) with n={self.points.shape[0]}, got {values.shape}")
        return values

    @property
    def values(self) -> np.ndarray:
        """Reference values ``(n, output_dim)`` at :attr:`points`."""
        if self._values is None:
            assert self._function is not None  # guaranteed by __init__
            self._values = self._check(np.asarray(self._function(self.points), dtype=np.float64))
        return self._values


@dataclass(frozen=True)
class Ansatz:
    """Exact (hard) enforcement of conditions: ``u(x) = lift(x) + distance(x) · N(x)``.

    ``lift`` satisfies the conditions named in ``enforces`` and ``distance`` vanishes where they are
    imposed, so any network ``N`` satisfies them exactly. Both map ``(n, dim)`` tensors to
    ``(n, output_dim)`` (or ``(n, 1)``, broadcast over outputs).
    """

    lift: Callable[[torch.Tensor], torch.Tensor]
    distance: Callable[[torch.Tensor], torch.Tensor]
    enforces: tuple[str, ...]


@dataclass(frozen=True)
class Transport:
    """The transport form ``u_t + a(u) u_x = ν u_xx`` of a 1-D problem (for ``--method lpinn``).

    ``velocity(u, params)`` is a(u) (``(n, 1)``); ``diffusion(params)`` is ν, ``None`` for ν = 0.
    """

    velocity: Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]
    diffusion: Callable[[Mapping[str, torch.Tensor]], torch.Tensor] | None = None


@dataclass(frozen=True)
class Problem:
    """A PDE problem.

    Attributes:
        name: short identifier (used for run directories).
        domain: a spatial :class:`Domain`, a :class:`SpaceTime` product, or a bare
            :class:`TimeInterval` for an ODE system (stored as ``Instant() * interval``: points are
            ``(t,)``, :class:`Initial` gives ``u(t0)``).
        input_names / output_names: column names of points and of the solution.
        conditions: named conditions (``"pde"``, ``"bc"``, ``"ic"``, ...), in order.
        params: constant scalars passed to residual functions (e.g. viscosity).
        trainable: the unknown scalars: an initial value, or an :class:`Unknown` (bounds or a
            positivity transform, its own learning rate, the truth when known); see :attr:`unknowns`;
            and the unknown fields a(x) (:class:`UnknownField`, read as ``params[name](x)``); see
            :attr:`fields`.
        reference: reference solution on an evaluation set, or ``None``.
        ansatz: exact enforcement of some conditions, used with ``constraints="hard"``.
        sizes: default number of points per condition per step.
        description: one line for listings and reports.
        energy: the variational form of the interior PDE condition (:class:`Energy`), or ``None``;
            ``--method ritz`` minimises it, ``--method wos`` reads its Poisson source (p = 2).
        gauge: a freedom the equations leave that the problem fixes (:class:`SignGauge`: the sign
            of an eigenfunction), applied to the trained model in every constraint mode, or ``None``.
        transport: the problem as transport along characteristics (:class:`Transport`), or
            ``None``; ``--method lpinn`` trains in that Lagrangian frame.
    """

    name: str
    domain: Domain | SpaceTime | TimeInterval
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    conditions: Mapping[str, Condition]
    params: Mapping[str, float] = field(default_factory=dict)
    trainable: Mapping[str, float | Unknown | UnknownField] = field(default_factory=dict)
    reference: Reference | None = None
    ansatz: Ansatz | None = None
    sizes: Mapping[str, int] = field(default_factory=dict)
    description: str = ""
    energy: Energy | None = None
    transport: Transport | None = None
    gauge: SignGauge | None = None

    def __post_init__(self) -> None:
        if isinstance(self.domain, TimeInterval):  # an ODE system: time alone, one input column
            object.__setattr__(self, "domain", SpaceTime(Instant(), self.domain))
        if not isinstance(self.domain, Domain | SpaceTime):
            raise ValueError(f"Problem.domain must be a Domain, SpaceTime or TimeInterval, "
                             f"got {type(self.domain).__name__}")
        if len(self.input_names) != self.domain.dim:
            raise ValueError(
                f"Problem {self.name!r}: {len(self.input_names)} input names {self.input_names} "
                f"for a {self.domain.dim}-D domain"
            )
        if not self.output_names:
            raise ValueError(f"Problem {self.name!r} needs at least one output name")
        if not self.conditions:
            raise ValueError(f"Problem {self.name!r} has no conditions")
        for key, cond in self.conditions.items():
            if not isinstance(cond, Condition):
                raise ValueError(f"condition {key!r} must be a physopt Condition, got {type(cond).__name__}")
        if self.energy is not None and not isinstance(self.energy, Energy):
            raise ValueError(f"Problem.energy must be a physopt Energy or None, got {type(self.energy).__name__}")
        for key, u in self.trainable.items():
            if not isinstance(u, Unknown | UnknownField | int | float) or isinstance(u, bool):
                raise ValueError(f"trainable {key!r} must be a number, a physopt Unknown or UnknownField, "
                                 f"got {type(u).__name__}")
            if isinstance(u, UnknownField):
                u.columns(self.domain.dim)
        clash = set(self.params) & set(self.trainable)
        if clash:
            raise ValueError(f"names used both as params and trainable: {sorted(clash)}")
        if self.ansatz is not None:
            unknown = set(self.ansatz.enforces) - set(self.conditions)
            if unknown:
                raise ValueError(f"ansatz enforces unknown conditions {sorted(unknown)}")
        if self.reference is not None and self.reference.points.shape[1] != self.domain.dim:
            raise ValueError(
                f"reference points have {self.reference.points.shape[1]} columns, domain has {self.domain.dim}"
            )

    @property
    def input_dim(self) -> int:
        return self.domain.dim

    @property
    def unknowns(self) -> dict[str, Unknown]:
        """Every trainable scalar as an :class:`Unknown` (a plain number ``v`` is ``Unknown(v)``)."""
        return {k: u if isinstance(u, Unknown) else Unknown(float(u)) for k, u in self.trainable.items()
                if not isinstance(u, UnknownField)}

    @property
    def fields(self) -> dict[str, UnknownField]:
        """The unknown fields of :attr:`trainable`."""
        return {k: u for k, u in self.trainable.items() if isinstance(u, UnknownField)}

    @property
    def output_dim(self) -> int:
        return len(self.output_names)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly description for reports."""
        return {
            "name": self.name,
            "inputs": list(self.input_names),
            "outputs": list(self.output_names),
            "conditions": {k: type(c).__name__ for k, c in self.conditions.items()},
            "params": dict(self.params),
            "trainable": {k: u.initial for k, u in self.unknowns.items()},
            "reference": None if self.reference is None else self.reference.source,
            "description": self.description,
        }
