"""The one training loop: batch → loss terms → optimizer step, in phases, resumable.

The loop consumes a :class:`~physopt.training.BatchSource` and a :class:`~physopt.training.Loss`
(protocols in ``_protocols.py``), so collocation PINNs and, later, dataset-trained operators share
it. Host synchronisation is kept off the per-step path: loss terms stay tensors until a step is
logged, and non-finite values are watched on the device (:class:`_NonFiniteWatch`) and checked
every ``log_every`` steps (and before any checkpoint), naming the first bad step and loss term.

Under ``torchrun`` (a :class:`~physopt.runtime.Runtime` with ``world_size > 1``) every closure
evaluation ends with one all-reduce of ``[loss, loss terms, gradients]`` divided by the world size:
each rank's loss is a mean over its equal share of the points, so the average is the global loss and
gradient. Closure optimizers (SSBroyden, SSBFGS, L-BFGS line searches, GNSNewton) therefore see the
global values and every rank takes the same accept/reject decisions; the ranks stay bit-identical
because they all apply the same reduced numbers. Whether to stop (time budget, Ctrl-C) is decided
from the maximum over the ranks of the time spent and the stop request (one tiny all-reduce per
step), so all ranks stop at the same step. No DDP wrapper: DDP's gradient hooks assume one
backward per step, and a line search evaluates several times.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import torch

from .. import optim as optim_registry
from ..optim import BlockedResiduals, ClosureOptimizer
from ..runtime import Runtime
from ._params import Parameters
from ._phase import Phase, PhaseSwitch, SwitchReason, on_plateau
from ._protocols import Batch, BatchSource, Loss

__all__ = ["BUDGET_CLOCKS", "Callback", "FitResult", "RunStatus", "Trainer"]

# What ``time_budget`` counts: wall-clock seconds, or CPU seconds of this process (all threads).
# The CPU clock keeps budgets fair when other jobs share the cores (a benchmark grid run with
# ``--jobs`` beside other work); with one torch thread it is the run's own compute time.
BUDGET_CLOCKS = ("wall", "cpu")




class RunStatus(StrEnum):
    """How a run ended (a string enum: it compares and serialises as its value)."""

    COMPLETED = "completed"
    TIME_BUDGET = "time budget"
    CONVERGED = "converged"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class FitResult:
    """What a run produced. ``status`` is a :class:`RunStatus` (``completed``, ``time budget``,
    ``converged``, ``diverged``, ``interrupted``); ``message`` says why in words. Times are seconds of training
    (evaluations included), summed over resumes: wall clock and process CPU time. ``switches`` lists
    every phase change (:class:`PhaseSwitch`) in order."""

    status: RunStatus
    message: str
    steps: int
    wall_time_s: float
    history: list[dict[str, Any]]
    final: dict[str, Any]
    cpu_time_s: float = 0.0
    switches: list[PhaseSwitch] = field(default_factory=list)


class Callback(Protocol):
    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None: ...
    def on_step(self, trainer: Trainer) -> None: ...
    def on_end(self, trainer: Trainer, result: FitResult) -> None: ...


class DivergedError(RuntimeError):
    """Non-finite values; ``step`` is the first step known to be bad (the message says how exactly)."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class _NonFiniteWatch:
    """The first step whose loss or a loss term was non-finite, tracked on the device.

    :meth:`observe` costs a few device operations and no host synchronisation; :meth:`check`
    synchronises once and raises :class:`DivergedError` naming that step and its bad terms (or a
    non-finite parameter). ``ok_at`` is the last step a check passed, so callbacks that persist
    state (checkpoints) can ask :meth:`finite` without a second synchronisation.
    """

    def __init__(self) -> None:
        self._first: torch.Tensor | None = None
        self._flags: torch.Tensor | None = None
        self._names: tuple[str, ...] = ()
        self.ok_at = -1

    def observe(self, step: int, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        names = ("loss", *terms)
        if names != self._names and self._first is not None:
            self._raise_if_bad(step)  # the set of terms changed (a new phase): settle the old one first
            self._first = None
        values = torch.stack([loss.detach().reshape(()), *(t.detach().reshape(()) for t in terms.values())])
        flags = ~torch.isfinite(values)
        if self._first is None:
            self._first = torch.full((), -1, dtype=torch.long, device=values.device)
            self._flags, self._names = torch.zeros_like(flags), names
        new = flags.any() & (self._first < 0)
        self._first = torch.where(new, torch.full_like(self._first, step), self._first)
        self._flags = torch.where(new, flags, self._flags)

    def _raise_if_bad(self, step: int) -> None:
        if self._first is None:
            return
        first = int(self._first)  # the one host synchronisation of a check
        if first >= 0:
            assert self._flags is not None
            bad = [n for n, f in zip(self._names, self._flags.tolist(), strict=True) if f and n != "loss"] or ["loss"]
            late = "" if step == first + 1 else f" (found at the check after step {step})"
            terms = ", ".join(repr(b) for b in bad)
            raise DivergedError(f"non-finite values at step {first} in loss term(s) {terms}{late}", first)

    def check(self, step: int, model: torch.nn.Module) -> None:
        """Raise :class:`DivergedError` if any step up to ``step`` was non-finite."""
        if self.ok_at == step:
            return
        self._raise_if_bad(step)
        for name, p in model.named_parameters():
            if not torch.isfinite(p).all():  # finite at the previous passing check, so bad since then
                since = max(self.ok_at, 0)
                raise DivergedError(f"non-finite values in parameter {name!r} between steps {since} and {step} "
                                    "(the loss terms were finite)", since)
        self.ok_at = step

    def finite(self, step: int, model: torch.nn.Module) -> bool:
        try:
            self.check(step, model)
        except DivergedError:
            return False
        return True


OptimizerFactory = Callable[[Phase, Sequence[torch.nn.Parameter]], torch.optim.Optimizer]
Evaluator = Callable[[torch.nn.Module], dict[str, float]]


class _ResidualClosure(BlockedResiduals):
    """The closure of least-squares optimizers (``needs_residuals``): returns the objective's
    weighted residual vector ``r`` (loss ``‖r‖²``) and records terms and loss like the loss
    closure; ``blocks`` lets the optimizer build the Jacobian from small per-point graphs."""

    def __init__(self, objective: Loss, model: torch.nn.Module, batch: Batch, params: Mapping[str, torch.Tensor],
                 seen: dict[str, Any], average: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> None:
        self.objective, self.model, self.batch, self.params, self.seen = objective, model, batch, params, seen
        self.average = average  # the recorded terms over the ranks (ENGD itself combines r and J)

    def __call__(self) -> torch.Tensor:
        r, terms = self.objective.residual_vector(self.model, self.batch, self.params)
        terms = self.average(terms)
        self.seen["terms"], self.seen["loss"] = terms, self.objective.loss(terms, {})
        return r

    def blocks(self, max_points: int) -> list[Callable[[], torch.Tensor]]:
        return self.objective.residual_blocks(self.model, self.batch, self.params, max_points)


class Trainer:
    """Holds everything that changes during training and runs the loop.

    ``state_dict()`` captures model, trainable scalars, current optimizer, sampler (RNG and
    points), step, phase and history, so ``load_state_dict`` followed by :meth:`run` continues
    exactly where the saved run stood. ``time_budget`` counts seconds on ``budget_clock``
    (:data:`BUDGET_CLOCKS`); both clocks are recorded in the history (``wall_time_s``,
    ``cpu_time_s``). ``runtime`` gives the rank and world size (see the module docstring).
    """

    def __init__(
        self,
        *,
        model: torch.nn.Module,
        objective: Loss,
        sampler: BatchSource,
        phases: Sequence[Phase],
        make_optimizer: OptimizerFactory,
        params: Mapping[str, torch.Tensor],
        steps: int,
        time_budget: float | None = None,
        budget_clock: str = "wall",
        evaluator: Evaluator | None = None,
        eval_every: int = 500,
        log_every: int = 100,
        callbacks: Sequence[Callback] = (),
        runtime: Runtime | None = None,
    ) -> None:
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative int, got {steps!r}")
        if time_budget is not None and not time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds, got {time_budget!r}")
        if budget_clock not in BUDGET_CLOCKS:
            raise ValueError(f"budget_clock must be one of {', '.join(BUDGET_CLOCKS)}, got {budget_clock!r}")
        if not phases:
            raise ValueError("at least one optimizer phase is needed")
        self.model, self.objective, self.sampler = model, objective, sampler
        self.phases = list(phases)
        self.make_optimizer = make_optimizer
        # Constants and unknowns passed to residuals; the unknowns' raw parameters are trained.
        self.params = Parameters.wrap(params)
        self.trainable = [*self.params.raw().values(), *self.params.field_parameters()]
        self.steps, self.time_budget, self.budget_clock = steps, time_budget, budget_clock
        self.evaluator, self.eval_every, self.log_every = evaluator, eval_every, log_every
        self.callbacks = list(callbacks)
        self.runtime = runtime if runtime is not None else Runtime()
        self.step = 0
        self.phase_index = 0
        self.phase_start = 0
        self.switches: list[PhaseSwitch] = []
        self.elapsed = 0.0  # wall-clock seconds of training (perf_counter), summed over resumes
        self.cpu_elapsed = 0.0  # process CPU seconds of training (process_time, all threads)
        self.history: list[dict[str, Any]] = []
        self.last_metrics: dict[str, float] = {}
        self.optimizer = self._new_optimizer()
        self._stop_requested = False
        self._watch = _NonFiniteWatch()

    # ------------------------------------------------------------------ state
    def _new_optimizer(self) -> torch.optim.Optimizer:
        """The phase's optimizer; unknowns with their own ``lr`` get their own param group.

        Optimizers that evaluate a closure (quasi-Newton, ENGD) search one step for all
        parameters, so there every unknown joins the one group.
        """
        phase = self.phases[self.phase_index]
        shared, own = self.params.groups()
        try:
            spec = optim_registry.spec(phase.optimizer)
        except ValueError:  # a custom factory: one group, as it was given
            spec = None
        if spec is None or spec.needs_closure or spec.needs_residuals:
            return self.make_optimizer(phase, [*self.model.parameters(), *self.trainable])
        optimizer = self.make_optimizer(phase, [*self.model.parameters(), *shared])
        for lr, raws in own.items():
            # Matrix optimizers send non-matrix tensors to their AdamW algorithm (see optim.build).
            tag = {"algorithm": "adamw"} if spec.matrix else {}
            optimizer.add_param_group({"params": raws, "lr": lr, **tag})
        return optimizer

    @property
    def phase(self) -> Phase:
        return self.phases[self.phase_index]

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "phase_index": self.phase_index,
            "phase_start": self.phase_start,
            "switches": [{**dataclasses.asdict(w), "reason": str(w.reason)} for w in self.switches],
            "elapsed": self.elapsed,
            "cpu_elapsed": self.cpu_elapsed,
            "model": self.model.state_dict(),
            "params": {k: v.detach().clone() for k, v in self.params.raw().items()},
            "fields": {k: f.state_dict() for k, f in self.params.fields.items()},
            "optimizer": self.optimizer.state_dict(),
            "sampler": self.sampler.state_dict(),
            "objective": self.objective.state_dict(),
            "history": list(self.history),
            "last_metrics": dict(self.last_metrics),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.step = int(state["step"])
        self.phase_index = int(state["phase_index"])
        self.phase_start = int(state["phase_start"])
        # Absent in checkpoints written before switches were recorded.
        self.switches = [PhaseSwitch(**{**w, "reason": SwitchReason(w["reason"])}) for w in state.get("switches", [])]
        self.elapsed = float(state["elapsed"])
        self.cpu_elapsed = float(state.get("cpu_elapsed", 0.0))  # absent in checkpoints before budget_clock
        self.model.load_state_dict(state["model"])
        raw = self.params.raw()
        with torch.no_grad():
            for k, v in state["params"].items():
                if k in raw:  # checkpoints before Parameters also held the constants
                    raw[k].copy_(v)
        for k, f in self.params.fields.items():
            f.load_state_dict(state["fields"][k])
        self.optimizer = self._new_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.load_state_dict(state["sampler"])
        self.objective.load_state_dict(state["objective"])
        self.history = list(state["history"])
        self.last_metrics = dict(state["last_metrics"])

    # ------------------------------------------------------------------ loop
    def _advance_phase(self, reason: SwitchReason) -> bool:
        """Move to the next phase (recording why); False when there is none."""
        if self.phase_index + 1 >= len(self.phases):
            return False
        self.switches.append(PhaseSwitch(self.step, round(self.elapsed, 3), round(self.cpu_elapsed, 3),
                                         self.phase.optimizer, self.phases[self.phase_index + 1].optimizer, reason))
        self.phase_index += 1
        self.phase_start = self.step
        self.optimizer = self._new_optimizer()
        return True

    def _residual(self, name: str, points: Any) -> torch.Tensor:
        """Condition ``name``'s residual with the current model (the adaptive sampler's hook)."""
        return self.objective.residual(name, self.model, points, self.params)

    def finite(self) -> bool:
        """Whether every step so far had finite loss terms and parameters (one host sync; callbacks
        that persist state ask this first, so a checkpoint is never written from a diverged state)."""
        return self._watch.finite(self.step, self.model)

    def _one_step(self) -> dict[str, torch.Tensor]:
        self.sampler.adapt(self.step, self._residual)  # RAD/RAR: no-op unless due
        batch = self.sampler.batch(self.step)
        if self.objective.varies_per_step and isinstance(self.optimizer, ClosureOptimizer):
            self.optimizer.invalidate()  # causal weights change every step: cached loss/gradient are stale
        if self.sampler.drawn_at == self.step and isinstance(self.optimizer, ClosureOptimizer):
            # New points change the objective: quasi-Newton caches of loss/gradient are stale.
            self.optimizer.invalidate()
        if self.phase.sizes:
            batch = self.sampler.prefix(batch, self.phase.sizes)
        lr = self.phase.lr_at(self.step - self.phase_start)
        for group in self.optimizer.param_groups:
            group.setdefault("base_lr", group["lr"])
            group["lr"] = group["base_lr"] * lr / self.phase.lr
        seen: dict[str, Any] = {}
        # Constraint roles under an optimizer that evaluates the loss several times per step: the
        # step's one dual update runs at its first evaluation (the accepted point of the previous
        # step), then the multipliers stay fixed for the line search (see _closure_based).
        fixed = self.objective.has_duals and self._closure_based()
        if fixed and isinstance(self.optimizer, ClosureOptimizer):
            self.optimizer.invalidate()  # the multipliers change below: cached loss/gradient are stale
        pending = [fixed]

        def closure() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            terms, residuals = self.objective.terms(self.model, batch, self.params)
            if fixed:
                if pending[0]:
                    self.objective.update_duals(residuals)
                    pending[0] = False
                loss = self.objective.lagrangian(terms, residuals)
            else:
                loss = self.objective.loss(terms, residuals)
            # No finiteness test here (it would synchronise every step): a non-finite loss is
            # found by the watch at the next check, which stops the run before any checkpoint.
            loss.backward()
            loss, terms = self._average_over_ranks(loss, terms)
            seen["terms"], seen["loss"] = terms, loss
            return loss

        if self._needs_residuals():
            self.optimizer.step(_ResidualClosure(self.objective, self.model, batch, self.params, seen,
                                                 self._average_terms))
        else:
            self.optimizer.step(closure)
        if "loss" not in seen:
            # The quasi-Newton optimizers may stop without evaluating (the cached gradient of the
            # previous step meets tolerance_grad): evaluate once so the step still reports its terms.
            closure()
        self.objective.end_step()
        terms = {k: v.detach() for k, v in seen["terms"].items()}
        self._watch.observe(self.step, seen["loss"], terms)
        return {"loss": seen["loss"].detach(), **{f"loss/{k}": v for k, v in terms.items()}}

    def _average_over_ranks(self, loss: torch.Tensor, terms: dict[str, torch.Tensor]
                            ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss, terms and gradients averaged over the ranks (one all-reduce; see the module docstring)."""
        world = self.runtime.world_size
        if world == 1:
            return loss, terms
        params = [p for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]
        flat = torch.cat([loss.detach().reshape(1), *(t.detach().reshape(1) for t in terms.values()),
                          *(p.grad.reshape(-1) for p in params)])
        flat = self.runtime.sum_over_ranks(flat) / world
        k = 1 + len(terms)
        offset = k
        for p in params:
            p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
            offset += p.numel()
        return flat[0], dict(zip(terms, flat[1:k], strict=True))

    def _average_terms(self, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Detached loss terms averaged over the ranks (for the least-squares closure's records)."""
        world = self.runtime.world_size
        if world == 1 or not terms:
            return terms
        flat = self.runtime.sum_over_ranks(torch.stack([t.detach().reshape(()) for t in terms.values()])) / world
        return dict(zip(terms, flat, strict=True))

    def _needs_residuals(self) -> bool:
        """Whether the current optimizer's closure returns the residual vector (ENGD)."""
        try:
            return optim_registry.spec(self.phase.optimizer).needs_residuals
        except ValueError:  # not a registry name: a custom factory, which gets a loss closure
            return False

    def _closure_based(self) -> bool:
        """Whether the current optimizer may evaluate the closure several times in one step.

        With constraint roles such optimizers get the method of multipliers: at the first
        evaluation of step t (at x_t, the point the previous step accepted) the multipliers are
        updated once from the residuals there, λ_t = Π(λ_{t-1} + η h(x_t)); every evaluation of
        the step (line search) then uses the Lagrangian with λ_t fixed. This costs no extra
        evaluation: the quasi-Newton optimizers re-evaluate at x_t anyway because the objective
        changed. First-order optimizers (one evaluation per step) keep the simultaneous update of
        :meth:`physopt.constrained.Duals.step`: the step uses λ_t and λ_{t+1} comes from h(x_t).
        """
        try:
            return optim_registry.spec(self.phase.optimizer).needs_closure
        except ValueError:  # not a registry name: a custom factory
            return isinstance(self.optimizer, torch.optim.LBFGS | ClosureOptimizer)

    def _record(self, values: dict[str, torch.Tensor], *, evaluate: bool) -> None:
        # The host synchronisation of a logged step: tensors become floats here, not every step.
        floats = {k: float(v) for k, v in values.items()}
        stats = self.objective.stats() if values else {}
        record: dict[str, Any] = {"step": self.step, "optimizer": self.phase.optimizer, **floats, **stats}
        # The unknowns' trajectory (report plot): θ at every logged step.
        record.update({f"unknown/{k}": v for k, v in self.params.snapshot().items()})
        if evaluate and self.evaluator is not None:
            self.last_metrics = self.evaluator(self.model)
            record.update(self.last_metrics)
        record["wall_time_s"] = round(self.elapsed, 3)
        record["cpu_time_s"] = round(self.cpu_elapsed, 3)
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_record(self, record)

    def request_stop(self) -> None:
        """Ask the loop to stop after the current step (used by the Ctrl-C handler)."""
        self._stop_requested = True

    def _on_sigint(self, *_: object) -> None:
        # First Ctrl-C: finish the current step and checkpoint; a second one interrupts at once.
        if self._stop_requested:
            raise KeyboardInterrupt
        self._stop_requested = True

    def run(self) -> FitResult:
        """Train until ``steps``, the time budget, convergence, divergence or Ctrl-C."""
        restore = None
        if threading.current_thread() is threading.main_thread():
            restore = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            status, message = self._loop()
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
        final = {"loss": self.history[-1].get("loss") if self.history else None, **self.last_metrics}
        status = RunStatus(status)
        result = FitResult(status, message, self.step, self.elapsed, list(self.history), final, self.cpu_elapsed,
                           list(self.switches))
        for cb in self.callbacks:
            cb.on_end(self, result)
        return result

    def _loop(self) -> tuple[RunStatus, str]:
        try:
            return self._steps()
        except DivergedError as err:
            self.elapsed = time.perf_counter() - self._started
            self.cpu_elapsed = time.process_time() - self._cpu_started
            return RunStatus.DIVERGED, str(err)

    def _steps(self) -> tuple[RunStatus, str]:
        values: dict[str, torch.Tensor] = {}
        self._started = started = time.perf_counter() - self.elapsed
        self._cpu_started = cpu_started = time.process_time() - self.cpu_elapsed
        while self.step < self.steps:
            spent = self.cpu_elapsed if self.budget_clock == "cpu" else self.elapsed
            stop = self._stop_requested
            if self.runtime.world_size > 1:  # every rank must stop at the same step, or the rest wait forever
                both = torch.tensor([spent, float(stop)], dtype=torch.float64, device=self.runtime.device)
                spent, stop = (float(v) for v in self.runtime.max_over_ranks(both))
            if stop:
                self._watch.check(self.step, self.model)
                return RunStatus.INTERRUPTED, f"interrupted at step {self.step}; resume with `physopt resume`"
            if self.time_budget is not None and spent >= self.time_budget:
                self._watch.check(self.step, self.model)
                self._record(values, evaluate=True)
                unit = "CPU s" if self.budget_clock == "cpu" else "s"
                return RunStatus.TIME_BUDGET, f"time budget of {self.time_budget:g} {unit} reached at step {self.step}"
            if self.phase.steps is not None and self.step - self.phase_start >= self.phase.steps:
                self._advance_phase(SwitchReason.STEPS)
            elif (self.time_budget is not None and self.phase.budget_fraction > 0
                  and spent >= self.phase.budget_fraction * self.time_budget):
                self._advance_phase(SwitchReason.BUDGET_FRACTION)
            elif self.phase.plateau and self.history and self.history[-1]["step"] == self.step and on_plateau(
                    self.history, start=self.phase_start, step=self.step, window=self.phase.plateau,
                    drop=self.phase.plateau_drop):
                self._advance_phase(SwitchReason.PLATEAU)
            values = self._one_step()
            self.step += 1
            self.elapsed = time.perf_counter() - started
            self.cpu_elapsed = time.process_time() - cpu_started
            done = self.step == self.steps
            if self.step % self.log_every == 0 or self.step % self.eval_every == 0 or done:
                self._watch.check(self.step, self.model)
                self._record(values, evaluate=self.step % self.eval_every == 0 or done)
            # Decide about the phase before the callbacks run, so a checkpoint written now
            # already holds the next phase's optimizer and resumes into it.
            # Only closure optimizers finish on their own (OptimizerStatus); first-order ones run their steps.
            stopped = isinstance(self.optimizer, ClosureOptimizer) and self.optimizer.status.finished
            opt_status = str(self.optimizer.status) if stopped else ""
            finished = stopped and not self._advance_phase(SwitchReason.OPTIMIZER_STOPPED)
            if finished and not done:
                self._watch.check(self.step, self.model)
                self._record(values, evaluate=True)
            for cb in self.callbacks:
                cb.on_step(self)
            if finished:
                message = f"optimizer {self.phase.optimizer} stopped at step {self.step}: {opt_status}"
                return RunStatus.CONVERGED, message
        self._watch.check(self.step, self.model)
        return RunStatus.COMPLETED, f"completed {self.step} steps"
