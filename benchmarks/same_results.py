"""Same results before and after a refactor: a fixed set of short runs, recorded and compared.

Every zoo problem at 200 steps on its default recipe (a chain switches at step 100, so both phases
run), every optimizer on poisson2d at 100 steps, every constraint mode and seed method on a small
problem. ``record`` writes each run's report metrics and full training history (clock columns
dropped) to JSON; ``compare`` says, run by run, whether two recordings are bit-identical and where
they differ.

    python benchmarks/same_results.py record --out bench-out/same/before.json
    PYTHONPATH=/path/to/old/checkout/src python benchmarks/same_results.py record --out old.json
    python benchmarks/same_results.py compare old.json bench-out/same/after.json

Runs go through the public :func:`physopt.solve` only, so one script records both versions.
docs/data/same_results_c1d63ba.json is the recording of c1d63ba (before the issue-14 refactor);
against it the refactored engine gives 50 of 54 runs bit-identical: SDGD + ENGD now runs (it
raised before), and the three runs that diverge (amsgd, sgd, sgdp on poisson2d) stop at the
check after the first non-finite step instead of at that step, so their report evaluates NaN
parameters (status, first bad step and history unchanged).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import physopt
from physopt import optim, problems

_CLOCKS = ("wall_time_s", "cpu_time_s")
_SMALL = ("model.width=10", "model.depth=3")


@dataclass(frozen=True)
class Case:
    """One run: ``physopt.solve(problem, steps=steps, overrides=sets, **flags)``."""

    key: str
    problem: str
    steps: int
    sets: tuple[str, ...] = ()
    flags: dict[str, Any] = field(default_factory=dict)


def cases() -> list[Case]:
    out = [Case(f"zoo/{name}", name, 200, ("optim.switch_at=100", "eval_every=100", "log_every=50"))
           for name in problems.available()]
    out += [Case(f"optim/{name}", "poisson2d", 100, ("eval_every=50", "log_every=25"), {"optimizer": name})
            for name in optim.available()]
    small = (*_SMALL, "sampler.sizes.pde=500", "sampler.sizes.bc=100", "sampler.sizes.ic=100",
             "optim.switch_at=50", "eval_every=50", "log_every=25")
    for mode in ("penalty", "hard", "lagrangian", "alm"):
        out.append(Case(f"constraints/burgers-{mode}", "burgers", 100, small, {"constraints": mode}))
    out.append(Case("constraints/burgers-roles", "burgers", 100, (*small, "roles.bc=alm"),
                    {"constraints": "penalty"}))
    out.append(Case("constraints/diffusion-reaction-hard-moe", "diffusion-reaction", 60,
                    ("eval_every=30", "log_every=20"), {"constraints": "hard-moe"}))
    short = ("eval_every=50", "log_every=25")
    out += [
        Case("method/lpinn-convection", "convection", 100, (*_SMALL, *short), {"method": "lpinn"}),
        Case("method/ritz-poisson2d", "poisson2d", 100, short, {"method": "ritz", "optimizer": "adam"}),
        Case("method/wos-poisson2d", "poisson2d", 60, (*short, "wos.walks=20"), {"method": "wos", "optimizer": "adam"}),
        Case("method/sdgd-poisson-nd", "poisson-nd", 100, (*short, "problem.dim=10", "sdgd.dims=2")),
        Case("method/sdgd-engd-poisson-nd", "poisson-nd", 30,
             ("eval_every=10", "log_every=10", "problem.dim=10", "sdgd.dims=2", "sampler.sizes.pde=50",
              "model.width=16", "model.depth=2"),
             {"optimizer": "engd"}),
        Case("method/causal-allen-cahn", "allen-cahn", 100,
             (*short, "causal.epsilon=1.0", "sampler.method=sobol", "sampler.resample_every=0"),
             {"optimizer": "adam"}),
        Case("method/rad-poisson2d", "poisson2d", 100,
             (*short, "sampler.method=rad", "sampler.resample_every=40", "sampler.candidates=4000")),
        Case("method/rar-poisson2d", "poisson2d", 100,
             (*short, "sampler.method=rar", "sampler.resample_every=40", "sampler.candidates=4000")),
        Case("method/resample-burgers", "burgers", 100, (*small, "sampler.resample_every=30")),
        Case("dtype/burgers-float32", "burgers", 100, small, {"dtype": "float32"}),
    ]
    return out


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _CLOCKS}


def run_case(case: Case) -> dict[str, Any]:
    """The comparable outcome of one case: metrics and history, or the error it raised."""
    torch.manual_seed(0)  # nothing should depend on it; a leak would show up as a difference
    try:
        res = physopt.solve(case.problem, steps=case.steps, overrides=list(case.sets), **case.flags)
    except Exception as err:  # recorded, not raised: a failure before must stay visible after
        return {"error": f"{type(err).__name__}: {err}"}
    r = res.report
    return {
        "status": r.status, "steps": r.steps, "rel_l2": r.rel_l2, "max_abs_error": r.max_abs_error,
        "final_loss": r.final_loss, "residual_rms": r.residual_rms,
        "constraint_violation": r.constraint_violation, "trainable": r.trainable,
        "multipliers": r.multipliers, "history": [_clean(h) for h in res.history],
    }


def record(out: Path, only: list[str]) -> None:
    results: dict[str, Any] = {}
    for case in cases():
        if only and not any(case.key.startswith(p) for p in only):
            continue
        t0 = time.perf_counter()
        results[case.key] = run_case(case)
        tag = "error" if "error" in results[case.key] else "ok"
        print(f"{case.key:45s} {tag:5s} {time.perf_counter() - t0:6.1f} s", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"physopt": physopt.__file__, "runs": results}, indent=1, default=str))


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ (floats compared exactly; the relative gap is shown)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'first' if k in a else 'second'}" for k in sorted(set(a) ^ set(b))]
        for k in a.keys() & b.keys():
            out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return []
        return [f"{path}: {a!r} vs {b!r} (rel. {abs(a - b) / max(abs(a), abs(b), 1e-300):.1e})"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def compare(first: Path, second: Path) -> int:
    a, b = (json.loads(p.read_text())["runs"] for p in (first, second))
    same = 0
    for key in sorted(a.keys() | b.keys()):
        if key not in a or key not in b:
            print(f"{key}: only in {'first' if key in a else 'second'}")
            continue
        diffs = _diff(a[key], b[key])
        if not diffs:
            same += 1
            continue
        print(f"{key}: {len(diffs)} difference(s)")
        for d in diffs[:5]:
            print(f"    {d}")
    print(f"{same} of {len(a.keys() | b.keys())} runs bit-identical")
    return 0 if same == len(a.keys() | b.keys()) else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--only", nargs="*", default=[], help="key prefixes (e.g. zoo/ optim/adam)")
    c = sub.add_parser("compare")
    c.add_argument("first", type=Path)
    c.add_argument("second", type=Path)
    args = p.parse_args()
    if args.cmd == "record":
        record(args.out, args.only)
        return 0
    return compare(args.first, args.second)


if __name__ == "__main__":
    sys.exit(main())
