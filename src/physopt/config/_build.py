"""The one place where configuration names become objects."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import optim as optim_pkg
from ..models import MLP, ExpertInterfaces, HardConstraint, MixtureOfExperts, PeriodicEmbedding, slab_edges, slab_points
from ..problems import Box, Periodic, Problem, Residual, SpaceTime, available, build_ansatz, get
from ..training import BUDGET_CLOCKS, Causal, Objective, Phase, Role, Sampler, lagrangian_net, lagrangian_problem, ritz_problem, sdgd_problem, wos_problem
from ._schema import ConfigError, RunConfig

__all__ = ["METHODS", "Built", "build", "load_problem", "make_phases", "make_roles"]

CONSTRAINT_MODES = ("penalty", "hard", "lagrangian", "alm", "hard-moe")
ROLE_KINDS = ("penalty", "hard", "lagrangian", "alm")  # per-condition roles (hard-moe is a model)
# How the PDE enters the loss (RunConfig.method). Each seed method registers its name here and
# adds one branch in :func:`build`.
METHODS = ("pinn", "lpinn", "ritz", "wos")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def load_problem(spec: str, options: Mapping[str, Any] | None = None) -> Problem:
    """A zoo name (``burgers``) or ``path/to/file.py:factory`` with ``factory(**options) -> Problem``."""
    options = dict(options or {})
    if ":" in spec and spec.split(":", 1)[0].endswith(".py"):
        path_text, factory_name = spec.rsplit(":", 1)
        path = Path(path_text).expanduser()
        if not path.is_file():
            raise ConfigError(f"problem file not found: {path}")
        module_name = f"physopt_user_problem_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"cannot import problem file {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as err:  # a user's file: report any failure as one clear line
            raise ConfigError(f"importing {path} failed: {type(err).__name__}: {err}") from err
        factory = getattr(module, factory_name, None)
        if not callable(factory):
            raise ConfigError(f"{path} has no callable {factory_name!r}")
        try:
            problem = factory(**options)
        except TypeError as err:
            raise ConfigError(f"{spec}: calling {factory_name}(**{options}) failed: {err}") from err
        if not isinstance(problem, Problem):
            raise ConfigError(
                f"{spec}: {factory_name}() returned {type(problem).__name__}, expected physopt.problems.Problem"
            )
        return problem
    if spec not in available():
        raise ConfigError(
            f"unknown problem {spec!r}; choose from {', '.join(available())} or give path/to/file.py:factory"
        )
    try:
        return get(spec, **options)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def make_phases(cfg: RunConfig) -> list[Phase]:
    o = cfg.optim
    names = [n.strip() for n in o.name.split("+")]
    if len(names) > 2 or not all(names):
        raise ConfigError(f"optimizer must be NAME or FIRST+SECOND, got {o.name!r}")
    known = set(optim_pkg.available())
    for n in names:
        if n not in known:
            raise ConfigError(f"unknown optimizer {n!r}; choose from {', '.join(sorted(known))}")
    if o.schedule not in ("constant", "exp"):
        raise ConfigError(f"optim.schedule must be 'constant' or 'exp', got {o.schedule!r}")
    for key, v in (("optim.lr", o.lr), ("optim.then_lr", o.then_lr), ("optim.decay", o.decay)):
        if not (v > 0 and v < float("inf")):
            raise ConfigError(f"{key} must be a finite number > 0, got {v!r}")
    for cond, n in o.first_sizes.items():
        if n < 1:
            raise ConfigError(f"optim.first_sizes.{cond} must be >= 1, got {n}")
    if len(names) == 1:
        return [Phase(names[0], None, o.lr, o.options, o.schedule, o.decay, o.first_sizes)]
    if o.switch_at < 0:
        raise ConfigError(f"optim.switch_at must be >= 0, got {o.switch_at}")
    return [
        Phase(names[0], o.switch_at, o.lr, o.options, o.schedule, o.decay, o.first_sizes),
        Phase(names[1], None, o.then_lr, o.then_options),
    ]


def make_optimizer(phase: Phase, params: Sequence[torch.nn.Parameter]) -> torch.optim.Optimizer:
    try:
        return optim_pkg.build(phase.optimizer, list(params), lr=phase.lr, **dict(phase.options))
    except TypeError as err:  # an unknown option for this optimizer
        raise ConfigError(f"optimizer {phase.optimizer!r}: {err}") from err


def _periodic_axes(cfg: RunConfig, problem: Problem) -> dict[str, tuple[int, float]]:
    """``{condition: (input axis, period)}`` of the problem's Periodic conditions, for ``model.periodic``."""
    found = {k: c for k, c in problem.conditions.items() if isinstance(c, Periodic)}
    if not found:
        raise ConfigError(f"model.periodic = true needs a Periodic condition; {problem.name!r} has "
                          f"{', '.join(f'{k} ({type(c).__name__})' for k, c in problem.conditions.items())}")
    if cfg.method == "lpinn" or cfg.constraints == "hard-moe":
        raise ConfigError(f"model.periodic = true builds its own MLP; it does not combine with "
                          f"method {cfg.method!r} / constraints {cfg.constraints!r}")
    if not isinstance(cfg.model.harmonics, int) or cfg.model.harmonics < 1:
        raise ConfigError(f"model.harmonics must be a positive int, got {cfg.model.harmonics!r}")
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    if not isinstance(space, Box):
        raise ConfigError(f"model.periodic = true needs a box-shaped space, got {type(space).__name__}")
    return {k: (c.axis, space.hi[c.axis] - space.lo[c.axis]) for k, c in found.items()}


def _holds_exactly(problem: Problem, name: str, model: torch.nn.Module, dtype: torch.dtype) -> bool:
    """Whether ``model`` meets the Periodic condition ``name`` to round-off at 64 probe points.

    The embedding alone always does; wrapped in a hard ansatz it does only when the lift and distance
    are periodic too (Allen–Cahn's u0 = x² cos(πx) is not, in its derivative). A condition the model
    misses keeps its role. Tolerance: sqrt(machine epsilon) times the output scale (1.5e-8 in
    float64): derivative residuals carry round-off amplified by the network's derivatives, while a
    real mismatch (a non-periodic lift) is of the order of the solution.
    """
    cond = problem.conditions[name]
    probe = torch.Generator().manual_seed(0)  # its own stream: the run's generators stay untouched
    batch = cond.sample(problem.domain, 64, generator=probe, dtype=dtype)
    r = cond.residual(model, batch, {}).detach()
    scale = 1.0 + model(batch["x"]).detach().abs().max()
    return bool(r.abs().max() <= torch.finfo(dtype).eps ** 0.5 * scale)


def make_roles(cfg: RunConfig, problem: Problem) -> dict[str, Role]:
    """The role of every condition: ``cfg.constraints`` for the non-PDE conditions (``hard`` only
    for those the ansatz enforces), then ``cfg.roles`` per condition, then ``weights`` and the
    per-condition ``duals.penalties`` / ``duals.dual_lrs``."""
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
    if cfg.constraints == "hard" and problem.ansatz is None:
        raise ConfigError(f"problem {problem.name!r} has no hard-constraint ansatz; use --constraints penalty")
    enforced = set(problem.ansatz.enforces) if problem.ansatz is not None else set()
    kinds = {}
    for name in names:
        mode = cfg.constraints
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
            raise ConfigError(f"{key} names {extra}, which have no lagrangian/alm role; constrained: {sorted(constrained)}")
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


@dataclass
class Built:
    """The objects of a run, ready for :class:`physopt.training.Trainer`."""

    problem: Problem
    model: torch.nn.Module
    objective: Objective
    sampler: Sampler
    phases: list[Phase]
    params: dict[str, torch.Tensor]
    dtype: torch.dtype


def _moe_model(cfg: RunConfig, problem: Problem, net: torch.nn.Module, params: dict[str, torch.Tensor],
               gen: torch.Generator, dtype: torch.dtype) -> MixtureOfExperts:
    """PI-HC-MoE: the problem's ansatz for boundary/initial data, experts solving for the PDE residual."""
    pdes = [c for c in problem.conditions.values() if isinstance(c, Residual)]
    if len(pdes) != 1 or problem.output_dim != 1:
        raise ConfigError(f"--constraints hard-moe needs one PDE residual and one output; {problem.name!r} has "
                          f"{len(pdes)} residuals and {problem.output_dim} outputs")
    a, m = problem.ansatz, cfg.moe
    try:
        points, edges = slab_points(problem.domain, experts=m.experts, per_expert=m.points, axis=m.axis,
                                    generator=gen, dtype=dtype)
        model = MixtureOfExperts(net, residual=pdes[0].fn, points=points, edges=edges, axis=m.axis, params=params,
                                 lift=a.lift, distance=a.distance, ridge=m.ridge,  # type: ignore[union-attr]
                                 iterations=m.iterations, damping=m.damping)
        mismatch = model.check_affine(generator=gen)
        _, f, _ = model.system()
    except ValueError as err:
        raise ConfigError(f"moe: {err}") from None
    if not bool((f != 0).any()):  # r(u = g) ≡ 0: both the ridge and the LM solve (from ω = 0) return ω = 0
        raise ConfigError(f"--constraints hard-moe: the PDE residual of {problem.name!r} vanishes at u = g (the "
                          "boundary lift) on every enforcement point, so each expert's solve returns the trivial "
                          "solution u = g (psi = 0 for an eigenproblem); use --constraints hard or soft")
    # Affine residuals agree to round-off (~1e-15 measured on diffusion-reaction); others take Levenberg–Marquardt.
    model.nonlinear = mismatch > 1e-8
    return model


def build(cfg: RunConfig, problem: Problem | None = None) -> Built:
    """Build problem, model, objective, sampler and optimizer plan from ``cfg``.

    One generator seeded with ``cfg.seed`` initialises the network; a second one, seeded from
    the first, drives the sampler, so changing the network size does not change the points.
    """
    if cfg.dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {cfg.dtype!r}")
    if cfg.method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {cfg.method!r}")
    if cfg.constraints not in CONSTRAINT_MODES:
        raise ConfigError(f"constraints must be one of {', '.join(CONSTRAINT_MODES)}, got {cfg.constraints!r}")
    for key in ("steps", "log_every", "eval_every", "checkpoint_every"):
        v = getattr(cfg, key)
        if v < (0 if key == "steps" else 1):
            raise ConfigError(f"{key} must be {'>= 0' if key == 'steps' else '>= 1'}, got {v}")
    if cfg.threads < 0:
        raise ConfigError(f"threads must be >= 0 (0 = torch default), got {cfg.threads}")
    if cfg.time_budget < 0:
        raise ConfigError(f"time_budget must be >= 0 (0 = none), got {cfg.time_budget}")
    if cfg.budget_clock not in BUDGET_CLOCKS:
        raise ConfigError(f"budget_clock must be one of {', '.join(BUDGET_CLOCKS)}, got {cfg.budget_clock!r}")
    dtype = DTYPES[cfg.dtype]
    problem = problem if problem is not None else load_problem(cfg.problem, cfg.problem_options)
    unknown = set(cfg.optim.first_sizes) - set(problem.conditions)
    if unknown:
        raise ConfigError(f"optim.first_sizes names unknown conditions {sorted(unknown)}; conditions: {list(problem.conditions)}")
    unknown = set(cfg.weights) - set(problem.conditions)
    if unknown:
        raise ConfigError(f"weights name unknown conditions {sorted(unknown)}; conditions: {list(problem.conditions)}")

    moe = cfg.constraints == "hard-moe"  # the ansatz enforces boundary/initial data, experts the PDE
    if problem.ansatz is None and ("hard" in (cfg.constraints, *cfg.roles.values()) or moe):
        try:  # no hand-made ansatz: build one from the Dirichlet/initial data (docs/problems.md)
            problem = dataclasses.replace(problem, ansatz=build_ansatz(problem))
        except ValueError as err:
            raise ConfigError(f"hard constraints: {err}") from None
    roles = make_roles(dataclasses.replace(cfg, constraints="hard") if moe else cfg, problem)
    hard = any(r.kind == "hard" for r in roles.values())
    constrained = sorted(k for k, r in roles.items() if r.kind in ("lagrangian", "alm"))
    phases = make_phases(cfg)
    least_squares = [p.optimizer for p in phases if optim_pkg.spec(p.optimizer).needs_residuals]
    if least_squares and constrained:
        raise ConfigError(
            f"{', '.join(least_squares)} minimizes a sum of squared residuals and cannot handle the "
            f"constraint roles of {', '.join(constrained)}; use --constraints penalty or hard"
        )
    if constrained:
        if cfg.sampler.resample_every:
            raise ConfigError(
                f"pointwise multipliers of {', '.join(constrained)} need a fixed point set: "
                f"set sampler.resample_every = 0 (got {cfg.sampler.resample_every})"
            )
        prefix = sorted(set(cfg.optim.first_sizes) & set(constrained))
        if prefix:
            raise ConfigError(
                f"optim.first_sizes names constrained conditions {prefix}: their pointwise multipliers "
                f"need the same points in every phase"
            )

    gen = torch.Generator().manual_seed(cfg.seed)
    periodic = _periodic_axes(cfg, problem) if cfg.model.periodic else {}
    axes = sorted(set(periodic.values()))
    try:
        in_dim, bounds = problem.input_dim, problem.domain.bounds
        if periodic:
            k = cfg.model.harmonics
            in_dim = PeriodicEmbedding.features(in_dim=in_dim, axes=[a for a, _ in axes], harmonics=k)
            bounds = PeriodicEmbedding.feature_bounds(bounds, axes=[a for a, _ in axes], harmonics=k)
        net = MLP(
            in_dim=in_dim, out_dim=cfg.moe.basis if moe else problem.output_dim, width=cfg.model.width,
            depth=cfg.model.depth, activation=cfg.model.activation, bounds=bounds,
            generator=gen, dtype=dtype,
        )
        if periodic:
            net = PeriodicEmbedding(net, in_dim=problem.input_dim, axes=[a for a, _ in axes],
                                    periods=[p for _, p in axes], harmonics=cfg.model.harmonics)
    except ValueError as err:
        raise ConfigError(f"model: {err}") from err
    model: torch.nn.Module = net
    if hard and not moe:
        a = problem.ansatz
        model = HardConstraint(net, lift=a.lift, distance=a.distance)  # type: ignore[union-attr]
    for name in periodic:  # exact through the model: the condition leaves the loss (role "hard")
        if _holds_exactly(problem, name, model, dtype):
            if roles[name].kind in ("lagrangian", "alm"):
                raise ConfigError(f"roles {{{name!r}: {roles[name].kind!r}}}: with model.periodic = true "
                                  f"{name} holds exactly; drop its role")
            roles[name] = Role("hard")

    sizes = {k: v for k, v in {**problem.sizes, **cfg.sampler.sizes}.items() if roles.get(k, Role()).kind != "hard"}
    for name in problem.conditions:
        if roles[name].kind != "hard":
            sizes.setdefault(name, 1000)
    trained = problem  # what the loss sees; reports keep ``problem``
    try:  # SDGD, Deep Ritz and WoS swap the interior PDE condition (training/_methods.py)
        if cfg.sdgd.dims != 0:
            if cfg.sdgd.dims < 0 or cfg.method != "pinn" or cfg.sampler.resample_every < 1:
                raise ValueError(f"sdgd.dims = {cfg.sdgd.dims} needs dims >= 1, method pinn and sampler.resample_every "
                                 f">= 1 (dimensions are redrawn with the points); got method {cfg.method!r}, "
                                 f"resample_every {cfg.sampler.resample_every}")
            trained = sdgd_problem(trained, dims=cfg.sdgd.dims)
        if cfg.method == "ritz":
            trained = ritz_problem(trained)
        elif cfg.method == "wos":
            trained = wos_problem(trained, walks=cfg.wos.walks, epsilon=cfg.wos.epsilon)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if cfg.method == "lpinn":  # its own two-network model and one condition (training/_lpinn.py)
        if constrained:
            raise ConfigError("method lpinn enforces the initial and periodic conditions exactly; "
                              "use --constraints hard or penalty")
        try:
            trained = lagrangian_problem(problem)
            model = lagrangian_net(problem, width=cfg.model.width, depth=cfg.model.depth,
                                   activation=cfg.model.activation, generator=gen, dtype=dtype)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        sizes = {"pde": sizes.get("pde", trained.sizes["pde"])}
        roles = {"pde": Role("penalty", float(cfg.weights.get("pde", 1.0)))}
    if moe and cfg.moe.experts > 1:  # continuity across the experts' slab edges, as a penalty
        try:
            inner = slab_edges(problem.domain.bounds, experts=cfg.moe.experts, axis=cfg.moe.axis)[1:-1]
        except ValueError as err:
            raise ConfigError(f"moe: {err}") from None
        iface = ExpertInterfaces(inner_edges=tuple(inner), axis=cfg.moe.axis)
        trained = dataclasses.replace(trained, conditions={**trained.conditions, "interface": iface})
        roles["interface"] = Role("penalty", 1.0)
        sizes.setdefault("interface", 200)
    sampler_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
    try:
        sampler = Sampler(trained, sizes=sizes, generator=sampler_gen,
                          resample_every=cfg.sampler.resample_every, method=cfg.sampler.method,
                          candidates=cfg.sampler.candidates, rad_k=cfg.sampler.rad_k, rad_c=cfg.sampler.rad_c,
                          rar_add=cfg.sampler.rar_add, dtype=dtype)
    except ValueError as err:
        raise ConfigError(f"sampler: {err}") from err
    params: dict[str, torch.Tensor] = {k: torch.tensor(v, dtype=dtype) for k, v in problem.params.items()}
    params.update({k: torch.nn.Parameter(torch.tensor(v, dtype=dtype)) for k, v in problem.trainable.items()})
    if moe:
        model = _moe_model(cfg, problem, net, params, gen, dtype)
    causal = None
    if cfg.causal.epsilon > 0 or cfg.causal.epsilons:
        if not isinstance(problem.domain, SpaceTime):
            raise ConfigError(f"causal weighting needs a time-dependent problem; {problem.name!r} has no time axis")
        t = problem.domain.time
        try:
            causal = Causal(epsilon=cfg.causal.epsilon, bins=cfg.causal.bins, t0=t.t0, t1=t.t1,
                            epsilons=cfg.causal.epsilons, threshold=cfg.causal.threshold,
                            boundary=cfg.causal.boundary)
        except ValueError as err:
            raise ConfigError(f"causal: {err}") from err
    try:
        objective = Objective(trained, roles, causal=causal)
    except ValueError as err:
        raise ConfigError(f"constraints: {err}") from err
    if least_squares:
        try:
            objective.check_least_squares()
        except ValueError as err:
            raise ConfigError(f"optimizer {', '.join(least_squares)}: {err}") from None
    return Built(problem, model, objective, sampler, phases, params, dtype)
