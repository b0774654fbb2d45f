"""Name → PDE family registry, and the data cache every family shares.

A family generates ``n`` instances of one parametrised PDE with our own solver (the contract is in
``_spec.py``). To add a family, write its module (solver + options dataclass + ``generate``) and add one
:class:`FamilySpec` to :data:`FAMILIES`; nothing else changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ._annulus import AnnulusOptions, annulus_instances, generate_annulus
from ._burgers import BurgersOptions, generate_burgers
from ._darcy import DarcyOptions, generate_darcy
from ._data import OperatorData, load_npz
from ._navier_stokes import NavierStokesOptions, generate_navier_stokes
from ._poisson import (
    Poisson2dOptions,
    PoissonOptions,
    generate_antiderivative,
    generate_poisson_1d,
    generate_poisson_2d,
)
from ._residuals import (
    antiderivative_residual,
    burgers_residual,
    darcy_residual,
    poisson_1d_residual,
    poisson_2d_residual,
)
from ._spec import FamilySpec
from ._unit_cell import UnitCellOptions, generate_unit_cell

__all__ = ["FAMILIES", "family_options", "family_spec", "load_family"]


FAMILIES: dict[str, FamilySpec] = {
    "darcy": FamilySpec(generate_darcy, DarcyOptions, "-div(a grad u) = 1, u = 0 on the boundary: a -> u",
                        dim=2, resolution=32, periodic=False, residual=darcy_residual),
    "burgers-1d": FamilySpec(generate_burgers, BurgersOptions,
                             "u_t + u u_x = nu u_xx, periodic: u(., 0) -> u(., 1)", dim=1, resolution=256,
                             periodic=True, residual=burgers_residual),
    "antiderivative": FamilySpec(generate_antiderivative, PoissonOptions, "u' = f, u(0) = 0: f -> u", dim=1,
                                 resolution=128, periodic=False, residual=antiderivative_residual),
    "poisson-1d": FamilySpec(generate_poisson_1d, PoissonOptions, "-u'' = f, u(0) = u(1) = 0: f -> u", dim=1,
                             resolution=128, periodic=False, residual=poisson_1d_residual),
    "poisson-2d": FamilySpec(generate_poisson_2d, Poisson2dOptions,
                             "-Laplace u = f, u = 0 on the boundary: f -> u", dim=2, resolution=32, periodic=False,
                             residual=poisson_2d_residual),
    "navier-stokes-2d": FamilySpec(generate_navier_stokes, NavierStokesOptions,
                                   "vorticity, periodic, FNO forcing: t_in snapshots -> the next t_out", dim=2,
                                   resolution=32, periodic=True),
    "unit-cell": FamilySpec(generate_unit_cell, UnitCellOptions, "periodic unit cell, div q = 0, q = a (g + beta g^3), "
                            "g = G + grad phi: face conductivities and G -> q_x, q_y, phi", dim=2, resolution=32,
                            periodic=True),
    "poisson-annulus": FamilySpec(generate_annulus, AnnulusOptions, "-Laplace u = f on an annulus, u = g on its "
                                  "circles, closed-form u: (f, g, mask) -> u", dim=2, resolution=32, periodic=False,
                                  instances=annulus_instances),
}


def family_spec(name: str) -> FamilySpec:
    """The registered :class:`FamilySpec` of ``name`` (``ValueError`` naming the known families)."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown PDE family {name!r}; choose from {', '.join(sorted(FAMILIES))}") from None


def family_options(name: str, values: dict[str, Any] | None = None) -> Any:
    """The options dataclass of family ``name`` from a dict (``ValueError`` naming unknown keys)."""
    cls = family_spec(name).config
    values = dict(values or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for family {name!r}; "
                         f"valid: {', '.join(sorted(known))}")
    return cls(**values)


def _cache_key(name: str, options: Any, seed: int, resolution: int) -> str:
    blob = json.dumps({"family": name, "options": dataclasses.asdict(options), "seed": seed, "resolution": resolution},
                      sort_keys=True)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:12]
    return f"{name}-r{resolution}-s{seed}-{digest}"


def load_family(name: str, *, n: int, resolution: int, seed: int, options: Any = None,
                cache: str | Path | None = None) -> OperatorData:
    """The first ``n`` instances of family ``name`` at ``resolution``, from ``cache`` when there.

    With a ``cache`` directory a draw is written as ``<name>-r<res>-s<seed>-<hash of options>-n<N>.npz``
    and any cached file with at least ``n`` instances is reused (its first ``n``); a missing or
    unreadable file is regenerated. Nothing is downloaded."""
    spec = family_spec(name)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of instances must be a positive int, got {n!r}")
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2 (points per axis), got {resolution!r}")
    options = family_options(name) if options is None else options
    if not isinstance(options, spec.config):
        raise ValueError(f"options of family {name!r} must be a {spec.config.__name__}, got {type(options).__name__}")
    key = _cache_key(name, options, seed, resolution)
    directory = Path(cache) if cache is not None else None
    if directory is not None and directory.is_dir():
        pattern = re.compile(re.escape(key) + r"-n(\d+)\.npz")
        for path in sorted(directory.iterdir()):
            m = pattern.fullmatch(path.name)
            if m and int(m.group(1)) >= n:
                try:
                    data = load_npz(path, name=name)
                except ValueError:
                    continue  # unreadable (e.g. truncated by a killed run): regenerate below
                return data.take(slice(0, n))
    data = spec.generate(options, n=n, resolution=resolution, seed=seed)
    if data.n != n or data.grid != (resolution,) * spec.dim:
        raise RuntimeError(f"family {name!r} generated {data.n} instances on grid {data.grid}, "
                           f"asked for {n} at {(resolution,) * spec.dim}")
    if directory is not None:
        data.save(directory / f"{key}-n{n}.npz")
    return data
