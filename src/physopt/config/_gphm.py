"""``method = "gp-hm"``: the hooks of :data:`physopt.config.METHODS` that run the GP-HM solver.

GP-HM (:mod:`physopt.gp`, Fang et al. ICLR 2024) is not a network: its unknowns are the solution
values on a grid of ``gphm.points`` nodes per axis of the problem's box, with a learned
spectral-mixture kernel per axis. It brings its own model (:func:`gphm_model`) and its own loop
(:attr:`MethodSpec.solver`, Adam over ``cfg.steps`` steps on ``[gphm]``'s lr schedule, or until
``time_budget`` on ``budget_clock``); the report evaluates the GP's conditional mean like any model.

It reads the PDE from the problem's typed declarations, never from its residual function: the
Poisson energy (``Problem.energy`` with p = 2, so ``-Δu = f`` with ``f = energy.source``) and one
Dirichlet condition on the whole boundary of a :class:`~physopt.problems.Box`. ``[model]``,
``[optim]``, ``[sampler]`` and the constraint roles do not apply (the boundary data enter the GP's
likelihood); checkpoints and ``resume`` do not apply either.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..gp import GPHM, MAX_DENSE_NODES, Envelope, GridPDE, ValuesUpdate, gphm_fit, grid_pde
from ..problems import Box, Dirichlet, Problem, value_at
from ..training import FitResult, Role, RunStatus
from ._schema import RunConfig

__all__ = ["gphm_check", "gphm_model", "gphm_run"]


def _dirichlet(problem: Problem) -> Dirichlet:
    """The problem's single whole-boundary Dirichlet condition (``ValueError`` otherwise)."""
    boundary = [c for c in problem.conditions.values() if c.kind == "boundary"]
    if len(boundary) != 1 or not isinstance(boundary[0], Dirichlet) or boundary[0].on is not None:
        raise ValueError(f"method gp-hm needs one Dirichlet condition on the whole boundary; "
                         f"{problem.name!r} has {boundary}")
    return boundary[0]


def gphm_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    """What ``method = "gp-hm"`` cannot run (``ValueError``)."""
    energy = problem.energy
    if energy is None or not energy.is_p_laplacian or energy.p != 2:
        raise ValueError(f"method gp-hm needs a Poisson problem (Problem.energy with p = 2, -Δu = f); "
                         f"{problem.name!r} has {energy}")
    if not isinstance(problem.domain, Box):
        raise ValueError(f"method gp-hm puts its collocation grid on a box; {problem.name!r} has a "
                         f"{type(problem.domain).__name__}")
    if problem.output_dim != 1 or problem.trainable or problem.unknowns:
        raise ValueError(f"method gp-hm solves for one scalar field with nothing else trainable; {problem.name!r} "
                         f"has outputs {problem.output_names}, trainable {sorted(problem.trainable)}")
    _dirichlet(problem)
    if cfg.dtype != "float64":
        raise ValueError(f"method gp-hm needs dtype float64 (its jittered kernel matrices have condition "
                         f"numbers ~1e6 and beyond), got {cfg.dtype!r}")
    g = cfg.gphm
    if g.points < 3 or g.components < 1:
        raise ValueError(f"gphm.points must be >= 3 and gphm.components >= 1, got {g.points}, {g.components}")
    if g.envelope not in {e.value for e in Envelope}:
        raise ValueError(f"gphm.envelope must be one of {', '.join(e.value for e in Envelope)}, got {g.envelope!r}")
    if g.values not in {v.value for v in ValuesUpdate}:
        raise ValueError(f"gphm.values must be one of {', '.join(v.value for v in ValuesUpdate)}, got {g.values!r}")
    nodes = g.points ** len(problem.domain.lo)  # type: ignore[union-attr]
    if g.values == ValuesUpdate.SOLVE.value and nodes > MAX_DENSE_NODES:
        raise ValueError(f"gphm.values = 'solve' forms a dense system of all {nodes} grid nodes "
                         f"(gphm.points = {g.points} per axis); it allows at most {MAX_DENSE_NODES}")
    for key in ("max_frequency", "lr", "final_lr", "boundary_weight"):
        if not getattr(g, key) > 0:
            raise ValueError(f"gphm.{key} must be > 0, got {getattr(g, key)!r}")
    if not 0 <= g.jitter < 1:
        raise ValueError(f"gphm.jitter must be in [0, 1), got {g.jitter!r}")


def _axes(problem: Problem, cfg: RunConfig, dtype: torch.dtype) -> list[torch.Tensor]:
    box = problem.domain
    return [torch.linspace(a, b, cfg.gphm.points, dtype=dtype) for a, b in zip(box.lo, box.hi, strict=True)]  # type: ignore[union-attr]


def gphm_model(problem: Problem, cfg: RunConfig, generator: torch.Generator, dtype: torch.dtype) -> nn.Module:
    """The GP-HM model on the problem's box (deterministic initialisation: ``generator`` is unused)."""
    g = cfg.gphm
    return GPHM(_axes(problem, cfg, dtype), components=g.components, max_frequency=g.max_frequency,
                envelope=Envelope(g.envelope), jitter=g.jitter)


def gphm_grid_pde(problem: Problem, model: GPHM) -> GridPDE:
    """``-Δu = f`` and the Dirichlet data of ``problem`` on ``model``'s grid (its device and dtype)."""
    axes = model.axes
    dirichlet = _dirichlet(problem)
    energy = problem.energy
    return grid_pde(lo=[float(a[0]) for a in axes], hi=[float(a[-1]) for a in axes], points=[len(a) for a in axes],
                    source=lambda x: value_at(energy.source, x),  # type: ignore[union-attr]
                    boundary=lambda x: value_at(dirichlet.value, x), second=[-1.0] * len(axes),
                    dtype=axes[0].dtype, device=axes[0].device)


def gphm_run(built: Any, cfg: RunConfig) -> tuple[nn.Module, FitResult]:
    """Fit ``built.model`` (a :class:`~physopt.gp.GPHM`) to the problem; the model and a :class:`FitResult`."""
    model, g = built.model, cfg.gphm
    pde = gphm_grid_pde(built.problem, model)
    clock = time.process_time if cfg.budget_clock == "cpu" else time.perf_counter
    result = gphm_fit(model, pde, iterations=cfg.steps, lr=g.lr, final_lr=g.final_lr,
                      boundary_weight=g.boundary_weight, budget_s=cfg.time_budget or float("inf"), clock=clock,
                      values=ValuesUpdate(g.values))
    status = RunStatus.COMPLETED if result.steps == cfg.steps else RunStatus.TIME_BUDGET
    history = [{"step": n, "loss": loss, "optimizer": "adam"} for n, loss in enumerate(result.losses)]
    grid = "x".join(map(str, pde.shape))
    fit = FitResult(status=status, message=f"GP-HM: {result.steps} Adam steps on a {grid} grid",
                    steps=result.steps, wall_time_s=result.wall_time_s, history=history,
                    final={"loss": result.losses[-1]}, cpu_time_s=result.cpu_time_s)
    return model, fit
