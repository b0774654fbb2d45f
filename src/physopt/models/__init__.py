"""How to represent a solution: networks and exact-constraint wrappers."""

from ._hard import HardConstraint
from ._mlp import MLP
from ._moe import MixtureOfExperts, expert_coefficients, slab_points

__all__ = ["MLP", "HardConstraint", "MixtureOfExperts", "expert_coefficients", "slab_points"]
