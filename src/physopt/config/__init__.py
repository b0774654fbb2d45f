"""Run configuration: dataclasses, TOML, ``--set`` overrides, the method and constraint-mode
registries, and :func:`build`."""

from ._build import DTYPES, Built, build, make_optimizer, make_phases, make_runtime
from ._load import read_toml, recommended_optim, resolve
from ._methods import METHODS, TRANSFORMS, MethodSpec, TransformSpec, method_spec
from ._modes import CONSTRAINT_MODES, CONSTRAINTS, ConstraintMode, constraint_mode
from ._problems import is_problem_file, load_problem
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
    merge,
    to_dict,
)

__all__ = [
    "CONSTRAINTS",
    "CONSTRAINT_MODES",
    "DTYPES",
    "METHODS",
    "PROBLEM_DEFAULTS",
    "TRANSFORMS",
    "Built",
    "CausalConfig",
    "ConfigError",
    "ConstraintMode",
    "DualsConfig",
    "MethodSpec",
    "ModelConfig",
    "OptimConfig",
    "RunConfig",
    "SamplerConfig",
    "SdgdConfig",
    "TransformSpec",
    "WosConfig",
    "apply_overrides",
    "build",
    "constraint_mode",
    "dumps_toml",
    "from_dict",
    "is_problem_file",
    "load_problem",
    "make_optimizer",
    "make_phases",
    "make_runtime",
    "merge",
    "method_spec",
    "read_toml",
    "recommended_optim",
    "resolve",
    "to_dict",
]
