"""Why a 2-thread run collapses when other busy processes share the cores, and what the default does about it.

    OMP_NUM_THREADS= python benchmarks/threads_under_load.py [--hogs 0 3] [--repeats 3] [--steps 20]

For each number of busy "hog" processes (pure-Python spin loops, one core each), each configuration runs
in its own process (torch's thread pool and OpenMP's wait policy are per process) and times SSBroyden
steps of the default Burgers run (after 5 warm-up steps): wall and CPU seconds per step, median over
``--repeats`` runs interleaved with the other configurations so that drifting background load hits all
of them alike. Configurations: 1 thread, 2 threads, 2 threads with ``OMP_WAIT_POLICY=PASSIVE``, and
physopt's default (``threads = 0``: as many threads as idle cores at the start, see
``physopt.runtime.idle_threads``).

Reading: OpenMP's worker threads spin at every barrier; with two threads on two busy cores one of them
is often descheduled, so each of the thousands of small parallel regions in a step waits for a time
slice. One thread has no barrier.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

STEP = """
import sys, time, torch
from physopt.config import build, make_optimizer, resolve
from physopt.runtime import resolve_threads
torch.set_num_threads(resolve_threads(int(sys.argv[1])))
b = build(resolve("burgers"))
opt = make_optimizer(b.phases[1], list(b.model.parameters()))
batch = b.sampler.batch(0)
def closure():
    opt.zero_grad()
    squares, residuals = b.objective.terms(b.model, batch, b.params)
    loss = b.objective.loss(squares, residuals)
    loss.backward()
    return loss
steps = int(sys.argv[2])
for i in range(5 + steps):
    if i == 5:
        w0, c0 = time.perf_counter(), time.process_time()
    opt.step(closure)
print((time.perf_counter() - w0) / steps, (time.process_time() - c0) / steps, torch.get_num_threads())
"""

CONFIGS = {  # name: (threads argument, extra environment)
    "1 thread": (1, {}),
    "2 threads": (2, {}),
    "2 threads, OMP_WAIT_POLICY=PASSIVE": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "2 threads, GOMP_SPINCOUNT=10000": (2, {"GOMP_SPINCOUNT": "10000"}),
    "2 threads, GOMP_SPINCOUNT=100000": (2, {"GOMP_SPINCOUNT": "100000"}),
    "threads = 0 in a library process": (0, {}),
    "threads = 0 under the physopt program": (0, {"OMP_WAIT_POLICY": "PASSIVE"}),
}


def measure(threads: int, env: dict[str, str], steps: int) -> tuple[float, float, int]:
    ours = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    full = {k: v for k, v in os.environ.items() if k not in ours} | env
    out = subprocess.run([sys.executable, "-c", STEP, str(threads), str(steps)], capture_output=True, text=True,
                         check=True, env=full)
    wall, cpu, used = out.stdout.split()[-3:]
    return float(wall), float(cpu), int(used)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hogs", type=int, nargs="+", default=[0, 3], help="numbers of busy processes to test")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    print(f"{'busy processes':>14}  {'configuration':<40} {'wall s/step':>11} {'CPU s/step':>10} {'threads':>7}"
          f"  load avg")
    for hogs in args.hogs:
        procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
        try:
            time.sleep(1.0 if hogs else 0.0)
            runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in CONFIGS}
            for _ in range(args.repeats):
                for name, (threads, env) in CONFIGS.items():
                    runs[name].append(measure(threads, env, args.steps))
            load = os.getloadavg()[0]
            for name, got in runs.items():
                wall = statistics.median(g[0] for g in got)
                cpu = statistics.median(g[1] for g in got)
                used = "/".join(sorted({str(g[2]) for g in got}))
                print(f"{hogs:>14}  {name:<40} {wall:>11.3f} {cpu:>10.3f} {used:>7}  {load:.1f}")
        finally:
            for p in procs:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
