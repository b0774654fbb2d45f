"""Training quality of every physopt.optim optimizer on a small teacher–student task.

A random tanh "teacher" MLP 16 → 64 → 64 → 4 (gain-1.5 weights, outputs scaled to unit
variance) labels Gaussian inputs (plus noise of std 0.01); a wider "student" MLP
16 → 96 → 96 → 96 → 4 is trained on fresh mini-batches (256) with MSE.
For each optimizer the learning rate is picked from a small grid by the mean final loss over
3 seeds; the table shows the final training loss (mean of the last 20 steps) and the held-out
loss at that lr, mean ± std over seeds. Matrix optimizers are built with
``physopt.optim.build(name, model, lr=..., adamw_lr=1e-3)`` (first/last layer and biases →
AdamW).

    python benchmarks/optim_quality.py            # ≈ 2–4 min on 1 thread
    python benchmarks/optim_quality.py --steps 200 --seeds 2   # quicker
    python benchmarks/optim_quality.py --only muon,adamw,fismo,aro   # a subset

Writes ``optim_quality.png`` (loss curves at each optimizer's best lr) into ``--out``.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import torch
from torch import nn

import physopt.optim as po

# Learning-rate grids: around each method's recommended default (Muon family in spectral units,
# NAMO/ROOT in AdamW units via their 0.2·sqrt(max) scaling, AuON in Frobenius units).
GRIDS: dict[str, list[float]] = {
    "adamw": [1e-3, 3e-3, 1e-2, 3e-2],
    "sgd": [0.03, 0.1, 0.3, 1.0],
    "muon": [0.01, 0.02, 0.05, 0.1],
    "normuon": [0.01, 0.02, 0.05, 0.1],
    "namo": [1e-2, 3e-2, 0.1, 0.3],
    "namod": [1e-2, 3e-2, 0.1, 0.3],
    "root": [3e-3, 1e-2, 3e-2, 0.1],
    "auon": [0.1, 0.24, 0.5, 1.0],
    "hybridauon": [0.01, 0.02, 0.05, 0.1],
    "fismo": [0.01, 0.02, 0.05, 0.1],  # Muon units (its factors are trace-normalised)
    "aro": [0.01, 0.02, 0.05, 0.1],  # Muon units (adjust_lr="original" matches Muon's RMS)
    "adamp": [1e-3, 3e-3, 1e-2, 3e-2],
    "sgdp": [0.03, 0.1, 0.3, 1.0],
}
OPTIONS: dict[str, dict] = {"sgd": {"momentum": 0.9, "nesterov": True}, "adamw": {}}


def mlp(sizes: list[int], seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def make_teacher(seed: int) -> nn.Sequential:
    """Teacher with gain-1.5 weights (visibly nonlinear tanh units) and unit-variance outputs."""
    teacher = mlp([16, 64, 64, 4], seed=1000 + seed)
    g = torch.Generator().manual_seed(2000 + seed)
    with torch.no_grad():
        for layer in teacher:
            if isinstance(layer, nn.Linear):
                layer.weight.normal_(0.0, 1.5 / math.sqrt(layer.in_features), generator=g)
        std = teacher(torch.randn(8192, 16, generator=g)).std(dim=0)
        teacher[-1].weight.div_(std.unsqueeze(1))
        teacher[-1].bias.div_(std)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def run(name: str, lr: float, seed: int, steps: int) -> tuple[list[float], float]:
    teacher = make_teacher(seed)
    student = mlp([16, 96, 96, 96, 4], seed=seed)
    options = dict(OPTIONS.get(name, {}))
    if po.spec(name).matrix:
        options.setdefault("adamw_lr", 1e-3)
    opt = po.build(name, student, lr=lr, **options)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        x = torch.randn(256, 16, generator=g)
        with torch.no_grad():
            y = teacher(x) + 0.01 * torch.randn(256, 4, generator=g)
        opt.zero_grad(set_to_none=True)
        loss = ((student(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item() if math.isfinite(loss.item()) else float("inf"))
    x = torch.randn(4096, 16, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        test = ((student(x) - teacher(x)) ** 2).mean().item()
    return losses, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    only = [n for n in args.only.split(",") if n]
    unknown = sorted(set(only) - set(GRIDS))
    if unknown:
        parser.error(f"--only: no lr grid for {unknown}; known: {', '.join(GRIDS)}")
    best: dict[str, tuple[float, list[list[float]], list[float]]] = {}
    for name, grid in GRIDS.items():
        if only and name not in only:
            continue
        scores = {}
        for lr in grid:
            runs = [run(name, lr, seed, args.steps) for seed in range(args.seeds)]
            final = [statistics.fmean(curve[-20:]) for curve, _ in runs]
            scores[lr] = (statistics.fmean(final), [c for c, _ in runs], [t for _, t in runs])
        lr = min(scores, key=lambda k: scores[k][0])
        best[name] = (lr, scores[lr][1], scores[lr][2])
        edge = " (edge of grid)" if lr in (grid[0], grid[-1]) else ""
        print(f"{name:11s} best lr {lr:g}{edge}", flush=True)

    print(f"\n{'optimizer':11s} {'lr':>8s} {'final train loss':>22s} {'held-out loss':>22s}")
    rows = []
    for name, (lr, curves, tests) in best.items():
        final = [statistics.fmean(c[-20:]) for c in curves]
        rows.append((statistics.fmean(tests), name, lr, final, tests))
    for _, name, lr, final, tests in sorted(rows):
        sd = statistics.stdev if len(final) > 1 else (lambda v: 0.0)
        print(
            f"{name:11s} {lr:8g} {statistics.fmean(final):12.3e} ± {sd(final):8.1e} "
            f"{statistics.fmean(tests):12.3e} ± {sd(tests):8.1e}"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, (lr, curves, _) in best.items():
        mean = [statistics.fmean(v) for v in zip(*curves, strict=True)]
        ax.semilogy(mean, label=f"{name} (lr {lr:g})")
    ax.set_xlabel("step")
    ax.set_ylabel("training MSE (mean over seeds)")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title("teacher–student MLP, best lr per optimizer")
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "optim_quality.png", dpi=120, bbox_inches="tight")
    print(f"\nplot: {args.out / 'optim_quality.png'}")


if __name__ == "__main__":
    main()
