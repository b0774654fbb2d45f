"""physopt's default Burgers run side by side with DeepXDE's classic Burgers example.

    python benchmarks/burgers_vs_deepxde.py [--seeds 3] [--threads 1] [--out bench-out/burgers]
    python benchmarks/burgers_vs_deepxde.py --deepxde-json docs/data/deepxde.json --clock cpu

DeepXDE (PyTorch backend, float64) runs its example as published (examples/pinn_forward/Burgers.py:
2540/80/160 points, FNN 2-20-20-20-1 tanh, Adam lr 1e-3 for 15000 iterations, then L-BFGS) in a
subprocess; physopt runs `physopt.solve("burgers")` on its defaults. Both are scored against the
same reference (exact Cole–Hopf solution on DeepXDE's 256 x 100 grid). The speed ratio is
(DeepXDE's time to its final error) / (physopt's time to reach the same error), read from physopt's
error-vs-time history.

``--deepxde-json FILE`` reuses DeepXDE's earlier measurement (the ``burgers`` rows, per seed, of a
records file such as docs/data/deepxde.json, written by benchmarks/deepxde_examples.py ``--burgers``)
instead of rerunning its ~400 s example: DeepXDE's float64 run is deterministic per seed, so only its
time is a new measurement. ``--clock cpu`` reads physopt's curve on its process CPU time (with one
thread the run's own compute, robust to other jobs on a shared machine) instead of wall time.

DeepXDE is an optional benchmark extra: install it without dependencies so it cannot pull another
torch build: `pip install --no-deps deepxde scikit-optimize && pip install scikit-learn pyaml`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

DEEPXDE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import torch
    torch.set_num_threads(int(sys.argv[1]))
    import deepxde as dde
    from physopt.problems import get
    dde.config.set_default_float("float64")
    dde.config.set_random_seed(int(sys.argv[2]))

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - 0.01 / np.pi * dy_xx

    geom = dde.geometry.Interval(-1, 1)
    timedomain = dde.geometry.TimeDomain(0, 0.99)
    geomtime = dde.geometry.GeometryXTime(geom, timedomain)
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    ref = get("burgers").reference
    t0 = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=15000, display_every=1000)
    t_adam = time.perf_counter() - t0
    err_adam = dde.metrics.l2_relative_error(ref.values, model.predict(ref.points))
    model.compile("L-BFGS")
    model.train(display_every=1000)
    wall = time.perf_counter() - t0
    err = dde.metrics.l2_relative_error(ref.values, model.predict(ref.points))
    print("RESULT " + json.dumps({"rel_l2": float(err), "wall_time_s": wall, "adam_rel_l2": float(err_adam),
                                  "adam_time_s": t_adam}))
    """
)


def run_deepxde(seed: int, threads: int) -> dict | None:
    env = {**os.environ, "DDE_BACKEND": "pytorch"}
    proc = subprocess.run([sys.executable, "-c", DEEPXDE_SCRIPT, str(threads), str(seed)],
                          capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"DeepXDE run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def reuse_deepxde(path: Path) -> dict[int, dict]:
    """DeepXDE's earlier Burgers rows of a records file, by seed (``--deepxde-json``)."""
    rows = [r for r in json.loads(path.read_text()) if r["problem"] == "burgers" and r["library"] == "deepxde"]
    if not rows:
        raise SystemExit(f"--deepxde-json {path}: no DeepXDE burgers rows")
    return {r["seed"]: {"rel_l2": r["rel_l2"], "wall_time_s": r["wall_time_s"], "reused": str(path)} for r in rows}


def run_physopt(seed: int, threads: int, out: Path, overrides: list[str], clock: str, reuse: bool) -> dict:
    """physopt's run of ``seed`` in ``out/physopt-seedS`` (read back from its report.json and
    metrics.jsonl when ``reuse`` and the run finished there, e.g. one seed per invocation)."""
    import physopt

    run_dir = out / f"physopt-seed{seed}"
    key = "cpu_time_s" if clock == "cpu" else "wall_time_s"
    if reuse and (run_dir / "report.json").exists():
        rep = json.loads((run_dir / "report.json").read_text())
        history = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
        summary = {k: rep[k] for k in ("rel_l2", "wall_time_s", "cpu_time_s", "status")}
    else:
        res = physopt.solve("burgers", seed=seed, out=run_dir,
                            overrides=[f"threads={threads}", "eval_every=100", *overrides])
        history = res.history
        summary = {"rel_l2": res.report.rel_l2, "wall_time_s": res.report.wall_time_s,
                   "cpu_time_s": res.report.cpu_time_s, "status": res.report.status}
    return summary | {"curve": [(h[key], h["rel_l2"]) for h in history if "rel_l2" in h]}


def time_to(curve: list[tuple[float, float]], target: float) -> float | None:
    for t, e in curve:
        if e <= target:
            return t
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed-list", default="", help="comma-separated seeds (instead of 0..SEEDS-1)")
    ap.add_argument("--reuse-physopt", action="store_true",
                    help="read physopt's finished runs in OUT/physopt-seedS instead of rerunning them")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="bench-out/burgers")
    ap.add_argument("--skip-deepxde", action="store_true")
    ap.add_argument("--deepxde-json", type=Path, default=None,
                    help="reuse DeepXDE's burgers rows of this records file instead of running it")
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="physopt's time axis: wall time or its process CPU time")
    ap.add_argument("--set", action="append", default=[], help="extra physopt config overrides")
    args = ap.parse_args()
    reused = reuse_deepxde(args.deepxde_json) if args.deepxde_json else {}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    seeds = [int(s) for s in args.seed_list.split(",")] if args.seed_list else list(range(args.seeds))
    for seed in seeds:
        p = run_physopt(seed, args.threads, out, args.set, args.clock, args.reuse_physopt)
        if args.deepxde_json:
            d = reused.get(seed)
        else:
            d = None if args.skip_deepxde else run_deepxde(seed, args.threads)
        row = {"seed": seed, "physopt": p, "deepxde": d}
        if d is not None:
            t = time_to(p["curve"], d["rel_l2"])
            row["physopt_time_to_deepxde_error_s"] = t
            row["speedup"] = None if t is None or t == 0 else d["wall_time_s"] / t
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "physopt"} | {
            "physopt": {k: v for k, v in p.items() if k != "curve"}}), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))

    tkey = "cpu_time_s" if args.clock == "cpu" else "wall_time_s"

    def med(vals):
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def f(v, spec):
        return "n/a" if v is None else format(v, spec)

    tcol = "physopt CPU [s]" if args.clock == "cpu" else "physopt time [s]"
    print(f"\n| seed | physopt rel. L2 | {tcol} | DeepXDE rel. L2 | DeepXDE time [s] | "
          "physopt time to DeepXDE's error [s] | speed ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        d = r["deepxde"] or {}
        print(f"| {r['seed']} | {f(r['physopt']['rel_l2'], '.2e')} | {f(r['physopt'][tkey], '.0f')} | "
              f"{f(d.get('rel_l2'), '.2e')} | {f(d.get('wall_time_s'), '.0f')} | "
              f"{f(r.get('physopt_time_to_deepxde_error_s'), '.1f')} | {f(r.get('speedup'), '.1f')}x |")
    print(f"| median | {f(med([r['physopt']['rel_l2'] for r in rows]), '.2e')} | "
          f"{f(med([r['physopt'][tkey] for r in rows]), '.0f')} | "
          f"{f(med([(r['deepxde'] or {}).get('rel_l2') for r in rows]), '.2e')} | "
          f"{f(med([(r['deepxde'] or {}).get('wall_time_s') for r in rows]), '.0f')} | "
          f"{f(med([r.get('physopt_time_to_deepxde_error_s') for r in rows]), '.1f')} | "
          f"{f(med([r.get('speedup') for r in rows]), '.1f')}x |")


if __name__ == "__main__":
    main()
