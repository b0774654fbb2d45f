"""Convergence and cost of every PDE family (the numbers of docs/operators.md, section Families).

    OMP_NUM_THREADS=1 python benchmarks/families.py            # all families (about 3 CPU-minutes)
    OMP_NUM_THREADS=1 python benchmarks/families.py --only darcy burgers-1d

Convergence: the same instances (same seeds) solved with the default options and with a finer solver
(grid and time step), relative L2 per instance (mean and worst) on shared points; for the exactly
solved 1-D families, against adaptive quadrature of the closed forms. Cost: CPU seconds per instance
(``time.process_time``, one thread) of the whole draw (field + solve) and the ``solve_time_s`` it records.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import quad

from physopt.operators import FAMILIES, family_options


def relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm((a - b).reshape(len(a), -1), axis=1) / np.linalg.norm(b.reshape(len(b), -1), axis=1)


def draw(name: str, n: int, resolution: int, **values):
    return FAMILIES[name].generate(family_options(name, values), n=n, resolution=resolution, seed=0)


def restrict(u: np.ndarray, factor: int) -> np.ndarray:
    return u[(Ellipsis,) + (slice(None, None, factor),) * (u.ndim - 2)]


def compare(label: str, coarse, fine_outputs: np.ndarray) -> str:
    e = relative(coarse.outputs, fine_outputs)
    return f"{label}: rel L2 mean {e.mean():.1e}, worst {e.max():.1e}"


def darcy() -> list[str]:
    from physopt.operators._darcy import node_faces, solve_darcy

    n = 8
    ref = draw("darcy", n, 257, refine=2)  # 513-node solver grid
    rows = []
    for q in (33, 65):  # the usual scheme: a at the output nodes, two-node harmonic means, no refinement
        plain = draw("darcy", n, q)
        outputs = np.stack([solve_darcy(*node_faces(a[0]))[None] for a in plain.inputs])
        e = relative(outputs, restrict(ref.outputs, 256 // (q - 1)))
        rows.append(f"res {q} two-node harmonic means on the output grid: rel L2 mean {e.mean():.1e}, "
                    f"worst {e.max():.1e}")
    for q in (33, 65):
        for refine in (1, 2, 4):
            rows.append(compare(f"res {q} refine {refine} vs res 257 refine 2", draw("darcy", n, q, refine=refine),
                                restrict(ref.outputs, 256 // (q - 1))))
    return rows


def burgers() -> list[str]:
    from physopt.operators._burgers import cole_hopf_sine, solve_burgers

    fine = draw("burgers-1d", 16, 256, solver_points=2048, dt=1.25e-4)
    rows = [compare("default (512 points, dt 5e-4) vs 2048 points, dt 1.25e-4", draw("burgers-1d", 16, 256),
                    fine.outputs)]
    x = np.arange(512) / 512
    u = solve_burgers(np.sin(2 * np.pi * x)[None], nu=1e-2, times=np.array([1.0]), dt=5e-4)[0, 0]
    exact = cole_hopf_sine(512, nu=1e-2, t=1.0)
    rows.append(f"Cole–Hopf, u0 = sin 2 pi x, t = 1, 512 points, dt 5e-4: rel L2 "
                f"{np.linalg.norm(u - exact) / np.linalg.norm(exact):.1e}")
    return rows


def one_d(name: str) -> list[str]:
    from physopt.operators._poisson import PoissonOptions

    field = PoissonOptions().field()
    data = draw(name, 4, 17)
    worst = 0.0
    for i in range(4):
        c = field.sample(np.random.default_rng([0, i]))[None]

        def f(t, c=c):
            return float(field.evaluate_at(c, np.array([t]))[0, 0])

        x = np.linspace(0, 1, 17)
        if name == "antiderivative":
            truth = np.array([quad(f, 0, t, epsabs=1e-14, limit=200)[0] for t in x])
        else:  # Green's function of -u'' with u(0) = u(1) = 0
            truth = np.array([quad(lambda s, t=t: f(s) * (s * (1 - t) if s < t else t * (1 - s)), 0, 1,
                                   points=[t], epsabs=1e-14, limit=200)[0] for t in x])
        worst = max(worst, np.linalg.norm(data.outputs[i, 0] - truth) / np.linalg.norm(truth))
    return [f"closed form vs adaptive quadrature of f (4 instances, 17 points): worst rel L2 {worst:.1e}"]


def poisson_2d() -> list[str]:
    rows = []
    for q in (33, 65):
        ref = draw("poisson-2d", 8, q, refine=1024 // (q - 1))
        for refine in (1, 4):
            rows.append(compare(f"res {q} refine {refine} vs refine {1024 // (q - 1)}", draw("poisson-2d", 8, q,
                                                                                          refine=refine), ref.outputs))
    return rows


def navier_stokes() -> list[str]:
    fine = draw("navier-stokes-2d", 4, 64, solver_points=128, dt=1.25e-2)
    coarse = draw("navier-stokes-2d", 4, 64)
    return [compare("default (64 points, dt 5e-2) vs 128 points, dt 1.25e-2, outputs t = 11..20", coarse, fine.outputs)]


CONVERGENCE = {"darcy": darcy, "burgers-1d": burgers, "antiderivative": lambda: one_d("antiderivative"),
               "poisson-1d": lambda: one_d("poisson-1d"), "poisson-2d": poisson_2d,
               "navier-stokes-2d": navier_stokes}
COST = {"darcy": [(32, 200), (64, 50)], "burgers-1d": [(256, 200)], "antiderivative": [(128, 2000)],
        "poisson-1d": [(128, 2000)], "poisson-2d": [(32, 500), (64, 200)], "navier-stokes-2d": [(32, 20)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=sorted(FAMILIES), choices=sorted(FAMILIES))
    args = parser.parse_args()
    for name in args.only:
        print(f"## {name}")
        for row in CONVERGENCE[name]():
            print("  " + row, flush=True)
        for resolution, n in COST[name]:
            start = time.process_time()
            data = draw(name, n, resolution)
            total = (time.process_time() - start) / n
            print(f"  cost at res {resolution} ({n} instances): {total:.2g} s per instance "
                  f"(recorded solve_time_s {data.solve_time_s:.2g})", flush=True)


if __name__ == "__main__":
    main()
