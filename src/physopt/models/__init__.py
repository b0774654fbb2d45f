"""How to represent a solution: networks, exact-constraint wrappers and the model-kind registry."""

from ._deeponet import DeepONet, DeepONetConfig
from ._dgno import DGNO, DGNOConfig
from ._embedding import PeriodicEmbedding, periodic_features
from ._equino import EquiNO
from ._hard import HardConstraint
from ._hcmoe import HardConstrainedOperator
from ._lordnet import LordNet, LordNetConfig
from ._mlp import MLP
from ._moe import ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_edges, slab_points
from ._mtdeeponet import MTDeepONet, MTDeepONetConfig, multitask_data
from ._multionet import MultiONet, MultiONetConfig
from ._normalized import Normalized
from ._operator_registry import OPERATORS, operator_spec
from ._operator_spec import OperatorShape, OperatorSpec, grid_points
from ._physicsformer import PhysicsFormer, PhysicsFormerConfig
from ._refiner import SpectralRefiner
from ._registry import MODELS, BuiltModel, MLPConfig, ModelSpec, model_spec
from ._stagger import NeuralStagger, StaggerConfig

__all__ = [
    "MLP",
    "MODELS",
    "OPERATORS",
    "BuiltModel",
    "DGNO",
    "DGNOConfig",
    "DeepONet",
    "DeepONetConfig",
    "EquiNO",
    "MLPConfig",
    "MTDeepONet",
    "MTDeepONetConfig",
    "ModelSpec",
    "MultiONet",
    "MultiONetConfig",
    "OperatorShape",
    "OperatorSpec",
    "PhysicsFormer",
    "PhysicsFormerConfig",
    "ExpertInterfaces",
    "HardConstraint",
    "HardConstrainedOperator",
    "LordNet",
    "LordNetConfig",
    "MixtureOfExperts",
    "NeuralStagger",
    "Normalized",
    "PeriodicEmbedding",
    "SpectralRefiner",
    "StaggerConfig",
    "expert_coefficients",
    "grid_points",
    "model_spec",
    "multitask_data",
    "operator_spec",
    "periodic_features",
    "slab_edges",
    "slab_points",
]
