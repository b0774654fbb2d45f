"""How to represent a solution: networks and exact-constraint wrappers."""

from ._embedding import PeriodicEmbedding, periodic_features
from ._hard import HardConstraint
from ._mlp import MLP
from ._moe import ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_edges, slab_points

__all__ = [
    "MLP",
    "ExpertInterfaces",
    "HardConstraint",
    "MixtureOfExperts",
    "PeriodicEmbedding",
    "expert_coefficients",
    "periodic_features",
    "slab_edges",
    "slab_points",
]
