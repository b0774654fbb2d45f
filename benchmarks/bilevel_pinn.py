"""Bilevel PINN inverse problem: the upper level fits a diffusion coefficient to held-out observations,
the lower level is the PINN fit for that coefficient; against the single-level inverse formulation.

Problem: ``−κ u'' = π² sin(πx)`` on ``(0, 1)``, ``u(0) = u(1) = 0``, so ``u = sin(πx)/κ``; truth ``κ* = 0.5``.
Observations: ``u`` at 8 sensor points (not collocation points), with 1 % seeded Gaussian noise
(``--noise``). The network ``u_θ(x) = x(1 − x)·MLP_θ(x)`` (``physopt.models.MLP``, exact boundary values).
The unknown is ``s = log κ`` (positivity).

- bilevel (``physopt.constrained.bilevel``): ``min_s F(s, θ*(s)) = mean (u_θ(x_i) − d_i)²`` with
  ``θ*(s) = argmin_θ f(s, θ) = mean over collocation points of (κ u_θ'' + π² sin πx)² / π⁴``,
  by ``"penalty"`` and ``"lv-hba"``;
- single-level: Adam on ``f(s, θ) + w F(s, θ)`` jointly in ``(s, θ)`` (``w = 10``; the usual inverse PINN).

Prints ``|κ − κ*|/κ*``, evaluations (reverse passes; one Adam step is one pass through ``f + wF``),
CPU seconds (process time), and the noise floor: the least-squares ``κ`` of the exact family
``sin(πx)/κ`` on the same data.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bilevel_pinn.py
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch.func import functional_call

from physopt.constrained.bilevel import LVHBAOptions, PenaltyOptions, minimize_bilevel
from physopt.models import MLP

D = torch.float64
KAPPA = 0.5


class PinnInverse:
    """The two levels as functions of the flat network parameters ``theta`` and ``s = log κ``."""

    def __init__(self, *, noise: float, seed: int, width: int = 16, depth: int = 2) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.net = MLP(in_dim=1, out_dim=1, width=width, depth=depth, bounds=([0.0], [1.0]), generator=gen)
        self.names = [n for n, _ in self.net.named_parameters()]
        self.shapes = [p.shape for _, p in self.net.named_parameters()]
        self.theta0 = torch.cat([p.detach().reshape(-1) for p in self.net.parameters()])
        self.xc = torch.linspace(0.0, 1.0, 34, dtype=D)[1:-1].reshape(-1, 1)  # collocation
        self.xo = torch.linspace(0.06, 0.94, 8, dtype=D).reshape(-1, 1)  # sensors, off the collocation grid
        clean = torch.sin(math.pi * self.xo) / KAPPA
        self.data = clean + noise * clean.abs().max() * torch.randn(clean.shape, generator=gen, dtype=D)

    def u(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        params, i = {}, 0
        for name, shape in zip(self.names, self.shapes, strict=True):
            params[name] = theta[i:i + shape.numel()].reshape(shape)
            i += shape.numel()
        return x * (1 - x) * functional_call(self.net, params, (x,))

    def lower(self, s: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        x = self.xc.clone().requires_grad_(True)
        u = self.u(theta, x)
        du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
        d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
        res = torch.exp(s) * d2u + math.pi ** 2 * torch.sin(math.pi * x)
        return (res ** 2).mean() / math.pi ** 4

    def upper(self, s: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return ((self.u(theta, self.xo) - self.data) ** 2).mean()


def single_level(p: PinnInverse, *, steps: int, weight: float, lr: float) -> tuple[float, int]:
    s = torch.zeros(1, dtype=D, requires_grad=True)
    theta = p.theta0.clone().requires_grad_(True)
    opt = torch.optim.Adam([s, theta], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (p.lower(s, theta) + weight * p.upper(s, theta)).backward()
        opt.step()
    return float(torch.exp(s.detach())), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adam-steps", type=int, default=3000)
    parser.add_argument("--penalty-iter", type=int, default=30)
    parser.add_argument("--lvhba-iter", type=int, default=2000)
    args = parser.parse_args()
    p = PinnInverse(noise=args.noise, seed=args.seed)
    rows = []
    t0 = time.process_time()
    kappa, n = single_level(p, steps=args.adam_steps, weight=10.0, lr=1e-2)
    rows.append(("single-level Adam (f + 10 F)", kappa, n, time.process_time() - t0, "-"))
    s0 = torch.zeros(1, dtype=D)
    for method, opts, max_iter in (
        ("penalty", PenaltyOptions(lr_x=0.5, lr_y=0.05, sigma0=1.0, sigma_min=1e-2, decay=0.8, inner_iter=100),
         args.penalty_iter),
        ("lv-hba", LVHBAOptions(alpha=0.1, beta=0.1, eta=0.1, c0=1.0), args.lvhba_iter),
    ):
        t0 = time.process_time()
        res = minimize_bilevel(p.upper, p.lower, x0=s0, y0=p.theta0, method=method, options=opts,
                               max_iter=max_iter, tol=1e-8)
        rows.append((f"bilevel {method}", float(torch.exp(res.x)), res.nupper + res.nlower,
                     time.process_time() - t0, res.status.value))
    # noise floor: the least-squares κ of the exact solution family u = sin(πx)/κ on these data
    basis = torch.sin(math.pi * p.xo)
    floor = float((basis ** 2).sum() / (basis * p.data).sum())
    print(f"noise {args.noise:g}, seed {args.seed}, kappa* = {KAPPA}, {p.theta0.numel()} network parameters, "
          f"least-squares kappa of the exact family on these data {floor:.5f} "
          f"(rel. error {abs(floor - KAPPA) / KAPPA:.2e})")
    print("| formulation | kappa | rel. error | evaluations | CPU s | status |")
    print("|---|---|---|---|---|---|")
    for name, kappa, n, cpu, status in rows:
        print(f"| {name} | {kappa:.5f} | {abs(kappa - KAPPA) / KAPPA:.2e} | {n} | {cpu:.1f} | {status} |")


if __name__ == "__main__":
    main()
