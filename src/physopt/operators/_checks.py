"""Checks of family options: a bad value raises ``ValueError`` naming the family's option."""

from __future__ import annotations

import math

__all__ = ["positive_int", "positive_number"]


def positive_number(family: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{family} option {name} must be a positive number, got {value!r}")


def positive_int(family: str, name: str, value: object, *, even: bool = False, above: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= above or (even and value % 2):
        kind = "an even int" if even else "an int"
        raise ValueError(f"{family} option {name} must be {kind} above {above}, got {value!r}")
