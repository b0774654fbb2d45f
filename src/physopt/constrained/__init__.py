"""Lagrangian constrained optimization (torch only).

Nonlinear programs: :func:`minimize` with methods ``"auto"``, ``"newton"``, ``"penalty"``, ``"alm"`` and
``"exact-al"``; :func:`pareto` for two objectives (a :class:`ParetoFront`, :func:`hypervolume`); it
returns a :class:`MinimizeResult` whose :class:`MinimizeStatus` says why the run stopped and whose
:class:`KKTMultipliers` hold the Lagrange multipliers.

:mod:`physopt.constrained.bilevel` (import it by that name) solves bilevel programs
``min_x F(x, y*(x))``, ``y*(x) ∈ argmin_y f(x, y)``: :func:`~physopt.constrained.bilevel.minimize_bilevel`.

:func:`relax` solves binary programs with linear constraints by slack-free Lagrangian relaxation.

Constraints in your own training loop: :class:`Duals` turns a loss and named constraint values into
one primal loss for ``backward()`` and updates the multipliers and penalties in the same call::

    duals = Duals({"bc": Constraint("eq", multiplier="pointwise"), "mass": Constraint("ineq")},
                  formulation="alm")
    lagr = duals.step(loss, {"bc": h_values, "mass": g_values})
    lagr.backward(); opt.step()

Pieces: formulations :class:`Lagrangian`, :class:`AugmentedLagrangian`, :class:`QuadraticPenalty`;
dual updates :class:`GradientAscent`, :class:`NuPI`; penalty updaters :class:`FixedPenalty`,
:class:`GrowOnStall`, :class:`AdaptivePenalty`; :class:`Indexed` for sampled fixed collocation sets.
"""

from ._bounds import Bounds as Bounds
from ._dual_optim import GradientAscent as GradientAscent
from ._dual_optim import NuPI as NuPI
from ._duals import Constraint as Constraint
from ._duals import Duals as Duals
from ._formulations import AugmentedLagrangian as AugmentedLagrangian
from ._formulations import Lagrangian as Lagrangian
from ._formulations import QuadraticPenalty as QuadraticPenalty
from ._minimize import minimize as minimize
from ._multipliers import Indexed as Indexed
from ._pareto import ParetoFront as ParetoFront
from ._pareto import hypervolume as hypervolume
from ._pareto import pareto as pareto
from ._penalty_updaters import AdaptivePenalty as AdaptivePenalty
from ._penalty_updaters import FixedPenalty as FixedPenalty
from ._penalty_updaters import GrowOnStall as GrowOnStall
from ._relax import RelaxResult as RelaxResult
from ._relax import relax as relax
from ._result import KKTMultipliers as KKTMultipliers
from ._result import MinimizeResult as MinimizeResult
from ._result import MinimizeStatus as MinimizeStatus

__all__ = [
    "AdaptivePenalty",
    "AugmentedLagrangian",
    "Bounds",
    "Constraint",
    "Duals",
    "FixedPenalty",
    "GradientAscent",
    "GrowOnStall",
    "Indexed",
    "KKTMultipliers",
    "Lagrangian",
    "MinimizeResult",
    "MinimizeStatus",
    "NuPI",
    "ParetoFront",
    "QuadraticPenalty",
    "RelaxResult",
    "hypervolume",
    "minimize",
    "pareto",
    "relax",
]
