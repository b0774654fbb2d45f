"""How to represent a solution: networks and exact-constraint wrappers."""

from ._hard import HardConstraint
from ._mlp import MLP
from ._moe import ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_edges, slab_points

__all__ = [
    "MLP",
    "ExpertInterfaces",
    "HardConstraint",
    "MixtureOfExperts",
    "expert_coefficients",
    "slab_edges",
    "slab_points",
]
