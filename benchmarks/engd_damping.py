"""ENGD's relative damping on Burgers and on the 1-D Poisson test problem (one thread).

    OMP_NUM_THREADS=1 python benchmarks/engd_damping.py [--dampings 1e-10 1e-6 1e-5 1e-4 1e-3]

Burgers: hard BC/IC, 4x20 tanh MLP, 2000 Sobol points, 1000 Adam steps (lr 1e-3), then 30 ENGD
steps from that same point for each damping; prints the loss every 3 steps. Poisson
(tests/integration/poisson1d.py): ``adam+engd``, 150 Adam + 50 ENGD steps, 2x10 net; prints
the final relative L2 error.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

import physopt
from physopt.config import build, resolve
from physopt.optim import ENGD
from physopt.training._fit import _ResidualClosure

POISSON = str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "poisson1d.py") + ":problem"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dampings", type=float, nargs="+", default=[1e-10, 1e-6, 1e-5, 1e-4, 1e-3])
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = resolve("burgers", overrides=["model.depth=4", "model.width=20", "sampler.sizes.pde=2000",
                                        "optim.first_sizes.pde=2000"])
    b = build(cfg)
    batch = b.sampler.batch(0)
    params = list(b.model.parameters())
    adam = torch.optim.Adam(params, lr=1e-3)
    for _ in range(1000):
        adam.zero_grad()
        squares, residuals = b.objective.terms(b.model, batch, b.params)
        b.objective.loss(squares, residuals).backward()
        adam.step()
    start = copy.deepcopy(b.model.state_dict())
    for damping in args.dampings:
        b.model.load_state_dict(start)
        opt = ENGD(params, damping=damping)
        closure = _ResidualClosure(b.objective, b.model, batch, b.params, {})
        losses = [float(opt.step(closure)) for _ in range(30)]
        print(f"burgers damping {damping:g}: loss every 3 steps", " ".join(f"{v:.2e}" for v in losses[::3]),
              f"final {losses[-1]:.2e}, {opt.n_evals} evaluations", flush=True)
    for damping in args.dampings:
        res = physopt.solve(POISSON, steps=200, optimizer="adam+engd", constraints="penalty",
                            overrides=["optim.switch_at=150", "model.depth=2", "model.width=10", "threads=1",
                                       f"optim.then_options.damping={damping}"])
        print(f"poisson1d damping {damping:g}: rel_l2 {res.metrics['rel_l2']:.2e}", flush=True)


if __name__ == "__main__":
    main()
