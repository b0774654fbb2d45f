"""Burgers PINN recipe benchmark: error vs wall time for Adam -> quasi-Newton recipes.

Problem: u_t + u u_x = (0.01/pi) u_xx, x in [-1, 1], t in [0, 0.99],
u(x, 0) = -sin(pi x), u(+-1, t) = 0.  Hard-constraint ansatz

    u(x, t) = -sin(pi x) + t (1 - x^2) N(x, t~),   t~ = 2 t / 0.99 - 1,

so the loss is only the mean squared PDE residual on the collocation points.  The
derivatives u_t, u_x, u_xx are propagated forward through the tanh MLP analytically
(value, d/dx, d/dt, d2/dx2 streams stacked into one matmul per layer), so one backward
pass gives the parameter gradient (no double backward).

The reference solution /work/shared/data/deepxde/Burgers.npz is used ONLY to report the
relative L2 error on its 256 x 100 grid, never in training.

Reported times ``t`` are training time on the chosen ``--clock`` (wall: perf_counter,
cpu: this process's CPU time), excluding the error evaluations (~10 ms forward passes);
``wall`` is the elapsed wall time including everything.  On a shared 2-core machine the
wall clock is inflated by other jobs; with one thread the CPU clock approximates the
wall time of an otherwise idle machine.

Recommended recipe (see the report in the commit history / docs):
    .venv/bin/python benchmarks/burgers_recipe.py --optimizer ssbroyden --layers 6 \
        --width 20 --n-colloc 8000 --adam-iters 1000 --adam-n-colloc 2000 \
        --budget 600 --seed 0 --threads 1 --clock wall
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from physopt.optim._quasi_newton import LBFGS, SSBFGS, SSBroyden  # noqa: E402

NU = 0.01 / math.pi
T_MAX = 0.99
REF = Path("/work/shared/data/deepxde/Burgers.npz")


# ------------------------------------------------------------------------------ model
class MLP(torch.nn.Module):
    """tanh MLP N(x, t~) -> R with forward-mode propagation of d/dx, d/dt~, d2/dx2."""

    def __init__(self, layers: int, width: int, dtype=torch.float64):
        super().__init__()
        sizes = [2] + [width] * layers + [1]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for _, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = torch.empty(a, b, dtype=dtype)
            torch.nn.init.xavier_normal_(w)
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(torch.zeros(b, dtype=dtype)))

    def forward(self, xt: torch.Tensor) -> torch.Tensor:
        h = xt
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = torch.tanh(h @ w + b)
        return h @ self.weights[-1] + self.biases[-1]

    def forward_derivs(self, xt: torch.Tensor):
        """Return N, N_x, N_t~, N_xx at points xt (n, 2)."""
        n = xt.shape[0]
        w0, b0 = self.weights[0], self.biases[0]
        z = xt @ w0 + b0
        zx = w0[0].expand(n, -1)
        zt = w0[1].expand(n, -1)
        a = torch.tanh(z)
        d1 = 1 - a * a
        d2 = -2 * a * d1
        ax, at, axx = d1 * zx, d1 * zt, d2 * zx * zx
        for w, b in zip(self.weights[1:-1], self.biases[1:-1], strict=True):
            Z = torch.cat((a, ax, at, axx), 0) @ w
            z, zx, zt, zxx = Z[:n] + b, Z[n : 2 * n], Z[2 * n : 3 * n], Z[3 * n :]
            a = torch.tanh(z)
            d1 = 1 - a * a
            d2 = -2 * a * d1
            ax, at, axx = d1 * zx, d1 * zt, d2 * zx * zx + d1 * zxx
        w, b = self.weights[-1], self.biases[-1]
        Z = torch.cat((a, ax, at, axx), 0) @ w
        return Z[:n] + b, Z[n : 2 * n], Z[2 * n : 3 * n], Z[3 * n :]


def u_fn(model: MLP, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    tt = 2 * t / T_MAX - 1
    return -torch.sin(math.pi * x) + t * (1 - x * x) * model(torch.cat((x, tt), 1))


def residual(model: MLP, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    tt = 2 * t / T_MAX - 1
    N, Nx, Ntt, Nxx = model.forward_derivs(torch.cat((x, tt), 1))
    Nt = Ntt * (2 / T_MAX)
    phi = t * (1 - x * x)
    px, pt, pxx = -2 * x * t, 1 - x * x, -2 * t
    s, c = torch.sin(math.pi * x), torch.cos(math.pi * x)
    u = -s + phi * N
    ux = -math.pi * c + px * N + phi * Nx
    ut = pt * N + phi * Nt
    uxx = math.pi**2 * s + pxx * N + 2 * px * Nx + phi * Nxx
    return ut + u * ux - NU * uxx


# ------------------------------------------------------------------------------ points
def collocation(n: int, method: str, seed: int, dtype=torch.float64) -> tuple:
    if method == "sobol":
        pts = torch.quasirandom.SobolEngine(2, scramble=True, seed=seed).draw(n).to(dtype)
    elif method == "uniform":
        pts = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    elif method == "lhs":
        g = torch.Generator().manual_seed(seed)
        cols = []
        for _ in range(2):
            perm = torch.randperm(n, generator=g).to(dtype)
            cols.append((perm + torch.rand(n, generator=g, dtype=dtype)) / n)
        pts = torch.stack(cols, 1)
    elif method == "grid":
        m = int(round(math.sqrt(n)))
        gx = (torch.arange(m, dtype=dtype) + 0.5) / m
        X, T = torch.meshgrid(gx, gx, indexing="ij")
        pts = torch.stack((X.reshape(-1), T.reshape(-1)), 1)
    else:
        raise ValueError(method)
    x = pts[:, :1] * 2 - 1
    t = pts[:, 1:] * T_MAX
    return x.contiguous(), t.contiguous()


def rad_resample(model, n, seed, k=1.0, c=1.0, pool=100_000, dtype=torch.float64):
    """Residual-based adaptive distribution (Wu et al. 2023): p ~ |r|^k / mean|r|^k + c."""
    xp, tp = collocation(pool, "uniform", seed, dtype)
    with torch.no_grad():
        r = residual(model, xp, tp).abs().squeeze(1)
    w = r.pow(k)
    p = w / w.mean() + c
    idx = torch.multinomial(p, n, replacement=False, generator=torch.Generator().manual_seed(seed))
    return xp[idx].contiguous(), tp[idx].contiguous()


# ------------------------------------------------------------------------------ main
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--optimizer", default="ssbroyden",
                    choices=["ssbroyden", "ssbfgs", "lbfgs", "torch-lbfgs", "adam"])
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--width", type=int, default=20)
    ap.add_argument("--n-colloc", type=int, default=4000)
    ap.add_argument("--sampling", default="sobol", choices=["sobol", "uniform", "lhs", "grid"])
    ap.add_argument("--rad-every", type=int, default=0,
                    help="quasi-Newton iterations between RAD resamplings (0 = fixed points)")
    ap.add_argument("--rad-k", type=float, default=1.0)
    ap.add_argument("--rad-c", type=float, default=1.0)
    ap.add_argument("--adam-iters", type=int, default=1000)
    ap.add_argument("--adam-lr", type=float, default=1e-3)
    ap.add_argument("--adam-n-colloc", type=int, default=0,
                    help="collocation points for the Adam phase (0 = same as --n-colloc)")
    ap.add_argument("--history", type=int, default=100, help="(L)BFGS memory")
    ap.add_argument("--initial-step", default=None, choices=["unit", "interpolate"],
                    help="line-search first trial (default: the optimizer's own default, "
                         "interpolate for ssbroyden/ssbfgs, unit for lbfgs)")
    ap.add_argument("--budget", type=float, default=600.0, help="training wall seconds")
    ap.add_argument("--eval-every", type=float, default=5.0, help="seconds between error evals")
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="budget/timeline clock: wall (perf_counter) or this process's CPU "
                         "time (process_time; robust to other jobs on a shared machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=str, default="", help="append a JSON summary line here")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dt = torch.float64
    model = MLP(args.layers, args.width, dt)
    n_params = sum(p.numel() for p in model.parameters())
    x, t = collocation(args.n_colloc, args.sampling, args.seed, dt)

    ref = np.load(REF)
    xr = torch.tensor(ref["x"], dtype=dt).reshape(-1)
    tr = torch.tensor(ref["t"], dtype=dt).reshape(-1)
    X, T = torch.meshgrid(xr, tr, indexing="ij")
    Xe, Te = X.reshape(-1, 1), T.reshape(-1, 1)
    U = torch.tensor(ref["usol"], dtype=dt).reshape(-1, 1)
    U_norm = float(U.norm())

    def error() -> float:
        with torch.no_grad():
            return float((u_fn(model, Xe, Te) - U).norm()) / U_norm

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    wall0 = time.perf_counter()
    hist: list[tuple[float, int, float, float]] = []  # (train_s, iter, loss, err)
    qn_opt = None
    train_s = 0.0
    last_eval = -1e9
    it = 0

    def log(loss: float, force: bool = False) -> None:
        nonlocal last_eval
        if force or train_s - last_eval >= args.eval_every:
            last_eval = train_s
            e = error()
            hist.append((train_s, it, loss, e))
            if not args.quiet:
                ne = getattr(qn_opt, "n_evals", 0) if qn_opt is not None else 0
                print(f"t={train_s:7.1f}s wall={time.perf_counter() - wall0:7.1f}s it={it:6d} "
                      f"qn_evals={ne:6d} loss={loss:.3e} err={e:.3e}", flush=True)

    def loss_fn() -> torch.Tensor:
        return residual(model, x, t).pow(2).mean()

    # ---- phase 1: Adam
    xa, ta = (x, t)
    if args.adam_n_colloc:
        xa, ta = collocation(args.adam_n_colloc, args.sampling, args.seed + 7919, dt)
    adam = torch.optim.Adam(model.parameters(), lr=args.adam_lr)
    n_adam = args.adam_iters if args.optimizer != "adam" else 10**9
    while it < n_adam and train_s < args.budget:
        t0 = clock()
        adam.zero_grad()
        loss = residual(model, xa, ta).pow(2).mean()
        loss.backward()
        adam.step()
        it += 1
        train_s += clock() - t0
        log(float(loss.detach()))
    adam_end = train_s

    # ---- phase 2: quasi-Newton
    status = "budget"
    if args.optimizer != "adam" and train_s < args.budget:
        params = list(model.parameters())
        kw = {"initial_step": args.initial_step} if args.initial_step else {}
        if args.optimizer == "ssbroyden":
            opt = SSBroyden(params, **kw)
        elif args.optimizer == "ssbfgs":
            opt = SSBFGS(params, **kw)
        elif args.optimizer == "lbfgs":
            opt = LBFGS(params, history_size=args.history, **kw)
        else:
            # max_iter=50 per call: with max_iter=1 every call is torch's "first iteration"
            # (trial step min(1, 1/|g|_1) * lr) and the loss stayed frozen at 1.622e-2 for
            # 500 calls after Adam in our test.
            opt = torch.optim.LBFGS(params, lr=1.0, max_iter=50, history_size=args.history,
                                    line_search_fn="strong_wolfe", tolerance_grad=0.0,
                                    tolerance_change=0.0)

        qn_opt = opt

        def closure():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        qn_it = 0
        while train_s < args.budget:
            t0 = clock()
            if args.rad_every and qn_it > 0 and qn_it % args.rad_every == 0:
                x, t = rad_resample(model, args.n_colloc, args.seed * 100_000 + qn_it,
                                    args.rad_k, args.rad_c, dtype=dt)
                if hasattr(opt, "invalidate"):
                    opt.invalidate()
            loss = opt.step(closure)
            it += 1
            qn_it += 1
            train_s += clock() - t0
            log(float(loss))
            if getattr(opt, "status", "running") != "running":
                status = opt.status
                break
    log(float(loss_fn().detach()), force=True)

    def err_at(sec: float) -> float | None:
        if sec > hist[-1][0] + 1.0:
            return None
        vals = [h[3] for h in hist if h[0] <= sec + 1e-9]
        return vals[-1] if vals else None

    def time_to(th: float) -> float | None:
        for h in hist:
            if h[3] <= th:
                return h[0]
        return None

    summary = dict(
        args=vars(args), n_params=n_params, adam_end_s=adam_end, iters=it, status=status,
        err_60=err_at(60), err_200=err_at(200), err_600=err_at(600), err_final=hist[-1][3],
        loss_final=hist[-1][2], time_final=hist[-1][0], t_1e3=time_to(1e-3), t_3e4=time_to(3e-4),
        t_1e4=time_to(1e-4), best_err=min(h[3] for h in hist),
    )
    print("SUMMARY " + json.dumps({k: v for k, v in summary.items() if k != "args"}), flush=True)
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(dict(summary, hist=hist)) + "\n")
    return summary


if __name__ == "__main__":
    main()
