"""Screen Burgers recipe candidates: ``physopt.solve("burgers")`` on its defaults plus ``--set`` overrides.

    python benchmarks/burgers_screen.py --tag default --out bench-out/burgers-screen
    python benchmarks/burgers_screen.py --tag rad500 --set sampler.method=rad --set sampler.resample_every=500
    python benchmarks/burgers_screen.py --out bench-out/burgers-screen --report

One run per call, one torch thread (run them one at a time on a busy machine). Each row, appended to
``OUT/results.jsonl``, gives the final relative L2 error, the best error on the curve (evaluated every
``--eval-every`` steps), the run's process CPU time and the CPU time at which the curve first reaches
5e-3 (DeepXDE's median final error in docs/benchmarks.md), 1e-5 and 1e-6. docs/benchmarks.md ("What we
tried") prints the table of ``--report``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import physopt

TARGETS = (5e-3, 1e-5, 1e-6)


def first_time(curve: list[tuple[float, float]], target: float) -> float | None:
    """CPU seconds at which the error curve first reaches ``target`` (None if never)."""
    return next((t for t, e in curve if e <= target), None)


def run(seed: int, extra: list[str], tag: str, eval_every: int, out: Path) -> dict:
    res = physopt.solve("burgers", seed=seed, out=out / f"{tag}-seed{seed}",
                        overrides=["threads=1", f"eval_every={eval_every}", *extra])
    curve = [(h["cpu_time_s"], h["rel_l2"]) for h in res.history if "rel_l2" in h]
    rep = res.report
    return {"tag": tag, "set": extra, "seed": seed, "rel_l2": rep.rel_l2, "best": min(e for _, e in curve),
            "steps": rep.steps, "cpu_s": round(rep.cpu_time_s, 1), "status": rep.status,
            **{f"cpu_to_{t:.0e}": first_time(curve, t) for t in TARGETS}}


def report(out: Path) -> None:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]

    def f(v, spec):
        return "–" if v is None else format(v, spec)

    print("| variant | overrides | seed | rel. L2 (final) | best | CPU [s] | CPU s → 5e-3 | → 1e-5 | → 1e-6 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sets = " ".join(f"`{s}`" for s in r["set"]) or "(defaults)"
        print(f"| {r['tag']} | {sets} | {r['seed']} | {r['rel_l2']:.2e} | {r['best']:.2e} | {r['cpu_s']:.0f} | "
              + " | ".join(f(r[f"cpu_to_{t:.0e}"], ".0f") for t in TARGETS) + " |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", dest="extra", action="append", default=[], help="key=value on top of the defaults")
    ap.add_argument("--tag", default="default", help="name of the variant in the table")
    ap.add_argument("--eval-every", type=int, default=100, help="steps between error evaluations (the curve)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/burgers-screen"))
    ap.add_argument("--report", action="store_true", help="print the table of OUT/results.jsonl and exit")
    args = ap.parse_args(argv)
    if args.report:
        report(args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    row = run(args.seed, args.extra, args.tag, args.eval_every, args.out)
    print(json.dumps(row), flush=True)
    with open(args.out / "results.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
