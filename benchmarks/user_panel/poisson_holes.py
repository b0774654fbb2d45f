"""PINNacle's "Poisson 2d-C" (Poisson2D_Classic), written as a user would write it.

Laplace's equation on a plate with four circular holes (Hao et al., "PINNacle: A Comprehensive
Benchmark of Physics-Informed Neural Networks for Solving PDEs", NeurIPS 2024 D&B; geometry and
conditions as in its ``src/pde/poisson.py``, scale 1):

    Δu = 0   in Ω = [-0.5, 0.5]² minus the disks of radius 0.1 around (±0.3, ±0.3),
    u = 1    on the outer square,   u = 0   on the four circles.

Run: ``physopt solve benchmarks/user_panel/poisson_holes.py:make``. PINNacle's finite-element
reference (``ref/poisson1_cg_data.dat``) is not shipped here, so the problem has no reference;
``make()`` carries a hard ansatz for ``--constraints hard``: ``u = g + d·N`` with the R-function
distance of the plate and the lift ``g = d_holes / (d_holes + d_square)`` (1 on the square,
0 on the circles).
"""

import dataclasses

import torch

from physopt.problems import Difference, Dirichlet, Disk, Problem, Rectangle, Residual, distance_ansatz, ops

HALF = 0.5
SQUARE = Rectangle((-HALF, -HALF), (HALF, HALF))
HOLES = tuple(Disk((sx * 0.3, sy * 0.3), 0.1) for sx in (1, -1) for sy in (1, -1))
PLATE = Difference(SQUARE, *HOLES)


def _pde(x, u, params):
    return ops.laplacian(u, x)


def _on_square(x):
    # Boundary samples on a face carry the exact coordinate ±0.5; 1e-9 only absorbs round-off.
    return (x.abs() >= HALF - 1e-9).any(dim=1)


def _on_circles(x):
    return ~_on_square(x)


def _lift(x):
    d_square = SQUARE.ansatz_distance(x).clamp_min(0)
    d_holes = torch.cat([-h.ansatz_distance(x) for h in HOLES], dim=1).min(dim=1, keepdim=True).values.clamp_min(0)
    return d_holes / (d_holes + d_square)  # both vanish together only where a hole touches the square: never


def make():
    problem = Problem(
        name="poisson-holes",
        domain=PLATE,
        input_names=("x", "y"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "square": Dirichlet(1.0, on=_on_square),
            "circles": Dirichlet(0.0, on=_on_circles),
        },
        sizes={"pde": 2000, "square": 400, "circles": 400},
        description="PINNacle Poisson 2d-C: Laplace on a square with four holes, u = 1 outside, 0 on the holes",
    )
    ansatz = distance_ansatz(problem, distance=PLATE.ansatz_distance, lift=_lift)
    return dataclasses.replace(problem, ansatz=ansatz)
