"""Run configuration: dataclasses, TOML, ``--set`` overrides, the method and constraint-mode
registries, and :func:`build`."""

from ._build import DTYPES, Built, build, make_optimizer, make_phases, make_runtime
from ._generic import GENERIC_DEFAULTS, problem_defaults
from ._learn import LEARN_DEFAULTS, DataConfig, LearnConfig, LearnOptimConfig, learn_from_dict, resolve_learn
from ._learn_build import LearnBuilt, build_learn, operator_model, pairs_of
from ._load import read_toml, recommended_optim, resolve
from ._methods import METHODS, TRANSFORMS, MethodSpec, TransformSpec, method_spec
from ._modes import CONSTRAINT_MODES, CONSTRAINTS, ConstraintMode, constraint_mode
from ._physics import PHYSICS_FORMS, PhysicsConfig, PhysicsForm
from ._problems import is_problem_file, load_problem
from ._schema import (
    PROBLEM_DEFAULTS,
    CausalConfig,
    ConfigError,
    DualsConfig,
    GphmConfig,
    InsrConfig,
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
from ._sources import Splits, grid_label, is_data_source, load_splits

__all__ = [
    "CONSTRAINTS",
    "CONSTRAINT_MODES",
    "DTYPES",
    "GENERIC_DEFAULTS",
    "LEARN_DEFAULTS",
    "METHODS",
    "PHYSICS_FORMS",
    "PROBLEM_DEFAULTS",
    "TRANSFORMS",
    "Built",
    "CausalConfig",
    "ConfigError",
    "ConstraintMode",
    "DataConfig",
    "DualsConfig",
    "GphmConfig",
    "InsrConfig",
    "LearnBuilt",
    "LearnConfig",
    "LearnOptimConfig",
    "PhysicsConfig",
    "PhysicsForm",
    "MethodSpec",
    "ModelConfig",
    "OptimConfig",
    "RunConfig",
    "SamplerConfig",
    "SdgdConfig",
    "Splits",
    "TransformSpec",
    "WosConfig",
    "apply_overrides",
    "build",
    "build_learn",
    "constraint_mode",
    "dumps_toml",
    "from_dict",
    "grid_label",
    "is_data_source",
    "is_problem_file",
    "learn_from_dict",
    "load_splits",
    "load_problem",
    "make_optimizer",
    "make_phases",
    "make_runtime",
    "merge",
    "method_spec",
    "operator_model",
    "pairs_of",
    "problem_defaults",
    "read_toml",
    "recommended_optim",
    "resolve",
    "resolve_learn",
    "to_dict",
]
