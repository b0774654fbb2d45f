"""WoS-NO on ``poisson-annulus``: one FNO trained three ways at equal training CPU time (issue 16).

- ``data (solver)``: the family's exact outputs (``data.labels = solver``), relative L2 loss;
- ``WoS-NO``: Walk-on-Spheres estimates only (``data.labels = wos``, ``--walks`` walks per node), same loss;
- ``PINN loss``: no labels: the relative residual ``||-Laplace_h u - f|| / ||f||`` of the five-point
  Laplacian on the nodes inside the annulus, with the Shortley–Weller stencil where a neighbour lies
  outside (the arm ends on the circle, at the exact boundary value there), so the loss needs no
  boundary penalty and its discretisation is second order.

Every run gets the same epochs (equal steps of one model: equal training CPU time up to the loss's
own cost, both reported); labels' CPU seconds are reported apart. Test error: relative L2 over the
nodes inside the annulus, mean over the test instances, against the closed-form solution.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/physics_operators_wos.py --epochs 60 --n-train 200
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np
import torch

import physopt
from physopt.config import build_learn, make_optimizer, resolve_learn
from physopt.operators import AnnulusInstance, family_options
from physopt.operators._annulus import annulus_instances, grid_nodes
from physopt.training import DatasetBatches, OperatorLoss, Pairs, Trainer

FAMILY = "poisson-annulus"
FNO = ["model.kind=fno", "model.modes=8", "model.width=24", "model.lifting=48", "model.projection=48", "model.mlp=0.5"]


def crossings(inst: AnnulusInstance, r: int) -> np.ndarray:
    """The boundary geometry of the Shortley–Weller stencil, ``(10, r, r)``: arm lengths ``t`` in units
    of h (1 where the neighbour is inside) of the four arms (+x, -x, +y, -y), the boundary value at
    each crossing, and (channels 8, 9) the nodes within h/10 of the circle with ``g`` at their
    projection: those take the row ``u = g`` (a stencil arm of length t h weighs 1/t^2: too stiff).
    Only ``g`` on the circles is read: no solution values."""
    o, h = inst.options, 1.0 / (r - 1)
    nodes = grid_nodes(r)
    t = np.ones((4, len(nodes)))
    value = np.zeros((4, len(nodes)))
    inside = inst.mask(nodes)
    for k, e in enumerate(np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=float)):
        out = inside & ~inst.mask(nodes + h * e)
        d = nodes[out] - 0.5
        best = np.full(out.sum(), h)
        for radius in (o.r_in, o.r_out):  # |d + s e|^2 = radius^2, smallest root s in (0, h]
            b, c = d @ e, (d**2).sum(1) - radius**2
            disc = np.sqrt(np.maximum(b * b - c, 0.0))
            for s in (-b - disc, -b + disc):
                best = np.where((s > 0) & (s < best) & (b * b - c >= 0), s, best)
        t[k, out] = best / h
        value[k, out] = inst.boundary(nodes[out] + best[:, None] * e)
    near = inside & (t.min(0) < 0.1)
    extra = np.stack([near.astype(float), np.where(near, inst.boundary(nodes), 0.0)])
    return np.concatenate([t, value, extra]).reshape(10, r, r)


class ShortleyWellerLoss(OperatorLoss):
    """Label-free: ``batch['data'].outputs`` holds :func:`crossings` (10 channels), not solutions."""

    def __init__(self, resolution: int) -> None:
        super().__init__(kind="l2", periodic=False)
        self.h = 1.0 / (resolution - 1)

    def terms(self, model, batch, params):  # type: ignore[override]
        a, arms = batch["data"].inputs, batch["data"].outputs
        u = model(a)[:, 0]
        f, mask = a[:, 0], a[:, 2]
        pad = torch.nn.functional.pad(u, (1, 1, 1, 1))
        neighbours = [pad[:, 2:, 1:-1], pad[:, :-2, 1:-1], pad[:, 1:-1, 2:], pad[:, 1:-1, :-2]]
        t, value, near, g = arms[:, :4] * self.h, arms[:, 4:8], arms[:, 8], arms[:, 9]
        v = [torch.where(t[:, k] < self.h * (1 - 1e-9), value[:, k], neighbours[k]) for k in range(4)]
        t = t.clamp_min(0.1 * self.h)  # the near-boundary nodes' rows are replaced below
        lap = sum(2 / (t[:, p] + t[:, m]) * ((v[p] - u) / t[:, p] - (u - v[m]) / t[:, m]) for p, m in ((0, 1), (2, 3)))
        res = torch.where(near > 0, (u - g) / self.h, -lap - f)  # u = g rows: their own error is O(h/10), not O(h^2)
        res = (res * mask).flatten(1)
        return {"data": (res.norm(dim=1) / (f * mask).flatten(1).norm(dim=1)).mean()}, {}


def inside_error(model: torch.nn.Module, test, runtime) -> float:
    x, y = runtime.tensor(test.inputs), runtime.tensor(test.outputs)
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 50]) for i in range(0, len(x), 50)])
    m = x[:, 2:3]
    return float(((pred - y) * m).flatten(1).norm(dim=1).div((y * m).flatten(1).norm(dim=1)).mean())


def run(method: str, args, sets: list[str]) -> dict[str, object]:
    overrides = [f"data.n_train={args.n_train}", "data.n_val=10", f"data.n_test={args.n_test}", "threads=1", *FNO,
                 f"optim.lr={args.lr}", *sets]
    if method == "WoS-NO":
        overrides += ["data.labels=wos", f"data.walks={args.walks}"]
    cfg = resolve_learn(FAMILY, flags={"epochs": args.epochs, "seed": args.seed}, overrides=overrides)
    c0 = time.process_time()
    b = build_learn(cfg)
    label_cpu = time.process_time() - c0
    labelled = b.splits.train.n if method == "data (solver)" else 0
    batches = b.batches
    if method == "PINN loss":
        res = cfg.data.resolution or 32
        options = family_options(FAMILY, cfg.family)
        first = b.splits.tests[next(iter(b.splits.tests))].n + b.splits.val.n
        arms = [crossings(inst, res) for inst in annulus_instances(
            options, seed=cfg.seed, indices=range(first, first + b.splits.train.n))]
        g = b.splits.train.inputs[:, 1]  # label-free output scale: that of the boundary data
        b.model.out_mean.fill_(float(g.mean()))
        b.model.out_std.fill_(float(g.std()))
        batches = DatasetBatches(Pairs(b.runtime.tensor(b.splits.train.inputs), b.runtime.tensor(np.stack(arms))),
                                 batch_size=cfg.batch_size, seed=cfg.seed)
        b = dataclasses.replace(b, loss=ShortleyWellerLoss(res), batches=batches)
        label_cpu = time.process_time() - c0
    trainer = Trainer(model=b.model, objective=b.loss, sampler=b.batches, phases=b.phases,
                      make_optimizer=make_optimizer, params={}, steps=b.steps, log_every=b.steps, eval_every=b.steps,
                      runtime=b.runtime)
    fit = trainer.run()
    b.model.eval()
    test = b.splits.tests[next(iter(b.splits.tests))]
    return {"method": method, "rel_l2": inside_error(b.model, test, b.runtime), "train_cpu_s": fit.cpu_time_s,
            "label_cpu_s": label_cpu if method != "data (solver)" else b.splits.train.solve_time_s * b.splits.train.n,
            "labelled": labelled, "status": fit.status, "epochs": cfg.epochs,
            "model": b.model, "test_inputs": b.runtime.tensor(test.inputs)}  # for the joined table's timings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--n-train", type=int, default=200)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--walks", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="data (solver),WoS-NO,PINN loss")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for method in args.methods.split(","):
        rows.append(run(method, args, args.set))
        print(f"  {method}: rel L2 {rows[-1]['rel_l2']:.4f} in {rows[-1]['train_cpu_s']:.1f} CPU s", file=sys.stderr,
              flush=True)
    print(f"\n{FAMILY} 32x32, FNO, {args.epochs} epochs x {args.n_train} instances, {args.walks} walks/node, "
          f"test: {args.n_test} instances, rel. L2 inside the annulus (physopt {physopt.__version__})\n")
    print("| method | test rel. L2 | training CPU s | label CPU s | labelled samples |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['rel_l2']:.4f} | {r['train_cpu_s']:.1f} | {r['label_cpu_s']:.1f} | "
              f"{r['labelled']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
