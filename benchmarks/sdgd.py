"""SDGD on poisson-nd: memory and CPU time per step against the full Laplacian, training runs, and
the accuracy a polynomial correction can reach (why Adam plateaus).

    OMP_NUM_THREADS=1 python benchmarks/sdgd.py memory [--dims 100 300 1000] [--k 10]
    OMP_NUM_THREADS=1 python benchmarks/sdgd.py source [--dim 1000] [--points 100]
    OMP_NUM_THREADS=1 python benchmarks/sdgd.py train --dim 100 --k 5 --steps 4000 [--seed 0] [--set key=value ...]
    OMP_NUM_THREADS=1 python benchmarks/sdgd.py floor [--dim 100] [--points 20000]

``memory``: one fresh subprocess per (d, mode) builds the run as ``physopt solve poisson-nd --set
sdgd.dims=k --optimizer adam`` would (4x128 tanh MLP as in the SDGD paper, hard ansatz, 100 points,
float64, one thread) and measures one training step. What is honest on CPU (decided here):

- ``graph MB``: bytes of the distinct tensors autograd saves for the backward pass while the loss is
  built (``torch.autograd.graph.saved_tensors_hooks``, deduplicated by storage). Deterministic, and
  it is exactly the memory that grows with the number of second derivatives in the graph.
- ``peak RSS MB``: the process's high-water mark (``getrusage`` ``ru_maxrss``) over the first step
  (forward, backward, Adam update) minus the resident size just before it. Includes allocator
  slack and temporaries, so it is an upper bound; the first step sets the mark, hence one step.
- ``CPU s/step``: ``time.process_time`` per step over 3 further steps (one thread; CPU time, not wall
  time, because other processes share the machine).

The memory cells pin Adam (lr 1e-3, constant), the optimizer the table in docs/methods.md was
measured with; the optimizer's state does not enter the autograd graph.

``train``: ``physopt.solve("poisson-nd")`` on its defaults (``PROBLEM_DEFAULTS["poisson-nd"]``: the
SDGD paper's 4x128 tanh net, hard ansatz and fresh 100 points and k dimensions per step, trained with
NorMuon) at the given dimension, k and seed; prints relative L2 error, CPU time and the error curve.
Extra ``--set`` overrides pass through (``--set optim.name=adam --set optim.lr=1e-3`` is the paper's
optimizer, with our exponential decay instead of their linear one).

``floor``: least-squares fits u ≈ (1 - ‖x‖²)·p(x) of the exact solution with p constant, affine, or
affine plus the squares x_i² and neighbour products x_i·x_{i+1} (the solution's pair terms), fitted
on half of ``--points`` points and scored (relative L2) on the other half, for two point
distributions: uniform in the ball (what poisson-nd trains and scores on; at d = 100 the radius is
U^{1/d} >= 0.9, a thin shell) and radius uniform in [0, 1] (what the SDGD paper's code samples for
training and test). A network that has learned only the affine part of p has the affine error.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

# The net, points and resampling of the SDGD paper (also poisson-nd's defaults, spelled out so the memory table
# does not move with them); SDGD redraws dimensions with the points, so both modes draw fresh points every step.
PAPER_SETUP = ["model.depth=3", "model.width=128", "sampler.sizes.pde=100", "sampler.resample_every=1"]
ADAM = ["optim.name=adam", "optim.lr=1e-3", "optim.schedule=constant", "optim.options={}"]


def _overrides(dim: int, k: int) -> list[str]:
    # k = 0 is the full Laplacian, set explicitly because poisson-nd's defaults switch SDGD on.
    return [f"problem.dim={dim}", "threads=1", f"sdgd.dims={k}"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def cell(dim: int, k: int) -> dict:
    from physopt.config import build, make_optimizer, resolve

    torch.set_num_threads(1)
    cfg = resolve("poisson-nd", flags={"constraints": "hard"}, overrides=[*PAPER_SETUP, *ADAM, *_overrides(dim, k)])
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
        print(f"| {r['dim']} | {name} | {r['graph_mb']:.1f} | {r['peak_rss_delta_mb']:.1f} "
              f"| {r['cpu_s_per_step']:.3f} |")


def train(dim: int, k: int, steps: int, seed: int, extra: list[str]) -> None:
    import physopt

    t0 = time.process_time()
    r = physopt.solve("poisson-nd", steps=steps, seed=seed,
                      overrides=[*_overrides(dim, k), "eval_every=500", "log_every=500", *extra])
    cpu = time.process_time() - t0
    curve = [(h["step"], round(h["rel_l2"], 5)) for h in r.history if "rel_l2" in h]
    print(json.dumps({"dim": dim, "k": k, "steps": steps, "seed": seed, "extra": extra,
                      "rel_l2": r.metrics["rel_l2"], "cpu_s": round(cpu, 1), "curve": curve}))


def _radius_uniform(n: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """Points with a uniform direction and a radius uniform in [0, 1], as the SDGD paper's code draws them."""
    g = torch.randn((n, dim), generator=generator, dtype=torch.float64)
    return g / g.norm(dim=1, keepdim=True) * torch.rand((n, 1), generator=generator, dtype=torch.float64)


def _fit_error(x: torch.Tensor, u: torch.Tensor, features: torch.Tensor) -> float:
    """Relative L2 on the second half of (1 - ‖x‖²)·features·coef, coef least squares on the first half."""
    a = (1 - (x**2).sum(1, keepdim=True)) * features
    half = len(x) // 2
    coef = torch.linalg.lstsq(a[:half], u[:half, None]).solution
    err = a[half:] @ coef - u[half:, None]
    return float(err.norm() / u[half:].norm())


def floor(dim: int, points: int) -> None:
    from physopt.problems import Ball
    from physopt.problems.zoo._sdgd import sdgd_coefficients, sdgd_exact

    c = sdgd_coefficients(dim, 0)  # poisson-nd's coefficients (problem seed 0)
    gen = torch.Generator().manual_seed(5)
    clouds = {"uniform in the ball (poisson-nd)": Ball.unit(dim).sample_interior(points, generator=gen),
              "radius uniform (SDGD paper code)": _radius_uniform(points, dim, gen)}
    print("| points | p constant | p affine | p affine + x_i², x_i x_{i+1} |")
    print("|---|---|---|---|")
    for name, x in clouds.items():
        u = sdgd_exact(x, c)
        one = torch.ones_like(x[:, :1])
        fits = [one, torch.cat([one, x], 1), torch.cat([one, x, x**2, x[:, :-1] * x[:, 1:]], 1)]
        print(f"| {name} | " + " | ".join(f"{_fit_error(x, u, f):.2e}" for f in fits) + " |")


def source(dim: int, points: int) -> None:
    """CPU time of the closed-form source term (O(n·d)) against autograd's Laplacian (d backward
    passes) on the same points, median of 5 repeats each, measured side by side."""
    from physopt.problems.ops import laplacian
    from physopt.problems.zoo import sdgd_coefficients, sdgd_exact, sdgd_laplacian

    c = sdgd_coefficients(dim)
    x = torch.rand(points, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64) / dim**0.5

    def closed() -> None:
        sdgd_laplacian(x, c)

    def autograd() -> None:
        y = x.clone().requires_grad_(True)
        laplacian(sdgd_exact(y, c)[:, None], y)

    times = {}
    for name, fn in (("closed form", closed), ("autograd", autograd)):
        runs = []
        for _ in range(5):
            t0 = time.process_time()
            fn()
            runs.append(time.process_time() - t0)
        times[name] = sorted(runs)[2]
    print(f"d = {dim}, {points} points: closed form {times['closed form']:.4f} CPU s, autograd "
          f"{times['autograd']:.4f} CPU s, ratio {times['autograd'] / max(times['closed form'], 1e-9):.0f}x")


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
    t.add_argument("--k", type=int, default=5)
    t.add_argument("--steps", type=int, default=4000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", action="append", default=[], dest="extra")
    f = sub.add_parser("floor")
    f.add_argument("--dim", type=int, default=100)
    f.add_argument("--points", type=int, default=20000)
    s = sub.add_parser("source")
    s.add_argument("--dim", type=int, default=1000)
    s.add_argument("--points", type=int, default=100)
    a = ap.parse_args()
    if a.cmd == "source":
        source(a.dim, a.points)
    elif a.cmd == "memory":
        memory(a.dims, a.k)
    elif a.cmd == "train":
        train(a.dim, a.k, a.steps, a.seed, a.extra)
    else:
        floor(a.dim, a.points)


if __name__ == "__main__":
    main()
