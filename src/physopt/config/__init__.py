"""Run configuration: dataclasses, TOML, ``--set`` overrides and :func:`build`."""

from ._build import METHODS, Built, build, load_problem, make_optimizer, make_phases
from ._load import read_toml, recommended_optim, resolve
from ._schema import (
    PROBLEM_DEFAULTS,
    CausalConfig,
    ConfigError,
    DualsConfig,
    ModelConfig,
    OptimConfig,
    RunConfig,
    SamplerConfig,
    SdgdConfig,
    WosConfig,
    apply_overrides,
    dumps_toml,
    from_dict,
    to_dict,
)

__all__ = [
    "METHODS",
    "PROBLEM_DEFAULTS",
    "Built",
    "CausalConfig",
    "ConfigError",
    "DualsConfig",
    "ModelConfig",
    "OptimConfig",
    "RunConfig",
    "SamplerConfig",
    "SdgdConfig",
    "WosConfig",
    "apply_overrides",
    "build",
    "dumps_toml",
    "from_dict",
    "load_problem",
    "make_optimizer",
    "make_phases",
    "read_toml",
    "recommended_optim",
    "resolve",
    "to_dict",
]
