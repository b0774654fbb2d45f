"""``method = "insr"``: the hooks of :data:`physopt.config.METHODS` that run INSR time stepping.

INSR (:func:`physopt.training.insr_solve`) trains a network on *space* and steps it through time,
so it brings its own model (an MLP on the spatial inputs, ``[model]``'s width/depth/activation)
and its own loop (:attr:`MethodSpec.solver`) instead of the :class:`~physopt.training.Trainer`;
the report then evaluates the stored states as one space-time model. Checkpoints and ``resume``
do not apply (one run is a sequence of independent minimisations; the states are the result).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..models import MLP, PeriodicEmbedding
from ..problems import Periodic, Problem, SpaceTime
from ..training import INSR_SCHEMES, FitResult, InsrOptions, Role, RunStatus, insr_solve
from ._schema import RunConfig

__all__ = ["insr_check", "insr_model", "insr_run"]


def insr_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    """What ``method = "insr"`` cannot combine with (``ValueError``)."""
    if not isinstance(problem.domain, SpaceTime):
        raise ValueError(f"method insr steps a time-dependent problem; {problem.name!r} has no time axis")
    roles_used = sorted({r.kind.value for r in roles.values()} - {"penalty"})
    if roles_used:
        raise ValueError(f"method insr fits each time step's conditions as penalties; got roles {roles_used} "
                         "(use --constraints penalty)")
    if cfg.model.kind != "mlp":
        raise ValueError("method insr builds an MLP on the spatial inputs from model.width/depth/activation; "
                         f"it does not combine with model kind {cfg.model.kind!r}")
    if cfg.model.periodic:
        raise ValueError("method insr builds its own spatial network: set insr.periodic = true, "
                         "not model.periodic")
    if cfg.insr.periodic and not _periodic(problem):
        raise ValueError(f"insr.periodic = true needs a Periodic condition; {problem.name!r} has none")
    if "+" in cfg.optim.name:
        raise ValueError(f"method insr runs one optimizer per time step; got the chain {cfg.optim.name!r} "
                         "(e.g. --optimizer adam)")
    if cfg.insr.scheme not in INSR_SCHEMES:
        raise ValueError(f"insr.scheme must be one of {', '.join(INSR_SCHEMES)}, got {cfg.insr.scheme!r}")
    for key in ("steps", "iterations", "initial_iterations", "points"):
        if getattr(cfg.insr, key) < 1:
            raise ValueError(f"insr.{key} must be >= 1, got {getattr(cfg.insr, key)}")
    if cfg.time_budget:
        raise ValueError("method insr runs insr.steps time steps; time_budget does not apply (set it to 0)")


def _periodic(problem: Problem) -> list[tuple[int, float]]:
    """``(axis, period)`` of the problem's Periodic conditions, one per axis, in axis order."""
    space = problem.domain.space  # type: ignore[union-attr]  # insr_check: a SpaceTime domain
    axes = sorted({c.axis for c in problem.conditions.values() if isinstance(c, Periodic)})
    return [(a, space.hi[a] - space.lo[a]) for a in axes]


def insr_model(problem: Problem, cfg: RunConfig, generator: torch.Generator, dtype: torch.dtype) -> nn.Module:
    """The spatial network: an MLP on the space coordinates of the problem; with ``insr.periodic``
    behind a :class:`~physopt.models.PeriodicEmbedding` of the periodic axes (exactly periodic
    states: a periodic penalty alone let the boundary error grow from step to step on ``convection``)."""
    space = problem.domain.space  # type: ignore[union-attr]  # insr_check: a SpaceTime domain
    m = cfg.model
    periodic = _periodic(problem) if cfg.insr.periodic else []
    axes = [a for a, _ in periodic]
    in_dim, bounds = space.dim, space.bounds
    if periodic:
        in_dim = PeriodicEmbedding.features(in_dim=in_dim, axes=axes, harmonics=m.harmonics)
        bounds = PeriodicEmbedding.feature_bounds(bounds, axes=axes, harmonics=m.harmonics)
    net: nn.Module = MLP(in_dim=in_dim, out_dim=problem.output_dim, width=m.width, depth=m.depth,
                         activation=m.activation, bounds=bounds, generator=generator, dtype=dtype)
    if periodic:
        net = PeriodicEmbedding(net, in_dim=space.dim, axes=axes, periods=[p for _, p in periodic],
                                harmonics=m.harmonics)
    return net


def insr_run(built: Any, cfg: RunConfig) -> tuple[nn.Module, FitResult]:
    """Step ``built.model`` (the spatial network) through time; the trajectory and a :class:`FitResult`."""
    i, o = cfg.insr, cfg.optim
    options = InsrOptions(steps=i.steps, scheme=i.scheme, iterations=i.iterations,
                          initial_iterations=i.initial_iterations, optimizer=o.name, lr=o.lr, options=o.options,
                          points=i.points, sizes=cfg.sampler.sizes, weights=cfg.weights)
    wall = time.perf_counter()
    result = insr_solve(built.problem, built.model, options=options,
                        generator=built.runtime.sampling_generator(cfg.seed), params=built.params)
    wall = time.perf_counter() - wall
    history = [{"step": n, "loss": loss, "optimizer": o.name} for n, loss in enumerate(result.losses)]
    fit = FitResult(status=RunStatus.COMPLETED, message=f"completed {i.steps} INSR time steps ({i.scheme})",
                    steps=i.steps, wall_time_s=wall, history=history, final={"loss": result.losses[-1]},
                    cpu_time_s=result.cpu_time_s)
    return result.trajectory, fit
