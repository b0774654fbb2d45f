"""Zoo problems on their committed defaults (docs/benchmarks.md, "Zoo defaults"): ``physopt solve NAME``
with ``threads = 1``, per seed; ``--set`` screens a candidate recipe on top of the defaults.

    python benchmarks/zoo_defaults.py --problems convection,wave --seeds 0,1,2 --out bench-out/zoo
    python benchmarks/zoo_defaults.py --problems wave --seeds 0 --set causal.epsilon=1 --tag causal --out bench-out/zoo
    python benchmarks/zoo_defaults.py --out bench-out/zoo --report

Rows are appended to ``OUT/results.jsonl`` (one run at a time on a busy machine); ``cpu_s`` is this
process's CPU time for the run (one torch thread: the run's own compute).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import physopt


def run_one(name: str, seed: int, extra: list[str], tag: str) -> dict:
    t0 = time.process_time()
    res = physopt.solve(name, seed=seed, overrides=["threads=1", *extra])
    rep = res.report
    return {"problem": name, "tag": tag, "set": extra, "seed": seed, "rel_l2": rep.rel_l2, "steps": rep.steps,
            "cpu_s": round(time.process_time() - t0, 1), "status": rep.status,
            "recipe": f"{res.config.method}, {res.config.constraints}, {res.config.optim.name}"}


def report(out: Path) -> None:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["problem"], r["tag"]), []).append(r)
    print("| problem | variant | recipe | seeds | rel. L2 per seed | median | CPU [s] per seed |")
    print("|---|---|---|---|---|---|---|")
    for (name, tag), rs in groups.items():
        rs.sort(key=lambda r: r["seed"])
        errs = " / ".join(f"{r['rel_l2']:.2e}" for r in rs)
        cpus = " / ".join(f"{r['cpu_s']:.0f}" for r in rs)
        med = statistics.median(r["rel_l2"] for r in rs)
        print(f"| {name} | {tag} | {rs[0]['recipe']} | {','.join(str(r['seed']) for r in rs)} | {errs} | "
              f"{med:.2e} | {cpus} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", default="convection,convection-50,diffusion-reaction,wave,allen-cahn-nd,p-laplacian")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--set", dest="extra", action="append", default=[], help="key=value on top of the defaults")
    ap.add_argument("--tag", default="default", help="name of the variant in the table")
    ap.add_argument("--out", type=Path, default=Path("bench-out/zoo-defaults"))
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    if not args.report:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in (n.strip() for n in args.problems.split(",") if n.strip()):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = run_one(name, seed, args.extra, args.tag)
                with (args.out / "results.jsonl").open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps(row), file=sys.stderr, flush=True)
    report(args.out)


if __name__ == "__main__":
    main()
