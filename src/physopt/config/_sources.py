"""Where an operator run's instances come from, and how they are split.

A source is a registered family (:data:`physopt.operators.FAMILIES`), a ``.npz`` file, or a
user's ``path/to/file.py:make``. Families draw the test instances first (so the same instances
solved at other resolutions are the zero-shot test sets), then validation, then training; files
are split in their stored order (shuffle a file before if its order means something).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..operators import FAMILIES, OperatorData, family_options, family_spec, load_family, load_npz
from ._labels import label_source
from ._learn import DataConfig, LearnConfig
from ._problems import import_factory, is_problem_file
from ._schema import ConfigError

__all__ = ["Splits", "grid_label", "is_data_source", "load_splits"]

_AUTO_FAMILY = (1000, 100, 200)  # n_train, n_val, n_test when 0 (automatic) for a family


def grid_label(grid: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in grid)


def is_data_source(source: str) -> bool:
    """A data file (``.npz``) or a data factory ``file.py:make`` — as opposed to a family name."""
    return source.endswith(".npz") or is_problem_file(source)


@dataclass(frozen=True)
class Splits:
    """Training, validation (``None`` if empty) and test sets; ``tests`` maps a label (the grid,
    ``"32x32"``, or ``"file:<name>"`` for a separate test file) to its data, the training-grid test
    set first."""

    train: OperatorData
    val: OperatorData | None
    tests: dict[str, OperatorData]


def _cache_dir(data: DataConfig) -> Path:
    if data.cache:
        return Path(data.cache).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "physopt" / "operators"


def _counts(cfg: DataConfig) -> None:
    for key in ("n_train", "n_val", "n_test"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"data.{key} must be >= 0 (0: automatic), got {getattr(cfg, key)}")


def _family_splits(cfg: LearnConfig) -> Splits:
    spec = family_spec(cfg.source)
    d = cfg.data
    n_train, n_val, n_test = (v or auto for v, auto in zip((d.n_train, d.n_val, d.n_test), _AUTO_FAMILY, strict=True))
    if d.n_val == 0 and d.n_train and d.n_train < 10 * _AUTO_FAMILY[1]:
        n_val = max(1, d.n_train // 10)  # a small run: validation in proportion
    res = d.resolution or spec.resolution
    try:
        options = family_options(cfg.source, cfg.family)
        everything = load_family(cfg.source, n=n_test + n_val + n_train, resolution=res, seed=cfg.seed,
                                 options=options, cache=_cache_dir(d))
        tests = {grid_label(everything.grid): everything.take(slice(0, n_test))}
        for r in d.test_resolutions:
            if r != res:
                other = load_family(cfg.source, n=n_test, resolution=r, seed=cfg.seed, options=options,
                                    cache=_cache_dir(d))
                tests[grid_label(other.grid)] = other
    except ValueError as err:
        raise ConfigError(f"family {cfg.source!r}: {err}") from None
    val = everything.take(slice(n_test, n_test + n_val))
    train = everything.take(slice(n_test + n_val, None))
    relabel = label_source(d.labels).relabel
    if relabel is not None:
        train = relabel(train, family=cfg.source, options=options, seed=cfg.seed,
                        indices=range(n_test + n_val, n_test + n_val + train.n), walks=d.walks)
    return Splits(train, val, tests)


def _from_factory(source: str, options: dict[str, Any]) -> OperatorData:
    factory, name = import_factory(source, what="data")
    try:
        made = factory(**options)
    except TypeError as err:
        raise ConfigError(f"{source}: calling {name}(**{options}) failed: {err}") from err
    try:
        if isinstance(made, OperatorData):
            return made
        if isinstance(made, tuple) and len(made) == 2:
            return OperatorData(np.asarray(made[0]), np.asarray(made[1]), name=source)
    except ValueError as err:
        raise ConfigError(f"{source}: {err}") from None
    raise ConfigError(f"{source}: {name}() returned {type(made).__name__}; expected physopt.operators.OperatorData "
                      "or a pair (inputs, outputs) of arrays")


def _read(source: str, options: dict[str, Any]) -> OperatorData:
    if is_problem_file(source):
        return _from_factory(source, options)
    if options:
        raise ConfigError(f"family options {sorted(options)} given for the data file {source!r}, which takes none")
    try:
        return load_npz(source)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def _file_splits(cfg: LearnConfig) -> Splits:
    d = cfg.data
    if d.resolution or d.test_resolutions:
        raise ConfigError("data.resolution / data.test_resolutions apply to families; a data file has its own grid "
                          "(give other resolutions with data.test = other.npz)")
    if label_source(d.labels).relabel is not None:
        raise ConfigError(f"data.labels = {d.labels!r} relabels a family's instances; {cfg.source!r} is a data file")
    data = _read(cfg.source, cfg.family)
    n = data.n
    n_test = d.n_test or max(1, n // 10)
    n_val = d.n_val or max(1, n // 10)
    n_train = d.n_train or n - n_test - n_val
    if n_train < 1 or n_test + n_val + n_train > n:
        raise ConfigError(f"{cfg.source!r} holds {n} samples; cannot split into {n_train} training, {n_val} validation "
                          f"and {n_test} test samples (set data.n_train / n_val / n_test)")
    train = data.take(slice(0, n_train))
    val = data.take(slice(n_train, n_train + n_val)) if n_val else None
    tests = {grid_label(data.grid): data.take(slice(n_train + n_val, n_train + n_val + n_test))} if n_test else {}
    return Splits(train, val, tests)


def load_splits(cfg: LearnConfig) -> Splits:
    """The train / validation / test sets of ``cfg`` (:class:`ConfigError` for any bad source)."""
    _counts(cfg.data)
    if is_data_source(cfg.source):
        splits = _file_splits(cfg)
    elif cfg.source in FAMILIES:
        splits = _family_splits(cfg)
    else:
        known = ", ".join(sorted(FAMILIES)) or "none registered"
        raise ConfigError(f"unknown data source {cfg.source!r}: not a family ({known}), a .npz file or "
                          "path/to/file.py:make")
    if cfg.data.test:
        extra = _read(cfg.data.test, {})
        for label, what in (("input", "in_channels"), ("output", "out_channels")):
            if getattr(extra, what) != getattr(splits.train, what):
                raise ConfigError(f"test file {cfg.data.test!r} has {getattr(extra, what)} {label} channels, "
                                  f"the training data {getattr(splits.train, what)}")
        if extra.dim != splits.train.dim or extra.periodic != splits.train.periodic:
            raise ConfigError(f"test file {cfg.data.test!r} is on a {extra.dim}-D {'periodic ' * extra.periodic}grid, "
                              f"the training data on a {splits.train.dim}-D {'periodic ' * splits.train.periodic}grid")
        splits = Splits(splits.train, splits.val, {**splits.tests, f"file:{Path(cfg.data.test).name}": extra})
    if not splits.tests:
        raise ConfigError("no test data: set data.n_test > 0 or data.test = other.npz")
    return splits
