"""Where the default Burgers run's CPU time goes: per-phase CPU from a run, and the cost of each piece.

    python benchmarks/burgers_profile.py [--run bench-out/burgers-fused/physopt-seed0] [--repeats 10]

Pieces (process CPU seconds per call, one torch thread, mean of ``--repeats`` after one warm-up), on
the recipe of ``physopt solve burgers`` (seed 0, its first draw of points):

* one loss-and-gradient evaluation on Adam's first 2000 points and on SSBroyden's 8000 points, with the
  zoo's residual (u_x and u_t from one gradient of u) and with the composed operators
  ``dt(u, x) + u·partial(u, x, 0) − ν·partial(u, x, 0, 0)`` it replaced (four passes through the network);
* the reference error (``rel_l2`` on the 256 × 100 grid, what ``eval_every`` costs);
* one RAD redraw (the residual on 100,000 candidates, then the draw);
* SSBroyden's dense algebra per iteration: the direction ``H g`` and the rank-2 update of the
  2181 × 2181 inverse Hessian;
* the same 8000-point loss and gradient with u, u_x, u_t, u_xx propagated forward through the
  6 × 20 tanh network by hand (Taylor mode: for a = tanh(z), a' = (1 − a²) z' and
  a'' = (1 − a²) z'' − 2a(1 − a²) z'²; the ansatz by the product rule), then one reverse pass: whether
  forward-mode derivatives would beat autograd's double backward here. It checks that its residual
  equals the zoo's to 1e-12 before timing it.

With ``--run DIR`` (a finished run directory) it also splits that run's CPU time by phase from its
``metrics.jsonl`` (CPU time at the logged steps around the switch) and its ``report.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from physopt._run import _evaluator
from physopt.config import build, load_problem, make_runtime, resolve
from physopt.optim._self_scaled import dense_inverse_update
from physopt.problems import Residual
from physopt.problems._ops import dt, partial


def _composed(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return dt(u, x) + u * partial(u, x, 0) - params["nu"] * partial(u, x, 0, 0)


def _taylor_residual(model: torch.nn.Module, x: torch.Tensor, nu: float) -> torch.Tensor:
    """The Burgers residual of ``HardConstraint(MLP)`` (lift −sin πx, distance t(1 − x²)) with the
    derivatives carried forward through the layers (see the module docstring)."""
    net, n = model.net, x.shape[0]
    layers = list(net.layers)
    first = layers[0]
    a = torch.tanh(torch.addmm(first.bias, (x - net.shift) * net.scale, first.weight.t()))
    zx = (first.weight[:, 0] * net.scale[0]).expand(n, -1)
    zt = (first.weight[:, 1] * net.scale[1]).expand(n, -1)
    s = 1 - a * a
    ax, at, axx = s * zx, s * zt, -2 * a * s * zx * zx
    for layer in layers[1:]:
        z = torch.addmm(layer.bias, a, layer.weight.t())
        zx, zt, zxx = (torch.cat([ax, at, axx]) @ layer.weight.t()).split(n)
        if layer is layers[-1]:
            break
        a = torch.tanh(z)
        s = 1 - a * a
        ax, at, axx = s * zx, s * zt, s * zxx - 2 * a * s * zx * zx
    N, Nx, Nt, Nxx = z, zx, zt, zxx
    xs, ts = x[:, :1], x[:, 1:]
    D, Dx, Dt, Dxx = ts * (1 - xs * xs), -2 * ts * xs, 1 - xs * xs, -2 * ts
    u = -torch.sin(math.pi * xs) + D * N
    ux = -math.pi * torch.cos(math.pi * xs) + Dx * N + D * Nx
    ut = Dt * N + D * Nt
    uxx = math.pi**2 * torch.sin(math.pi * xs) + Dxx * N + 2 * Dx * Nx + D * Nxx
    return ut + u * ux - nu * uxx


def cpu_per_call(fn: Callable[[], object], repeats: int) -> float:
    fn()
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def pieces(repeats: int) -> dict[str, float]:
    torch.set_num_threads(1)
    cfg = resolve("burgers", config_file=None, flags={"seed": 0}, overrides=["threads=1"])
    problem = load_problem("burgers", cfg.problem_options)
    runtime = make_runtime(cfg, rank=0, world_size=1)
    built = {"zoo": build(cfg, problem, runtime=runtime),
             "composed": build(cfg, dataclasses.replace(
                 problem, conditions={**problem.conditions, "pde": Residual(_composed)}), runtime=runtime)}
    first = cfg.optim.first_sizes["pde"]
    out: dict[str, float] = {}
    for form, b in built.items():
        batch = b.sampler.batch(0)

        def loss_and_grad(bt, b=b) -> None:
            b.model.zero_grad(set_to_none=True)
            terms, residuals = b.objective.terms(b.model, bt, b.params)
            b.objective.loss(terms, residuals).backward()

        small = b.sampler.prefix(batch, {"pde": first})
        out[f"loss+grad {first} points ({form} residual)"] = cpu_per_call(
            functools.partial(loss_and_grad, small), repeats)
        out[f"loss+grad {cfg.sampler.sizes['pde']} points ({form} residual)"] = cpu_per_call(
            functools.partial(loss_and_grad, batch), repeats)
    b = built["zoo"]
    points = b.sampler.batch(0)["pde"]
    x, nu = points.x, float(b.problem.params["nu"])
    zoo = b.problem.conditions["pde"].residual(b.model, points, b.params).detach()
    if not torch.allclose(_taylor_residual(b.model, x, nu), zoo, rtol=0, atol=1e-12):
        raise SystemExit("the Taylor-mode residual does not match the zoo's")

    def taylor_loss_and_grad() -> None:
        b.model.zero_grad(set_to_none=True)
        _taylor_residual(b.model, x, nu).pow(2).mean().backward()

    out[f"loss+grad {x.shape[0]} points (Taylor mode, by hand)"] = cpu_per_call(taylor_loss_and_grad, repeats)
    evaluate = _evaluator(b.problem, b.runtime)
    out["reference error (256 x 100 grid)"] = cpu_per_call(lambda: evaluate(b.model), repeats)

    def redraw() -> None:
        b.sampler.finish_adapt(b.sampler.points, -cfg.sampler.resample_every)  # make a redraw due at step 0
        b.sampler.adapt(0, lambda name, pts: b.objective.residual(name, b.model, pts, b.params))

    out[f"RAD redraw ({cfg.sampler.candidates} candidates)"] = cpu_per_call(redraw, max(1, repeats // 5))
    n = sum(p.numel() for p in b.model.parameters())
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    H = a @ a.T / n + torch.eye(n, dtype=torch.float64)
    s = torch.randn(n, generator=gen, dtype=torch.float64)
    y = H.mv(s) + 0.01 * torch.randn(n, generator=gen, dtype=torch.float64)
    scale = 1e-3  # small steps keep H positive definite over the repeats

    def algebra() -> None:
        H.mv(s)
        dense_inverse_update(H, scale * s, scale * y, 1.0001, 0.9)

    out[f"SSBroyden direction + update ({n} parameters)"] = cpu_per_call(algebra, repeats)
    return out


def phases(run: Path) -> dict[str, float]:
    rep = json.loads((run / "report.json").read_text())
    history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    cpu = {h["step"]: h["cpu_time_s"] for h in history}
    switch = rep["switches"][0]["step"] if rep.get("switches") else None
    out = {"run CPU s": rep["cpu_time_s"], "steps": rep["steps"]}
    if switch is not None and switch in cpu:
        out["first phase CPU s"] = cpu[switch]
        out["first phase CPU s/step"] = cpu[switch] / switch
        out["second phase CPU s/step"] = (rep["cpu_time_s"] - cpu[switch]) / (rep["steps"] - switch)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=None, help="a finished run directory to split by phase")
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    if args.run is not None:
        for k, v in phases(args.run).items():
            print(f"{k:45s} {v:.4g}")
    for k, v in pieces(args.repeats).items():
        print(f"{k:45s} {v:.4f} CPU s")


if __name__ == "__main__":
    main()
