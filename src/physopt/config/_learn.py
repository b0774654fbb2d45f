"""The configuration of operator runs (``physopt learn``): dataclasses, defaults and resolution.

Same layering as ``solve`` (``_load.py``): field defaults < the family's defaults
(:data:`LEARN_DEFAULTS`) < ``--config FILE.toml`` < flags < ``--set key=value``; the same TOML
round trip, tagged ``[model]`` table (kinds of :data:`physopt.models.OPERATORS`) and error rules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models import operator_spec
from ._load import read_toml, recommended_optim
from ._physics import PhysicsConfig
from ._schema import DEFAULT_OPERATOR, ConfigError, OperatorOptions, _from_dict, apply_overrides, merge, to_dict

__all__ = ["LEARN_DEFAULTS", "DataConfig", "LearnConfig", "LearnOptimConfig", "learn_from_dict", "resolve_learn"]


@dataclass(frozen=True)
class DataConfig:
    """Where the instances come from and how they are split.

    ``n_train`` / ``n_val`` / ``n_test`` are instance counts; 0 means automatic: for a family
    1000 / 100 / 200, for a data file 10 % validation, 10 % test (at least one each), the rest for
    training. A family's test instances are drawn first, so the same instances solved at each of
    ``test_resolutions`` are the zero-shot test sets. ``resolution`` is the family's training grid
    (points per axis; 0: the family's default). ``test`` is a separate test file (``.npz`` or
    ``file.py:make``, at any resolution the model supports). ``cache`` is the family data
    directory (default ``~/.cache/physopt/operators``). ``normalize`` scales inputs and outputs per
    channel with the training set's mean and standard deviation (:class:`physopt.models.Normalized`).
    ``labels`` is where a family's training outputs come from (``solver``, or ``wos``: ``walks``
    Walk-on-Spheres walks per grid node, WoS-NO; see ``_labels.py``); validation and test keep the
    family's outputs.
    """

    n_train: int = 0
    n_val: int = 0
    n_test: int = 0
    resolution: int = 0
    test_resolutions: list[int] = field(default_factory=list)
    test: str = ""
    cache: str = ""
    normalize: bool = True
    labels: str = "solver"
    walks: int = 16


@dataclass(frozen=True)
class LearnOptimConfig:
    """One optimizer for the whole run: ``name`` (any of ``physopt list optimizers`` except the
    least-squares ones), ``lr``, ``options``, and the learning-rate ``schedule``: ``constant``,
    ``cosine`` (to 0 over the run, per step), ``exp`` (lr · decay^(k/1000)) or ``step``
    (lr · decay every ``step_epochs`` epochs)."""

    name: str = "adamw"
    lr: float = 1e-3
    options: dict[str, Any] = field(default_factory=lambda: {"weight_decay": 1e-4})
    schedule: str = "cosine"
    decay: float = 0.5
    step_epochs: int = 0


def _default_operator() -> Any:
    return operator_spec(DEFAULT_OPERATOR).config()


@dataclass(frozen=True)
class LearnConfig:
    """Everything that defines an operator run.

    ``source`` is a family (``physopt list families``), a ``.npz`` file with ``inputs`` ``(N, C_in,
    *grid)`` and ``outputs`` ``(N, C_out, *grid)``, or ``path/to/file.py:make`` whose ``make(**family)``
    returns a :class:`physopt.operators.OperatorData` or an ``(inputs, outputs)`` pair. ``family``
    holds the family's options (``--set family.nu=1e-3``). ``loss`` is the per-sample relative
    ``l2`` or ``h1`` error. ``epochs`` passes over the training set in mini-batches of ``batch_size``.
    ``log_every`` / ``eval_every`` / ``checkpoint_every`` count steps (0: once per epoch, once per
    epoch, every 10 epochs). ``plots`` test samples are drawn in ``samples.png``; ``tensorboard``
    also writes the logged records as TensorBoard scalars (as for ``solve``). ``device``,
    ``dtype``, ``threads``, ``time_budget``, ``budget_clock`` as for ``solve``. ``physics`` adds the
    family's PDE residual to the loss or replaces the data loss by it (:class:`PhysicsConfig`).
    """

    source: str = "darcy"
    family: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    dtype: str = "float32"
    device: str = "cpu"
    threads: int = 0
    epochs: int = 100
    batch_size: int = 20
    loss: str = "l2"
    time_budget: float = 0.0
    budget_clock: str = "wall"
    log_every: int = 0
    eval_every: int = 0
    checkpoint_every: int = 0
    plots: int = 3
    tensorboard: bool = False
    model: OperatorOptions = field(default_factory=_default_operator)
    optim: LearnOptimConfig = field(default_factory=LearnOptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)


# Per-family defaults, layered over the field defaults: a nested dict of LearnConfig keys, as a TOML file
# would give them. Only measured settings go here; each entry's table and command are in
# docs/operators.md ("Models: DeepONet, MT-DeepONet, MultiONet"). A flag or --set that picks another
# model kind drops the default kind's options; another optimizer starts from its recommended settings.
_ONE_D_DEEPONET: dict[str, Any] = {
    "model": {"kind": "deeponet", "width": 64, "depth": 3, "basis": 64, "activation": "gelu"},
    "epochs": 500, "batch_size": 20, "optim": {"name": "adamw", "lr": 3e-3, "schedule": "cosine"},
}
# darcy 32x32: 0.0176 test rel. L2 after 50 epochs in 266 CPU s (docs, "Models: FNO, TFNO, MG-TFNO").
_DARCY_FNO: dict[str, Any] = {
    "model": {"kind": "fno", "modes": 8, "width": 24, "lifting": 48, "mlp": 0.5, "projection": 48},
    "epochs": 50, "batch_size": 20, "optim": {"name": "adamw", "lr": 5e-3, "schedule": "cosine"},
}
LEARN_DEFAULTS: dict[str, dict[str, Any]] = {
    "darcy": _DARCY_FNO,
    "antiderivative": _ONE_D_DEEPONET,  # 200 epochs: 8.3e-3..1.1e-2 over 3 seeds; 500: below 1e-2 (docs)
}


def learn_from_dict(data: dict[str, Any]) -> LearnConfig:
    """Validate and convert a nested dict (parsed TOML) into a :class:`LearnConfig`."""
    return _from_dict(LearnConfig, data)


def _layer(source: str, defaults: dict[str, Any], optim: dict[str, Any] | None, file_data: dict[str, Any],
           flags: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    # deep copies: flags clear and set nested tables in place, and the defaults are shared module constants
    data = merge(to_dict(LearnConfig()), copy.deepcopy(defaults))
    if optim is not None:
        data["optim"] = optim  # a switched optimizer: its own table, not merged with the old one's options
    data = merge(data, file_data)
    data["source"] = source
    for key, value in flags.items():
        if value is None:
            continue
        node = data
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        if last == "kind" and node.get("kind") != value:
            node.clear()  # another model kind: the old kind's options do not apply
        node[last] = value
    return apply_overrides(data, overrides, root=LearnConfig, aliases={})


def resolve_learn(source: str | None = None, *, config_file: str | Path | None = None,
                  flags: dict[str, Any] | None = None, overrides: list[str] | None = None) -> LearnConfig:
    """Defaults < family defaults < config file < flags (``None`` ignored) < ``--set``.

    When the file, a flag or ``--set`` picks another optimizer than the defaults', its learning
    rate and options start from that optimizer's recommended settings
    (:func:`physopt.config.recommended_optim`) instead of the defaults'; the schedule stays."""
    file_data = read_toml(config_file) if config_file is not None else {}
    name = source or file_data.get("source") or LearnConfig.source
    if not isinstance(name, str):
        raise ConfigError(f"source: expected a string, got {name!r}")
    defaults = LEARN_DEFAULTS.get(name, {})
    flags, overrides = dict(flags or {}), list(overrides or [])
    data = _layer(name, defaults, None, file_data, flags, overrides)
    tuned = merge(to_dict(LearnOptimConfig()), defaults.get("optim", {}))
    chosen = data["optim"].get("name")
    if isinstance(chosen, str) and chosen.lower() != tuned["name"].lower():
        rec = recommended_optim(chosen)
        optim = {**tuned, "name": chosen, "lr": rec.get("lr", tuned["lr"]), "options": rec.get("options", {})}
        data = _layer(name, defaults, optim, file_data, flags, overrides)
    return learn_from_dict(data)
