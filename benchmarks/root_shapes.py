"""ROOT's Newton–Schulz coefficients per shape: Keller's fallback vs fitted (``fit_shapes=True``).

For PINN-shaped (small, square or thin) and transformer-shaped matrices: the orthogonalisation
error ‖NS₅(G) − UVᵀ‖²_F / min(m, n) of Gaussian matrices G of that shape (4 held-out samples, not
the fitting samples), with Keller's coefficients (what ROOT uses for shapes outside the authors'
four) and with coefficients fitted to the shape (`physopt.optim.fit_root_coeffs`, 2 samples),
plus the fit's CPU time (paid once per shape and run).

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/root_shapes.py
"""

from __future__ import annotations

import time

import torch

from physopt.optim import ROOT_COEFFS, fit_root_coeffs
from physopt.optim._newton_schulz import KELLER_COEFFS
from physopt.optim._root_fit import ns_singular_error, shape_singular_values

SHAPES = {"PINN": [(2, 50), (20, 20), (50, 50), (64, 64), (64, 256)],
          "transformer": [(512, 512), (768, 768), (768, 3072), (1024, 4096)]}


def main() -> None:
    torch.set_num_threads(1)
    print("| kind | shape | fitted (a, b, c) | error Keller | error fitted | fit CPU s |")
    print("|---|---|---|---|---|---|")
    for kind, shapes in SHAPES.items():
        for m, n in shapes:
            t = time.process_time()
            c = fit_root_coeffs(m, n, samples=2, generator=torch.Generator().manual_seed(0))
            fit_s = time.process_time() - t
            held = shape_singular_values(m, n, samples=4, generator=torch.Generator().manual_seed(1))
            ek, ef = (float(ns_singular_error(x, held, steps=5)) for x in (KELLER_COEFFS, c))
            print(f"| {kind} | {m}×{n} | ({c[0]:.4f}, {c[1]:.4f}, {c[2]:.4f}) | {ek:.2e} | {ef:.2e} | {fit_s:.2f} |",
                  flush=True)
    print("\nauthors' shapes for reference (not fitted here):", ROOT_COEFFS)


if __name__ == "__main__":
    main()
