"""physopt: optimization for scientific machine learning.

Entry points (imported lazily so that ``import physopt.optim`` stays torch-only):

- :func:`physopt.solve` — train a zoo or user problem and return a result with a report;
- :func:`physopt.learn` — train a neural operator on a PDE family or a user's arrays;
- :func:`physopt.load` — reload a finished or checkpointed run directory;
- :func:`physopt.resume` — continue an interrupted run from its checkpoint;
- subpackages :mod:`physopt.optim`, :mod:`physopt.constrained`, :mod:`physopt.problems`,
  :mod:`physopt.models`, :mod:`physopt.training`, :mod:`physopt.evaluation`, :mod:`physopt.bench`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "learn", "load", "resume", "solve"]

_LAZY = {
    "solve": ("physopt._run", "solve"),
    "learn": ("physopt._learn", "learn"),
    "load": ("physopt._run", "load"),
    "resume": ("physopt._run", "resume"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in {"optim", "constrained", "problems", "models", "training", "evaluation", "bench", "config", "cli",
                "operators", "runtime"}:
        return importlib.import_module(f"physopt.{name}")
    raise AttributeError(f"module 'physopt' has no attribute {name!r}")
