"""The panel of users' own problems on the generic recipe (docs/benchmarks.md, "Users' own problems").

Each file in ``benchmarks/user_panel/`` is written as a user would write a problem (public API
only, no zoo code). Every run is ``physopt solve FILE:make`` on its defaults (plus
``threads = 1`` so CPU time is the run's own compute time); results are appended to
``OUT/results.jsonl`` so the panel can be run one problem at a time on a busy machine, and
``--report`` prints the table from that file.

    python benchmarks/user_panel.py --out bench-out/user-panel                 # every problem, seed 0
    python benchmarks/user_panel.py --problems lshape,oscillator --seeds 0,1 --out bench-out/user-panel
    python benchmarks/user_panel.py --old-generic --budget 30 --problems large_scale --out bench-out/user-panel
    python benchmarks/user_panel.py --out bench-out/user-panel --report

Goal (issue 20): relative L2 ≤ 1e-3 where a reference exists, every unknown within 1 %, in
≤ 10 CPU minutes. ``poisson_holes`` has no reference (PINNacle's FEM data are not shipped); its
row gives the RMS boundary violation and PDE residual instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import physopt

PANEL_DIR = Path(__file__).resolve().parent / "user_panel"
# name: what the problem exercises (the list of user-style features)
PANEL = {
    "bvp_1d": "1-D, non-zero Dirichlet",
    "lshape": "2-D non-convex polygon (penalty BC)",
    "poisson_3d": "3-D",
    "mixed_bc": "mixed Dirichlet / Neumann",
    "heat_neumann": "time-dependent, Neumann walls",
    "coupled_system": "system of 2 PDEs",
    "oscillator": "ODE system, 3 periods",
    "inverse_reaction": "inverse, 2 unknown scalars",
    "large_scale": "x on [0, 100], u ≈ 30",
    "poisson_holes": "PINNacle plate with 4 holes (CSG, user ansatz)",
    "wave_1d": "second order in time",
}
GOAL_L2, GOAL_UNKNOWN, GOAL_CPU = 1e-3, 1e-2, 600.0


# The plan every problem file ran before the generic recipe: 8x20 tanh MLP, Adam only, penalties,
# uniform points (the RunConfig field defaults) -- the peer the recipe is measured against.
OLD_GENERIC = ["optim.name=adam", "constraints=penalty", "model.width=20", "model.depth=8",
               "model.scale_outputs=false", "sampler.method=uniform", "steps=10000", "eval_every=500"]


def run_one(name: str, seed: int, out: Path, budget: float, extra: list[str], tag: str) -> dict:
    spec = f"{PANEL_DIR / (name + '.py')}:make"
    overrides = ["threads=1", "budget_clock=cpu", *extra]
    t0 = time.process_time()
    res = physopt.solve(spec, seed=seed, time_budget=budget or None, overrides=overrides,
                        out=out / f"{name}-{tag}-seed{seed}-b{budget:g}")
    cpu = time.process_time() - t0
    rep = res.report
    unknowns = {k: u.rel_error for k, u in rep.unknowns.items()}
    return {"problem": name, "seed": seed, "rel_l2": rep.rel_l2, "unknowns": unknowns, "steps": rep.steps,
            "cpu_s": round(cpu, 1), "status": rep.status, "constraints": res.config.constraints,
            "roles": {k: str(v) for k, v in rep.roles.items()}, "violation": rep.constraint_violation,
            "residual_rms": rep.residual_rms, "budget": budget, "tag": tag}


def _met(r: dict) -> str:
    ok_l2 = r["rel_l2"] is None or r["rel_l2"] <= GOAL_L2
    ok_u = all(e is not None and e <= GOAL_UNKNOWN for e in r["unknowns"].values())
    if r["rel_l2"] is None and not r["unknowns"]:
        return "n/a (no reference)"
    return "yes" if ok_l2 and ok_u and r["cpu_s"] <= GOAL_CPU else "no"


def report(out: Path) -> None:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    print("| problem | exercises | variant | seed | budget [CPU s] | rel. L2 | unknowns (rel. error) | steps | CPU [s] "
          "| hard data | goal met |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    order = {n: i for i, n in enumerate(PANEL)}
    for r in sorted(rows, key=lambda r: (order.get(r["problem"], 99), r.get("tag", "default"), r["seed"], r["budget"])):
        l2 = f"{r['rel_l2']:.2e}" if r["rel_l2"] is not None else (
            "– (bc RMS " + ", ".join(f"{v:.1e}" for v in r["violation"].values())
            + f"; PDE residual RMS {r['residual_rms'].get('pde', float('nan')):.1e})")
        unk = ", ".join(f"{k} {e:.1e}" for k, e in r["unknowns"].items()) or "–"
        hard = ", ".join(k for k, v in r["roles"].items() if "hard" in v) or "none"
        budget = f"{r['budget']:.0f}" if r["budget"] else "none"
        print(f"| {r['problem']} | {PANEL.get(r['problem'], '')} | {r.get('tag', 'default')} | {r['seed']} | "
              f"{budget} | {l2} | {unk} | {r['steps']} | "
              f"{r['cpu_s']:.0f} | {hard} | {_met(r)} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", default=",".join(PANEL), help="comma-separated panel names")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--budget", type=float, default=0.0, help="CPU-second budget per run (0: the defaults' steps)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/user-panel"))
    ap.add_argument("--set", dest="extra", action="append", default=[], help="key=value on top of the defaults")
    ap.add_argument("--old-generic", action="store_true", help="run the pre-recipe plan (OLD_GENERIC) instead")
    ap.add_argument("--tag", default="", help="name of the variant in the table (default: default / old generic)")
    ap.add_argument("--report", action="store_true", help="print the table from OUT/results.jsonl and stop")
    args = ap.parse_args(argv)
    if args.report:
        report(args.out)
        return
    names = [n.strip() for n in args.problems.split(",") if n.strip()]
    unknown = sorted(set(names) - set(PANEL))
    if unknown:
        ap.error(f"unknown panel problems {unknown}; choose from {', '.join(PANEL)}")
    args.out.mkdir(parents=True, exist_ok=True)
    extra = [*(OLD_GENERIC if args.old_generic else []), *args.extra]
    tag = args.tag or ("old-generic" if args.old_generic else "default")
    for name in names:
        for seed in (int(s) for s in args.seeds.split(",")):
            row = run_one(name, seed, args.out, args.budget, extra, tag)
            with (args.out / "results.jsonl").open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), file=sys.stderr, flush=True)
    report(args.out)


if __name__ == "__main__":
    main()
