"""Training: sampler, objective, the resumable loop and its callbacks."""

from ._causal import Causal
from ._callbacks import Checkpointer, JsonlLogger, ProgressBar, save_checkpoint
from ._fit import BUDGET_CLOCKS, Callback, FitResult, Phase, Trainer
from ._lpinn import LagrangianNet, lagrangian_net, lagrangian_problem
from ._methods import ritz_problem, sdgd_problem, wos_problem
from ._objective import Objective, Role
from ._sampler import Sampler
from ._sdgd import SampledDims
from ._wos import WosTargets

__all__ = [
    "BUDGET_CLOCKS",
    "Callback",
    "Causal",
    "Checkpointer",
    "FitResult",
    "JsonlLogger",
    "LagrangianNet",
    "Objective",
    "Phase",
    "ProgressBar",
    "Role",
    "SampledDims",
    "Sampler",
    "Trainer",
    "WosTargets",
    "ritz_problem",
    "lagrangian_net",
    "lagrangian_problem",
    "save_checkpoint",
    "sdgd_problem",
    "wos_problem",
]
