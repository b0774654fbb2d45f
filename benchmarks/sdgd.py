"""SDGD on poisson-nd: memory and CPU time per step against the full Laplacian, and training runs.

    OMP_NUM_THREADS=1 python benchmarks/sdgd.py memory [--dims 100 300 1000] [--k 10]
    OMP_NUM_THREADS=1 python benchmarks/sdgd.py train --dim 100 --k 10 --steps 3000 [--set key=value ...]

``memory``: one fresh subprocess per (d, mode) builds the run exactly as ``physopt solve poisson-nd
--constraints hard --set sdgd.dims=k`` would (4x128 tanh MLP as in the SDGD paper, hard ansatz, 100
points, float64, one thread) and measures one training step. What is honest on CPU (decided here):

- ``graph MB``: bytes of the distinct tensors autograd saves for the backward pass while the loss is
  built (``torch.autograd.graph.saved_tensors_hooks``, deduplicated by storage). Deterministic, and
  it is exactly the memory that grows with the number of second derivatives in the graph.
- ``peak RSS MB``: the process's high-water mark (``getrusage`` ``ru_maxrss``) over the first step
  (forward, backward, Adam update) minus the resident size just before it. Includes allocator
  slack and temporaries, so it is an upper bound; the first step sets the mark, hence one step.
- ``CPU s/step``: ``time.process_time`` per step over 3 further steps (one thread; CPU time, not wall
  time, because other processes share the machine).

``train``: ``physopt.solve`` with the SDGD paper's recipe (fresh 100 points and k dimensions per
step, Adam) and prints relative L2 error and CPU time; extra ``--set`` overrides pass through.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch


def _overrides(dim: int, k: int) -> list[str]:
    base = [f"problem.dim={dim}", "model.depth=3", "model.width=128", "sampler.sizes.pde=100", "threads=1"]
    # SDGD redraws dimensions with the points, so both runs draw fresh points every step.
    return base + ["sampler.resample_every=1"] + ([f"sdgd.dims={k}"] if k else [])


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def cell(dim: int, k: int) -> dict:
    from physopt.config import build, make_optimizer, resolve

    torch.set_num_threads(1)
    cfg = resolve("poisson-nd", flags={"constraints": "hard", "optim.name": "adam"}, overrides=_overrides(dim, k))
    b = build(cfg)
    opt = make_optimizer(b.phases[0], list(b.model.parameters()))

    def step(i: int) -> None:
        opt.zero_grad(set_to_none=True)
        terms, residuals = b.objective.terms(b.model, b.sampler.batch(i), b.params)
        b.objective.loss(terms, residuals).backward()
        opt.step()

    seen: dict = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        seen[(s.data_ptr(), t.dtype)] = s.nbytes()
        return t

    b.sampler.batch(0)
    # The step first: freed memory stays resident, so a pass before it would hide its peak.
    before = _rss_mb()
    step(0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    t0 = time.process_time()
    for i in range(1, 4):
        step(i)
    cpu = (time.process_time() - t0) / 3
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        terms, _ = b.objective.terms(b.model, b.sampler.batch(4), b.params)
    del terms
    graph_mb = sum(seen.values()) / 2**20
    return {"dim": dim, "k": k, "graph_mb": graph_mb, "peak_rss_delta_mb": peak - before,
            "cpu_s_per_step": cpu}


def memory(dims: list[int], k: int) -> None:
    rows = []
    for dim in dims:
        for kk in (0, k):
            out = subprocess.run([sys.executable, __file__, "cell", str(dim), str(kk)], capture_output=True, text=True,
                                 check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"d={r['dim']:5d} {'full' if not kk else f'SDGD k={kk}':>10}: graph {r['graph_mb']:8.1f} MB, "
                  f"peak RSS +{r['peak_rss_delta_mb']:8.1f} MB, {r['cpu_s_per_step']:.3f} CPU s/step", flush=True)
    print("| d | method | graph MB | peak RSS delta MB | CPU s/step |")
    print("|---|---|---|---|---|")
    for r in rows:
        name = "full Laplacian" if not r["k"] else f"SDGD k = {r['k']}"
        print(f"| {r['dim']} | {name} | {r['graph_mb']:.1f} | {r['peak_rss_delta_mb']:.1f} | {r['cpu_s_per_step']:.3f} |")


def train(dim: int, k: int, steps: int, extra: list[str]) -> None:
    import physopt

    t0 = time.process_time()
    r = physopt.solve("poisson-nd", constraints="hard", optimizer="adam", steps=steps, seed=0,
                      overrides=[*_overrides(dim, k), "eval_every=500", "log_every=500", *extra])
    cpu = time.process_time() - t0
    curve = [(h["step"], round(h["rel_l2"], 5)) for h in r.history if "rel_l2" in h]
    print(json.dumps({"dim": dim, "k": k, "steps": steps, "extra": extra, "rel_l2": r.metrics["rel_l2"],
                      "cpu_s": round(cpu, 1), "curve": curve}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "cell":
        print(json.dumps(cell(int(sys.argv[2]), int(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("memory")
    m.add_argument("--dims", type=int, nargs="+", default=[100, 300, 1000])
    m.add_argument("--k", type=int, default=10)
    t = sub.add_parser("train")
    t.add_argument("--dim", type=int, default=100)
    t.add_argument("--k", type=int, default=10)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--set", action="append", default=[], dest="extra")
    a = ap.parse_args()
    if a.cmd == "memory":
        memory(a.dims, a.k)
    else:
        train(a.dim, a.k, a.steps, a.extra)


if __name__ == "__main__":
    main()
