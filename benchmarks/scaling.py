"""Time per step of 1 and 2 processes under ``torchrun`` (gloo, CPU): PINN training and a Muon step.

Three measurements, each launched as ``torchrun --standalone --nproc_per_node P benchmarks/scaling.py
--worker ...`` (one torch thread per process) and reported from rank 0:

* **PINN strong scaling**: ``poisson2d`` (tanh MLP, Adam) on a fixed global point set, 1 process
  with all points against 2 processes with half each;
* **PINN weak scaling**: the same per-process point count on 1 and on 2 processes (2× the points);
* **communication share**: the median time of the step's one all-reduce (loss, terms and the
  gradient: ``P + 3`` float64 numbers) measured on its own, divided by the median step time;
* **distributed Muon**: one ``physopt.optim.Muon`` step on the 12-block width-512 parameter set of
  ``benchmarks/optim_step.py`` (72 matrices, random gradients, float32), single process against 2
  ranks sharing the Newton–Schulz work; the exchange is timed on its own too.

Each step is timed separately (wall and this process's CPU time) after warm-up steps; tables show
medians. Total CPU is summed over the ranks. On a machine shared with other jobs the wall times
carry the load; the CPU times do not. ::

    OMP_NUM_THREADS=1 python benchmarks/scaling.py                # ≈ 3–5 min
    OMP_NUM_THREADS=1 python benchmarks/scaling.py --points 2048 --muon-steps 2   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

HERE = Path(__file__).resolve().parent


class _StepTimer:
    """A :class:`physopt.training.Callback` recording the wall and CPU time of every step."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._t = (time.perf_counter(), time.process_time())

    def on_record(self, trainer, record) -> None:
        pass

    def on_step(self, trainer) -> None:
        now = (time.perf_counter(), time.process_time())
        self.wall.append(now[0] - self._t[0])
        self.cpu.append(now[1] - self._t[1])
        self._t = now

    def on_end(self, trainer, result) -> None:
        pass


def _total(value: float, world: int) -> float:
    if world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t)


def _median_allreduce(numel: int, dtype: torch.dtype, repeats: int) -> float:
    buf = torch.zeros(numel, dtype=dtype)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dist.all_reduce(buf)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def worker_pinn(points: int, steps: int, warmup: int, world: int) -> dict:
    import physopt

    timer = _StepTimer()
    result = physopt.solve("poisson2d", optimizer="adam", steps=warmup + steps, seed=0, callbacks=[timer],
                           overrides=[f"sampler.sizes.pde={points * world}", "model.width=64", "model.depth=4",
                                      "log_every=1000000", "eval_every=1000000", "constraints=hard"])
    wall, cpu = statistics.median(timer.wall[warmup:]), statistics.median(timer.cpu[warmup:])
    n_params = sum(p.numel() for p in result.model.parameters())
    comm = _median_allreduce(n_params + 3, torch.float64, 50) if world > 1 else 0.0
    return {"wall": wall, "cpu": cpu, "cpu_total": _total(cpu, world), "comm": comm, "params": n_params}


def worker_muon(steps: int, world: int) -> dict:
    sys.path.insert(0, str(HERE))
    from optim_step import make_params

    import physopt.optim as po

    matrices, _ = make_params(12, 512, seed=0)
    opt = po.Muon(matrices, lr=0.02, ns_dtype=None)  # float32 iteration: bf16 matmuls are slow on CPUs
    opt.step()  # warm-up (creates the momentum buffers)
    wall, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    numel = sum(p.numel() for p in matrices)
    comm = _median_allreduce(numel, torch.float32, 5) if world > 1 else 0.0
    med_cpu = statistics.median(cpu)
    return {"wall": statistics.median(wall), "cpu": med_cpu, "cpu_total": _total(med_cpu, world), "comm": comm,
            "matrices": len(matrices)}


def _worker(args: argparse.Namespace) -> None:
    from physopt.runtime import destroy_process_group, init_process_group, launch_from_env

    torch.set_num_threads(1)
    launch = launch_from_env()
    world = 1
    if launch is not None:
        init_process_group(launch, "cpu")
        world = launch.world_size
    if args.worker == "pinn":
        out = worker_pinn(args.points, args.steps, args.warmup, world)
    else:
        out = worker_muon(args.muon_steps, world)
    if launch is None or launch.rank == 0:
        Path(args.result).write_text(json.dumps(out))
    destroy_process_group()


def _launch(nproc: int, *extra: str) -> dict:
    result = Path(f"/tmp/physopt-scaling-{os.getpid()}-{nproc}.json")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(Path(__file__).resolve()), "--result", str(result), *extra]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    out = json.loads(result.read_text())
    result.unlink()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--points", type=int, default=4096, help="global interior points of the strong-scaling runs")
    p.add_argument("--steps", type=int, default=40, help="timed Adam steps per PINN run")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--muon-steps", type=int, default=3, help="timed Muon steps per run")
    p.add_argument("--worker", choices=["pinn", "muon"], help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        _worker(args)
        return
    pinn = ["--worker", "pinn", "--steps", str(args.steps), "--warmup", str(args.warmup)]
    half = str(args.points // 2)
    runs = {
        "1 process, N points": _launch(1, *pinn, "--points", str(args.points)),
        "2 processes, N/2 each (strong)": _launch(2, *pinn, "--points", half),
        "1 process, N/2 points": _launch(1, *pinn, "--points", half),
    }
    strong1, strong2, weak1 = runs.values()
    print(f"PINN step, poisson2d, MLP 4x64 ({strong1['params']} parameters), Adam, float64, N = {args.points}; "
          f"medians of {args.steps} steps")
    print("| run | wall ms/step | CPU ms/step (rank 0) | CPU ms/step (all ranks) | all-reduce ms | comm share |")
    print("|---|---|---|---|---|---|")
    for name, r in runs.items():
        share = f"{r['comm'] / r['wall']:.1%}" if r["comm"] else "-"
        print(f"| {name} | {1e3 * r['wall']:.2f} | {1e3 * r['cpu']:.2f} | {1e3 * r['cpu_total']:.2f} | "
              f"{1e3 * r['comm']:.3f} | {share} |")
    print(f"strong scaling speed-up (wall, N points: 1 vs 2 processes): {strong1['wall'] / strong2['wall']:.2f}x")
    print(f"weak scaling efficiency (wall, N/2 per process: 1 process / 2 processes): "
          f"{weak1['wall'] / strong2['wall']:.2f}")
    muon = ["--worker", "muon", "--muon-steps", str(args.muon_steps)]
    m1, m2 = _launch(1, *muon), _launch(2, *muon)
    print(f"\nMuon step, 12 blocks width 512 ({m1['matrices']} matrices), float32 Newton-Schulz; medians of "
          f"{args.muon_steps} steps")
    print("| run | wall s/step | CPU s/step (rank 0) | CPU s/step (all ranks) | exchange s | speed-up (wall) |")
    print("|---|---|---|---|---|---|")
    for name, r in (("1 process", m1), ("2 ranks sharing Newton-Schulz", m2)):
        exch = f"{r['comm']:.3f}" if r["comm"] else "-"
        print(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['cpu_total']:.2f} | {exch} | "
              f"{m1['wall'] / r['wall']:.2f}x |")


if __name__ == "__main__":
    main()
