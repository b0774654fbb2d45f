"""From conditions to a scalar loss: residuals per condition, combined by role.

Roles:

- ``penalty``: ``weight · mean(r²)`` added to the loss;
- ``hard``: enforced exactly by the model's ansatz, not evaluated;
- ``lagrangian`` / ``alm``: an equality constraint ``r = 0`` at every collocation point with a
  pointwise multiplier, handled by :class:`physopt.constrained.Duals` (descent–ascent, or the
  augmented Lagrangian with penalty ``ρ``); the PDE residual's mean square is the objective.

With sharded points (:class:`~physopt.training.ShardedSampler`; under ``torchrun`` each rank holds a
contiguous share of them, given by ``offsets``) the pointwise multipliers are indexed by the
*global* identity of a point and component, ``(offset + i)·k + j`` for local point ``i`` of a rank whose
points start at global index ``offset`` (:class:`physopt.constrained.Indexed`), so every rank holds the
same full multiplier vector, laid out as a single process holding every shard would lay it out. The
reported violations are maxima over the ranks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

import torch

from ..constrained import Constraint, Duals, GradientAscent, Indexed
from ..problems import Energy, Points, Problem
from ..runtime import Runtime
from ._causal import Causal

__all__ = ["ROLE_KINDS", "Objective", "Role", "RoleKind"]


class RoleKind(StrEnum):
    """The one definition of how a condition can enter training (see the module docstring)."""

    PENALTY = "penalty"
    HARD = "hard"
    LAGRANGIAN = "lagrangian"
    ALM = "alm"

    @property
    def constrained(self) -> bool:
        """A constraint with multipliers (``lagrangian`` / ``alm``)."""
        return self in (RoleKind.LAGRANGIAN, RoleKind.ALM)


ROLE_KINDS = tuple(k.value for k in RoleKind)
CONSTRAINT_KINDS = tuple(k.value for k in RoleKind if k.constrained)


@dataclass(frozen=True)
class Role:
    """How a condition enters training (see the module docstring).

    ``weight`` is the penalty weight; ``penalty`` (ρ) and ``dual_lr`` (η, ``None``: η = ρ, the
    method of multipliers) configure constraint roles.
    """

    kind: RoleKind = RoleKind.PENALTY
    weight: float = 1.0
    penalty: float = 1.0
    dual_lr: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ROLE_KINDS:
            raise ValueError(f"unknown role {self.kind!r}; choose from {list(ROLE_KINDS)}")
        object.__setattr__(self, "kind", RoleKind(self.kind))  # a plain string names the same kind
        for key in ("weight", "penalty"):
            v = getattr(self, key)
            if not (isinstance(v, int | float) and 0 <= v < math.inf):
                raise ValueError(f"{key} must be a finite number >= 0, got {v!r}")
        if self.dual_lr is not None and not (0 < self.dual_lr < math.inf):
            raise ValueError(f"dual_lr must be a finite number > 0 or None, got {self.dual_lr!r}")


class Objective:
    """Loss terms of the trained conditions and, for constraint roles, the multipliers.

    :meth:`terms` evaluates residuals; :meth:`loss` combines them. With constraint roles the
    combination also performs one dual update, so it must run once per optimizer step; for
    optimizers that evaluate the loss several times per step, :meth:`lagrangian` combines with
    the multipliers held fixed and :meth:`update_duals` performs the step's one dual update
    (see :class:`physopt.training.Trainer` for when it runs).
    """

    def __init__(self, problem: Problem, roles: Mapping[str, Role], *, causal: Causal | None = None,
                 runtime: Runtime | None = None, offsets: Mapping[str, int] | None = None,
                 totals: Mapping[str, int] | None = None) -> None:
        missing = set(problem.conditions) - set(roles)
        if missing:
            raise ValueError(f"no role given for conditions {sorted(missing)}")
        self.problem = problem
        self.roles = dict(roles)
        self.trained = [k for k in problem.conditions if self.roles[k].kind != "hard"]
        self.constrained = [k for k in self.trained if self.roles[k].kind in CONSTRAINT_KINDS]
        # Causal weighting (if given) replaces the plain mean square of interior residuals.
        self.causal = causal
        self.duals: Duals | None = None
        # max |r| of each trained non-PDE condition at the last evaluation (for the history).
        self.violations: dict[str, torch.Tensor] = {}
        self.runtime = runtime if runtime is not None else Runtime()
        # Sharded points (offsets given): multipliers indexed by global point identity.
        self._global = offsets is not None and bool(self.constrained)
        if self._global and (totals is None or set(self.constrained) - (set(offsets or {}) & set(totals))):
            raise ValueError(f"constraints {self.constrained} on sharded points need the global offsets and totals "
                             "of their points")
        self.offsets, self.totals = dict(offsets or {}), dict(totals or {})
        self._pending_duals: Mapping[str, Any] | None = None  # a checkpoint's duals, loaded once they exist
        if self.constrained and not self._global:
            self.duals = self._make_duals({})

    def _make_duals(self, components: Mapping[str, int]) -> Duals:
        """Pointwise multipliers; with ``components`` (ranks > 1) sized by the global point count."""
        return Duals(
            {
                k: Constraint(
                    self.problem.conditions[k].constraint.kind,
                    multiplier=self.problem.conditions[k].constraint.multiplier, formulation=self.roles[k].kind,
                    penalty=self.roles[k].penalty, dual=GradientAscent(lr=self.roles[k].dual_lr),
                    reduction="mean", num_points=self.totals[k] * components[k] if components else None,
                )
                for k in self.constrained
            },
        )

    def _dual_values(self, residuals: Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor | Indexed]:
        """The constraint values as the duals take them: local tensors, or globally indexed under ranks."""
        if not self._global:
            return residuals
        if self.duals is None:  # first sight: the residuals give the components per point
            self.duals = self._make_duals({k: r[0].numel() if r.dim() > 1 else 1 for k, r in residuals.items()})
            if self._pending_duals is not None:
                self.duals.load_state_dict(self._pending_duals)
                self._pending_duals = None
        out: dict[str, torch.Tensor | Indexed] = {}
        for k, r in residuals.items():
            n, comps = r.shape[0], (r[0].numel() if r.dim() > 1 else 1)
            point = torch.arange(n, device=r.device) + self.offsets[k]
            index = (point[:, None] * comps + torch.arange(comps, device=r.device)).reshape(-1)
            out[k] = Indexed(r.reshape(-1), index)
        return out

    @property
    def varies_per_step(self) -> bool:
        """Causal weights change the loss function every step (cached evaluations go stale)."""
        return self.causal is not None

    @property
    def has_duals(self) -> bool:
        """Some condition is a constraint with multipliers."""
        return bool(self.constrained)

    def residual(self, name: str, model: Callable[[torch.Tensor], torch.Tensor], points: Points,
                 params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Condition ``name``'s residual on ``points`` (the adaptive sampler's hook)."""
        return self.problem.conditions[name].residual(model, points, params)

    def terms(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        batch: Mapping[str, Points],
        params: Mapping[str, torch.Tensor],
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``({condition: mean(residual²)}, {constraint: residual})`` for the trained conditions."""
        squares, residuals = {}, {}
        deferred: dict[str, torch.Tensor] = {}
        for name in self.trained:
            cond = self.problem.conditions[name]
            if isinstance(cond, Energy):  # Deep Ritz: the energy estimate itself is the term (not a square)
                squares[name] = cond.energy(model, batch[name], params)
                continue
            r = cond.residual(model, batch[name], params)
            if self.causal is not None and cond.kind == "interior" and name not in self.constrained:
                squares[name] = self.causal.loss(r, batch[name]["x"])
            elif (self.causal is not None and self.causal.boundary and cond.kind == "boundary"
                  and name not in self.constrained):
                deferred[name] = r  # weighted by the PDE residual's causal weights, known after the loop
            else:
                squares[name] = (r**2).mean()
            if name in self.constrained:
                residuals[name] = cond.constraint.values(r)
            if cond.kind != "interior":
                self.violations[name] = r.detach().abs().max()
        if deferred:
            squares.update({k: self.causal.weighted(r, batch[k]["x"]) for k, r in deferred.items()})  # type: ignore[union-attr]
            squares = {k: squares[k] for k in self.trained if k in squares}
        return squares, residuals

    def residual_vector(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        batch: Mapping[str, Points],
        params: Mapping[str, torch.Tensor],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(r, terms)`` for least-squares optimizers (ENGD): ``r`` concatenates
        ``sqrt(weight / r_k.numel()) · r_k`` of the trained conditions (flattened, in
        :attr:`trained` order), so ``‖r‖²`` equals :meth:`loss` of ``terms``, which are the
        per-condition mean squares :meth:`terms` returns."""
        self.check_least_squares()
        pieces, squares = [], {}
        for name in self.trained:
            r = self.problem.conditions[name].residual(model, batch[name], params)
            squares[name] = (r**2).mean()
            pieces.append(r.reshape(-1) * math.sqrt(self.roles[name].weight / r.numel()))
            if self.problem.conditions[name].kind != "interior":
                self.violations[name] = r.detach().abs().max()
        return torch.cat(pieces), squares

    def residual_blocks(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        batch: Mapping[str, Points],
        params: Mapping[str, torch.Tensor],
        max_points: int,
    ) -> list[Callable[[], torch.Tensor]]:
        """Callables whose outputs, concatenated, equal :meth:`residual_vector`'s ``r``; each
        evaluates at most ``max_points`` points of one condition (so a Jacobian row costs a backward
        pass through a small graph). Pointwise conditions are sliced along their points
        (:meth:`Points.take`: per-point fields are cut, metadata such as SDGD's sampled dimensions
        stays whole); integral conditions stay whole. Assumes the model acts on
        each point on its own (true for MLPs and the hard-constraint ansatz)."""
        self.check_least_squares()
        blocks: list[Callable[[], torch.Tensor]] = []
        for name in self.trained:
            n = batch[name].n
            step = n if self.problem.conditions[name].kind == "integral" else max_points
            blocks += [partial(self._block, model, batch, params, name, lo, min(lo + step, n))
                       for lo in range(0, n, step)]
        return blocks

    def _block(self, model: Callable[[torch.Tensor], torch.Tensor], batch: Mapping[str, Points],
               params: Mapping[str, torch.Tensor], name: str, lo: int, hi: int) -> torch.Tensor:
        """Weighted residuals of points ``lo:hi`` of condition ``name`` (see :meth:`residual_blocks`)."""
        cond, b = self.problem.conditions[name], batch[name]
        n = b.n
        r = cond.residual(model, b.take(slice(lo, hi)) if (lo, hi) != (0, n) else b, params)
        if cond.kind == "integral":
            return r.reshape(-1) * math.sqrt(self.roles[name].weight / r.numel())
        if r.shape[0] != hi - lo:
            raise ValueError(f"condition {name!r}: {hi - lo} points gave {r.shape[0]} residual rows")
        return r.reshape(-1) * math.sqrt(self.roles[name].weight / (n * r[0].numel()))

    def check_least_squares(self) -> None:
        """Raise ``ValueError`` unless the loss is a weighted sum of mean squares of residuals."""
        if self.constrained:
            raise ValueError(f"least-squares optimizers need penalty roles; {self.constrained} are constraints")
        if self.causal is not None:
            raise ValueError("least-squares optimizers do not support causal weighting")
        energies = [k for k in self.trained if isinstance(self.problem.conditions[k], Energy)]
        if energies:
            raise ValueError(f"least-squares optimizers need residual conditions; {energies} are energies")

    def loss(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Weighted penalty terms, plus the constraint terms (which also updates the duals)."""
        return self._combine(squares, residuals, update=True)

    def end_step(self) -> None:
        """Called once after each optimizer step (advances the causal ε schedule)."""
        if self.causal is not None:
            self.causal.after_step()

    def lagrangian(
        self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]
    ) -> torch.Tensor:
        """The same loss as :meth:`loss` with the current multipliers, without a dual update.

        For closure-based optimizers: every evaluation inside one optimizer step must see the same
        function of the model, so the multipliers are held fixed here and :meth:`update_duals`
        runs once per step.
        """
        return self._combine(squares, residuals, update=False)

    def _combine(
        self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor], *, update: bool
    ) -> torch.Tensor:
        penalty = [self.roles[k].weight * v for k, v in squares.items() if k not in self.constrained]
        total = torch.stack(penalty).sum() if penalty else next(iter(squares.values())) * 0
        if not self.constrained:
            return total
        if not all(bool(torch.isfinite(r).all()) for r in residuals.values()) or not torch.isfinite(total):
            return total + sum(r.sum() for r in residuals.values())  # non-finite: the trainer reports it
        values = self._dual_values(residuals)
        assert self.duals is not None  # made by __init__ or _dual_values
        return self.duals.step(total, values) if update else self.duals.lagrangian(total, values)

    def update_duals(self, residuals: Mapping[str, torch.Tensor]) -> None:
        """One dual update from these constraint residuals (skipped if any is non-finite: the
        trainer then stops the run and names the term)."""
        if not self.constrained or not all(bool(torch.isfinite(r).all()) for r in residuals.values()):
            return
        values = self._dual_values(residuals)
        assert self.duals is not None
        self.duals.update(values)

    def stats(self) -> dict[str, float]:
        """Multiplier, penalty and violation of each constraint (and causal weights) as flat floats."""
        causal = {} if self.causal is None else self.causal.stats()
        # Max |r| of each trained non-PDE condition on its training points at the last evaluation
        # (over every rank's points: one all-reduce; every rank records at the same steps).
        names = list(self.violations)
        tops = self.runtime.max_over_ranks(torch.stack([self.violations[k] for k in names])) if names else []
        out = {**causal, **{f"violation/{k}": float(v) for k, v in zip(names, tops, strict=True)}}
        if self.duals is None:
            return out
        for name, st in self.duals.stats().items():
            out[f"multiplier/{name}"] = st["multiplier"]
            out[f"multiplier_max/{name}"] = st["multiplier_max"]
            out[f"penalty/{name}"] = st["penalty"]
        return out

    def state_dict(self) -> dict[str, Any]:
        duals = self._pending_duals if self.duals is None else self.duals.state_dict()
        return {
            "duals": duals,
            "causal": None if self.causal is None else self.causal.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if self.constrained and state.get("duals") is not None:
            if self.duals is None:  # ranks > 1 before the first evaluation: the multipliers' size is not known yet
                self._pending_duals = state["duals"]
            else:
                self.duals.load_state_dict(state["duals"])
        if self.causal is not None and state.get("causal") is not None:
            self.causal.load_state_dict(state["causal"])
