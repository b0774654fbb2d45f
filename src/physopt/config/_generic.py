"""The generic recipe: what ``physopt solve file.py:factory`` (or a zoo problem without a tuned
entry in :data:`PROBLEM_DEFAULTS`) starts from.

Every tuned recipe in docs/benchmarks.md ("Zoo defaults") is Adam followed by the self-scaled
quasi-Newton SSBroyden, and SSBroyden does nearly all of the work; the generic recipe is that plan
with the choices a user's problem cannot tune made from the problem itself:

* inputs are mapped from the domain's bounding box to [-1, 1] (every MLP does this), outputs are
  multiplied by the size of the prescribed Dirichlet, initial and observed values
  (``model.scale_outputs``, :func:`physopt.problems.output_scales`);
* ``constraints = "auto"``: Dirichlet/initial data exact through the problem's ansatz (its own or
  one built from the data) where one exists, penalties otherwise;
* scrambled Sobol points (the problem's own counts, 1000 per condition where it gives none);
* Adam for ``switch_at`` steps, or for ``switch_fraction`` of a time budget if that comes first,
  then SSBroyden for the rest, so a short ``--time-budget`` still reaches the second phase.

The numbers are chosen on the panel of user-style problems in ``benchmarks/user_panel/``
(``python benchmarks/user_panel.py``; table in docs/benchmarks.md, "Users' own problems").
"""

from __future__ import annotations

from typing import Any

from ._defaults import PROBLEM_DEFAULTS

__all__ = ["GENERIC_DEFAULTS", "problem_defaults"]

GENERIC_DEFAULTS: dict[str, Any] = {
    "constraints": "auto",
    "steps": 3000,
    "eval_every": 250,
    "model": {"width": 30, "depth": 4, "scale_outputs": True},
    "sampler": {"method": "sobol"},
    "optim": {"name": "adam+ssbroyden", "lr": 1e-3, "switch_at": 1000, "switch_fraction": 0.25, "then_lr": 1.0},
}


def problem_defaults(name: str) -> dict[str, Any]:
    """The tuned defaults of zoo problem ``name``, or the generic recipe for any other problem."""
    return PROBLEM_DEFAULTS.get(name, GENERIC_DEFAULTS)
