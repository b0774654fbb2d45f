"""One problem, four ways: penalty (weights 1, 10, 100, 1000), Lagrangian, ALM and hard constraints.

    python benchmarks/formulations.py --steps 1000 --seeds 0 1 2 \
        --problems burgers helmholtz2d quantum-well --out benchmarks/results/formulations.jsonl

Every cell (problem, formulation, seed) trains the same network (same seed: same initial weights
and points) with Adam for the same number of steps through ``physopt.solve`` with one thread, and
appends one JSON line to ``--out``; cells already in the file are skipped, so an interrupted run
continues where it stopped. At the end it prints the table (median over seeds of relative L2
error, worst constraint violation, eigenvalue error, CPU and wall time) and draws the multipliers
of the ``lagrangian``/``alm`` runs over training (``--plot``).

``--optimizer adam+lbfgs --switch-at 500`` runs the same cells with a quasi-Newton phase (the
multipliers are then updated once per L-BFGS step and held fixed during its line search; Cooper has
no such path, so its cell is skipped).

Formulations (the role of every non-PDE condition):

* ``penalty-w``: weighted mean square with weight ``w`` on every non-PDE condition;
* ``lagrangian`` / ``alm``: pointwise equality constraints, untuned defaults (``duals.penalty`` ρ
  and ``duals.dual_lr`` η of :class:`physopt.config.DualsConfig`);
* ``hard``: the problem's ansatz (for quantum-well only the boundary condition; the
  normalisation stays a unit-weight penalty), and ``hard+alm`` on quantum-well: hard boundary,
  ALM normalisation and sign;
* ``cooper-alm`` (Burgers): the same training with cooper-optim's ``AugmentedLagrangian``
  formulation, ``SimultaneousOptimizer`` (simultaneous descent–ascent, like physopt's first-order
  path), dense pointwise multipliers and the same ρ, η. Cooper sums the constraint terms where
  physopt's training roles average them (``reduction="mean"``), so the same method needs
  Cooper's ρ_c = ρ/n and η_c = η/n for n points (λ_cooper = λ_physopt / n).

Worst violation: max |r| over all non-PDE conditions on a fresh evaluation sample (1000 points
per condition from a fixed generator, the same for every run). Wall time is unreliable when other
processes share the cores; CPU time (``time.process_time``, one thread) is the comparable cost.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import physopt
from physopt.config import build, resolve
from physopt.evaluation import rel_l2

EVAL_SEED = 2**31 - 3
PROBLEMS: dict[str, list[str]] = {
    # Same network for all problems; point sets sized so that a step costs ~3-6 ms on one thread.
    "burgers": ["sampler.sizes.pde=500", "sampler.sizes.bc=100", "sampler.sizes.ic=100",
                "optim.first_sizes.pde=500"],
    "helmholtz2d": ["sampler.sizes.pde=600", "sampler.sizes.bc=200"],
    "quantum-well": [],
}
COMMON = ["model.width=20", "model.depth=4", "optim.lr=1e-3", "threads=1", "log_every=50", "eval_every=100000"]
WEIGHTS = (1, 10, 100, 1000)


def formulations(problem: str) -> list[str]:
    names = [f"penalty-{w}" for w in WEIGHTS] + ["lagrangian", "alm", "hard"]
    if problem == "quantum-well":
        names.append("hard+alm")
    if problem == "burgers":
        names.append("cooper-alm")
    return names


def run_config(problem: str, formulation: str, seed: int, steps: int) -> tuple[str, list[str]]:
    """``(constraints, overrides)`` for one cell."""
    conds = [k for k, c in physopt.problems.get(problem).conditions.items() if c.kind != "interior"]
    over = [*COMMON, *PROBLEMS[problem]]
    if formulation.startswith("penalty-"):
        w = formulation.split("-", 1)[1]
        return "penalty", over + [f"weights.{c}={w}" for c in conds]
    if formulation == "hard+alm":
        return "alm", over + ["roles.bc=hard"]
    if formulation == "cooper-alm":
        return "alm", over
    return formulation, over


def evaluate(problem, model: torch.nn.Module, params: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, Any]:
    ref = problem.reference
    with torch.no_grad():
        pred = model(torch.as_tensor(ref.points, dtype=dtype)).double().numpy()
    gen = torch.Generator().manual_seed(EVAL_SEED)
    viol = {}
    for name, cond in problem.conditions.items():
        if cond.kind == "interior":
            continue
        batch = cond.sample(problem.domain, 1000, generator=gen, dtype=dtype)
        viol[name] = float(cond.residual(model, batch, params).detach().abs().max())
    out: dict[str, Any] = {"rel_l2": rel_l2(pred, ref.values), "violation": viol,
                           "worst_violation": max(viol.values())}
    if "E" in params:
        out["E"] = float(params["E"].detach())
        out["E_rel_error"] = abs(out["E"] - math.pi**2) / math.pi**2
    return out


def _series(history: list[dict[str, Any]]) -> dict[str, list[float]]:
    keys = sorted({k for h in history for k in h if k.split("/")[0] in ("multiplier_max", "penalty", "violation")})
    out = {"step": [h["step"] for h in history]}
    out.update({k: [h.get(k, float("nan")) for h in history] for k in keys})
    return out


def run_physopt(problem: str, formulation: str, seed: int, steps: int, optimizer: str = "adam",
                switch_at: int = 0) -> dict[str, Any]:
    constraints, over = run_config(problem, formulation, seed, steps)
    if "+" in optimizer:
        over = [*over, f"optim.switch_at={switch_at}"]
    cpu, wall = time.process_time(), time.perf_counter()
    res = physopt.solve(problem, constraints=constraints, optimizer=optimizer, steps=steps, seed=seed, overrides=over)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    prob = physopt.problems.get(problem)
    dtype = torch.float64
    params = {k: torch.tensor(v, dtype=dtype) for k, v in prob.params.items()}
    params.update({k: torch.tensor(v, dtype=dtype) for k, v in res.report.trainable.items()})
    return {**evaluate(prob, res.model, params, dtype), "cpu_s": cpu, "wall_s": wall,
            "status": res.status, "roles": res.report.roles, "series": _series(res.history)}


def run_cooper(problem: str, seed: int, steps: int) -> dict[str, Any]:
    """Adam + cooper-optim's augmented Lagrangian on exactly the physopt ``alm`` cell's setup."""
    import cooper

    constraints, over = run_config(problem, "cooper-alm", seed, steps)
    flags = {"optim.name": "adam", "constraints": constraints, "steps": steps, "seed": seed}
    cfg = resolve(problem, flags=flags, overrides=over)  # exactly what physopt.solve resolves
    b = build(cfg)  # same network initialisation and points as physopt.solve with this config
    names = b.objective.constrained
    rho, eta = cfg.duals.penalty, cfg.duals.dual_lr
    batch = b.sampler.batch(0)
    sizes = {k: next(iter(batch[k].values())).shape[0] for k in names}
    torch.set_num_threads(1)

    class PINN(cooper.ConstrainedMinimizationProblem):
        def __init__(self) -> None:
            super().__init__()
            for k in names:
                n = sizes[k]
                setattr(self, k, cooper.Constraint(
                    constraint_type=cooper.ConstraintType.EQUALITY,
                    formulation_type=cooper.formulations.AugmentedLagrangian,
                    multiplier=cooper.multipliers.DenseMultiplier(num_constraints=n, dtype=torch.float64),
                    penalty_coefficient=cooper.penalty_coefficients.DensePenaltyCoefficient(
                        torch.tensor(rho / n, dtype=torch.float64)),
                ))

        def compute_cmp_state(self, model, batch) -> cooper.CMPState:
            squares, residuals = b.objective.terms(model, batch, b.params)
            loss = sum(b.objective.roles[k].weight * v for k, v in squares.items() if k not in names)
            observed = {getattr(self, k): cooper.ConstraintState(violation=residuals[k].reshape(-1)) for k in names}
            return cooper.CMPState(loss=loss, observed_constraints=observed)

    cmp = PINN()
    primal = torch.optim.Adam(b.model.parameters(), lr=cfg.optim.lr)
    dual = torch.optim.SGD(cmp.dual_parameters(), lr=eta / max(sizes.values()), maximize=True)
    if len(set(sizes.values())) != 1:  # one dual optimizer per constraint when sizes differ
        dual = [torch.optim.SGD(getattr(cmp, k).multiplier.parameters(), lr=eta / sizes[k], maximize=True)
                for k in names]
    opt = cooper.optim.SimultaneousOptimizer(cmp=cmp, primal_optimizers=primal, dual_optimizers=dual)
    history = []
    cpu, wall = time.process_time(), time.perf_counter()
    for step in range(steps):
        out = opt.roll(compute_cmp_state_kwargs={"model": b.model, "batch": batch})
        if (step + 1) % cfg.log_every == 0 or step + 1 == steps:
            rec = {"step": step + 1}
            for k in names:
                lam = getattr(cmp, k).multiplier.weight.detach() * sizes[k]  # in physopt's (mean) scale
                rec[f"multiplier_max/{k}"] = float(lam.abs().max())
                rec[f"penalty/{k}"] = rho
                viol = out.cmp_state.observed_constraints[getattr(cmp, k)].violation.detach()
                rec[f"violation/{k}"] = float(viol.abs().max())
            history.append(rec)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {**evaluate(b.problem, b.model, b.params, b.dtype), "cpu_s": cpu, "wall_s": wall, "status": "completed",
            "roles": {k: r.kind for k, r in b.objective.roles.items()}, "series": _series(history)}


def load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict[str, Any]], problems: list[str]) -> str:
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    lines = ["| problem | formulation | seeds | rel. L2 (median) | rel. L2 (min–max) | worst violation (median) "
             "| max violation per condition (median) | eigenvalue rel. error | CPU s | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in problems:
        for f in formulations(p):
            cell = [r for r in rows if r["problem"] == p and r["formulation"] == f]
            if not cell:
                continue
            l2 = [r["rel_l2"] for r in cell]
            e = [r["E_rel_error"] for r in cell if "E_rel_error" in r]
            per = ", ".join(f"{c} {med([r['violation'][c] for r in cell]):.0e}" for c in cell[0]["violation"])
            lines.append(
                f"| {p} | {f} | {len(cell)} | {med(l2):.2e} | {min(l2):.1e}–{max(l2):.1e} | "
                f"{med([r['worst_violation'] for r in cell]):.1e} | {per} | {f'{med(e):.1e}' if e else 'n/a'} | "
                f"{med([r['cpu_s'] for r in cell]):.0f} | {med([r['wall_s'] for r in cell]):.0f} |"
            )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], problems: list[str], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(problems), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(problems)))
    for ax, p in zip(axes, problems, strict=True):
        seed = min((r["seed"] for r in rows if r["problem"] == p), default=None)
        for i, f in enumerate(("lagrangian", "alm", "hard+alm", "cooper-alm")):
            r = next((r for r in rows if r["problem"] == p and r["formulation"] == f and r["seed"] == seed), None)
            if r is None:
                continue
            s = r["series"]
            for j, k in enumerate(sorted(k for k in s if k.startswith("multiplier_max/"))):
                ys = [abs(v) if v and math.isfinite(v) else float("nan") for v in s[k]]
                ax.semilogy(s["step"], ys, color=f"C{i}", ls=("-", "--", ":", "-.")[j % 4],
                            label=f"{f}: {k.split('/', 1)[1]}")
        ax.set_title(f"{p}: max |λ| per condition (seed {seed})")
        ax.set_xlabel("step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    ap.add_argument("--formulations", nargs="*", default=None, help="subset of formulations (default: all)")
    ap.add_argument("--optimizer", default="adam", help="e.g. adam+lbfgs (quasi-Newton phase; no cooper cell)")
    ap.add_argument("--switch-at", type=int, default=500, help="steps of the first optimizer of a chain")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/formulations.jsonl"))
    ap.add_argument("--plot", type=Path, default=Path("docs/img/formulations_multipliers.png"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    key = lambda r: (r["problem"], r["formulation"], r["seed"], r["steps"], r.get("optimizer", "adam"))  # noqa: E731
    done = {key(r) for r in load(args.out)}
    # Seed-major order: an interrupted run still has whole tables for the first seeds.
    for seed in args.seeds:
        for p in args.problems:
            for f in formulations(p):
                if args.formulations and f not in args.formulations:
                    continue
                if (p, f, seed, args.steps, args.optimizer) in done or (f == "cooper-alm" and args.optimizer != "adam"):
                    continue
                if f == "cooper-alm":
                    r = run_cooper(p, seed, args.steps)
                else:
                    r = run_physopt(p, f, seed, args.steps, args.optimizer, args.switch_at)
                row = {"problem": p, "formulation": f, "seed": seed, "steps": args.steps,
                       "optimizer": args.optimizer, **r}
                with args.out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(f"{p:13s} {f:11s} seed {seed}: rel L2 {r['rel_l2']:.3e}  worst violation "
                      f"{r['worst_violation']:.2e}  cpu {r['cpu_s']:.0f} s", flush=True)
    rows = [r for r in load(args.out) if r["steps"] == args.steps and r["seed"] in args.seeds
            and r.get("optimizer", "adam") == args.optimizer]
    print(f"\n{args.steps} steps of {args.optimizer}, seeds {args.seeds}\n")
    print(table(rows, args.problems))
    if args.plot:
        plot(rows, args.problems, args.plot)
        print(f"\nmultipliers: {args.plot}")


if __name__ == "__main__":
    main()
