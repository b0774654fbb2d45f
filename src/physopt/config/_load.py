"""Resolve a run configuration from defaults, a TOML file, flags and ``--set`` overrides."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import optim as optim_pkg
from ..training import RoleKind
from ._generic import problem_defaults
from ._methods import method_spec
from ._schema import ConfigError, RunConfig, apply_overrides, from_dict, merge, to_dict

__all__ = ["read_toml", "recommended_optim", "resolve"]


def read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        return tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {p}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {p} is not valid TOML: {err}") from None


def resolve(
    problem: str | None = None,
    *,
    config_file: str | Path | None = None,
    flags: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
) -> RunConfig:
    """Defaults < problem defaults (a zoo problem's tuned entry, else the generic recipe
    :data:`GENERIC_DEFAULTS`) < the method's plan < config file < flags (``None`` values ignored) <
    ``--set``.

    The method's plan (:attr:`MethodSpec.plan`, e.g. Deep Ritz's fresh points and Adam) replaces
    what the problem's recipe says about the same keys: that recipe was tuned for the strong-form
    PINN. The method is read from the layered result, so ``--method`` and a file's ``method`` both
    bring their plan.

    A problem's ``optim`` table is tuned for its own optimizer. When the file, a flag or ``--set``
    picks another one, each phase whose method changed starts from that method's recommended
    settings (:func:`recommended_optim`; e.g. ``--optimizer muon`` on a problem tuned for Adam gets
    Muon's learning rate, not Adam's), a phase whose method is unchanged keeps the problem's tuning,
    and the plan (``switch_at``, ``first_sizes``) stays. ``optim.*`` values from the file, flags
    and ``--set`` apply on top.

    Likewise a problem tuned with resampled points (Burgers' RAD) falls back to its fixed Sobol set
    when the chosen constraints give a condition pointwise multipliers (``lagrangian`` / ``alm``,
    which need the same points throughout), unless the user set ``sampler.method`` or
    ``sampler.resample_every`` themselves (then the build names the conflict).
    """
    file_data = read_toml(config_file) if config_file is not None else {}
    name = problem or file_data.get("problem") or RunConfig.problem
    defaults = problem_defaults(name)
    data = _layer(name, defaults, file_data, flags, overrides)
    plan = _method_plan(data.get("method"))
    if plan:
        defaults = merge(defaults, plan)
        data = _layer(name, defaults, file_data, flags, overrides)
    tuned = {"name": RunConfig().optim.name, **defaults.get("optim", {})}
    chosen = data["optim"].get("name")
    if isinstance(chosen, str) and chosen.lower() != tuned["name"].lower():
        table = _switched_optim(tuned, chosen)
        defaults = {**defaults, "optim": table}
        data = _layer(name, defaults, file_data, flags, overrides)
    tuned_sampler = defaults.get("sampler", {})
    if tuned_sampler.get("resample_every") and _multipliers(data) and not _sets_resampling(file_data, flags, overrides):
        fixed = {**tuned_sampler, "method": "sobol", "resample_every": 0}
        data = _layer(name, {**defaults, "sampler": fixed}, file_data, flags, overrides)
    return from_dict(data)


def _method_plan(method: Any) -> dict[str, Any]:
    """Method ``method``'s plan as plain nested dicts (``{}`` for a method without one; an unknown
    name is left for :func:`build` to report)."""
    try:
        plan = method_spec(method).plan
    except ValueError:
        return {}
    return _plain(plan)


def _plain(table: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in table.items()}


def _multipliers(data: dict[str, Any]) -> bool:
    """Whether the resolved constraints give some condition pointwise multipliers."""
    kinds = [data.get("constraints"), *dict(data.get("roles") or {}).values()]
    return any(k in {r.value for r in RoleKind if r.constrained} for k in kinds)


def _sets_resampling(file_data: dict[str, Any], flags: dict[str, Any] | None, overrides: list[str] | None) -> bool:
    """Whether the user's file, flags or ``--set`` choose ``sampler.method`` / ``sampler.resample_every``."""
    keys = {"method", "resample_every"}
    in_file = bool(keys & set(file_data.get("sampler") or {}))
    in_flags = any(k in {f"sampler.{x}" for x in keys} and v is not None for k, v in (flags or {}).items())
    in_sets = any(o.split("=", 1)[0].strip() in {f"sampler.{x}" for x in keys} for o in overrides or [])
    return in_file or in_flags or in_sets


def _switched_optim(tuned: dict[str, Any], chosen: str) -> dict[str, Any]:
    """The problem's ``optim`` table ``tuned`` moved to optimizer (or chain) ``chosen``."""
    old, new = tuned["name"].lower().split("+"), chosen.lower().split("+")
    rec = recommended_optim(chosen)
    plan = ("switch_at", "switch_fraction", "switch_plateau", "switch_drop", "first_sizes")
    table = {k: tuned[k] for k in plan if k in tuned}
    table["name"] = chosen
    first = ("lr", "options", "schedule", "decay")
    table.update({k: tuned[k] for k in first if k in tuned} if new[0] == old[0] else
                 {k: rec[k] for k in first if k in rec})
    if len(new) == 2:
        then = ("then_lr", "then_options")
        kept = len(old) == 2 and new[1] == old[1]
        table.update({k: tuned[k] for k in then if k in tuned} if kept else {k: rec[k] for k in then if k in rec})
    return table


def recommended_optim(name: str) -> dict[str, Any]:
    """The ``optim`` table for optimizer (or chain ``first+second``) ``name`` from each method's
    recommended settings (:attr:`physopt.optim.OptimizerSpec.recommended`); unknown names are
    left for :func:`build` to report."""
    parts = name.split("+")
    try:
        specs = [dict(optim_pkg.spec(p.strip()).recommended) for p in parts]
    except (TypeError, ValueError):
        return {"name": name}
    table: dict[str, Any] = {"name": name, "lr": specs[0].pop("lr"), "options": specs[0]}
    if len(specs) == 2:
        table.update(then_lr=specs[1].pop("lr"), then_options=specs[1])
    return table


def _layer(
    name: str,
    defaults: dict[str, Any],
    file_data: dict[str, Any],
    flags: dict[str, Any] | None,
    overrides: list[str] | None,
) -> dict[str, Any]:
    data: dict[str, Any] = merge(to_dict(RunConfig()), defaults)
    data = merge(data, file_data)
    data["problem"] = name
    for key, value in (flags or {}).items():
        if value is None:
            continue
        node = data
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        node[last] = value
    return apply_overrides(data, list(overrides or []))
