"""Name → method registry (``method = "..."``, ``--method``) and the option-driven transforms.

A method says how the PDE enters the loss. To add one, write its problem transform (a function
``Problem -> Problem`` that swaps the interior condition, as in :mod:`physopt.training`) and add one
:class:`MethodSpec` to :data:`METHODS`; :func:`physopt.config.build` looks it up and never branches
on its name. A method that needs its own network (LPINN's two-network model) gives ``make_model``;
one whose loss wants another training plan than the problem's recipe (Deep Ritz: fresh points and a
first-order optimizer) gives ``plan``, which :func:`physopt.config.resolve` layers over the problem's
defaults and under the config file, flags and ``--set``.
Transforms switched on by their own config section rather than by ``method`` (SDGD's
``sdgd.dims``) are :class:`TransformSpec` entries of :data:`TRANSFORMS`, applied in order after the
method.

Every hook receives the :class:`RunConfig` and raises ``ValueError`` for a combination it cannot
run; the build turns that into a :class:`ConfigError` (one line, exit status 2 on the CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from .. import optim as optim_pkg
from ..problems import Problem
from ..training import FitResult, Role, lagrangian_net, lagrangian_problem, ritz_problem, sdgd_problem, wos_problem
from ._gphm import gphm_check, gphm_model, gphm_run
from ._insr import insr_check, insr_model, insr_run
from ._schema import RunConfig

__all__ = ["METHODS", "TRANSFORMS", "MethodSpec", "TransformSpec", "method_spec"]

Transform = Callable[[Problem, RunConfig], Problem]
ModelMaker = Callable[[Problem, RunConfig, torch.Generator, torch.dtype], nn.Module]
Check = Callable[[RunConfig, Problem, Mapping[str, Role]], None]
Solver = Callable[[Any, RunConfig], tuple[nn.Module, FitResult]]  # (Built, cfg) -> (model, fit)


def _no_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    return None


@dataclass(frozen=True)
class MethodSpec:
    """How one method turns the problem into what is trained.

    Attributes:
        summary: one line for listings.
        transform: ``(problem, cfg) -> trained problem`` (the identity for a plain PINN). Conditions
            the transform removes leave the loss; new ones are penalties of weight 1.
        make_model: ``(problem, cfg, generator, dtype) -> module`` when the method brings its own
            network instead of ``[model]``'s kind (``None``: the model registry builds it).
        check: ``(cfg, problem, roles) -> None``, raising ``ValueError`` for what the method cannot
            combine with (run before anything is built).
        solver: ``(built, cfg) -> (model, FitResult)`` when the method runs its own loop instead of
            the :class:`~physopt.training.Trainer` (INSR's time stepping); ``model`` is what the
            report evaluates. ``None``: the Trainer trains ``built.model``.
        plan: config tables the method brings (``{"optim": {...}, "sampler": {...}}``), layered over
            the problem's defaults (tuned for the strong-form PINN) and under the config file,
            flags and ``--set``; empty: the problem's recipe as it is.
    """

    summary: str
    transform: Transform
    make_model: ModelMaker | None = None
    check: Check = _no_check
    solver: Solver | None = None
    plan: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class TransformSpec:
    """A problem transform switched on by a config option (``enabled(cfg)``), with its own check."""

    name: str
    enabled: Callable[[RunConfig], bool]
    transform: Transform
    check: Check = _no_check


def _lpinn_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    if any(r.kind.constrained for r in roles.values()):
        raise ValueError("method lpinn enforces the initial and periodic conditions exactly; "
                         "use --constraints hard or penalty")
    if cfg.model.kind != "mlp" or cfg.model.periodic:
        raise ValueError("method lpinn builds its own two-network model from model.width/depth/activation; "
                         f"it does not combine with model kind {cfg.model.kind!r} / model.periodic = true")


def _lpinn_model(problem: Problem, cfg: RunConfig, generator: torch.Generator, dtype: torch.dtype) -> nn.Module:
    m = cfg.model
    return lagrangian_net(problem, width=m.width, depth=m.depth, activation=m.activation, generator=generator,
                          dtype=dtype)


def _sdgd_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    d = cfg.sdgd.dims
    if d < 0 or cfg.method != "pinn" or cfg.sampler.resample_every < 1:
        raise ValueError(f"sdgd.dims = {d} needs dims >= 1, method pinn and sampler.resample_every >= 1 "
                         f"(dimensions are redrawn with the points); got method {cfg.method!r}, "
                         f"resample_every {cfg.sampler.resample_every}")


def _ritz_check(cfg: RunConfig, problem: Problem, roles: Mapping[str, Role]) -> None:
    # A line-search (closure) optimizer trusts its objective: held on one point set for several
    # steps it minimises that set's quadrature of the energy, which is unbounded below in the
    # directions the points do not see (the cubic example of docs/methods.md: sampled energy -5.80
    # against the true -2.74, error 6.0e-3 -> 1.1). Fresh points every step give it one step per set.
    closure = [n.strip() for n in cfg.optim.name.split("+") if _needs_closure(n.strip())]
    if closure and cfg.sampler.resample_every != 1:
        raise ValueError(f"method ritz with {' and '.join(closure)} (a line-search optimizer) needs fresh points "
                         f"every step, sampler.resample_every = 1 (got {cfg.sampler.resample_every}): on a point "
                         "set held for several steps it minimises the sampled energy, not the PDE's; or use a "
                         "first-order optimizer (method ritz's plan: adam)")


def _needs_closure(name: str) -> bool:
    try:
        return optim_pkg.spec(name).needs_closure
    except ValueError:  # an unknown name: make_phases reports it
        return False


# Deep Ritz's plan (E & Yu 2018 resample every step): a Monte Carlo estimate of the energy on fresh
# Sobol points each step, minimised by Adam. Measured on the cubic example of docs/methods.md.
_RITZ_PLAN = MappingProxyType({"optim": MappingProxyType({"name": "adam"}),
                               "sampler": MappingProxyType({"resample_every": 1})})


METHODS: dict[str, MethodSpec] = {
    "pinn": MethodSpec("mean-square strong-form PDE residual", lambda problem, cfg: problem),
    "lpinn": MethodSpec("Lagrangian PINN along characteristics (Mojgani et al. 2023)",
                        lambda problem, cfg: lagrangian_problem(problem), make_model=_lpinn_model,
                        check=_lpinn_check),
    "ritz": MethodSpec("Deep Ritz: the problem's energy functional (E & Yu 2018)",
                       lambda problem, cfg: ritz_problem(problem), check=_ritz_check, plan=_RITZ_PLAN),
    "wos": MethodSpec("regression on Walk-on-Spheres Monte Carlo targets",
                      lambda problem, cfg: wos_problem(problem, walks=cfg.wos.walks, epsilon=cfg.wos.epsilon)),
    "insr": MethodSpec("INSR: a spatial network stepped through time (Chen et al. 2023)",
                       lambda problem, cfg: problem, make_model=insr_model, check=insr_check, solver=insr_run),
    "gp-hm": MethodSpec("GP-HM: Gaussian process, learned spectral mixture on a Kronecker grid (Fang et al. 2024)",
                        lambda problem, cfg: problem, make_model=gphm_model, check=gphm_check, solver=gphm_run),
}

TRANSFORMS: tuple[TransformSpec, ...] = (
    TransformSpec("sdgd", lambda cfg: cfg.sdgd.dims != 0,
                  lambda problem, cfg: sdgd_problem(problem, dims=cfg.sdgd.dims), check=_sdgd_check),
)


def method_spec(name: str) -> MethodSpec:
    """The registered :class:`MethodSpec` of ``name`` (``ValueError`` naming the known methods)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {name!r}") from None
