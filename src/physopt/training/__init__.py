"""Training: sampler, objective, the resumable loop and its callbacks."""

from ._callbacks import Checkpointer, JsonlLogger, ProgressBar, save_checkpoint
from ._causal import Causal
from ._fit import BUDGET_CLOCKS, Callback, FitResult, Phase, RunStatus, Trainer
from ._lpinn import LagrangianNet, lagrangian_net, lagrangian_problem
from ._methods import ritz_problem, sdgd_problem, wos_problem
from ._objective import ROLE_KINDS, Objective, Role, RoleKind
from ._protocols import Batch, BatchSource, Loss
from ._sampler import Sampler
from ._sdgd import SampledDims
from ._wos import WosTargets

__all__ = [
    "BUDGET_CLOCKS",
    "ROLE_KINDS",
    "Batch",
    "BatchSource",
    "Callback",
    "Causal",
    "Checkpointer",
    "FitResult",
    "JsonlLogger",
    "LagrangianNet",
    "Loss",
    "Objective",
    "Phase",
    "ProgressBar",
    "Role",
    "RoleKind",
    "RunStatus",
    "SampledDims",
    "Sampler",
    "Trainer",
    "WosTargets",
    "lagrangian_net",
    "lagrangian_problem",
    "ritz_problem",
    "save_checkpoint",
    "sdgd_problem",
    "wos_problem",
]
