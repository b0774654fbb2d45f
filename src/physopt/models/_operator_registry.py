"""Name → neural-operator kind registry: what ``physopt learn --model KIND`` builds.

The contract every kind meets is in ``_operator_spec.py``; each kind lives in its own module and
adds one entry here.
"""

from __future__ import annotations

from ._deeponet import DeepONetConfig, build_deeponet
from ._mtdeeponet import MTDeepONetConfig, build_mtdeeponet
from ._multionet import MultiONetConfig, build_multionet
from ._operator_spec import OperatorSpec

__all__ = ["OPERATORS", "operator_spec"]

OPERATORS: dict[str, OperatorSpec] = {
    "deeponet": OperatorSpec(build_deeponet, DeepONetConfig, summary="branch (input at the sensors) x trunk (query "
                             "point) basis expansion, Lu et al. 2021", dims=(1, 2, 3), any_grid=False, queries=True),
    "mtdeeponet": OperatorSpec(build_mtdeeponet, MTDeepONetConfig, summary="one DeepONet for several tasks/geometries:"
                               " mask and task channels into the branch, Kumar et al. 2025", dims=(1, 2, 3),
                               any_grid=False, queries=True),
    "multionet": OperatorSpec(build_multionet, MultiONetConfig, summary="DeepONet coupling branch and trunk at several"
                              " layers (DGNO's MultiONet), Zang & Koutsourelakis 2025", dims=(1, 2, 3), any_grid=False,
                              queries=True),
}


def operator_spec(kind: str) -> OperatorSpec:
    """The registered :class:`OperatorSpec` of ``kind`` (``ValueError`` naming the known kinds)."""
    try:
        return OPERATORS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown operator model {kind!r}; choose from {', '.join(sorted(OPERATORS))}") from None
