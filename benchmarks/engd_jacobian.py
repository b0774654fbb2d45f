"""Cost of ENGD's dense Jacobian on a Burgers residual: full batch graph vs per-point blocks.

    OMP_NUM_THREADS=1 python benchmarks/engd_jacobian.py [--points 2000]

A 4x20 tanh MLP, the Burgers residual u_t + u u_x - (0.01/pi) u_xx at random points, one thread,
process CPU time. ``full``: one backward pass per residual through the whole batch's graph (what
ENGD does when the closure has no ``blocks``); ``blocks``: the residual re-evaluated on blocks of
``--block`` points, each block's rows from one vmapped backward (the trainer's closure).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from physopt.models import MLP
from physopt.optim._engd import residual_jacobian
from physopt.problems import ops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--block", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    net = MLP(in_dim=2, out_dim=1, width=20, depth=4, generator=gen)
    params = list(net.parameters())
    X = torch.rand(args.points, 2, generator=gen, dtype=torch.float64)

    def residual(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        u = net(x)
        u_x, u_t = ops.partial(u, x, 0), ops.partial(u, x, 1)
        return (u_t + u * u_x - 0.01 / math.pi * ops.partial(u, x, 0, 0)).reshape(-1)

    t = time.process_time()
    J_blocks = torch.cat([residual_jacobian(residual(X[i : i + args.block]), params, batched=True)
                          for i in range(0, args.points, args.block)])
    t_blocks = time.process_time() - t
    t = time.process_time()
    J_full = residual_jacobian(residual(X), params)
    t_full = time.process_time() - t
    err = float((J_full - J_blocks).abs().max())
    print(f"N={args.points} P={sum(p.numel() for p in params)}: full graph {t_full:.2f} s, "
          f"blocks of {args.block} {t_blocks:.2f} s CPU; max |difference| {err:.1e}")


if __name__ == "__main__":
    main()
