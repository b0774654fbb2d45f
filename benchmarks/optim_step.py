"""Step time of physopt.optim against torch.optim.Muon (and peers, when installed), one run.

Parameter set shaped like a transformer: ``--blocks`` blocks of width ``--width`` with attention
``w×w ×4``, MLP ``4w×w`` and ``w×4w`` and 1-D norms/biases (float32, random gradients). Matrix
optimizers get the matrices only (torch.optim.Muon rejects 1-D parameters); AdamP/SGDP get
everything. Steps are timed round-robin (every optimizer once per round, order reversed every
other round) so that machine load affects all of them alike; the table shows the median over
rounds of the process CPU time (robust to other jobs on a shared machine when run with
``--threads 1``) and of the wall time.
Ratios are relative to torch.optim.Muon.

Also printed: state memory, the Newton–Schulz orthogonality band (the largest k singular values
of the orthogonalised matrix, k = number of input singular values ≥ 1e-2·σ_max) for a
gradient-like 512×2048 matrix with a 1/i spectrum, and the kernel's achieved GFLOP/s as a
fraction of this machine's bf16 matmul GFLOP/s on the same shapes.

    python benchmarks/optim_step.py                 # 12 blocks, width 512 (≈ 4–6 min on 1 thread)
    python benchmarks/optim_step.py --blocks 2      # quick look
    python benchmarks/optim_step.py --blocks 2 --only "muon,fismo,aro"   # a subset of rows

Optional peers (install with ``pip install --no-deps``): ``pytorch-optimizer`` (Muon, NorMuon,
AdamP, SGDP), ``adamp`` (AdamP, SGDP).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable

import torch

import physopt.optim as po


def make_params(blocks: int, width: int, seed: int) -> tuple[list, list]:
    g = torch.Generator().manual_seed(seed)
    matrices, vectors = [], []
    for _ in range(blocks):
        shapes = [(width, width)] * 4 + [(4 * width, width), (width, 4 * width)]
        for shape in shapes:
            matrices.append(torch.nn.Parameter(torch.randn(*shape, generator=g) * 0.02))
        for n in [width] * 4 + [width] * 4 + [4 * width, width]:  # norms (w, b), biases
            vectors.append(torch.nn.Parameter(torch.randn(n, generator=g) * 0.02))
    for p in matrices + vectors:
        p.grad = torch.randn(p.shape, generator=g)
    return matrices, vectors


def state_bytes(opt: torch.optim.Optimizer) -> int:
    total = 0
    for state in opt.state.values():
        for value in state.values():
            if torch.is_tensor(value):
                total += value.numel() * value.element_size()
    return total


def candidates(matrices: list, vectors: list) -> dict[str, Callable[[], torch.optim.Optimizer]]:
    everything = matrices + vectors
    out: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "torch.optim.Muon": lambda: torch.optim.Muon(matrices, lr=0.02, weight_decay=0.0),
        "physopt Muon": lambda: po.Muon(matrices, lr=0.02),
        "physopt Muon gram": lambda: po.Muon(matrices, lr=0.02, ns_method="auto"),
        "physopt Muon gram+PE": lambda: po.Muon(
            matrices, lr=0.02, ns_method="auto", ns_coeffs=po.POLAR_EXPRESS_COEFFS
        ),
        "physopt NorMuon": lambda: po.NorMuon(matrices),
        "physopt NAMO": lambda: po.NAMO(matrices),
        "physopt NAMOD": lambda: po.NAMOD(matrices),
        "physopt ROOT (fp32 NS)": lambda: po.ROOT(matrices),
        "physopt AuON": lambda: po.AuON(matrices),
        "physopt HybridAuON": lambda: po.HybridAuON(matrices),
        "physopt FISMO": lambda: po.FISMO(matrices),
        "physopt FISMO (refresh 10)": lambda: po.FISMO(matrices, precondition_frequency=10),
        "physopt ARO (Sinkhorn)": lambda: po.ARO(matrices),
        "physopt AdamP": lambda: po.AdamP(everything),
        "physopt SGDP": lambda: po.SGDP(everything),
    }
    try:
        peer = importlib.import_module("pytorch_optimizer")
        muon_group = [{"params": matrices, "use_muon": True}]  # its required group flag
        out["pytorch_optimizer Muon"] = lambda: peer.Muon(muon_group, lr=0.02)
        out["pytorch_optimizer NorMuon"] = lambda: peer.NorMuon(muon_group)
        out["pytorch_optimizer AdamP"] = lambda: peer.AdamP(everything)
        out["pytorch_optimizer SGDP"] = lambda: peer.SGDP(everything, lr=0.1, momentum=0.9)
    except ImportError:
        print("(pytorch_optimizer not installed: peer rows skipped)")
    try:
        adamp = importlib.import_module("adamp")
        out["adamp AdamP"] = lambda: adamp.AdamP(everything)
        out["adamp SGDP"] = lambda: adamp.SGDP(everything, lr=0.1, momentum=0.9, nesterov=True)
    except ImportError:
        print("(adamp not installed: peer rows skipped)")
    return out


def band(
    ortho: Callable[[torch.Tensor], torch.Tensor], shape: tuple[int, int], spectrum: str
) -> tuple[float, float]:
    """Singular-value band of ``ortho(G)`` for a 512×2048-like G with a given spectrum:
    ``"1/i"`` (decaying like real gradients) or ``"log"`` (log-uniform in [1e-4, 1])."""
    g = torch.Generator().manual_seed(1)
    m, n = shape
    k = min(m, n)
    U, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))
    if spectrum == "1/i":
        S = torch.arange(1, k + 1, dtype=torch.float64) ** -1.0
    else:
        S = torch.logspace(0, -4, k, dtype=torch.float64)
    G = (U[:, :k] * S) @ V.T
    keep = int((S >= 1e-2 * S.max()).sum())
    s = torch.linalg.svdvals(ortho(G.float()).double())[:keep]
    return s.min().item(), s.max().item()


def gflops(fn: Callable[[], object], flops: float, repeats: int = 5) -> float:
    """Achieved GFLOP/s from the median CPU time (see the module docstring)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return flops / statistics.median(times) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", default="", help="comma-separated substrings of row names (torch Muon is kept)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{args.blocks} blocks × width {args.width}"
    )
    matrices, vectors = make_params(args.blocks, args.width, args.seed)
    makers = candidates(matrices, vectors)
    only = [s.lower() for s in args.only.split(",") if s]
    if only:
        makers = {
            k: v
            for k, v in makers.items()
            if k == "torch.optim.Muon" or any(s in k.lower() for s in only)
        }
    originals = [p.detach().clone() for p in matrices + vectors]
    opts = {}
    for name, make in makers.items():
        opts[name] = make()
        opts[name].step()  # warm-up; allocates state
    times: dict[str, list[float]] = {name: [] for name in opts}
    walls: dict[str, list[float]] = {name: [] for name in opts}
    order = list(opts.items())
    for round_ in range(args.rounds):
        # alternate the order so that no optimizer always follows the same neighbour
        for name, opt in order if round_ % 2 == 0 else order[::-1]:
            c0, t0 = time.process_time(), time.perf_counter()
            opt.step()
            times[name].append(time.process_time() - c0)
            walls[name].append(time.perf_counter() - t0)
    with torch.no_grad():  # leave the parameters as they were (not needed, but tidy)
        for p, o in zip(matrices + vectors, originals, strict=True):
            p.copy_(o)

    ref = statistics.median(times["torch.optim.Muon"])
    ref_wall = statistics.median(walls["torch.optim.Muon"])
    print(
        f"\n{'optimizer':28s} {'CPU ms':>9s} {'ratio':>7s} {'wall ms':>9s} {'ratio':>7s} "
        f"{'state MB':>9s}"
    )
    for name, ts in times.items():
        med, wall = statistics.median(ts), statistics.median(walls[name])
        print(
            f"{name:28s} {1e3 * med:9.1f} {med / ref:6.2f}× {1e3 * wall:9.1f} "
            f"{wall / ref_wall:6.2f}× {state_bytes(opts[name]) / 2**20:9.1f}"
        )

    print("\northogonality band (top singular values, σ ≥ 1e-2·σ_max), 512×2048 input with a")
    print("1/i spectrum | log-uniform [1e-4, 1] spectrum; max |σ−1| in brackets:")
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns

    rows = {
        "torch.optim.Muon (bf16, Keller ×5)": lambda G: torch_ns(G, po.KELLER_COEFFS, 5, 1e-7),
        "physopt Muon default (bf16, Keller ×5)": lambda G: po.newton_schulz(
            G, dtype=torch.bfloat16
        ),
        "physopt Polar Express ×5 (bf16)": lambda G: po.newton_schulz(
            G, coeffs=po.POLAR_EXPRESS_COEFFS, dtype=torch.bfloat16
        ),
        "physopt gram, Keller ×5 (bf16)": lambda G: po.gram_newton_schulz(G, dtype=torch.bfloat16),
        "physopt gram, Polar Express ×5 (bf16)": lambda G: po.gram_newton_schulz(
            G, coeffs=po.POLAR_EXPRESS_COEFFS, dtype=torch.bfloat16
        ),
        "physopt Keller ×5 (fp32)": lambda G: po.newton_schulz(G),
    }
    for name, fn in rows.items():
        cells = []
        for spectrum in ("1/i", "log"):
            lo, hi = band(fn, (512, 2048), spectrum)
            cells.append(f"[{lo:.3f}, {hi:.3f}] ({max(1 - lo, hi - 1):.3f})")
        print(f"  {name:40s} {cells[0]} | {cells[1]}")

    print("\nNewton–Schulz kernel throughput (bf16) vs bf16 matmul on the same shapes")
    print("(Gram: effective rate = standard-NS flops / Gram time, i.e. speed-up × matmul rate):")
    for m, n in [(args.width, args.width), (args.width, 4 * args.width)]:
        G = torch.randn(m, n)
        ns_flops = 5 * (4 * m * m * n + 2 * m**3)
        ns = gflops(lambda G=G: po.newton_schulz(G, dtype=torch.bfloat16), ns_flops)
        gram = gflops(lambda G=G: po.gram_newton_schulz(G, dtype=torch.bfloat16), ns_flops)
        A, B = torch.randn(m, n).bfloat16(), torch.randn(n, m).bfloat16()
        mm = gflops(lambda A=A, B=B: A @ B, 2 * m * n * m)
        print(
            f"  {m}×{n}: matmul {mm:6.1f} GFLOP/s; NS {ns:6.1f} ({ns / mm:.0%}); "
            f"Gram NS effective {gram:6.1f} ({gram / mm:.0%})"
        )


if __name__ == "__main__":
    main()
