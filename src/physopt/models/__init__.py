"""How to represent a solution: networks, exact-constraint wrappers and the model-kind registry."""

from ._embedding import PeriodicEmbedding, periodic_features
from ._hard import HardConstraint
from ._mlp import MLP
from ._moe import ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_edges, slab_points
from ._normalized import Normalized
from ._operator_registry import OPERATORS, operator_spec
from ._operator_spec import OperatorShape, OperatorSpec, grid_points
from ._registry import MODELS, BuiltModel, MLPConfig, ModelSpec, model_spec

__all__ = [
    "MLP",
    "MODELS",
    "OPERATORS",
    "BuiltModel",
    "MLPConfig",
    "ModelSpec",
    "OperatorShape",
    "OperatorSpec",
    "ExpertInterfaces",
    "HardConstraint",
    "MixtureOfExperts",
    "Normalized",
    "PeriodicEmbedding",
    "expert_coefficients",
    "grid_points",
    "model_spec",
    "operator_spec",
    "periodic_features",
    "slab_edges",
    "slab_points",
]
