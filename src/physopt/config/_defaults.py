"""Tuned run settings per zoo problem: what ``physopt solve NAME`` starts from.

Each entry overrides :class:`~physopt.config.RunConfig` field defaults; a config file, flags and
``--set`` apply on top (:func:`physopt.config.resolve`). Every recipe's measurements are in the
docs named in its comment; problems without an entry run the generic recipe.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROBLEM_DEFAULTS"]

# Anytime plans: under a time budget every two-phase recipe leaves its first optimizer after
# ``switch_at`` steps or this fraction of the budget, whichever comes first, so a budget shorter
# than the recipe's first phase still reaches the second-order phase that does most of the work
# (kovasznay at 45 CPU s: 0.70 relative L2 with the switch by steps alone, still in Adam; 1.6e-2
# over 3 seeds with the switch at a quarter; docs/bench.md). Without a budget nothing changes.
ANYTIME = 0.25


def _sdgd_ball() -> dict[str, Any]:
    """poisson-nd's recipe (and allen-cahn-nd's: same ball, solution and ansatz); a fresh table per entry."""
    return {
        "constraints": "hard",  # u = (1 - |x|²)·N(x)
        "steps": 4000,
        "eval_every": 500,
        "model": {"width": 128, "depth": 3},
        "sampler": {"sizes": {"pde": 100}, "resample_every": 1},
        "sdgd": {"dims": 5},  # 5 of d Laplacian terms per step; set 0 (full Laplacian) for dim < 5
        "optim": {"name": "normuon", "lr": 5e-3, "schedule": "exp", "decay": 0.7},
    }


def _convection_lpinn() -> dict[str, Any]:
    """convection's and convection-50's recipe: the Lagrangian PINN; a fresh table per entry."""
    return {
        "method": "lpinn",  # two 3x20 nets X(ξ, t), U(ξ, t); the IC and periodicity are exact
        "constraints": "hard",
        "steps": 600,
        "eval_every": 100,
        "model": {"width": 20, "depth": 3},
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 3e-3, "switch_at": 300, "switch_fraction": ANYTIME, "then_lr": 1.0},
    }


# Tuned defaults per zoo problem; the command `physopt solve NAME` starts from these.
# Burgers: see docs/benchmarks.md for the measurements behind this recipe.
PROBLEM_DEFAULTS: dict[str, dict[str, Any]] = {
    "burgers": {
        "constraints": "hard",
        # RAD redraws the 8000 points every 500 steps (on the fixed Sobol set the error stalled at
        # ~4e-5 while the loss fell); 500 Adam steps suffice before SSBroyden; at 5000 steps seed 0
        # ended at 7.8e-7, and at 1.46e-6 when rerun with the cheaper residual (rounding alone differs),
        # seed 1 at 6.61e-7, seed 2 at 1.63e-6: median 1.46e-6 in 723-758 CPU s
        # (docs/benchmarks.md, "Where the CPU time goes" and "What we tried").
        "steps": 5000,
        "eval_every": 250,
        "model": {"width": 20, "depth": 6},
        "sampler": {"method": "rad", "resample_every": 500, "candidates": 100000, "sizes": {"pde": 8000}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 500, "then_lr": 1.0,
                  "first_sizes": {"pde": 2000}},
    },
    # poisson2d, helmholtz2d, kovasznay, allen-cahn-deepxde: measured in docs/benchmarks.md "Zoo defaults".
    "poisson2d": {
        "constraints": "hard",
        "steps": 1500,
        "eval_every": 250,
        "model": {"width": 20, "depth": 4},
        "sampler": {"method": "sobol", "sizes": {"pde": 2000}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 500, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    "helmholtz2d": {
        "constraints": "hard",
        "steps": 2500,
        "eval_every": 250,
        "model": {"width": 30, "depth": 4},
        "sampler": {"method": "sobol", "sizes": {"pde": 4000}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0,
                  "first_sizes": {"pde": 2000}},
    },
    "kovasznay": {
        "constraints": "penalty",  # no ansatz: the wall data are not a simple lift
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 30, "depth": 4},
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    # allen-cahn: plain PINN + RAD + Adam/SSBroyden; pilots and results in docs/methods.md (Allen–Cahn).
    "allen-cahn": {
        "constraints": "hard",  # the IC by the ansatz u = u0 + t·N; periodicity (u, u_x) stays a penalty
        "steps": 3000,
        "eval_every": 250,
        "model": {"width": 32, "depth": 4},
        "sampler": {"method": "rad", "resample_every": 250, "candidates": 40000},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    "allen-cahn-deepxde": {
        "constraints": "hard",  # DeepXDE's own output transform, exact for the IC and both walls
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 20, "depth": 4},
        "sampler": {"method": "sobol", "sizes": {"pde": 8000}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0,
                  "first_sizes": {"pde": 2000}},
    },
    # kdv: exact IC and exact periodicity, short Adam then SSBroyden; pilots in docs/methods.md
    # ("Exactly periodic inputs"), result in docs/benchmarks.md (Zoo defaults).
    "kdv": {
        "constraints": "hard",  # the IC by the ansatz u = u0 + t·N
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 40, "depth": 4, "periodic": True},  # u, u_x, u_xx periodic by construction
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 250, "switch_fraction": ANYTIME, "then_lr": 1.0,
                  "first_sizes": {"pde": 2000}},
    },
    # cavity: fixed points stall at 4.8e-2 (the lid corners stay unresolved); RAD redraws the PDE
    # points every 250 steps, half of them where the residual is large: 4.3e-2 and 3.7e-2
    # (seeds 0, 1) in 346 and 290 CPU s, docs/benchmarks.md (Zoo defaults).
    "cavity": {
        "constraints": "penalty",  # the lid jumps at the top corners; build_ansatz refuses it
        "steps": 4000,
        "eval_every": 250,
        "model": {"width": 30, "depth": 4},
        "sampler": {"method": "rad", "resample_every": 250},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0,
                  "first_sizes": {"pde": 1000}},
    },
    # poisson-nd: the SDGD paper's net, ansatz and points; NorMuon instead of Adam, which stops at the
    # affine-fit floor (1.6e-2 at d = 100). Measurements in docs/methods.md (SDGD).
    "poisson-nd": _sdgd_ball(),
    # convection, convection-50: the Lagrangian PINN (docs/methods.md, "Lagrangian PINNs": 3.4e-5 on
    # convection-50 in 11-12 CPU s over 3 seeds, where the Eulerian PINN stays at 0.97); measured as the
    # default in docs/benchmarks.md ("Zoo defaults"), `python benchmarks/zoo_defaults.py`.
    "convection": _convection_lpinn(),
    "convection-50": _convection_lpinn(),
    # allen-cahn-nd: poisson-nd's SDGD recipe on the same ball, solution and ansatz (the nonlinear
    # term u - u³ adds no derivative); measured in docs/benchmarks.md ("Zoo defaults").
    "allen-cahn-nd": _sdgd_ball(),
    # wave: the generic plan with a short Adam phase; the ansatz's saturating time factor did the
    # rest (0.32 -> 5.2e-2 after 120 CPU s of the generic recipe). Pilot, seed 0: 8.0e-3 / 6.4e-4 /
    # 1.2e-4 at steps 1000 / 1500 / 2000 (135 / 201 / 267 CPU s); docs/benchmarks.md ("Zoo defaults").
    "wave": {
        "constraints": "hard",  # u = u0 + t²/(t² + 0.04) · 4x(1 - x) N: walls, value and velocity exact
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 30, "depth": 4},
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 300, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    # Inverse problems (docs/inverse.md; `python benchmarks/inverse.py` measures them): the forward
    # recipe of the same equation, the unknowns log-parametrised and trained with the network.
    "burgers-inverse": {
        "constraints": "hard",  # IC and walls exact; the data term stays a penalty
        # 3000 steps (seed 0, noise 0): ν to 8.1e-5 in 192 CPU s; the trajectory passes 7.5e-5 at
        # step 1900 (99 CPU s), so 2000 steps keep the accuracy inside the 3-CPU-minute goal.
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 20, "depth": 6},
        "sampler": {"method": "sobol", "sizes": {"pde": 4000}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    "lotka-volterra-inverse": {
        "constraints": "hard",  # u = u0 + t·N(t)
        "steps": 3000,
        "eval_every": 250,
        "model": {"width": 32, "depth": 3},
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    # poisson-field-inverse: the field network trains with u's; docs/inverse.md "Unknown fields".
    "poisson-field-inverse": {
        "constraints": "hard",  # u = x(1 - x) y(1 - y) N
        "steps": 2000,
        "eval_every": 250,
        "model": {"width": 20, "depth": 3},
        "sampler": {"method": "sobol"},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
    # kovasznay-inverse: 2000 steps (Adam 1000) on 2601 PDE points found Re to 1.3e-5 in 219 CPU s. Adam only
    # waits for the network (Re barely moves in it), so 500 Adam steps, 1500 PDE and 200 wall points:
    # seed 0, noise 0, at load ~40 on 2 cores, Re within 9.8e-4 at step 1000 (122 CPU s) and within
    # 4e-4 from step 1050 on (7.1e-5 at step 1200, 147 CPU s; 2.2e-5 at 1500, 184 CPU s); docs/inverse.md.
    "kovasznay-inverse": {
        "constraints": "penalty",
        "steps": 1200,
        "eval_every": 250,
        "model": {"width": 30, "depth": 4},
        "sampler": {"method": "sobol", "sizes": {"pde": 1500, "bc": 200}},
        "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 500, "switch_fraction": ANYTIME, "then_lr": 1.0},
    },
}
