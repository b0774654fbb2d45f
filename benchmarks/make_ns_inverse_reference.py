"""Regenerate src/physopt/problems/zoo/data/ns_inverse.npz, the `navier-stokes-inverse` reference.

Decaying two-dimensional Navier–Stokes on the periodic unit square, ν = 0.01, from the initial
vorticity ω0 = 2π [sin 2πx sin 2πy + ½ cos 2π(2x + y) + 0.3 sin 2π(x − 2y)] (three wavenumber
shells, so the advection is not a gradient and λ1 is identifiable), solved by physopt's
pseudo-spectral vorticity solver (physopt.operators.solve_vorticity: integrating-factor RK4, 2/3
dealiasing) on 64² and on 128² modes. Velocity u = ψ_y, v = −ψ_x from −Δψ = ω; pressure from
Δp = 2 (u_x v_y − u_y v_x) with zero mean. Saved: (u, v, p) on the 32 x 32 nodes x, y = i/32 at
t = 0, 0.05, ..., 1 (the 64² solve); printed: its relative difference from the 128² solve.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/make_ns_inverse_reference.py [--check]

With --check nothing is written: a fresh solve is compared with the shipped file.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from physopt.operators import solve_vorticity

NU, NODES, TIMES = 0.01, 32, np.linspace(0.0, 1.0, 21)
DATA = Path(__file__).resolve().parents[1] / "src/physopt/problems/zoo/data/ns_inverse.npz"


def initial_vorticity(n: int) -> np.ndarray:
    x = np.arange(n) / n
    x, y = np.meshgrid(x, x, indexing="ij")
    s = 2 * math.pi
    return s * (np.sin(s * x) * np.sin(s * y) + 0.5 * np.cos(s * (2 * x + y)) + 0.3 * np.sin(s * (x - 2 * y)))


def fields(w: np.ndarray) -> np.ndarray:
    """(u, v, p) on the grid of the vorticity ``w`` (``(n, n)``, axes x, y)."""
    n = w.shape[0]
    k = 2 * math.pi * np.fft.fftfreq(n, 1.0 / n)
    kx, ky = np.meshgrid(k, k, indexing="ij")
    k2 = kx**2 + ky**2
    safe = np.where(k2 > 0, k2, 1.0)
    psi = np.where(k2 > 0, np.fft.fft2(w) / safe, 0.0)  # -Δψ = ω

    def real(f):
        return np.fft.ifft2(f).real

    u, v = real(1j * ky * psi), real(-1j * kx * psi)
    uh, vh = np.fft.fft2(u), np.fft.fft2(v)
    rhs = 2 * (real(1j * kx * uh) * real(1j * ky * vh) - real(1j * ky * uh) * real(1j * kx * vh))
    p = real(np.where(k2 > 0, -np.fft.fft2(rhs) / safe, 0.0))  # Δp = rhs, zero mean
    return np.stack([u, v, p], axis=-1)


def solve(n: int) -> np.ndarray:
    """(u, v, p) at the 32 x 32 output nodes and TIMES, ``(len(TIMES), 32, 32, 3)``, from ``n``² modes."""
    w0 = initial_vorticity(n)
    later = solve_vorticity(w0[None], nu=NU, times=TIMES[1:], dt=2e-3, forcing=None)[:, 0]
    stride = n // NODES
    return np.stack([fields(w)[::stride, ::stride] for w in [w0, *later]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    args = parser.parse_args()
    coarse, fine = solve(64), solve(128)
    diff = np.linalg.norm(coarse - fine) / np.linalg.norm(fine)
    print(f"64² vs 128² modes: relative L2 difference {diff:.2e} (u, v, p); "
          f"velocity RMS {np.sqrt((coarse[..., :2] ** 2).mean()):.3f}")
    if args.check:
        shipped = np.load(DATA)["uvp"]
        print(f"shipped vs fresh: max |difference| {np.abs(shipped - coarse).max():.2e}")
        return
    np.savez_compressed(DATA, uvp=coarse, times=TIMES, nu=NU)
    print(f"wrote {DATA}")


if __name__ == "__main__":
    main()
