"""physopt's FNO/TFNO against neuraloperator 2.0's on the same Darcy data, in one run.

Setup of neuraloperator's Darcy tutorial (FNO ``n_modes=(8, 8)``, width 24, 1,000 training samples at
16x16, AdamW lr 1e-2 / weight decay 1e-4, cosine schedule, batch 32, H1 loss), for every model: the same
data, split, shuffling, epochs, batch size and loss (relative H1 with one-sided differences, mean over
samples: written here once, so both libraries train on the same objective). Reported: parameters (real
numbers: neuraloperator's ``numel`` counts a complex weight once, it is two), test relative L2 (mean over
samples) at 16x16 and zero-shot at 32x32, and the median CPU seconds per epoch.

Data: ``physopt.operators.load_family("darcy", ...)`` when that family is registered, else the
finite-difference generator below (the FNO paper's setup: a = 12 where a GRF N(0, (-Δ+9)^-2) is >= 0,
3 elsewhere; -∇·(a∇u) = 1, u = 0 on the boundary; harmonic face averages; sparse direct solve). The
same 200 test coefficient fields are solved at 16x16 and at 32x32.

    pip install --no-deps -r benchmarks/requirements-operators.txt   # neuraloperator + light deps, never another torch
    OMP_NUM_THREADS=1 python benchmarks/operators_vs_neuralop.py --epochs 15 --threads 1
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from physopt.models import OPERATORS, OperatorShape

# ---------------------------------------------------------------- data


def _grf_coefficients(n: int, *, modes: int, seed: int) -> np.ndarray:
    """KL coefficients of N(0, (-Δ + 9)^-2) with Neumann cosines on [0, 1]^2: ``(n, modes, modes)``."""
    k = np.arange(modes)
    lam = (math.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + 9.0) ** -1.0  # sqrt of the eigenvalues
    xi = np.random.default_rng(seed).standard_normal((n, modes, modes))
    return xi * lam


def _coefficient_field(c: np.ndarray, res: int) -> np.ndarray:
    """a = 12 where the GRF is >= 0, 3 elsewhere, at the ``res x res`` nodes i/(res-1)."""
    x = np.linspace(0.0, 1.0, res)
    k = np.arange(c.shape[-1])
    basis = np.cos(math.pi * k[:, None] * x[None, :]) * np.where(k == 0, 1.0, math.sqrt(2.0))[:, None]
    field = np.einsum("nkl,ki,lj->nij", c, basis, basis)
    return np.where(field >= 0.0, 12.0, 3.0)


def _darcy_solve(a: np.ndarray) -> np.ndarray:
    """-∇·(a∇u) = 1 on the nodes of [0, 1]^2, u = 0 on the boundary; 5-point stencil, harmonic face means."""
    n = a.shape[0]
    h2 = (1.0 / (n - 1)) ** 2
    m = n - 2
    face = lambda p, q: 2.0 * p * q / (p + q)  # noqa: E731
    e = face(a[1:-1, 1:-1], a[1:-1, 2:])   # east faces of the interior nodes
    w = face(a[1:-1, 1:-1], a[1:-1, :-2])
    s = face(a[1:-1, 1:-1], a[2:, 1:-1])
    nn_ = face(a[1:-1, 1:-1], a[:-2, 1:-1])
    diag = (e + w + s + nn_).ravel() / h2
    east = -(e / h2).copy()
    east[:, -1] = 0.0
    west = -(w / h2).copy()
    west[:, 0] = 0.0
    matrix = sp.diags([diag, east.ravel()[:-1], west.ravel()[1:], -(s / h2).ravel()[:-m], -(nn_ / h2).ravel()[m:]],
                      [0, 1, -1, m, -m], format="csc")
    u = np.zeros_like(a)
    u[1:-1, 1:-1] = spla.spsolve(matrix, np.ones(m * m)).reshape(m, m)
    return u


def darcy(n: int, res: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a, u)`` of shape ``(n, 1, res, res)`` float32: the same ``n`` fields at any ``res``."""
    try:
        from physopt.operators import load_family
        data = load_family("darcy", n=n, resolution=res, seed=seed)
        return torch.as_tensor(data.inputs, dtype=torch.float32), torch.as_tensor(data.outputs, dtype=torch.float32)
    except ValueError as err:
        if "unknown PDE family" not in str(err):
            raise
        print(f"[data] physopt has no 'darcy' family yet: using this benchmark's own FD generator (res {res})",
              file=sys.stderr)
    a = _coefficient_field(_grf_coefficients(n, modes=32, seed=seed), res)
    u = np.stack([_darcy_solve(ai) for ai in a])
    return torch.tensor(a, dtype=torch.float32)[:, None], torch.tensor(u, dtype=torch.float32)[:, None]


# ---------------------------------------------------------------- losses


def _norms(e: torch.Tensor, *, h1: bool) -> torch.Tensor:
    sq = e.pow(2).flatten(1).mean(1)
    if h1:
        n = e.shape[-1] - 1  # grid spacing 1/(n-1) on both axes
        sq = sq + (n * e.diff(dim=-1)).pow(2).flatten(1).mean(1) + (n * e.diff(dim=-2)).pow(2).flatten(1).mean(1)
    return sq.sqrt()


def relative(pred: torch.Tensor, true: torch.Tensor, *, h1: bool = False) -> torch.Tensor:
    """Per-sample relative L2 (or H1) error, mean over samples."""
    return (_norms(pred - true, h1=h1) / _norms(true, h1=h1)).mean()


# ---------------------------------------------------------------- models


def real_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


# neuraloperator 2.0's FNO(n_modes=(8, 8), hidden_channels=24, projection_channel_ratio=2) in physopt's terms:
# the same kept frequencies, a 2x lifting MLP, channel MLPs of half the width with soft gating in every
# layer, a 2x projection MLP -- the same layout and exactly the same parameter count (191,881).
_NEURALOP_LAYOUT = {"modes": (4, 5), "width": 24, "layers": 4, "projection": 48, "lifting": 48, "mlp": 0.5}


def build(name: str, *, seed: int, rank: float) -> torch.nn.Module:
    shape = OperatorShape(in_channels=1, out_channels=1, grid=(16, 16), periodic=False)
    gen = torch.Generator().manual_seed(seed)
    if name == "fno":
        spec = OPERATORS["fno"]
        return spec.factory(spec.config(**_NEURALOP_LAYOUT), shape=shape,
                            generator=gen, dtype=torch.float32)
    if name == "tfno":
        spec = OPERATORS["tfno"]
        return spec.factory(spec.config(**_NEURALOP_LAYOUT, rank=rank),
                            shape=shape, generator=gen, dtype=torch.float32)
    from neuralop.models import FNO, TFNO
    torch.manual_seed(seed)  # neuraloperator draws from the global RNG
    if name == "neuralop-fno":
        return FNO(n_modes=(8, 8), in_channels=1, out_channels=1, hidden_channels=24, projection_channel_ratio=2)
    if name == "neuralop-tfno":
        return TFNO(n_modes=(8, 8), in_channels=1, out_channels=1, hidden_channels=24, projection_channel_ratio=2,
                    factorization="tucker", rank=rank)
    raise ValueError(f"unknown model {name!r}")


# ---------------------------------------------------------------- training


def train(model: torch.nn.Module, data: dict, *, epochs: int, batch: int, seed: int) -> dict:
    a, u = data["train"]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    order = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(epochs):
        model.train()
        t0 = time.process_time()
        for idx in torch.randperm(a.shape[0], generator=order).split(batch):
            opt.zero_grad(set_to_none=True)
            loss = relative(model(a[idx]), u[idx], h1=True)
            loss.backward()
            opt.step()
        sched.step()
        times.append(time.process_time() - t0)
    model.eval()
    with torch.no_grad():
        errors = {res: relative(model(x), y).item() for res, (x, y) in data["test"].items()}
    return {"epoch_s": statistics.median(times), "errors": errors}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--train", type=int, default=1000)
    p.add_argument("--test", type=int, default=200)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seeds", type=int, default=1, help="repeat each model with seeds 0..S-1; medians")
    p.add_argument("--rank", type=float, default=0.1, help="Tucker rank fraction of both TFNOs")
    p.add_argument("--models", default="neuralop-fno,fno,neuralop-tfno,tfno")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    a_tr, u_tr = darcy(args.train, 16, seed=1)
    norm = lambda a: (a - 7.5) / 4.5  # noqa: E731  a in {3, 12} -> {-1, 1}
    data = {"train": (norm(a_tr), u_tr), "test": {}}
    for res in (16, 32):
        a_te, u_te = darcy(args.test, res, seed=2)
        data["test"][res] = (norm(a_te), u_te)
    print(f"data: {args.train} train at 16x16, {args.test} test at 16x16 and 32x32 ({time.perf_counter() - t0:.1f} s)")
    names = args.models.split(",")
    results: dict[str, list[dict]] = {n: [] for n in names}
    params = {}
    for seed in range(args.seeds):
        for name in names:  # interleaved, so machine load drifts hit every model alike
            model = build(name, seed=seed, rank=args.rank)
            params[name] = real_parameters(model)
            results[name].append(train(model, data, epochs=args.epochs, batch=args.batch, seed=seed))
    print(f"\n{args.epochs} epochs, batch {args.batch}, {args.threads} thread(s), {args.seeds} seed(s), medians")
    print(f"{'model':<15}{'params':>9}{'rel L2 16x16':>14}{'rel L2 32x32':>14}{'s/epoch':>9}")
    row = {}
    for name in names:
        rs = results[name]
        row[name] = {"e16": statistics.median(r["errors"][16] for r in rs),
                     "e32": statistics.median(r["errors"][32] for r in rs),
                     "t": statistics.median(r["epoch_s"] for r in rs)}
        print(f"{name:<15}{params[name]:>9,}{row[name]['e16']:>14.4f}{row[name]['e32']:>14.4f}{row[name]['t']:>9.3f}")
    for ours, theirs in (("fno", "neuralop-fno"), ("tfno", "neuralop-tfno")):
        if ours in row and theirs in row:
            r, q = row[ours], row[theirs]
            print(f"{ours} / {theirs}: error 16x16 {r['e16'] / q['e16']:.2f}, 32x32 {r['e32'] / q['e32']:.2f}, "
                  f"time per epoch {r['t'] / q['t']:.2f}")


if __name__ == "__main__":
    main()
