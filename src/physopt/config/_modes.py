"""Name → constraint mode registry (``constraints = "..."``, ``--constraints``).

A mode gives every non-PDE condition its base role (``roles.NAME`` overrides it per condition) and
may bring its own model: ``hard-moe`` wraps the network in a mixture of experts that solves for the
PDE residual while the problem's ansatz enforces the boundary and initial data (PI-HC-MoE), and adds
the experts' interface condition. A new mode is one :class:`ConstraintMode` in :data:`CONSTRAINTS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..models import ExpertInterfaces, MixtureOfExperts, slab_edges, slab_points
from ..problems import Condition, Problem, Residual
from ._schema import RunConfig

__all__ = ["CONSTRAINTS", "CONSTRAINT_MODES", "ConstraintMode", "constraint_mode"]

ModelWrap = Callable[[RunConfig, Problem, nn.Module, dict[str, torch.Tensor], torch.Generator, torch.dtype],
                     nn.Module]
Extra = Callable[[RunConfig, Problem], Mapping[str, tuple[Condition, int]]]


def _outputs(cfg: RunConfig, problem: Problem) -> int:
    return problem.output_dim


def _none(cfg: RunConfig, problem: Problem) -> Mapping[str, tuple[Condition, int]]:
    return {}


@dataclass(frozen=True)
class ConstraintMode:
    """One value of ``constraints``.

    Attributes:
        role: the base role of the non-PDE conditions (``hard``: exact through the ansatz, which is
            built from the Dirichlet/initial data when the problem has none).
        summary: one line for ``physopt list constraints``.
        outputs: ``(cfg, problem) -> int``, the outputs the network must have.
        wrap: ``(cfg, problem, net, params, generator, dtype) -> model`` when the mode builds the
            final model itself (``None``: the hard ansatz wraps the network where roles are hard).
        extra: ``(cfg, problem) -> {name: (condition, points)}``, penalty conditions the mode adds.
        fallback: the base role used instead of ``hard`` when the problem has no ansatz and none can
            be built from its data (``None``: that is an error).
    """

    role: str
    summary: str
    outputs: Callable[[RunConfig, Problem], int] = _outputs
    wrap: ModelWrap | None = None
    extra: Extra = _none
    fallback: str | None = None


def _moe_model(cfg: RunConfig, problem: Problem, net: torch.nn.Module, params: dict[str, torch.Tensor],
               gen: torch.Generator, dtype: torch.dtype) -> MixtureOfExperts:
    """PI-HC-MoE: the problem's ansatz for boundary/initial data, experts solving for the PDE residual."""
    pdes = [c for c in problem.conditions.values() if isinstance(c, Residual)]
    if len(pdes) != 1 or problem.output_dim != 1:
        raise ValueError(f"--constraints hard-moe needs one PDE residual and one output; {problem.name!r} has "
                          f"{len(pdes)} residuals and {problem.output_dim} outputs")
    a, m = problem.ansatz, cfg.moe
    try:
        points, edges = slab_points(problem.domain, experts=m.experts, per_expert=m.points, axis=m.axis,
                                    generator=gen, dtype=dtype)
        model = MixtureOfExperts(net, residual=pdes[0].fn, points=points, edges=edges, axis=m.axis, params=params,
                                 lift=a.lift, distance=a.distance, ridge=m.ridge,  # type: ignore[union-attr]
                                 iterations=m.iterations, damping=m.damping)
        mismatch = model.check_affine(generator=gen)
        _, f, _ = model.system()
    except ValueError as err:
        raise ValueError(f"moe: {err}") from None
    if not bool((f != 0).any()):  # r(u = g) ≡ 0: both the ridge and the LM solve (from ω = 0) return ω = 0
        raise ValueError(f"--constraints hard-moe: the PDE residual of {problem.name!r} vanishes at u = g (the "
                          "boundary lift) on every enforcement point, so each expert's solve returns the trivial "
                          "solution u = g (psi = 0 for an eigenproblem); use --constraints hard or soft")
    # Affine residuals agree to round-off (~1e-15 measured on diffusion-reaction); others take Levenberg–Marquardt.
    model.nonlinear = mismatch > 1e-8
    return model


def _moe_interfaces(cfg: RunConfig, problem: Problem) -> Mapping[str, tuple[Condition, int]]:
    """Continuity across the experts' slab edges, as a penalty (none for a single expert)."""
    if cfg.moe.experts <= 1:
        return {}
    try:
        inner = slab_edges(problem.domain.bounds, experts=cfg.moe.experts, axis=cfg.moe.axis)[1:-1]
    except ValueError as err:
        raise ValueError(f"moe: {err}") from None
    return {"interface": (ExpertInterfaces(inner_edges=tuple(inner), axis=cfg.moe.axis), 200)}


CONSTRAINTS: dict[str, ConstraintMode] = {
    "penalty": ConstraintMode("penalty", "weighted mean-square penalties (weights.NAME)"),
    "hard": ConstraintMode("hard", "exact through the problem's ansatz (built from its data if it has none)"),
    # The generic recipe's mode: exact data where an ansatz exists or can be built, penalties otherwise.
    "auto": ConstraintMode("hard", "hard where the problem has (or its data give) an ansatz, else penalty",
                           fallback="penalty"),
    "lagrangian": ConstraintMode("lagrangian", "pointwise equality constraints, descent-ascent on multipliers"),
    "alm": ConstraintMode("alm", "pointwise equality constraints, augmented Lagrangian"),
    "hard-moe": ConstraintMode("hard", "hard ansatz + mixture of experts solving the PDE (PI-HC-MoE)",
                               outputs=lambda cfg, problem: cfg.moe.basis, wrap=_moe_model, extra=_moe_interfaces),
}
CONSTRAINT_MODES = tuple(CONSTRAINTS)


def constraint_mode(name: str) -> ConstraintMode:
    """The registered :class:`ConstraintMode` of ``name`` (``ValueError`` naming the known modes)."""
    try:
        return CONSTRAINTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"constraints must be one of {', '.join(CONSTRAINTS)}, got {name!r}") from None
