"""The role of every condition (penalty, hard, lagrangian, alm) from the run configuration."""

from __future__ import annotations

import torch

from ..problems import Problem
from ..training import ROLE_KINDS, Role
from ._schema import ConfigError, RunConfig

__all__ = ["holds_exactly", "make_roles"]


def holds_exactly(problem: Problem, name: str, model: torch.nn.Module, dtype: torch.dtype) -> bool:
    """Whether ``model`` meets the Periodic condition ``name`` to round-off at 64 probe points.

    The embedding alone always does; wrapped in a hard ansatz it does only when the lift and distance
    are periodic too (Allen–Cahn's u0 = x² cos(πx) is not, in its derivative). A condition the model
    misses keeps its role. Tolerance: sqrt(machine epsilon) times the output scale (1.5e-8 in
    float64): derivative residuals carry round-off amplified by the network's derivatives, while a
    real mismatch (a non-periodic lift) is of the order of the solution.
    """
    cond = problem.conditions[name]
    device = next(iter(model.parameters())).device
    probe = torch.Generator(device=device).manual_seed(0)  # its own stream: the run's generators stay untouched
    batch = cond.sample(problem.domain, 64, generator=probe, dtype=dtype)
    r = cond.residual(model, batch, {}).detach()
    scale = 1.0 + model(batch["x"]).detach().abs().max()
    return bool(r.abs().max() <= torch.finfo(dtype).eps ** 0.5 * scale)


def make_roles(cfg: RunConfig, problem: Problem, *, base: str) -> dict[str, Role]:
    """The role of every condition: ``base`` (the constraint mode's role) for the non-PDE
    conditions (``hard`` only for those the ansatz enforces), then ``cfg.roles`` per condition,
    then ``weights`` and the per-condition ``duals.penalties`` / ``duals.dual_lrs``."""
    names = list(problem.conditions)
    unknown = sorted(set(cfg.roles) - set(names))
    if unknown:
        raise ConfigError(f"roles name unknown conditions {unknown}; conditions: {names}")
    bad = {k: v for k, v in cfg.roles.items() if v not in ROLE_KINDS}
    if bad:
        raise ConfigError(f"roles {bad}: a role must be one of {', '.join(ROLE_KINDS)}")
    interior = {k for k, c in problem.conditions.items() if c.kind == "interior"}
    bad = {k: v for k, v in cfg.roles.items() if k in interior and v != "penalty"}
    if bad:
        raise ConfigError(f"roles {bad}: the PDE residual is the objective; its role can only be 'penalty'")
    if base == "hard" and problem.ansatz is None:
        raise ConfigError(f"problem {problem.name!r} has no hard-constraint ansatz; use --constraints penalty")
    enforced = set(problem.ansatz.enforces) if problem.ansatz is not None else set()
    kinds = {}
    for name in names:
        mode = base
        if name in interior or (mode == "hard" and name not in enforced):
            mode = "penalty"  # global hard: conditions the ansatz cannot enforce stay penalties
        kinds[name] = cfg.roles.get(name, mode)
    hard = sorted(k for k, v in kinds.items() if v == "hard")
    if hard and problem.ansatz is None:
        raise ConfigError(
            f"problem {problem.name!r} has no hard-constraint ansatz; {', '.join(hard)} cannot be 'hard' "
            f"(use --constraints penalty, lagrangian or alm)"
        )
    if hard and set(hard) != enforced:
        raise ConfigError(
            f"the ansatz of {problem.name!r} enforces {sorted(enforced)} together; roles make "
            f"{hard} hard — give exactly these conditions the role 'hard'"
        )
    constrained = {k for k, v in kinds.items() if v in ("lagrangian", "alm")}
    for key, table in (("duals.penalties", cfg.duals.penalties), ("duals.dual_lrs", cfg.duals.dual_lrs)):
        extra = sorted(set(table) - constrained)
        if extra:
            raise ConfigError(
                f"{key} names {extra}, which have no lagrangian/alm role; constrained: {sorted(constrained)}"
            )
    roles = {}
    for name, kind in kinds.items():
        try:
            if kind in ("lagrangian", "alm"):
                lr = cfg.duals.dual_lrs.get(name, cfg.duals.dual_lr)
                roles[name] = Role(kind, penalty=cfg.duals.penalties.get(name, cfg.duals.penalty), dual_lr=lr or None)
            else:
                roles[name] = Role(kind, float(cfg.weights.get(name, 1.0)))
        except ValueError as err:
            raise ConfigError(f"condition {name!r}: {err}") from None
    return roles
