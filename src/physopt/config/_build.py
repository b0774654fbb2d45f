"""The one place where configuration names become objects: registry lookups, no per-name branches.

:func:`build` resolves the problem (zoo or file), its constraint mode (:data:`CONSTRAINTS`), method
and option transforms (:data:`METHODS`, :data:`TRANSFORMS`) and model kind
(:data:`physopt.models.MODELS`), then assembles model, loss, batch source and optimizer plan inside
one :class:`~physopt.runtime.Runtime`. Adding a model kind, method or mode is a registry entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .. import optim as optim_pkg
from ..models import HardConstraint, model_spec
from ..problems import Problem, SpaceTime, build_ansatz
from ..runtime import Runtime, parse_device
from ..training import BUDGET_CLOCKS, Causal, Objective, Parameters, Phase, Role, Sampler, ShardedSampler
from ._methods import TRANSFORMS, method_spec
from ._modes import constraint_mode
from ._problems import load_problem
from ._roles import holds_exactly, make_roles
from ._schema import ConfigError, RunConfig

__all__ = ["DTYPES", "Built", "build", "make_optimizer", "make_phases", "make_runtime"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def make_phases(cfg: RunConfig) -> list[Phase]:
    o = cfg.optim
    names = [n.strip() for n in o.name.split("+")]
    if len(names) > 2 or not all(names):
        raise ConfigError(f"optimizer must be NAME or FIRST+SECOND, got {o.name!r}")
    known = set(optim_pkg.available())
    for n in names:
        if n not in known:
            raise ConfigError(f"unknown optimizer {n!r}; choose from {', '.join(sorted(known))}")
    if o.schedule not in ("constant", "exp"):  # cosine/step need a phase length: operator runs (config/_learn.py)
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
    if not 0.0 <= o.switch_fraction < 1.0:
        raise ConfigError(f"optim.switch_fraction must be in [0, 1) (0 = by steps only), got {o.switch_fraction!r}")
    if o.switch_plateau < 0 or not 0.0 < o.switch_drop < 1.0:
        raise ConfigError(f"optim.switch_plateau must be >= 0 steps (0 = off) and optim.switch_drop in (0, 1), "
                          f"got {o.switch_plateau} and {o.switch_drop!r}")
    return [
        Phase(names[0], o.switch_at, o.lr, o.options, o.schedule, o.decay, o.first_sizes,
              budget_fraction=o.switch_fraction, plateau=o.switch_plateau, plateau_drop=o.switch_drop),
        Phase(names[1], None, o.then_lr, o.then_options),
    ]


def make_optimizer(phase: Phase, params: Sequence[torch.nn.Parameter]) -> torch.optim.Optimizer:
    try:
        return optim_pkg.build(phase.optimizer, list(params), lr=phase.lr, **dict(phase.options))
    except TypeError as err:  # an unknown option for this optimizer
        raise ConfigError(f"optimizer {phase.optimizer!r}: {err}") from err



def make_runtime(cfg: RunConfig, *, rank: int = 0, world_size: int = 1) -> Runtime:
    """The :class:`Runtime` of ``cfg`` (device, dtype, seed) on this process's rank."""
    if cfg.dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {cfg.dtype!r}")
    try:
        device = parse_device(cfg.device)
        if world_size > 1 and device.type == "cuda":  # one GPU per rank: the launcher made cuda:LOCAL_RANK current
            device = torch.device("cuda", torch.cuda.current_device())
        return Runtime(device=device, dtype=DTYPES[cfg.dtype], seed=cfg.seed, rank=rank, world_size=world_size)
    except ValueError as err:
        raise ConfigError(str(err)) from None


@dataclass
class Built:
    """The objects of a run, ready for :class:`physopt.training.Trainer`."""

    problem: Problem
    model: torch.nn.Module
    objective: Objective
    sampler: Sampler | ShardedSampler
    phases: list[Phase]
    params: Parameters
    dtype: torch.dtype
    runtime: Runtime


def _check_run(cfg: RunConfig) -> None:
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


def _check_optimizers(cfg: RunConfig, phases: list[Phase], roles: dict[str, Role], pointwise: bool) -> list[str]:
    """The least-squares phases; raises for combinations the optimizers cannot run."""
    constrained = sorted(k for k, r in roles.items() if r.kind.constrained)
    least_squares = [p.optimizer for p in phases if optim_pkg.spec(p.optimizer).needs_residuals]
    if least_squares and constrained:
        raise ConfigError(f"{', '.join(least_squares)} minimizes a sum of squared residuals and cannot handle the "
                          f"constraint roles of {', '.join(constrained)}; use --constraints penalty or hard")
    if least_squares and not pointwise:
        raise ConfigError(f"{', '.join(least_squares)} builds its Jacobian from blocks of points, which needs a "
                          f"pointwise model; model kind {cfg.model.kind!r} is not")
    if constrained:
        if cfg.sampler.resample_every:
            raise ConfigError(f"pointwise multipliers of {', '.join(constrained)} need a fixed point set: "
                              f"set sampler.resample_every = 0 (got {cfg.sampler.resample_every})")
        prefix = sorted(set(cfg.optim.first_sizes) & set(constrained))
        if prefix:
            raise ConfigError(f"optim.first_sizes names constrained conditions {prefix}: their pointwise "
                              "multipliers need the same points in every phase")
    return least_squares


def _sampler(cfg: RunConfig, trained: Problem, sizes: dict[str, int], seed: int, runtime: Runtime
             ) -> Sampler | ShardedSampler:
    """One :class:`Sampler`, or the shards of this rank when the run has more than one (docs/scaling.md)."""
    s = cfg.sampler
    options = {"resample_every": s.resample_every, "method": s.method, "candidates": s.candidates, "rad_k": s.rad_k,
               "rad_c": s.rad_c, "rar_add": s.rar_add, "dtype": runtime.dtype}
    shards = s.shards or runtime.world_size
    try:
        if shards == 1:
            return Sampler(trained, sizes=sizes, generator=runtime.sampling_generator(seed), **options)
        return ShardedSampler(trained, sizes=sizes, shards=shards, seed=seed, runtime=runtime, **options)
    except ValueError as err:
        raise ConfigError(f"sampler: {err}") from err


def _causal(cfg: RunConfig, problem: Problem, runtime: Runtime) -> Causal | None:
    if not (cfg.causal.epsilon > 0 or cfg.causal.epsilons):
        return None
    if not isinstance(problem.domain, SpaceTime):
        raise ConfigError(f"causal weighting needs a time-dependent problem; {problem.name!r} has no time axis")
    t, c = problem.domain.time, cfg.causal
    try:
        return Causal(epsilon=c.epsilon, bins=c.bins, t0=t.t0, t1=t.t1, epsilons=c.epsilons,
                      threshold=c.threshold, boundary=c.boundary,
                      reduce=runtime.sum_over_ranks if runtime.world_size > 1 else None)
    except ValueError as err:
        raise ConfigError(f"causal: {err}") from err


def build(cfg: RunConfig, problem: Problem | None = None, *, runtime: Runtime | None = None) -> Built:
    """Build problem, model, objective, sampler and optimizer plan from ``cfg`` in ``runtime``
    (default: :func:`make_runtime` of ``cfg``, rank 0 of 1).

    The runtime's CPU model generator (seed ``cfg.seed``) initialises the network, which then moves
    to the runtime's device; the sampler's generator, on that device, is seeded from the model
    generator's next draw.
    """
    _check_run(cfg)
    runtime = runtime if runtime is not None else make_runtime(cfg)
    dtype = runtime.dtype
    problem = problem if problem is not None else load_problem(cfg.problem, cfg.problem_options)
    try:
        method, mode, kind = method_spec(cfg.method), constraint_mode(cfg.constraints), model_spec(cfg.model.kind)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    for key, table in (("optim.first_sizes", cfg.optim.first_sizes), ("weights", cfg.weights)):
        unknown = sorted(set(table) - set(problem.conditions))
        if unknown:
            raise ConfigError(f"{key} name{'s' if key == 'optim.first_sizes' else ''} unknown conditions {unknown}; "
                              f"conditions: {list(problem.conditions)}")
    base = mode.role
    if problem.ansatz is None and "hard" in (mode.role, *cfg.roles.values()):
        try:  # no hand-made ansatz: build one from the Dirichlet/initial data (docs/problems.md)
            problem = dataclasses.replace(problem, ansatz=build_ansatz(problem))
        except ValueError as err:
            if mode.fallback is None or "hard" in cfg.roles.values():
                raise ConfigError(f"hard constraints: {err}") from None
            base = mode.fallback  # e.g. "auto": no ansatz for this problem, so its data stay penalties
    roles = make_roles(cfg, problem, base=base)
    phases = make_phases(cfg)
    least_squares = _check_optimizers(cfg, phases, roles, kind.pointwise)
    transforms = [t for t in TRANSFORMS if t.enabled(cfg)]
    try:
        for check in (method.check, *(t.check for t in transforms)):
            check(cfg, problem, roles)
    except ValueError as err:
        raise ConfigError(str(err)) from None

    gen = runtime.model_generator()
    try:
        built = kind.factory(cfg.model, problem=problem, out_dim=mode.outputs(cfg, problem), generator=gen,
                             dtype=dtype)
    except ValueError as err:
        raise ConfigError(f"model: {err}") from err
    if built.exact and (method.make_model is not None or mode.wrap is not None):
        raise ConfigError(f"model {cfg.model.kind!r} makes {list(built.exact)} exact by construction; that does not "
                          f"combine with method {cfg.method!r} / constraints {cfg.constraints!r}, which build their "
                          "own model")
    net = model = built.module
    if mode.wrap is None and any(r.kind == "hard" for r in roles.values()):
        a = problem.ansatz
        model = HardConstraint(net, lift=a.lift, distance=a.distance)  # type: ignore[union-attr]
    for name in built.exact:  # exact through the model: the condition leaves the loss (role "hard")
        if holds_exactly(problem, name, model, dtype):
            if roles[name].kind.constrained:
                raise ConfigError(f"roles {{{name!r}: {roles[name].kind.value!r}}}: with model.periodic = true "
                                  f"{name} holds exactly; drop its role")
            roles[name] = Role("hard")

    sizes = {k: v for k, v in {**problem.sizes, **cfg.sampler.sizes}.items() if roles.get(k, Role()).kind != "hard"}
    for name in problem.conditions:
        if roles[name].kind != "hard":
            sizes.setdefault(name, 1000)
    try:  # the method, then option transforms, swap what is trained; reports keep ``problem``
        trained = method.transform(problem, cfg)
        for t in transforms:
            trained = t.transform(trained, cfg)
        if method.make_model is not None:
            model = method.make_model(problem, cfg, gen, dtype)
        extra = mode.extra(cfg, problem)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if extra:
        trained = dataclasses.replace(
            trained, conditions={**trained.conditions, **{k: c for k, (c, _) in extra.items()}}
        )
    # Conditions a transform removed leave the loss; new ones are penalties of weight 1 (or their weight).
    roles = {k: roles.get(k, Role("penalty", float(cfg.weights.get(k, 1.0)))) for k in trained.conditions}
    sizes = {k: sizes.get(k, extra[k][1] if k in extra else trained.sizes.get(k, 1000))
             for k in trained.conditions if roles[k].kind != "hard"}

    sampler = _sampler(cfg, trained, sizes, int(torch.randint(0, 2**62, (1,), generator=gen)), runtime)
    params = Parameters.create(constants=problem.params, unknowns=problem.unknowns, dtype=dtype,
                               device=runtime.device, fields=problem.fields, bounds=problem.domain.bounds,
                               generator=gen)  # on the device from the start: mode.wrap keeps it
    if mode.wrap is not None:
        try:
            model = mode.wrap(cfg, problem, net, params, gen, dtype)
        except ValueError as err:
            raise ConfigError(str(err)) from None
    try:
        offsets = sampler.offsets if isinstance(sampler, ShardedSampler) else None
        objective = Objective(trained, roles, causal=_causal(cfg, problem, runtime), runtime=runtime,
                              offsets=offsets, totals=sizes)
    except ValueError as err:
        raise ConfigError(f"constraints: {err}") from err
    if least_squares:
        try:
            objective.check_least_squares()
        except ValueError as err:
            raise ConfigError(f"optimizer {', '.join(least_squares)}: {err}") from None
    if problem.gauge is not None:  # the freedom the problem fixes (an eigenfunction's sign), whatever built the model
        model = problem.gauge.wrap(model, problem.domain, device=runtime.device, dtype=dtype)
    model = model.to(runtime.device)
    return Built(problem, model, objective, sampler, phases, params, dtype, runtime)
