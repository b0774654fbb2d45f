"""What to solve: domains, conditions, :class:`Problem`, autograd operators and the zoo.

Example — a user-defined Poisson problem on an L-shaped domain::

    import torch
    from physopt.problems import Problem, Polygon, Residual, Dirichlet, ops

    def pde(x, u, params):
        return -ops.laplacian(u, x) - 1.0

    problem = Problem(
        name="poisson-l",
        domain=Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)]),
        input_names=("x", "y"), output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0)},
    )
"""

from __future__ import annotations

from typing import Any

from . import ops
from ._ansatz import build_ansatz, distance_ansatz
from ._ball import Ball
from ._conditions import (
    Condition,
    ConstraintForm,
    Data,
    Dirichlet,
    Initial,
    Neumann,
    Periodic,
    Residual,
    Value,
    value_at,
)
from ._csg import Boolean, Difference, Intersection, Union
from ._domain import (
    Box,
    Disk,
    Domain,
    Instant,
    Interval,
    Polygon,
    Rectangle,
    SpaceTime,
    TimeInterval,
    fill_by_rejection,
)
from ._energy import Energy
from ._fields import FIELD_PENALTIES, FieldGrid, FieldNetwork, FieldRegularizer, UnknownField
from ._gauge import NormGauge, SignGauge
from ._integral import Integral
from ._points import Points
from ._problem import Ansatz, Problem, Reference, Transport
from ._scales import output_scales
from ._unknowns import TRANSFORMS, Transform, Unknown
from ._wos import walk_on_spheres
from .zoo import ZOO

__all__ = [
    "Ansatz",
    "Ball",
    "Boolean",
    "Box",
    "Condition",
    "ConstraintForm",
    "Data",
    "Difference",
    "Dirichlet",
    "Disk",
    "Domain",
    "Energy",
    "FIELD_PENALTIES",
    "FieldGrid",
    "FieldNetwork",
    "FieldRegularizer",
    "Initial",
    "Instant",
    "Integral",
    "Intersection",
    "Interval",
    "Neumann",
    "Periodic",
    "Points",
    "Polygon",
    "Problem",
    "Rectangle",
    "Reference",
    "NormGauge",
    "SignGauge",
    "Residual",
    "SpaceTime",
    "TRANSFORMS",
    "TimeInterval",
    "Transform",
    "Transport",
    "Union",
    "Unknown",
    "UnknownField",
    "Value",
    "available",
    "build_ansatz",
    "distance_ansatz",
    "fill_by_rejection",
    "get",
    "ops",
    "output_scales",
    "value_at",
    "walk_on_spheres",
]


def available() -> list[str]:
    """Names of the zoo problems, for :func:`get` and ``physopt solve NAME``."""
    return sorted(ZOO)


def get(name: str, **options: Any) -> Problem:
    """A fresh zoo problem by name (see :func:`available`); ``options`` go to its factory
    (e.g. ``get("poisson-nd", dim=1000)``)."""
    try:
        factory = ZOO[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; available: {', '.join(available())}") from None
    try:
        return factory(**options)
    except TypeError as err:
        raise ValueError(f"problem {name!r} does not take options {sorted(options)}: {err}") from None
