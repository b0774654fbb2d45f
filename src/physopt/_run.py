"""Run orchestration: ``solve`` (train and report), ``resume`` and ``load`` of run directories.

Everything the command line does is one call here, so notebooks and tests never need the CLI.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from ._learn import LearnResult, OperatorSolution, is_learn_run, load_learn, resume_learn
from .config import (
    Built,
    ConfigError,
    RunConfig,
    build,
    dumps_toml,
    from_dict,
    is_problem_file,
    load_problem,
    make_optimizer,
    make_runtime,
    method_spec,
    read_toml,
    resolve,
    to_dict,
)
from .evaluation import (
    DataMisfit,
    FieldResult,
    Report,
    UnknownResult,
    comparable_metrics,
    max_abs_error,
    plot_solution,
    plot_training,
    plot_unknowns,
    rel_l2,
    versions,
)
from .problems import Data, Problem, SpaceTime
from .runtime import Runtime, process_group_ranks, resolve_threads
from .training import Callback, FitResult, ProgressBar, Trainer, run_directory_callbacks

__all__ = ["RunResult", "Solution", "load", "resume", "solve"]

_EVAL_SEED = 2**31 - 1  # fixed sample for residual/violation reports, independent of the run seed


@dataclass(frozen=True)
class RunResult:
    """What :func:`solve` returns: the report, the training history and the trained model."""

    report: Report
    history: list[dict[str, Any]]
    model: torch.nn.Module
    config: RunConfig
    out: Path | None

    @property
    def metrics(self) -> dict[str, Any]:
        r = self.report
        return {"rel_l2": r.rel_l2, "max_abs_error": r.max_abs_error, "constraint_violation": r.constraint_violation,
                "residual_rms": r.residual_rms, "final_loss": r.final_loss, "wall_time_s": r.wall_time_s}

    @property
    def status(self) -> str:
        return self.report.status


def _predict(model: torch.nn.Module, points: np.ndarray, runtime: Runtime) -> np.ndarray:
    with torch.no_grad():
        return model(runtime.tensor(points)).double().cpu().numpy()


def _evaluator(problem: Problem, runtime: Runtime):
    if problem.reference is None:
        return None
    ref = problem.reference

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        pred = _predict(model, ref.points, runtime)
        return {"rel_l2": rel_l2(pred, ref.values), "max_abs_error": max_abs_error(pred, ref.values)}

    return evaluate


def _residual_rms(b: Built) -> dict[str, float]:
    """RMS residual of every condition (hard ones included) on a fixed evaluation sample."""
    gen = torch.Generator(device=b.runtime.device).manual_seed(_EVAL_SEED)
    out = {}
    for name, cond in b.problem.conditions.items():
        n = b.problem.sizes.get(name, 1000)
        batch = cond.sample(b.problem.domain, n, generator=gen, dtype=b.dtype)
        r = cond.residual(b.model, batch, b.params).detach()
        out[name] = float(r.pow(2).mean().sqrt())
    return out


def _violations(b: Built) -> dict[str, dict[str, float]]:
    """Max and RMS residual of every non-PDE condition on the training points (the sampler's
    current set) and on the fixed evaluation sample of :func:`_residual_rms`."""
    train = b.sampler.points
    gen = torch.Generator(device=b.runtime.device).manual_seed(_EVAL_SEED)
    out: dict[str, dict[str, float]] = {}
    for name, cond in b.problem.conditions.items():
        # Same draw order as _residual_rms, so the evaluation points are the same ones.
        ev = cond.sample(b.problem.domain, b.problem.sizes.get(name, 1000), generator=gen, dtype=b.dtype)
        if cond.kind == "interior":
            continue
        row = {}
        for tag, batch in (("train", train.get(name)), ("eval", ev)):
            if batch is None:  # hard conditions are not sampled for training
                continue
            r = cond.residual(b.model, batch, b.params).detach()
            row[f"{tag}_max"] = float(r.abs().max())
            row[f"{tag}_rms"] = float(r.pow(2).mean().sqrt())
        out[name] = row
    return out


def _unknowns(b: Built) -> dict[str, UnknownResult]:
    found = b.params.snapshot()
    return {k: UnknownResult.of(value=found[k], initial=float(u.initial), truth=u.truth, parametrisation=u.describe())
            for k, u in b.problem.unknowns.items()}


def _field_values(b: Built) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Each unknown field, learned and true (``None`` without a truth), on the reference points."""
    ref = b.problem.reference
    if ref is None:
        return {}
    x = b.runtime.tensor(ref.points)
    out = {}
    with torch.no_grad():
        for k, spec in b.problem.fields.items():
            learned = b.params[k](x).reshape(-1).double().cpu().numpy()
            truth = None if spec.truth is None else spec.truth(x).reshape(-1).double().cpu().numpy()
            out[k] = (learned, truth)
    return out


def _fields(values: dict[str, tuple[np.ndarray, np.ndarray | None]], b: Built) -> dict[str, FieldResult]:
    return {k: FieldResult(rel_l2=None if truth is None else rel_l2(learned[:, None], truth[:, None]),
                           min=float(learned.min()), max=float(learned.max()), points=int(learned.size),
                           parametrisation=b.problem.fields[k].describe())
            for k, (learned, truth) in values.items()}


def _data_misfit(b: Built) -> dict[str, DataMisfit]:
    """RMS misfit over *all* observations of every Data condition (batched ones included)."""
    out = {}
    for name, cond in b.problem.conditions.items():
        if not isinstance(cond, Data):
            continue
        gen = torch.Generator(device=b.runtime.device).manual_seed(_EVAL_SEED)
        every = dataclasses.replace(cond, batch=None)
        with torch.no_grad():
            r = every.residual(b.model, every.sample(b.problem.domain, 0, generator=gen, dtype=b.dtype), b.params)
        rms = float(r.pow(2).mean().sqrt())
        ratio = rms / cond.noise if cond.noise else None
        out[name] = DataMisfit(rms=rms, noise=cond.noise, ratio=ratio, observations=int(r.shape[0]))
    return out


def _report(b: Built, cfg: RunConfig, fit: FitResult, out: Path | None, problem_label: str) -> Report:
    metrics = _evaluator(b.problem, b.runtime)(b.model) if b.problem.reference is not None else {}
    if (ref := b.problem.reference) is not None:  # time steps: the last input column of a space-time problem
        times = ref.points[:, -1] if isinstance(b.problem.domain, SpaceTime) else None
        metrics |= comparable_metrics(_predict(b.model, ref.points, b.runtime), ref.values, times=times)
    residuals = _residual_rms(b)
    violations = {k: v for k, v in residuals.items() if b.problem.conditions[k].kind != "interior"}
    plots: list[str] = []
    fields = _field_values(b)
    if out is not None:
        ref = b.problem.reference
        if ref is not None:
            p = plot_solution(points=ref.points, reference=ref.values[:, 0],
                              prediction=_predict(b.model, ref.points, b.runtime)[:, 0],
                              grid_shape=ref.grid_shape, input_names=b.problem.input_names,
                              output_name=b.problem.output_names[0], path=out / "solution.png")
            plots += [p.name] if p is not None else []
        p = plot_training(fit.history, out / "training.png")
        plots += [p.name] if p is not None else []
        p = plot_unknowns(fit.history, {k: u.truth for k, u in b.problem.unknowns.items()}, out / "unknowns.png")
        plots += [p.name] if p is not None else []
        for k, (learned, truth) in fields.items():  # the learned field against its truth
            if truth is not None and ref is not None:
                p = plot_solution(points=ref.points, reference=truth, prediction=learned, grid_shape=ref.grid_shape,
                                  input_names=b.problem.input_names, output_name=k,
                                  path=out / ("field.png" if len(fields) == 1 else f"field_{k}.png"))
                plots += [p.name] if p is not None else []
    return Report(
        problem=problem_label, optimizer=cfg.optim.name, constraints=cfg.constraints, steps=fit.steps,
        wall_time_s=round(fit.wall_time_s, 3), cpu_time_s=round(fit.cpu_time_s, 3), rel_l2=metrics.get("rel_l2"),
        max_abs_error=metrics.get("max_abs_error"),
        l1_rel=metrics.get("l1_rel"), mse=metrics.get("mse"), nrmse=metrics.get("nrmse"),
        constraint_violation=violations, residual_rms=residuals, status=fit.status, message=fit.message,
        seed=cfg.seed, dtype=cfg.dtype, final_loss=fit.final.get("loss"), versions=versions(),
        config=to_dict(cfg), plots=plots,
        multipliers={k: v for k, v in b.objective.stats().items()
                     if k.startswith(("multiplier/", "multiplier_max/", "penalty/"))},
        roles={k: r.kind for k, r in b.objective.roles.items()}, violations=_violations(b),
        trainable=b.params.snapshot(), unknowns=_unknowns(b), data_misfit=_data_misfit(b),
        fields=_fields(fields, b), switches=list(fit.switches),
    )


def _run(cfg: RunConfig, b: Built, out: Path | None, *, state: dict[str, Any] | None,
         progress: TextIO | None, callbacks: Sequence[Callback] = ()) -> RunResult:
    callbacks = list(callbacks)
    checkpointer = None
    if not b.runtime.is_main:
        out = None  # files (run directory, metrics, checkpoints, plots) are written by rank 0 alone
    if out is not None:
        try:
            made, checkpointer = run_directory_callbacks(out, state=state, extra={"config": to_dict(cfg)},
                                                         every=cfg.checkpoint_every, tensorboard=cfg.tensorboard)
        except ValueError as err:  # the optional tensorboard package is missing: bad input, exit status 2
            raise ConfigError(f"tensorboard = true: {err}") from None
        callbacks += made
    if progress is not None and b.runtime.is_main:
        callbacks.append(ProgressBar(total=cfg.steps, stream=progress))
    trainer = Trainer(
        model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
        make_optimizer=make_optimizer, params=b.params, steps=cfg.steps,
        time_budget=cfg.time_budget or None, budget_clock=cfg.budget_clock, evaluator=_evaluator(b.problem, b.runtime),
        eval_every=cfg.eval_every, log_every=cfg.log_every, callbacks=callbacks, runtime=b.runtime,
    )
    solver = method_spec(cfg.method).solver  # a method with its own loop (INSR) instead of the Trainer
    if solver is not None and state is not None:
        raise ConfigError(f"method {cfg.method!r} runs its own loop and cannot be resumed; run it again")
    if state is not None:
        trainer.load_state_dict(state)
    elif checkpointer is not None:
        checkpointer.save(trainer)  # step 0: a run that diverges at once still has a good checkpoint
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(resolve_threads(cfg.threads, world_size=b.runtime.world_size))
    try:
        if solver is not None:
            model, fit = solver(b, cfg)
            b = dataclasses.replace(b, model=model)
        else:
            fit = trainer.run()
        report = _report(b, cfg, fit, out, cfg.problem)
    finally:
        torch.set_num_threads(previous_threads)
    if out is not None:
        report.save(out)
    return RunResult(report=report, history=fit.history, model=b.model, config=cfg, out=out)


def solve(
    problem: str | Problem = "burgers",
    *,
    optimizer: str | None = None,
    constraints: str | None = None,
    method: str | None = None,
    steps: int | None = None,
    time_budget: float | None = None,
    seed: int | None = None,
    dtype: str | None = None,
    device: str | None = None,
    out: str | Path | None = None,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    progress: TextIO | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Train ``problem`` (a zoo name, ``file.py:factory``, or a :class:`Problem`) and report.

    With ``out`` the run directory gets ``config.toml``, ``metrics.jsonl``, ``checkpoint.pt``,
    ``report.json``, ``report.md`` and PNG plots. ``progress`` is a stream for the progress bar
    (e.g. ``sys.stderr``); ``None`` trains silently. ``callbacks`` are extra
    :class:`physopt.training.Callback` objects (``on_record``, ``on_step``, ``on_end``).

    Example::

        result = physopt.solve("burgers", steps=3000, seed=0)
        result.metrics["rel_l2"]
    """
    obj = problem if isinstance(problem, Problem) else None
    name = obj.name if obj is not None else str(problem)
    spec = name
    if obj is None and is_problem_file(name):
        path, factory = name.rsplit(":", 1)
        spec = f"{Path(path).expanduser().resolve()}:{factory}"  # resumable from any directory
    flags = {"optim.name": optimizer, "constraints": constraints, "method": method, "steps": steps,
             "time_budget": time_budget, "seed": seed, "dtype": dtype, "device": device,
             "in_memory": True if obj is not None else None}
    cfg = resolve(spec, config_file=config, flags=flags, overrides=list(overrides))
    rank, world = process_group_ranks()
    if world > 1 and not cfg.sampler.shards:  # recorded, so a resume on any divisor of it draws the same points
        cfg = dataclasses.replace(cfg, sampler=dataclasses.replace(cfg.sampler, shards=world))
    # threads = 0: the idle cores now; recorded, so a resume computes with the same count
    cfg = dataclasses.replace(cfg, threads=resolve_threads(cfg.threads, world_size=world))
    b = build(cfg, obj if obj is not None else load_problem(spec, cfg.problem_options),
              runtime=make_runtime(cfg, rank=rank, world_size=world))
    out_dir = None
    if out is not None:
        out_dir = Path(out)
    if out_dir is not None and b.runtime.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.toml").write_text(dumps_toml(to_dict(cfg)))
        if obj is not None and progress is not None:  # said at solve time, not discovered at resume time
            progress.write(f"physopt: {name!r} is an in-memory Problem; reopen {out_dir} with "
                           "physopt.load(dir, problem=...) or physopt.resume(dir, problem=...)\n")
    return _run(cfg, b, out_dir, state=None, progress=progress, callbacks=callbacks)


def _read_run(directory: str | Path, device: str | None = None) -> tuple[Path, RunConfig, dict[str, Any]]:
    d = Path(directory)
    if not (d / "config.toml").is_file() or not (d / "checkpoint.pt").is_file():
        raise ConfigError(f"{d} is not a physopt run directory (needs config.toml and checkpoint.pt)")
    data = read_toml(d / "config.toml")
    if device is not None:
        data["device"] = device  # resume or load on another device than the run started on
    cfg = from_dict(data)
    try:
        ckpt = torch.load(d / "checkpoint.pt", map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: one clear line, not a traceback
        raise ConfigError(f"cannot read checkpoint {d / 'checkpoint.pt'}: {err}") from err
    return d, cfg, ckpt


def _problem_of(cfg: RunConfig, directory: Path, problem: Problem | None) -> Problem | None:
    """The problem to rebuild a run with: the given one for a run started from an in-memory
    :class:`Problem` (whose functions a run directory cannot store), else the config's own."""
    if cfg.in_memory and problem is None:
        raise ConfigError(f"{directory} was started from the in-memory Problem {cfg.problem!r}, which a run directory "
                          "cannot store; pass it again: physopt.load(dir, problem=p) / physopt.resume(dir, problem=p)")
    if problem is not None and problem.name != cfg.problem:
        raise ConfigError(f"{directory} was run on problem {cfg.problem!r}, got problem {problem.name!r}")
    return problem


def resume(directory: str | Path, *, problem: Problem | None = None, device: str | None = None,
           progress: TextIO | None = None, callbacks: Sequence[Callback] = ()) -> RunResult | LearnResult:
    """Continue a run (``solve`` or ``learn``) from its checkpoint; the result equals an uninterrupted run's.

    ``problem`` is needed (and only allowed to name the run's problem) for a run started from an
    in-memory :class:`Problem`; ``device`` continues on another device than the run started on.
    """
    if is_learn_run(directory):
        if problem is not None:
            raise ConfigError(f"{directory} is an operator run (physopt learn); it takes no problem")
        return resume_learn(directory, device=device, progress=progress, callbacks=callbacks)
    d, cfg, ckpt = _read_run(directory, device)
    rank, world = process_group_ranks()
    shards = cfg.sampler.shards or 1
    if world != shards and shards % world:
        raise ConfigError(f"{d} holds the points of {shards} sampling shard(s) (sampler.shards); resume it on a "
                          f"number of processes that divides {shards}, not {world}")
    if world != shards and rank == 0 and progress is not None:
        progress.write(f"physopt: {d} was trained on {shards} shard(s); resuming on {world} process(es), each drawing "
                       f"{shards // world} of them: the same points and multipliers, equal up to the order of "
                       "floating-point sums\n")
    b = build(cfg, _problem_of(cfg, d, problem), runtime=make_runtime(cfg, rank=rank, world_size=world))
    return _run(cfg, b, d, state=ckpt["trainer"], progress=progress, callbacks=callbacks)


class Solution:
    """A trained model loaded from a run directory (see :func:`load`)."""

    def __init__(self, model: torch.nn.Module, problem: Problem, config: RunConfig, report: Report | None,
                 runtime: Runtime) -> None:
        self.model, self.problem, self.config, self.report, self._runtime = model, problem, config, report, runtime

    def predict(self, points: np.ndarray) -> np.ndarray:
        """Evaluate the model: NumPy ``(n, input_dim)`` → ``(n, output_dim)`` (float64)."""
        x = np.asarray(points, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.problem.input_dim:
            raise ValueError(f"points must have shape (n, {self.problem.input_dim}), got {x.shape}")
        return _predict(self.model, x, self._runtime)


def load(directory: str | Path, *, problem: Problem | None = None,
         device: str | None = None) -> Solution | OperatorSolution:
    """Load a finished (or checkpointed) run: ``load(dir).predict(points)``, ``load(dir).report``.

    An operator run (``physopt learn``) gives an :class:`OperatorSolution`, whose ``predict`` maps
    ``(n, C_in, *grid)`` to ``(n, C_out, *grid)``.

    ``problem`` as for :func:`resume` (runs started from an in-memory :class:`Problem`).
    """
    if is_learn_run(directory):
        if problem is not None:
            raise ConfigError(f"{directory} is an operator run (physopt learn); it takes no problem")
        return load_learn(directory, device=device)
    d, cfg, ckpt = _read_run(directory, device)
    b = build(cfg, _problem_of(cfg, d, problem))
    b.model.load_state_dict(ckpt["trainer"]["model"])
    b.model.eval()
    report = Report.from_dict(json.loads((d / "report.json").read_text())) if (d / "report.json").is_file() else None
    return Solution(b.model, b.problem, cfg, report, b.runtime)
