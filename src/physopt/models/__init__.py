"""How to represent a solution: networks, exact-constraint wrappers and the model-kind registry."""

from ._embedding import PeriodicEmbedding, periodic_features
from ._hard import HardConstraint
from ._mlp import MLP
from ._moe import ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_edges, slab_points
from ._registry import MODELS, BuiltModel, MLPConfig, ModelSpec, model_spec

__all__ = [
    "MLP",
    "MODELS",
    "BuiltModel",
    "MLPConfig",
    "ModelSpec",
    "ExpertInterfaces",
    "HardConstraint",
    "MixtureOfExperts",
    "PeriodicEmbedding",
    "expert_coefficients",
    "model_spec",
    "periodic_features",
    "slab_edges",
    "slab_points",
]
