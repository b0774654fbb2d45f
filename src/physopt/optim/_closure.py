"""Closure optimizers: the shared base of the quasi-Newton family, ENGD and GNSNewton.

These optimizers evaluate the objective themselves (``step(closure)``), cache the evaluation at the
current point in their state and report why they stopped. :class:`ClosureOptimizer` owns that
scaffold once — flat parameter views, the cached loss/gradient, the evaluation counters, the
status, :meth:`~ClosureOptimizer.invalidate` and a deep-copying ``state_dict`` — so that a training
loop can ask ``isinstance(opt, ClosureOptimizer)`` instead of probing for methods, and
``opt.status.finished`` instead of matching status strings.

The flat-vector views (:func:`flat_params`, ...) let these dense methods work on one vector
x ∈ R^n instead of tensors. Unlike ``torch.nn.utils.vector_to_parameters`` (which rebinds ``.data``
to slices of the vector), :func:`set_flat_params` copies into the existing tensors, so the vector
can be reused afterwards.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "STATUSES",
    "ClosureOptimizer",
    "OptimizerStatus",
    "check_counts",
    "check_max_eval",
    "check_step_length",
    "flat_grad",
    "flat_params",
    "set_flat_grad",
    "set_flat_params",
]


class OptimizerStatus(enum.StrEnum):
    """Why a closure optimizer stopped (or that it did not).

    A ``str`` enum: ``str(status)`` and ``status.value`` are the words used in messages and reports
    since before the enum existed, so ``status == "running"`` still holds for ``RUNNING``.

    - ``RUNNING``: ``step`` will iterate.
    - ``CONVERGED``: ``max|grad f| <= tolerance_grad`` (ENGD also: ``f == 0``).
    - ``NO_PROGRESS``: the loss is not finite, or no acceptable step was found.
    - ``MAX_EVALUATIONS``: the lifetime budget ``max_eval`` of closure evaluations is used up.

    Once not ``RUNNING`` (:attr:`finished`), ``step`` returns the cached loss without evaluating;
    :meth:`ClosureOptimizer.invalidate` sets the status back to ``RUNNING``. Checkpoints store
    :attr:`code`, the member's index (see :data:`STATUSES`).
    """

    RUNNING = "running"
    CONVERGED = "converged: gradient tolerance"
    NO_PROGRESS = "no progress"
    MAX_EVALUATIONS = "max evaluations"

    @property
    def finished(self) -> bool:
        """True for every status but ``RUNNING``: further steps do nothing until ``invalidate()``."""
        return self is not OptimizerStatus.RUNNING

    @property
    def code(self) -> int:
        """The integer stored in ``state_dict()["state"][...]["status_code"]``."""
        return STATUSES.index(self)

    @classmethod
    def from_code(cls, code: int) -> OptimizerStatus:
        """The status stored as ``code`` (an index into :data:`STATUSES`)."""
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < len(STATUSES):
            raise ValueError(f"status code must be an int in [0, {len(STATUSES)}), got {code!r}")
        return STATUSES[code]


#: The statuses in the order of their checkpoint codes (``STATUSES.index(status)``).
STATUSES: tuple[OptimizerStatus, ...] = tuple(OptimizerStatus)


def check_step_length(name: str, value: float) -> None:
    """Reject a step length (``lr``) that is not a finite number > 0."""
    if not 0.0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_counts(**counts: int) -> None:
    """Reject counts (iterations, grid sizes) that are not ints >= 1."""
    for name, value in counts.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def check_max_eval(max_eval: int | None) -> None:
    """Reject an evaluation budget below 1 (``None`` is unlimited)."""
    if max_eval is not None and max_eval < 1:
        raise ValueError(f"max_eval must be >= 1 or None, got {max_eval!r}")


def flat_params(params: Sequence[Tensor]) -> Tensor:
    """The parameters concatenated into one new vector (detached)."""
    return torch.cat([p.detach().reshape(-1) for p in params])


def flat_grad(params: Sequence[Tensor]) -> Tensor:
    """The gradients concatenated into one new vector; a missing gradient counts as zero."""
    return torch.cat([
        torch.zeros(p.numel(), dtype=p.dtype, device=p.device) if p.grad is None else p.grad.detach().reshape(-1)
        for p in params
    ])


def set_flat_params(params: Sequence[Tensor], x: Tensor) -> None:
    """Copy consecutive slices of ``x`` into the parameters, in place."""
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(x[offset : offset + n].view_as(p))
            offset += n


def set_flat_grad(params: Sequence[Tensor], g: Tensor) -> None:
    """Copy consecutive slices of ``g`` into the parameters' gradients (created where missing)."""
    offset = 0
    for p in params:
        n = p.numel()
        if p.grad is None:
            p.grad = g[offset : offset + n].view_as(p).clone()
        else:
            p.grad.copy_(g[offset : offset + n].view_as(p))
        offset += n


class ClosureOptimizer(Optimizer):
    """Base of the optimizers that evaluate a closure themselves and cache the current evaluation.

    Contract for users: ``step(closure)`` is required (``closure()`` re-evaluates the objective at
    the current parameters; what it returns is the subclass's contract) and returns the loss at the
    current iterate as a detached 0-d tensor; :attr:`status` says whether further steps will do
    anything; after the *objective* changes (resampled points, new multipliers) call
    :meth:`invalidate`, or the next step reuses a stale cached evaluation; ``state_dict()`` is a
    deep copy, and a fresh optimizer loading it continues on a bit-identical trajectory.

    What this class provides: one parameter group (checked), its parameter list ``_params`` and
    size ``_numel``; the per-optimizer state dict ``_st`` (kept under the first parameter, so that
    ``Optimizer.state_dict`` saves it); the counters :attr:`n_iter`, :attr:`n_evals`; the status,
    stored as the int ``status_code`` (``Optimizer.load_state_dict`` would rebuild a string
    element-wise); flat views ``_flat``/``_set_flat``/``_flat_grad``/``_set_flat_grad``;
    ``_evaluate`` for the ``torch.optim.LBFGS`` closure contract (zero_grad, loss, backward,
    return the loss); ``_evaluated_point``, which reuses the cached ``(x, f, g)`` while the
    parameters are bit-identical to ``x`` and evaluates otherwise; ``_iterations``, the loop over
    ``max_iter`` iterations that stops on ``_stop_reason`` (the checks before an iteration); and
    ``_out_of_budget``.

    What a subclass must implement: ``step(closure)`` (decorate it with ``torch.no_grad()``; start
    with ``self._start(closure)``). It may override ``_evaluate`` (ENGD's closure returns a
    residual vector), set ``_cached_keys`` (the state entries :meth:`invalidate` drops: the cached
    evaluation and anything derived from it) and extend :meth:`invalidate` /
    :meth:`load_state_dict` for caches kept outside the state. The group's defaults must contain
    ``max_eval`` (``None`` = unlimited) and ``tolerance_grad``.
    """

    #: State entries that belong to the cached evaluation: dropped by :meth:`invalidate` and
    #: whenever the parameters were moved from outside.
    _cached_keys: ClassVar[tuple[str, ...]] = ("x", "f", "g")
    #: Completes the message when ``step`` is called without a closure.
    _closure_contract: ClassVar[str] = ""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__} supports a single parameter group")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._numel = sum(p.numel() for p in self._params)

    # ---- state ----------------------------------------------------------------------
    @property
    def _st(self) -> dict:
        return self.state[self._params[0]]

    @property
    def status(self) -> OptimizerStatus:
        """Why the optimizer stopped, or ``OptimizerStatus.RUNNING``."""
        return OptimizerStatus.from_code(self._st.get("status_code", 0))

    def _set_status(self, status: OptimizerStatus) -> None:
        self._st["status_code"] = status.code

    def _stop(self, status: OptimizerStatus) -> Tensor:
        """Set ``status`` and return the cached loss (what ``step`` returns when it stops)."""
        self._set_status(status)
        return self._st["f"].clone()

    @property
    def n_iter(self) -> int:
        """Iterations taken (accepted or rejected steps)."""
        return self._st.get("n_iter", 0)

    @property
    def n_evals(self) -> int:
        """Closure evaluations made so far."""
        return self._st.get("n_evals", 0)

    def invalidate(self) -> None:
        """Forget the cached evaluation (call after changing the objective, e.g. resampling
        collocation points) and set the status back to ``RUNNING``. Curvature is kept."""
        st = self._st
        for key in self._cached_keys:
            st.pop(key, None)
        self._set_status(OptimizerStatus.RUNNING)

    def state_dict(self) -> dict:
        """Deep copy of the optimizer state (safe to keep while optimization continues)."""
        return copy.deepcopy(super().state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a (deep-copied) state dict; continuing gives a bit-identical trajectory."""
        super().load_state_dict(copy.deepcopy(state_dict))

    # ---- flat views ----------------------------------------------------------------
    def _flat(self) -> Tensor:
        return flat_params(self._params)

    def _set_flat(self, x: Tensor) -> None:
        set_flat_params(self._params, x)

    def _flat_grad(self) -> Tensor:
        return flat_grad(self._params)

    def _set_flat_grad(self, g: Tensor) -> None:
        set_flat_grad(self._params, g)

    # ---- evaluation -----------------------------------------------------------------
    def _start(self, closure: Callable[[], Tensor] | None, *counters: str) -> None:
        """Refuse a missing closure and create the counters (``n_iter``, ``n_evals``, status)."""
        if closure is None:
            raise RuntimeError(f"{type(self).__name__} requires a closure{self._closure_contract}")
        for key in ("n_iter", "n_evals", "status_code", *counters):
            self._st.setdefault(key, 0)

    def _evaluate(self, closure: Callable[[], Tensor]) -> tuple[float, Tensor]:
        """``(f, flat gradient)`` from a closure that calls ``backward`` and returns the loss."""
        with torch.enable_grad():
            loss = closure()
        self._st["n_evals"] = self._st.get("n_evals", 0) + 1
        return float(loss.detach()), self._flat_grad()

    def _evaluated_point(self, closure: Callable[[], Tensor]) -> None:
        """Make ``_st["x"], ["f"], ["g"]`` the evaluation at the current parameters.

        The cache is reused while the parameters equal ``x`` bit for bit; otherwise (first step,
        parameters moved from outside, :meth:`invalidate`) everything in ``_cached_keys`` is
        dropped and the closure is evaluated once.
        """
        st = self._st
        x = self._flat()
        if "x" in st and st["x"].shape == x.shape and torch.equal(st["x"], x):
            return
        for key in self._cached_keys:
            st.pop(key, None)
        f, g = self._evaluate(closure)
        st["x"], st["f"], st["g"] = x.clone(), torch.tensor(f, dtype=x.dtype, device=x.device), g

    def _iterations(self, closure: Callable[[], Tensor]) -> Iterator[tuple[Tensor, float, Tensor]]:
        """``(x, f, g)`` at the start of each of up to ``max_iter`` iterations.

        Evaluates (or reuses) the current point first; yields nothing once the status is
        finished, and stops, setting the status, when :meth:`_stop_reason` gives one. The caller's
        loop body moves ``_st["x"], ["f"], ["g"]`` to the next iterate (or breaks).
        """
        self._evaluated_point(closure)
        if self.status.finished:
            return
        st = self._st
        for _ in range(self.param_groups[0]["max_iter"]):
            x, f, g = st["x"], float(st["f"]), st["g"]
            reason = self._stop_reason(f, g)
            if reason is not None:
                self._set_status(reason)
                return
            yield x, f, g

    def _out_of_budget(self) -> bool:
        max_eval = self.param_groups[0]["max_eval"]
        return max_eval is not None and self._st["n_evals"] >= max_eval

    def _stop_reason(self, f: float, g: Tensor) -> OptimizerStatus | None:
        """The status to stop with before an iteration from ``(f, g)``, or None to iterate.

        In this order: a non-finite loss (no progress), the gradient tolerance (converged), the
        evaluation budget (max evaluations).
        """
        if not math.isfinite(f):
            return OptimizerStatus.NO_PROGRESS
        if float(g.abs().max()) <= self.param_groups[0]["tolerance_grad"]:
            return OptimizerStatus.CONVERGED
        if self._out_of_budget():
            return OptimizerStatus.MAX_EVALUATIONS
        return None
