"""Name → neural-operator kind registry: what ``physopt learn --model KIND`` builds.

The contract every kind meets is in ``_operator_spec.py``; each kind lives in its own module and
adds one entry here.
"""

from __future__ import annotations

from ._local_operator import LocalConfig, build_local
from ._operator_spec import OperatorSpec

__all__ = ["OPERATORS", "operator_spec"]

OPERATORS: dict[str, OperatorSpec] = {
    "local": OperatorSpec(build_local, LocalConfig, summary="baseline: one MLP on the input channels and coordinates "
                          "at each grid point (no mixing across the domain)", dims=(1, 2, 3), any_grid=True),
}


def operator_spec(kind: str) -> OperatorSpec:
    """The registered :class:`OperatorSpec` of ``kind`` (``ValueError`` naming the known kinds)."""
    try:
        return OPERATORS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown operator model {kind!r}; choose from {', '.join(sorted(OPERATORS))}") from None
