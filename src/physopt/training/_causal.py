"""Causal weighting of the PDE residual for time-dependent problems.

Wang, Sankaran & Perdikaris, "Respecting causality is all you need for training physics-informed
neural networks" (CMAME 2024, arXiv 2203.07404). The time interval is cut into ``M`` bins;
``L_i`` is the mean squared residual of the points in bin ``i`` and

    w_i = exp(-ε Σ_{k<i} L_k)        (w_0 = 1; computed with a stop-gradient),
    loss = (1/N) Σ_j w_{bin(j)} r_j².

A late bin only counts once the residual before it is small, so the network cannot fit a wrong
solution at late times first (the failure of plain PINNs on Allen–Cahn). ``min_i w_i`` says how
far causality has propagated: near 1 the whole interval is being trained.

Details decided here (the paper samples the same number of points per bin, so its
``(1/M) Σ_i w_i L_i`` equals the per-point form above): with randomly drawn points the bins hold
unequal counts, and weighting each point by its bin's weight keeps ``ε = 0`` exactly the plain mean
square. Empty bins have ``L_i = 0``. Bins are equal-width over the domain's time interval
(closed on the right). Optionally ε follows the paper's annealing: it steps through ``epsilons``
whenever ``min_i w_i`` exceeds ``threshold`` (they use [1e-2, 1e-1, 1, 10, 100] and 0.99).
With ``boundary`` (our extension; the paper's problems have exactly periodic networks), boundary
residuals, e.g. a periodicity penalty, get the PDE residual's weight of their time bin too: an
unweighted boundary term at late times would otherwise keep fitting the not-yet-trained late
solution. Measured on ``allen-cahn`` in docs/methods.md.

The weights are computed at the first evaluation of each optimizer step and held for the rest of
the step (:meth:`Causal.after_step` releases them): a line search then sees one consistent
objective Σ w_i L_i(θ), whose gradient the stop-gradient rule gives exactly. Recomputing them at
every evaluation makes the objective change between trial points, and SSBroyden's line search
stopped with "no progress" at its first step (measured on ``allen-cahn``). The trainer invalidates
quasi-Newton caches every step, since the weights change between steps. For one-evaluation
optimizers (Adam) both rules are the same.

Under ``torchrun`` the bin losses are global statistics: the per-bin sums and counts of every rank
are summed (``reduce``, one all-reduce at the first evaluation of a step) before the weights are
formed, so all ranks weight their points with the weights a single process holding every rank's
points would compute.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = ["Causal", "bin_losses", "bin_sums", "causal_weights"]


def bin_sums(
    squares: torch.Tensor, t: torch.Tensor, *, bins: int, t0: float, t1: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sums, counts)`` ``(2, bins)`` of ``squares`` per time bin and each point's bin index ``(n,)``."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins!r}")
    if not t1 > t0:
        raise ValueError(f"need t1 > t0, got t0={t0!r}, t1={t1!r}")
    index = ((t.detach() - t0) / (t1 - t0) * bins).floor().clamp(0, bins - 1).long()
    sums = torch.zeros(bins, dtype=squares.dtype, device=squares.device).index_add(0, index, squares)
    counts = torch.zeros(bins, dtype=squares.dtype, device=squares.device).index_add(0, index, torch.ones_like(squares))
    return torch.stack([sums, counts]), index


def bin_losses(
    squares: torch.Tensor, t: torch.Tensor, *, bins: int, t0: float, t1: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of ``squares`` ``(n,)`` per time bin and each point's bin index.

    Returns ``(L, index)``: ``L`` of shape ``(bins,)`` (0 for an empty bin), ``index`` ``(n,)``.
    """
    both, index = bin_sums(squares, t, bins=bins, t0=t0, t1=t1)
    return both[0] / both[1].clamp(min=1), index


def causal_weights(losses: torch.Tensor, epsilon: float) -> torch.Tensor:
    """``w_i = exp(-ε Σ_{k<i} L_k)`` for bin losses ``(M,)``, detached (no gradient flows)."""
    if not (epsilon >= 0 and math.isfinite(epsilon)):
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    before = torch.cumsum(losses.detach(), 0) - losses.detach()  # exclusive cumulative sum
    return torch.exp(-epsilon * before)


class Causal:
    """Causally weighted mean square of an interior residual (see the module docstring).

    Args:
        epsilon: causality parameter ε (ignored when ``epsilons`` is given).
        bins: number of time bins ``M``.
        t0, t1: the time interval; the time is the last input column.
        epsilons: an increasing ε schedule, advanced when ``min w > threshold`` (empty: fixed ε).
        threshold: the annealing trigger.
        boundary: also weight boundary residuals (:meth:`weighted`) by their time bin.
        reduce: sums a tensor over the ranks (``Runtime.sum_over_ranks``); ``None`` for one process.
    """

    def __init__(
        self, *, epsilon: float, bins: int, t0: float, t1: float,
        epsilons: Sequence[float] = (), threshold: float = 0.99, boundary: bool = True,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"causal bins must be a positive int, got {bins!r}")
        for e in [epsilon, *epsilons]:
            if not (isinstance(e, int | float) and e >= 0 and math.isfinite(e)):
                raise ValueError(f"causal epsilon must be a finite number >= 0, got {e!r}")
        if not 0 < threshold <= 1:
            raise ValueError(f"causal threshold must be in (0, 1], got {threshold!r}")
        self.bins, self.t0, self.t1 = bins, float(t0), float(t1)
        self.epsilons = [float(e) for e in epsilons] or [float(epsilon)]
        self.threshold = threshold
        self.boundary = boundary
        self.reduce = reduce
        self._weights: torch.Tensor | None = None  # this step's weights (detached); None: not yet computed
        self.level = 0  # index into epsilons (annealing state, checkpointed)
        self.min_weight = 1.0

    @property
    def epsilon(self) -> float:
        return self.epsilons[self.level]

    def loss(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The weighted mean square of ``residual`` ``(n, k)`` at points ``x`` ``(n, d)`` (time last)."""
        squares = (residual**2).sum(dim=1) / residual.shape[1]  # per-point mean over components
        both, index = bin_sums(squares.detach(), x[:, -1], bins=self.bins, t0=self.t0, t1=self.t1)
        if self._weights is None:  # first evaluation of this step: fix the weights for the step
            if self.reduce is not None:
                both = self.reduce(both)  # global bin statistics (every rank's points)
            self._weights = causal_weights(both[0] / both[1].clamp(min=1), self.epsilon)
            self.min_weight = float(self._weights.min())
        return (self._weights[index] * squares).mean()

    def weighted(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Mean square of another residual weighted by the latest PDE weights of its time bins."""
        squares = (residual**2).sum(dim=1) / residual.shape[1]
        if self._weights is None:  # no PDE evaluation in this step yet: plain mean square
            return squares.mean()
        _, index = bin_losses(squares, x[:, -1], bins=self.bins, t0=self.t0, t1=self.t1)
        return (self._weights[index] * squares).mean()

    def after_step(self) -> None:
        """Release the step's weights; advance the ε schedule once causality has propagated."""
        self._weights = None
        if self.min_weight > self.threshold and self.level + 1 < len(self.epsilons):
            self.level += 1

    def stats(self) -> dict[str, float]:
        return {"causal/min_weight": self.min_weight, "causal/epsilon": self.epsilon}

    def state_dict(self) -> dict[str, Any]:
        return {"level": self.level, "min_weight": self.min_weight}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.level, self.min_weight = int(state["level"]), float(state["min_weight"])
