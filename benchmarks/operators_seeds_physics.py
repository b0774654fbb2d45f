"""The physics-informed parts of ``operators_seeds.py``: EquiNO on the unit cell, PI-HC-MoE on darcy.

Both train some models by :func:`physopt.training.refine_last_layer` over all their parameters (Adam on a
loss of the inputs and predictions only: no solution data), with the number of steps set so the run fits
the CPU budget (one calibration of 5 steps, process CPU seconds).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

import physopt
from physopt.config import build_learn, resolve_learn
from physopt.models import HardConstrainedOperator
from physopt.models._equino import constitutive_residual
from physopt.models._hcmoe import batched_ridge, darcy_operator
from physopt.operators._darcy import node_faces, solve_darcy
from physopt.training import refine_last_layer, relative_l2


def _train(model, inputs, loss, budget: float, lr: float, seed: int) -> tuple[int, float]:
    """Adam on ``loss`` over all parameters for about ``budget`` CPU s; returns steps and CPU s used."""
    params = [p for p in model.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(seed)
    probe = refine_last_layer(model, params, inputs, loss, steps=5, lr=lr, batch_size=20, generator=gen)
    steps = max(1, math.floor((budget - probe.cpu_s) / (probe.cpu_s / 5)))
    run = refine_last_layer(model, params, inputs, loss, steps=steps, lr=lr, batch_size=20, generator=gen)
    return steps + 5, probe.cpu_s + run.cpu_s


def _predict(model, x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Predictions and the median seconds per instance of three batched passes."""
    times = []
    with torch.no_grad():
        for _ in range(3):
            t0 = time.process_time()
            pred = torch.cat([model(x[i:i + 25]) for i in range(0, x.shape[0], 25)])
            times.append((time.process_time() - t0) / x.shape[0])
    return pred, statistics.median(times)


def _divergence(q: torch.Tensor) -> torch.Tensor:
    n = q.shape[-1]
    return (q[:, 0] - q[:, 0].roll(1, 1) + q[:, 1] - q[:, 1].roll(1, 2)) * n


def equino(args: argparse.Namespace) -> list[dict]:
    """FNO (data) vs EquiNO (data) vs EquiNO (physics: the constitutive law only) on ``unit-cell`` 32x32."""
    data = ["data.n_train=100", "data.n_val=10", "data.n_test=50", "threads=1", "plots=0", "dtype=float64",
            "batch_size=20", "optim.lr=3e-3"]
    beta = 1.0
    rows = []
    for label, model, sets in (("FNO, data", "fno", ["model.modes=6", "model.width=8", "model.projection=32"]),
                               ("EquiNO, data", "equino", ["model.modes=16", "model.width=128"])):
        probe = physopt.learn("unit-cell", model=model, epochs=1, seed=args.seed, overrides=[*data, *sets])
        epochs = max(1, math.floor(args.budget / probe.report.cpu_time_s))
        res = physopt.learn("unit-cell", model=model, epochs=epochs, seed=args.seed, overrides=[*data, *sets])
        rows.append((label, res.model, res.report.params, f"{epochs} epochs", res.report.cpu_time_s))
    cfg = resolve_learn("unit-cell", overrides=[*data, "model.kind=equino", "model.modes=16", "model.width=128"])
    b = build_learn(cfg)
    x_train = torch.as_tensor(b.splits.train.inputs)
    steps, cpu = _train(b.model, x_train, lambda a, u: constitutive_residual(a, u, beta=beta).mean(), args.budget,
                        3e-3, args.seed)
    rows.append(("EquiNO, physics (no solution data)", b.model, sum(p.numel() for p in b.model.parameters()),
                 f"{steps} steps", cpu))
    test = b.splits.tests["32x32"]
    x, y = torch.as_tensor(test.inputs), torch.as_tensor(test.outputs)
    out = []
    print(f"\nunit-cell 32x32 (disk inclusion, contrast 10, beta {beta}), 100 train / 50 test loads, budget "
          f"{args.budget:g} CPU s per model; our Newton solve: {test.solve_time_s * 1e3:.1f} ms per instance\n")
    print("| model | parameters | training | test rel. L2 | mean-flux rel. error | max div q / max q | "
          "constitutive residual | inference ms | speed-up vs solve |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, net, params, length, cpu in rows:
        pred, per = _predict(net, x)
        mean_err = float(((pred[:, :2].mean((-2, -1)) - y[:, :2].mean((-2, -1))).norm(dim=1)
                          / y[:, :2].mean((-2, -1)).norm(dim=1)).median())
        div = float(_divergence(pred).abs().max() / pred[:, :2].abs().max())
        law = float(constitutive_residual(x, pred, beta=beta).mean().sqrt())
        l2 = float(relative_l2(pred, y).mean())
        out.append({"model": label, "params": params, "training": length, "cpu_s": cpu, "rel_l2": l2,
                    "mean_flux": mean_err, "divergence": div, "law": law, "inference_s": per})
        print(f"| {label} | {params:,} | {length}, {cpu:.0f} CPU s | {l2:.4f} | {mean_err:.4f} | {div:.1e} | "
              f"{law:.2e} | {per * 1e3:.2f} | {test.solve_time_s / per:.0f}x |")
    return out


def _darcy_residual(a: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Per-instance mean squared ``−div(a∇u) − 1`` over the interior nodes."""
    return (darcy_operator(a[:, 0], u) - 1.0).square().flatten(1).mean(1)


def _solve_cost(s: int, experts: int, basis: int, reps: int = 3) -> float:
    """CPU s of forward + backward of the batched expert solves for an ``s x s`` interior (batch 4)."""
    m = (s // experts) ** 2
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(4, experts * experts, m, basis, generator=gen, dtype=torch.float64, requires_grad=True)
    f = torch.ones(4, experts * experts, m, dtype=torch.float64)
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        batched_ridge(a, f, ridge=1e-8).sum().backward()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def hcmoe(args: argparse.Namespace) -> list[dict]:
    """Soft (residual penalty) vs hard constraints (global and per expert) on one FNO backbone, darcy 32x32,
    all trained on the PDE residual alone; then the constraint's cost against the mesh."""
    base = ["data.n_train=200", "data.n_val=10", "data.n_test=50", "threads=1", "data.normalize=false",
            "dtype=float64", "model.modes=8", "model.width=16", "model.projection=64", "model.lifting=0", "model.mlp=0"]
    variants = [("FNO, soft (residual loss)", ["model.kind=fno"])]
    variants += [(f"FNO + hard, {e * e} expert{'s' * (e > 1)}", ["model.kind=hc-moe", f"model.experts={e}",
                                                                  f"model.basis={args.basis}"]) for e in (1, 2, 3, 5)]
    rows = []
    for label, sets in variants:
        b = build_learn(resolve_learn("darcy", overrides=[*sets, *base]))  # the kind first: a switch clears options
        x_train = torch.as_tensor(b.splits.train.inputs)
        steps, cpu = _train(b.model, x_train, lambda a, u: _darcy_residual(a, u).mean(), args.budget, 1e-3,
                            args.seed)
        test = b.splits.tests["32x32"]
        x, y = torch.as_tensor(test.inputs), torch.as_tensor(test.outputs)
        pred, per = _predict(b.model, x)
        rows.append({"model": label, "params": sum(p.numel() for p in b.model.parameters()), "steps": steps,
                     "cpu_s": cpu, "rel_l2": float(relative_l2(pred, y).mean()),
                     "residual": float(_darcy_residual(x, pred).mean().sqrt()), "inference_s": per,
                     "hard": isinstance(b.model, HardConstrainedOperator)})
    floor = float(relative_l2(torch.stack([torch.as_tensor(solve_darcy(*node_faces(a[0].numpy())))[None]
                                           for a in x]), y).mean())
    print(f"\ndarcy 32x32, 200 train inputs / 50 test, physics-only training (no solution data), budget "
          f"{args.budget:g} CPU s per model, {args.basis} basis functions per expert; the five-point solve with "
          f"two-node faces (what every constraint enforces) is {floor:.4f} from the family's reference\n")
    print("| model | parameters | steps | test rel. L2 | RMS residual | inference ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['steps']} | {r['rel_l2']:.4f} | {r['residual']:.2e} | "
              f"{r['inference_s'] * 1e3:.2f} |")
    print("\nconstraint solve, forward + backward, batch 4, CPU s (median of 3): experts of 15x15 nodes and "
          f"{args.basis} basis functions vs one global solve with the same degrees of freedom\n")
    print("| interior nodes | experts | per-expert solve | global, same DOF | ratio |")
    print("|---|---|---|---|---|")
    for s in (30, 60, 120):
        e = s // 15
        moe = _solve_cost(s, e, args.basis)
        dof = e * e * args.basis
        glob = _solve_cost(s, 1, dof) if dof <= 512 else math.nan
        ratio = "n/a (DOF > 512)" if math.isnan(glob) else f"{glob / moe:.1f}"
        rows.append({"interior": s, "experts": e * e, "moe_s": moe, "global_s": glob})
        print(f"| {s}x{s} | {e * e} | {moe:.4f} | {'n/a' if math.isnan(glob) else f'{glob:.4f}'} | {ratio} |")
    return rows


def convergence(args: argparse.Namespace) -> list[dict]:
    """The unit-cell family's own reference: the laminate's mean flux against its 1-D closed form, and the disk's
    mean flux against the next finer grid, at G = (1, 0.5) (laminate: G = (1, 0), across the layers)."""
    from physopt.operators import UnitCellOptions
    from physopt.operators._unit_cell import _faces, cell_conductivity, laminate_flux, solve_unit_cell

    rows = []
    lam = UnitCellOptions(shape="laminate", radius=0.25)
    exact = laminate_flux(lam, 1.0)
    disk = UnitCellOptions()
    previous = None
    print(f"\nunit-cell convergence (beta 1, contrast 10); laminate closed form <q_x> = {exact:.12f}\n")
    print("| n | laminate <q_x> error | ratio | disk <q_x> | change from n/2 | ratio | Newton CPU s (disk) |")
    print("|---|---|---|---|---|---|---|")
    for n in (16, 32, 64, 128):
        qx, _, _ = solve_unit_cell(*_faces(cell_conductivity(lam, n)), torch.tensor([1.0, 0.0]).numpy(), beta=lam.beta,
                                   tol=lam.tol)
        t0 = time.process_time()
        dq, _, _ = solve_unit_cell(*_faces(cell_conductivity(disk, n)), torch.tensor([1.0, 0.5]).numpy(),
                                   beta=disk.beta, tol=disk.tol)
        cpu = time.process_time() - t0
        err, mean = abs(float(qx.mean()) - exact), float(dq.mean())
        change = None if previous is None else abs(mean - previous)
        last = rows[-1] if rows else None
        rows.append({"n": n, "laminate_error": err, "disk_mean": mean, "disk_change": change, "cpu_s": cpu})
        ratio = f"{last['laminate_error'] / err:.2f}" if last else ""
        cratio = f"{last['disk_change'] / change:.2f}" if last and last["disk_change"] else ""
        print(f"| {n} | {err:.3e} | {ratio} | {mean:.6f} | {'' if change is None else f'{change:.2e}'} | {cratio} | "
              f"{cpu:.3f} |")
        previous = mean
    return rows
