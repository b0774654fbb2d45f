"""``Duals``: multipliers, penalties and their updates for constraints in any PyTorch training loop.

Usage::

    duals = Duals({"bc": Constraint("eq", multiplier="pointwise"), "mass": Constraint("ineq")},
                  formulation="alm")
    for x in batches:
        opt.zero_grad()
        lagr = duals.step(loss_fn(model, x), {"bc": h(model, x), "mass": g(model, x)})
        lagr.backward()
        opt.step()

A constraint is ``kind + formulation + multiplier layout + penalty updater + dual update rule``;
each piece is a small value (see :class:`Constraint`), and :class:`Duals` only holds the per-constraint
state and calls them.

Order inside :meth:`Duals.step` (for every constraint in the dict):

1. The primal term is formed with the multipliers ``λ_t`` and penalty ``ρ_t`` held *before* the call
   (detached: the backward pass reaches the model only).
2. The multipliers are updated from this step's constraint values: ``λ_{t+1} = Π(λ_t + η e_t)``.
3. The penalty updater computes ``ρ_{t+1}``.

Why the primal loss uses the pre-update multipliers: with the augmented Lagrangian its gradient is
then ``∇f + (λ_t + ρh_t)∇h = ∇f + λ̂∇h`` with the first-order estimate ``λ̂ = λ_t + ρh_t`` — the same
quantity that the dual step ``η = ρ`` stores as ``λ_{t+1}``. Updating first would apply ``ρh_t``
twice. The returned loss is also the value of the Lagrangian at ``(x_t, λ_t)`` and one forward pass
serves both updates (simultaneous gradient descent–ascent at the cost of plain training).

Optimizers that evaluate the loss several times per step (L-BFGS and other quasi-Newton methods
with a line search) need the same function of the model at every evaluation of one step: use
``duals.lagrangian(loss, values)`` (steps 1 only, multipliers held fixed) in the closure and
``duals.update(values)`` (steps 2–3) once per step. ``step`` is exactly ``lagrangian`` then
``update`` on the same values.

Under ``torch.distributed`` (initialized, world size > 1) the *detached* constraint values are
averaged over the ranks before steps 2–3, so every rank holds identical multipliers and penalties;
the primal term uses each rank's own values (DDP then averages the gradients).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import Tensor

from ._dual_optim import DualOptimizer, GradientAscent
from ._formulations import Formulation, Kind, resolve_formulation
from ._multipliers import Indexed, MultiplierLayout, project
from ._penalty_updaters import PenaltyUpdater, resolve_penalty

__all__ = ["Constraint", "Duals"]

_STATE_VERSION = 1


@dataclass(frozen=True)
class Constraint:
    """Declaration of one named constraint: ``h = 0`` (``kind="eq"``) or ``g ≤ 0`` (``kind="ineq"``).

    Args:
        kind: ``"eq"`` or ``"ineq"``.
        multiplier: ``"scalar"``, ``"pointwise"`` or ``"auto"`` (see :mod:`._multipliers`).
        formulation: ``"lagrangian"``, ``"alm"``, ``"penalty"`` or a formulation object; ``None``
            uses the :class:`Duals` default.
        penalty: ``ρ`` as a float (constant) or a penalty updater (``GrowOnStall``,
            ``AdaptivePenalty``); its ``init`` is ``ρ₀``.
        dual: the dual update rule (``GradientAscent`` or ``NuPI``); step ``lr``, or ``ρ`` if ``None``.
        max_multiplier: safeguard box ``|λ| ≤ M``.
        reduction: how the pointwise primal terms are combined: ``"sum"`` (multipliers are the KKT
            multipliers of the individual constraints) or ``"mean"`` (terms scale like a mean-square
            loss; the multipliers are then ``n`` times the KKT multipliers).
        num_points: size of the fixed collocation set, required when the values come as
            :class:`Indexed`.
    """

    kind: Kind = "eq"
    multiplier: MultiplierLayout = "auto"
    formulation: str | Formulation | None = None
    penalty: float | PenaltyUpdater = 1.0
    dual: DualOptimizer = field(default_factory=GradientAscent)
    max_multiplier: float = 1e8
    reduction: Literal["sum", "mean"] = "sum"
    num_points: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("eq", "ineq"):
            raise ValueError(f"Constraint kind must be 'eq' or 'ineq', got {self.kind!r}")
        if self.multiplier not in ("auto", "scalar", "pointwise"):
            raise ValueError(
                f"Constraint multiplier must be 'auto', 'scalar' or 'pointwise', got {self.multiplier!r}"
            )
        if self.reduction not in ("sum", "mean"):
            raise ValueError(
                f"Constraint reduction must be 'sum' or 'mean', got {self.reduction!r}"
            )
        if not (self.max_multiplier > 0 and math.isfinite(self.max_multiplier)):
            raise ValueError(
                f"max_multiplier must be positive and finite, got {self.max_multiplier}"
            )
        if self.num_points is not None and (self.num_points < 1 or self.multiplier == "scalar"):
            raise ValueError(
                f"num_points={self.num_points} needs a positive size and a pointwise multiplier "
                f"(got multiplier={self.multiplier!r})"
            )
        if self.formulation is not None:
            resolve_formulation(self.formulation)
        resolve_penalty(self.penalty)
        if not all(hasattr(self.dual, a) for a in ("lr", "init_state", "step")):
            raise ValueError(
                f"dual must be a dual update rule (GradientAscent, NuPI), got {self.dual!r}"
            )


@dataclass
class _Slot:
    """Mutable per-constraint state owned by :class:`Duals`."""

    spec: Constraint
    formulation: Formulation
    updater: PenaltyUpdater
    rho: float
    penalty_state: dict[str, float]
    lam: Tensor | None = None
    dual_state: dict[str, Tensor] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    violation: float = math.nan


class Duals:
    """Multipliers, penalty coefficients and their updates for named constraints.

    Args:
        constraints: constraint name → :class:`Constraint` (or just its kind, ``"eq"``/``"ineq"``).
            The names are the keys of :meth:`step`'s dict and of the checkpoint.
        formulation: default formulation for constraints that do not name one.
        process_group: group over which constraint values are averaged under ``torch.distributed``
            (``None``: the default group).
    """

    def __init__(
        self,
        constraints: Mapping[str, Constraint | Kind],
        *,
        formulation: str | Formulation = "alm",
        process_group: Any = None,
    ) -> None:
        default = resolve_formulation(formulation)
        if not isinstance(constraints, Mapping) or not constraints:
            raise ValueError(
                f"constraints must be a non-empty mapping name -> Constraint, got {constraints!r}"
            )
        self._slots: dict[str, _Slot] = {}
        for name, spec in constraints.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"constraint names must be non-empty strings, got {name!r}")
            if isinstance(spec, str):
                spec = Constraint(kind=spec)  # type: ignore[arg-type]
            if not isinstance(spec, Constraint):
                raise ValueError(
                    f"constraint {name!r}: expected a Constraint or 'eq'/'ineq', got {spec!r}"
                )
            form = default if spec.formulation is None else resolve_formulation(spec.formulation)
            updater = resolve_penalty(spec.penalty)
            self._slots[name] = _Slot(spec, form, updater, updater.init, updater.init_state())
        self._group = process_group
        self._steps = 0

    # ------------------------------------------------------------------ the step
    def step(self, loss: Tensor, values: Mapping[str, Tensor | Indexed]) -> Tensor:
        """Return the primal loss ``loss + Σ terms`` and update multipliers and penalties.

        The same as :meth:`lagrangian` followed by :meth:`update` on the same values (one forward
        pass serves both; see the module docstring for the order).

        Args:
            loss: the objective, a one-element tensor.
            values: constraint name → values (``h`` or ``g``; any shape, differentiable w.r.t. the
                model) or :class:`Indexed`. Declared constraints missing from the dict are not
                observed this step (their state does not change).

        Raises:
            ValueError: unknown name, non-finite values, a shape different from the first step's,
                values that do not fit the multiplier layout, bad indices.
        """
        prepared = self._prepare(values)
        total = self._total(loss, prepared)
        self._update_all(prepared)
        return total

    def lagrangian(self, loss: Tensor, values: Mapping[str, Tensor | Indexed]) -> Tensor:
        """``loss + Σ terms`` with the current multipliers and penalties, *without* updating them.

        For optimizers that evaluate the loss several times per step (quasi-Newton line searches):
        call :meth:`update` once per step and :meth:`lagrangian` in the closure, so that every
        evaluation inside one step sees the same function of the model. Multipliers of a
        constraint seen for the first time start at 0. Raises like :meth:`step`.
        """
        return self._total(loss, self._prepare(values))

    def update(self, values: Mapping[str, Tensor | Indexed]) -> None:
        """One dual update (multipliers, then penalties) from these constraint values.

        Only the detached values are used. Under ``torch.distributed`` they are rank-averaged first.
        Raises like :meth:`step`.
        """
        self._update_all(self._prepare(values))

    def _prepare(
        self, values: Mapping[str, Tensor | Indexed]
    ) -> dict[str, tuple[Tensor, Tensor | None]]:
        """Validate names and layouts; create zero multipliers on first sight."""
        unknown = [k for k in values if k not in self._slots]
        if unknown:
            raise ValueError(
                f"unknown constraint name(s) {unknown}; declared: {sorted(self._slots)}"
            )
        out = {}
        for name, raw in values.items():
            slot = self._slots[name]
            c, index = (raw.values, raw.index) if isinstance(raw, Indexed) else (raw, None)
            if not isinstance(c, Tensor):
                raise ValueError(
                    f"constraint {name!r}: values must be a tensor, got {type(c).__name__}"
                )
            c, index = self._check_layout(name, slot, c, index)
            if slot.lam is None:
                lam = torch.zeros(slot.shape, dtype=c.dtype, device=c.device)  # type: ignore[arg-type]
                slot.lam, slot.dual_state = lam, slot.spec.dual.init_state(lam)
            out[name] = (c, index)
        return out

    def _total(self, loss: Tensor, prepared: Mapping[str, tuple[Tensor, Tensor | None]]) -> Tensor:
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(
                f"loss must be a one-element tensor, got {type(loss).__name__} "
                f"{getattr(loss, 'shape', '')}"
            )
        total = loss.reshape(())
        for name, (c, index) in prepared.items():
            slot = self._slots[name]
            # The primal term uses the multipliers held now; λ is never part of the graph.
            lam = slot.lam if index is None else slot.lam[index]  # type: ignore[index]
            term = slot.formulation.primal(slot.spec.kind, c, lam.detach(), slot.rho)  # type: ignore[union-attr]
            total = total + (term.sum() if slot.spec.reduction == "sum" else term.mean())
        return total

    def _update_all(self, prepared: Mapping[str, tuple[Tensor, Tensor | None]]) -> None:
        for name, (c, index) in prepared.items():
            self._update_one(name, self._slots[name], c, index)
        self._steps += 1

    def _update_one(self, name: str, slot: _Slot, c: Tensor, index: Tensor | None) -> None:
        spec, form = slot.spec, slot.formulation
        lam, rho = slot.lam, slot.rho
        assert lam is not None  # created by _prepare

        # Multipliers from the (rank-averaged) detached values.
        cd, mask = self._reduced(c.detach(), index, slot)
        if not bool(torch.isfinite(cd).all()):
            raise ValueError(
                f"constraint {name!r} has non-finite values: {c.detach().flatten()[:8]}"
            )
        if form.uses_multiplier:
            e = form.dual_error(spec.kind, cd, lam, rho)
            if mask is not None:
                e = torch.where(mask, e, torch.zeros_like(e))
            eta = rho if spec.dual.lr is None else spec.dual.lr
            new, slot.dual_state = spec.dual.step(lam, e, eta, slot.dual_state, mask)
        else:  # penalty: keep the first-order estimate ρ·max-violation for reporting
            new = rho * form.violation(spec.kind, cd, lam, rho)
            new = new if mask is None else torch.where(mask, new, lam)
        slot.lam = project(new, spec.kind, spec.max_multiplier)

        # Penalty from the violation measure of these values.
        v = form.violation(spec.kind, cd, lam, rho)
        if mask is not None:
            v, cd = v[mask], cd[mask]
        slot.rho, slot.penalty_state = slot.updater.update(rho, v, slot.penalty_state)
        slot.rho = min(max(slot.rho, 1e-8), slot.updater.rho_max)
        plain = cd.abs() if spec.kind == "eq" else torch.clamp(cd, min=0.0)
        slot.violation = float(plain.max()) if plain.numel() else math.nan

    def _check_layout(
        self, name: str, slot: _Slot, c: Tensor, index: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        spec = slot.spec
        layout = spec.multiplier
        if index is not None:
            if layout == "scalar" or spec.num_points is None:
                raise ValueError(
                    f"constraint {name!r}: Indexed values need Constraint(multiplier='pointwise', "
                    f"num_points=N), got multiplier={layout!r}, num_points={spec.num_points}"
                )
            if index.dtype not in (torch.int64, torch.int32) or index.dim() != 1:
                raise ValueError(
                    f"constraint {name!r}: index must be a 1-D integer tensor, got "
                    f"{index.dtype} of shape {tuple(index.shape)}"
                )
            if c.numel() != index.numel():
                raise ValueError(
                    f"constraint {name!r}: {c.numel()} values for {index.numel()} indices"
                )
            if index.numel() and (int(index.min()) < 0 or int(index.max()) >= spec.num_points):
                raise ValueError(
                    f"constraint {name!r}: indices must lie in [0, {spec.num_points}), got "
                    f"[{int(index.min())}, {int(index.max())}]"
                )
            slot.shape = (spec.num_points,)
            return c.reshape(-1), index.to(device=c.device, dtype=torch.int64)
        if layout == "auto":
            layout = "scalar" if c.numel() == 1 else "pointwise"
        if layout == "scalar":
            if c.numel() != 1:
                raise ValueError(
                    f"constraint {name!r} has a scalar multiplier but values of shape "
                    f"{tuple(c.shape)}; reduce them (e.g. h.square().mean()) or use "
                    f"multiplier='pointwise'"
                )
            c = c.reshape(())
        elif spec.num_points is not None:
            if c.numel() != spec.num_points:
                raise ValueError(
                    f"constraint {name!r}: num_points={spec.num_points} but got values of shape "
                    f"{tuple(c.shape)}; pass Indexed(values, index) for a sampled subset"
                )
            c = c.reshape(-1)
        shape = tuple(c.shape)
        if slot.shape is None:
            slot.shape = shape
        elif slot.shape != shape:
            raise ValueError(
                f"constraint {name!r} changed shape: multipliers have shape {slot.shape}, got values "
                f"of shape {shape}; pass Indexed(values, index) for a sampled subset"
            )
        return c, None

    def _reduced(
        self, cd: Tensor, index: Tensor | None, slot: _Slot
    ) -> tuple[Tensor, Tensor | None]:
        """Rank-averaged detached values (dense over the fixed set plus a mask when indexed)."""
        world = (
            dist.get_world_size(self._group) if dist.is_available() and dist.is_initialized() else 1
        )
        if index is None:
            if world > 1:
                cd = cd.clone()
                dist.all_reduce(cd, op=dist.ReduceOp.SUM, group=self._group)
                cd = cd / world
            return cd, None
        n = slot.shape[0]  # type: ignore[index]
        summed = torch.zeros(n, dtype=cd.dtype, device=cd.device).index_add_(0, index, cd)
        count = torch.zeros(n, dtype=cd.dtype, device=cd.device).index_add_(
            0, index, torch.ones_like(cd)
        )
        if world > 1:
            both = torch.stack([summed, count])
            dist.all_reduce(both, op=dist.ReduceOp.SUM, group=self._group)
            summed, count = both[0], both[1]
        mask = count > 0
        return summed / torch.clamp(count, min=1.0), mask

    # ------------------------------------------------------------------ inspection
    @property
    def names(self) -> tuple[str, ...]:
        """Declared constraint names, in declaration order."""
        return tuple(self._slots)

    @property
    def multipliers(self) -> dict[str, Tensor | None]:
        """Current multipliers (copies; ``None`` before a constraint's first step)."""
        return {k: None if s.lam is None else s.lam.clone() for k, s in self._slots.items()}

    @property
    def penalties(self) -> dict[str, float]:
        """Current penalty coefficients ``ρ``."""
        return {k: s.rho for k, s in self._slots.items()}

    def stats(self) -> dict[str, dict[str, float]]:
        """Plain floats per constraint, for history and plots.

        Keys: ``multiplier`` (the value, or the mean for pointwise multipliers), ``multiplier_max``
        (max ``|λ|``), ``penalty`` (``ρ``) and ``violation`` (last step's ``max |h|`` or
        ``max(0, g)``; NaN before the first step).
        """
        out: dict[str, dict[str, float]] = {}
        for k, s in self._slots.items():
            lam = s.lam
            mean = 0.0 if lam is None or lam.numel() == 0 else float(lam.mean())
            top = 0.0 if lam is None or lam.numel() == 0 else float(lam.abs().max())
            out[k] = {
                "multiplier": mean,
                "multiplier_max": top,
                "penalty": s.rho,
                "violation": s.violation,
            }
        return out

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit-exactly, keyed by constraint name."""
        return {
            "version": _STATE_VERSION,
            "steps": self._steps,
            "constraints": {
                k: {
                    "kind": s.spec.kind,
                    "formulation": s.formulation.name,
                    "multiplier": None if s.lam is None else s.lam.clone(),
                    "shape": s.shape,
                    "penalty": s.rho,
                    "penalty_state": dict(s.penalty_state),
                    "dual_state": {n: t.clone() for n, t in s.dual_state.items()},
                    "violation": s.violation,
                }
                for k, s in self._slots.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the declared names, kinds and formulations must match."""
        saved = state.get("constraints") if isinstance(state, Mapping) else None
        if not isinstance(saved, Mapping):
            raise ValueError(
                f"not a Duals state dict: keys {list(state) if isinstance(state, Mapping) else state!r}"
            )
        if set(saved) != set(self._slots):
            raise ValueError(
                f"state dict has constraints {sorted(saved)}, these Duals declare {sorted(self._slots)}"
            )
        for k, s in self._slots.items():
            d = saved[k]
            if d["kind"] != s.spec.kind or d["formulation"] != s.formulation.name:
                raise ValueError(
                    f"constraint {k!r}: state dict has kind={d['kind']!r}, formulation="
                    f"{d['formulation']!r}; declared kind={s.spec.kind!r}, formulation={s.formulation.name!r}"
                )
        for k, s in self._slots.items():
            d = saved[k]
            s.lam = None if d["multiplier"] is None else d["multiplier"].clone()
            s.shape = None if d["shape"] is None else tuple(d["shape"])
            s.rho = float(d["penalty"])
            s.penalty_state = dict(d["penalty_state"])
            s.dual_state = {n: t.clone() for n, t in d["dual_state"].items()}
            s.violation = float(d["violation"])
        self._steps = int(state.get("steps", 0))

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}: {s.spec.kind}/{s.formulation.name}/ρ={s.rho:g}" for k, s in self._slots.items()
        )
        return f"Duals({parts})"
