"""Where a run's problem comes from: the zoo registry or a user's ``file.py:factory``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..problems import Problem, available, get
from ._schema import ConfigError

__all__ = ["import_factory", "is_problem_file", "load_problem"]


def is_problem_file(spec: str) -> bool:
    """``path/to/file.py:factory`` (as opposed to a zoo name)."""
    return ":" in spec and spec.split(":", 1)[0].endswith(".py")


def import_factory(spec: str, *, what: str) -> tuple[Any, str]:
    """The callable ``factory`` of ``path/to/file.py:factory`` and its name (``what`` names the file
    in messages: "problem", "data"); every failure of a user's file is one :class:`ConfigError` line."""
    path_text, factory_name = spec.rsplit(":", 1)
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"{what} file not found: {path}")
    module_name = f"physopt_user_{what}_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"cannot import {what} file {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as err:  # a user's file: report any failure as one clear line
        raise ConfigError(f"importing {path} failed: {type(err).__name__}: {err}") from err
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ConfigError(f"{path} has no callable {factory_name!r}")
    return factory, factory_name


def load_problem(spec: str, options: Mapping[str, Any] | None = None) -> Problem:
    """A zoo name (``burgers``) or ``path/to/file.py:factory`` with ``factory(**options) -> Problem``."""
    options = dict(options or {})
    if is_problem_file(spec):
        factory, factory_name = import_factory(spec, what="problem")
        try:
            problem = factory(**options)
        except TypeError as err:
            raise ConfigError(f"{spec}: calling {factory_name}(**{options}) failed: {err}") from err
        if not isinstance(problem, Problem):
            raise ConfigError(
                f"{spec}: {factory_name}() returned {type(problem).__name__}, expected physopt.problems.Problem"
            )
        return problem
    if spec not in available():
        raise ConfigError(
            f"unknown problem {spec!r}; choose from {', '.join(available())} or give path/to/file.py:factory"
        )
    try:
        return get(spec, **options)
    except ValueError as err:
        raise ConfigError(str(err)) from None
