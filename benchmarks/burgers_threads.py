"""Thread count vs step time for the default Burgers run (and, if installed, DeepXDE's example).

    python benchmarks/burgers_threads.py [--deepxde]

Each measurement runs in its own process (torch's thread count is per process): the time of one
SSBroyden step on the default Burgers problem (mean of 30 steps after 5 warm-up
steps, timed by threads_under_load.measure), and with
``--deepxde`` the wall time of a shortened DeepXDE Burgers run (2000 Adam + 300 L-BFGS iterations).
Run it on an idle machine: with other busy processes more threads can be much slower.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deepxde", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from threads_under_load import measure  # the same step timing, one process per thread count

    for threads in (1, 2):
        wall, _, _ = measure(threads, {}, 30)
        print(f"physopt SSBroyden step, {threads} thread(s): {wall:.3f} s")
    if args.deepxde:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import burgers_vs_deepxde as bench

        bench.DEEPXDE_SCRIPT = bench.DEEPXDE_SCRIPT.replace("iterations=15000", "iterations=2000").replace(
            'model.compile("L-BFGS")', 'dde.optimizers.config.set_LBFGS_options(maxiter=300); model.compile("L-BFGS")')
        for threads in (1, 2):
            res = bench.run_deepxde(0, threads)
            print(f"DeepXDE 2000 Adam + 300 L-BFGS, {threads} thread(s): "
                  f"{'failed' if res is None else format(res['wall_time_s'], '.1f') + ' s'}")


if __name__ == "__main__":
    main()
