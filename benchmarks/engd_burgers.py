"""adam+engd vs adam+lbfgs on Burgers at equal process CPU time (one thread).

    OMP_NUM_THREADS=1 python benchmarks/engd_burgers.py [--engd-steps 150] [--seed 0]

Both runs share the first phase (hard BC/IC, 4x20 tanh MLP, 2000 Sobol points, 1000 Adam steps,
seed 0). The ENGD run then takes ``--engd-steps`` steps; the L-BFGS run continues until its process
CPU time since the switch equals the ENGD phase's. Prints rel. L2 error against the Cole–Hopf
reference at the switch and at the end of each second phase, with CPU seconds and steps.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import physopt

COMMON = ["model.depth=4", "model.width=20", "sampler.sizes.pde=2000", "optim.first_sizes.pde=2000",
          "optim.switch_at=1000", "threads=1"]


class Clock:
    """Records process CPU time at the optimizer switch; stops the run after ``budget`` CPU s."""

    def __init__(self, switch: int, budget: float | None = None) -> None:
        self.switch, self.budget, self.t_switch = switch, budget, None
        self.steps_after = 0

    def on_record(self, trainer: Any, record: dict[str, Any]) -> None:
        pass

    def on_step(self, trainer: Any) -> None:
        if trainer.step == self.switch:
            self.t_switch = time.process_time()
        elif self.t_switch is not None:
            self.steps_after = trainer.step - self.switch
            if self.budget is not None and time.process_time() - self.t_switch >= self.budget:
                trainer.request_stop()

    def on_end(self, trainer: Any, result: Any) -> None:
        self.cpu = time.process_time() - (self.t_switch or time.process_time())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engd-steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common = dict(constraints="hard", seed=args.seed)
    engd_clock = Clock(1000)
    engd = physopt.solve("burgers", optimizer="adam+engd", steps=1000 + args.engd_steps,
                         overrides=[*COMMON, "eval_every=1000"], callbacks=[engd_clock], **common)
    switch = next(h["rel_l2"] for h in engd.history if h["step"] == 1000)
    lbfgs_clock = Clock(1000, budget=engd_clock.cpu)
    lbfgs = physopt.solve("burgers", optimizer="adam+lbfgs", steps=1000 + 100_000,
                          overrides=[*COMMON, "eval_every=100000"], callbacks=[lbfgs_clock], **common)
    print(f"after 1000 Adam steps: rel_l2 {switch:.3e}")
    for name, res, clock in (("engd", engd, engd_clock), ("lbfgs", lbfgs, lbfgs_clock)):
        print(f"adam+{name}: rel_l2 {res.metrics['rel_l2']:.3e} after {clock.steps_after} {name} steps, "
              f"{clock.cpu:.1f} CPU s after the switch ({res.status})")


if __name__ == "__main__":
    main()
