"""Device check: a short ``solve`` on every accelerator this machine has, compared with the CPU run.

    python scripts/device_check.py                 # every CUDA device (and mps), burgers, 300 steps
    python scripts/device_check.py --problem poisson2d --steps 500

Each run starts from the same weights (models initialise on the CPU and move, see
physopt.runtime.Runtime) but draws its collocation points from a generator on its own device, so
the runs are not bit-identical; the check asserts that every tensor of the trained model lives on
the device asked for, that the run completes, and that its relative L2 error is within a factor
``--ratio`` of the CPU run's. Exit status 0: all passed (or no accelerator: nothing to check),
1: a check failed. Also run as ``pytest -m gpu`` (tests/integration/test_device_gpu.py).
"""

from __future__ import annotations

import argparse
import sys

import torch

import physopt


def accelerators() -> list[str]:
    found = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def check(device: str, *, problem: str, steps: int, ratio: float) -> list[str]:
    """Problems found on ``device`` (empty: passed)."""
    sets = ["eval_every=100", "optim.switch_at=" + str(steps // 2)]
    dtype = "float32" if device == "mps" else "float64"  # MPS has no float64
    cpu = physopt.solve(problem, steps=steps, dtype=dtype, overrides=sets)
    dev = physopt.solve(problem, steps=steps, dtype=dtype, device=device, overrides=sets)
    problems = []
    wrong = {str(p.device) for p in dev.model.parameters()} - {str(torch.device(device))}
    if wrong:
        problems.append(f"parameters on {sorted(wrong)}, not {device}")
    if dev.status not in ("completed", "converged"):
        problems.append(f"status {dev.status}: {dev.report.message}")
    a, b = cpu.report.rel_l2, dev.report.rel_l2
    if a is not None and (b is None or not b <= ratio * a):
        problems.append(f"rel_l2 {b} on {device} vs {a} on cpu (allowed factor {ratio})")
    print(f"{device}: rel_l2 {b!r} vs cpu {a!r}; {dev.report.wall_time_s:.1f} s vs {cpu.report.wall_time_s:.1f} s")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problem", default="burgers")
    p.add_argument("--steps", type=int, default=300)
    # Different points on another device: at 300 steps the error varies by ~2x between seeds.
    p.add_argument("--ratio", type=float, default=10.0)
    args = p.parse_args()
    devices = accelerators()
    if not devices:
        print("no accelerator on this machine: nothing to check")
        return 0
    failed = {d: found for d in devices if (found := check(d, problem=args.problem, steps=args.steps,
                                                           ratio=args.ratio))}
    for d, found in failed.items():
        print(f"FAIL {d}: " + "; ".join(found))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
