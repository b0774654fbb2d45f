"""Collocation points per condition, drawn from an explicit generator, checkpointable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..problems import Points, Problem, fill_by_rejection
from ._adaptive import rad_select, rar_select, residual_norms

__all__ = ["Sampler"]

METHODS = ("uniform", "sobol", "rad", "rar")
ADAPTIVE = ("rad", "rar")


class _SobolInterior:
    """Stands in for a domain when PDE-residual points are drawn: scrambled Sobol points.

    Low-discrepancy points cover the domain more evenly than pseudo-random ones at the same
    count, which lowers the quadrature error of the residual loss (a fixed training set benefits
    most). Non-box domains keep the Sobol points that fall inside their bounding box's domain.
    The scrambling seed comes from the sampler's generator, so draws are reproducible.
    """

    def __init__(self, domain) -> None:
        self.domain = domain

    def sample_interior(self, n: int, *, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
        # SobolEngine draws on the CPU (it has no device); the points then move to the generator's device.
        device = generator.device
        lo, hi = (torch.tensor(b, dtype=dtype, device=device) for b in self.domain.bounds)
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
        engine = torch.quasirandom.SobolEngine(lo.numel(), scramble=True, seed=seed)
        return fill_by_rejection(
            n, lambda m: lo + (hi - lo) * engine.draw(m, dtype=dtype).to(device), self.domain.contains, factor=1
        )


class Sampler:
    """Draws a batch ``{condition: Points}`` for the active conditions (a :class:`BatchSource`).

    Args:
        problem: the problem whose conditions sample their own points.
        sizes: points per condition (conditions not listed are not sampled).
        generator: the RNG (its device is where points are drawn); its state is part of
            :meth:`state_dict` so a resumed run draws the same points as an uninterrupted one.
        resample_every: draw fresh points every this many steps; ``0`` keeps the first draw
            (a fixed training set, as in DeepXDE's default).
        method: ``"uniform"`` (pseudo-random) or ``"sobol"`` (scrambled Sobol points for the
            interior conditions; boundary and initial points stay uniform), or the residual-based
            ``"rad"`` / ``"rar"`` (see :mod:`._adaptive`; Sobol first draw and candidates): every
            ``resample_every`` steps the trainer calls :meth:`adapt` with the current residual.
        candidates: size of the candidate set scored by the residual (``rad``/``rar``).
        rad_k, rad_c: the RAD density ``|r|^k / mean(|r|^k) + c``.
        rar_add: points added per refinement by ``rar`` (RAR-G).
        dtype: dtype of the points.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        sizes: Mapping[str, int],
        generator: torch.Generator,
        resample_every: int = 0,
        method: str = "uniform",
        candidates: int = 20000,
        rad_k: float = 1.0,
        rad_c: float = 1.0,
        rar_add: int = 100,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown sampling method {method!r}; choose from {list(METHODS)}")
        unknown = set(sizes) - set(problem.conditions)
        if unknown:
            raise ValueError(f"sampler sizes name unknown conditions {sorted(unknown)}")
        for name, n in sizes.items():
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"sampler size for {name!r} must be a positive int, got {n!r}")
        if not isinstance(resample_every, int) or resample_every < 0:
            raise ValueError(f"resample_every must be a non-negative int, got {resample_every!r}")
        if method in ADAPTIVE:
            if resample_every == 0:
                raise ValueError(
                    f"sampling method {method!r} adapts every resample_every steps; set resample_every > 0"
                )
            largest = max((n for k, n in sizes.items() if problem.conditions[k].kind == "interior"), default=0)
            if not isinstance(candidates, int) or candidates < max(largest, 1):
                raise ValueError(f"candidates must be an int >= the interior size {largest}, got {candidates!r}")
            if not (isinstance(rar_add, int) and 0 < rar_add <= candidates):
                raise ValueError(f"rar_add must be an int in [1, candidates], got {rar_add!r}")
            if not (rad_k >= 0 and rad_c >= 0):
                raise ValueError(f"rad_k and rad_c must be >= 0, got {rad_k!r}, {rad_c!r}")
        self.candidates, self.rad_k, self.rad_c, self.rar_add = candidates, rad_k, rad_c, rar_add
        self.problem = problem
        self.sizes = dict(sizes)
        self.generator = generator
        self.resample_every = resample_every
        self.method = method
        self.dtype = dtype
        self._batch: dict[str, Points] | None = None
        self._drawn_at = -1

    def _draw(self) -> dict[str, Points]:
        out = {}
        for name, n in self.sizes.items():
            cond = self.problem.conditions[name]
            domain = self.problem.domain
            if self.method != "uniform" and cond.kind == "interior":
                domain = _SobolInterior(domain)
            points = cond.sample(domain, n, generator=self.generator, dtype=self.dtype)
            if not isinstance(points, Points):
                raise ValueError(f"condition {name!r} ({type(cond).__name__}).sample returned {type(points).__name__}; "
                                 "it must return physopt.problems.Points")
            out[name] = points
        return out

    def batch(self, step: int) -> dict[str, Points]:
        """The batch for ``step`` (a fresh draw on resampling steps, otherwise the current one)."""
        periodic = self.resample_every > 0 and self.method not in ADAPTIVE  # adaptive: see adapt()
        due = self._batch is None or (periodic and step - self._drawn_at >= self.resample_every)
        if due:
            self._batch = self._draw()
            self._drawn_at = step
        assert self._batch is not None  # set just above
        return self._batch

    def prefix(self, batch: Mapping[str, Points], sizes: Mapping[str, int]) -> dict[str, Points]:
        """The first ``sizes[name]`` points of each named condition (a phase's warm-up subset)."""
        return {name: b.prefix(sizes[name]) if name in sizes else b for name, b in batch.items()}

    def adapt(self, step: int, residual: Callable[[str, Points], torch.Tensor]) -> None:
        """RAD/RAR update of the interior points if one is due at ``step`` (else nothing).

        ``residual(name, batch)`` evaluates condition ``name``'s residual ``(n, k)`` with the
        current model. RAD redraws every condition (interior ones by the RAD density); RAR-G keeps
        the points and appends the ``rar_add`` worst candidates to each interior condition.
        """
        if not self.adapt_due(step):
            return
        new = self.begin_adapt()
        for name in self.adaptive_conditions():
            cand, norms = self.score(name, residual)
            new[name] = self.pick(name, cand, norms, self._batch, mean=None)  # type: ignore[arg-type]
        self.finish_adapt(new, step)

    # The pieces of adapt(), in the order it calls them; ShardedSampler interleaves them over its
    # shards so that RAD's normaliser E[ε^k] is the mean over every shard's candidates.
    def adapt_due(self, step: int) -> bool:
        if self.method not in ADAPTIVE or self.resample_every == 0 or self._batch is None:
            return False
        return step - self._drawn_at >= self.resample_every

    def begin_adapt(self) -> dict[str, Points]:
        assert self._batch is not None  # adapt_due said so
        return self._draw() if self.method == "rad" else dict(self._batch)

    def adaptive_conditions(self) -> list[str]:
        return [name for name in self.sizes if self.problem.conditions[name].kind == "interior"]

    def score(self, name: str, residual: Callable[[str, Points], torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Fresh Sobol candidates for condition ``name`` and their residual norms."""
        cand = _SobolInterior(self.problem.domain).sample_interior(self.candidates, generator=self.generator,
                                                                   dtype=self.dtype)
        return cand, residual_norms(lambda x: residual(name, Points(x)), cand)

    def pick(self, name: str, cand: torch.Tensor, norms: torch.Tensor, old: Mapping[str, Points], *,
             mean: torch.Tensor | None) -> Points:
        """The new points of ``name``: RAD draws (normalised by ``mean`` of ``ε^k``, default the
        candidates' own), or the old points plus the RAR worst."""
        if self.method == "rad":
            picked = rad_select(cand, norms, self.sizes[name], k=self.rad_k, c=self.rad_c, generator=self.generator,
                                mean=mean)
        else:
            picked = torch.cat([old[name].x, rar_select(cand, norms, self.rar_add)])
        return Points(picked)

    def finish_adapt(self, new: dict[str, Points], step: int) -> None:
        self._batch = new
        self._drawn_at = step

    @property
    def drawn_at(self) -> int:
        """Step of the latest draw (-1 before the first)."""
        return self._drawn_at

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.get_state(),
            "batch": None if self._batch is None else {k: p.state() for k, p in self._batch.items()},
            "drawn_at": self._drawn_at,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        batch = state["batch"]
        device = self.generator.device  # a checkpoint saved on one device resumes on another
        self._batch = None if batch is None else {k: Points.from_state(p).to(device=device) for k, p in batch.items()}
        self._drawn_at = int(state["drawn_at"])

    @property
    def points(self) -> dict[str, Points]:
        """The current training points per condition (empty before the first draw)."""
        return dict(self._batch or {})
