"""How a seed method changes what is trained: the problem's interior PDE condition is swapped.

Each function returns a copy of the problem whose interior residual condition (kept under its
name, so ``sampler.sizes`` and ``weights`` still apply) is replaced; the boundary conditions and
their roles (penalty, hard ansatz, constraints) are untouched. ``build`` trains the copy and
reports against the original problem (so ``residual_rms`` stays the strong-form PDE residual).

- :func:`sdgd_problem`: the residual with its Laplacian estimated from ``k`` sampled dimensions
  (:class:`~physopt.training.SampledDims`);
- :func:`ritz_problem`: the problem's :class:`~physopt.problems.Energy` (Deep Ritz);
- :func:`wos_problem`: regression on Walk-on-Spheres targets (:class:`~physopt.training.WosTargets`).
"""

from __future__ import annotations

import dataclasses

from ..problems import Dirichlet, Problem, Residual, SpaceTime
from ._sdgd import SampledDims
from ._wos import WosTargets

__all__ = ["ritz_problem", "sdgd_problem", "wos_problem"]


def _pde_name(problem: Problem, method: str) -> str:
    names = [k for k, c in problem.conditions.items() if isinstance(c, Residual) and c.kind == "interior"]
    if len(names) != 1:
        raise ValueError(f"{method} replaces the one interior PDE residual; problem {problem.name!r} has {names}")
    return names[0]


def _swap(problem: Problem, name: str, condition) -> Problem:
    return dataclasses.replace(problem, conditions={**problem.conditions, name: condition})


def sdgd_problem(problem: Problem, *, dims: int) -> Problem:
    """The problem with its Laplacian summed over ``dims`` sampled spatial dimensions per draw."""
    name = _pde_name(problem, "SDGD")
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    return _swap(problem, name, SampledDims(problem.conditions[name].fn, k=dims, total=space.dim))


def ritz_problem(problem: Problem) -> Problem:
    """The problem with its interior residual replaced by its energy (the Deep Ritz loss)."""
    if problem.energy is None:
        raise ValueError(f"method ritz needs a problem with an energy (Problem.energy); {problem.name!r} has none")
    return _swap(problem, _pde_name(problem, "method ritz"), problem.energy)


def wos_problem(problem: Problem, *, walks: int, epsilon: float) -> Problem:
    """The problem with its interior residual replaced by regression on WoS estimates.

    Needs a Poisson energy (p = 2: ``-Δu = f``), a domain with ``distance_to_boundary``, a scalar
    solution and a single Dirichlet condition on the whole boundary (decided: mixed or partial
    boundary data would need a closest-boundary-point query per walk).
    """
    energy = problem.energy
    if energy is None or not energy.is_p_laplacian or energy.p != 2:
        raise ValueError(
            f"method wos needs a Poisson problem (Problem.energy with p = 2); {problem.name!r} has {energy}"
        )
    if not hasattr(problem.domain, "distance_to_boundary"):
        raise ValueError(f"method wos needs a domain with distance_to_boundary, got {type(problem.domain).__name__}")
    if problem.output_dim != 1:
        raise ValueError(f"method wos needs a scalar solution; {problem.name!r} has outputs {problem.output_names}")
    name = _pde_name(problem, "method wos")
    boundary = [c for k, c in problem.conditions.items() if k != name]
    if len(boundary) != 1 or not isinstance(boundary[0], Dirichlet) or boundary[0].on is not None:
        raise ValueError(
            f"method wos needs one Dirichlet condition on the whole boundary; {problem.name!r} has {boundary}"
        )
    targets = WosTargets(distance=problem.domain.distance_to_boundary, source=energy.source,
                         boundary=boundary[0].value, walks=walks, epsilon=epsilon)
    return _swap(problem, name, targets)
