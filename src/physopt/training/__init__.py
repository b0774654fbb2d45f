"""Training: sampler, objective, the resumable loop and its callbacks."""

from ._callbacks import (
    Checkpointer,
    JsonlLogger,
    ProgressBar,
    TensorBoardLogger,
    run_directory_callbacks,
    save_checkpoint,
)
from ._causal import Causal
from ._dataset import DatasetBatches, Pairs
from ._dgno import DGNOLoss, InverseResult, dgno_invert
from ._fit import BUDGET_CLOCKS, Callback, FitResult, RunStatus, Trainer
from ._insr import SCHEMES as INSR_SCHEMES
from ._insr import InsrOptions, InsrResult, InsrTrajectory, TimeScheme, insr_solve
from ._lpinn import LagrangianNet, lagrangian_net, lagrangian_problem
from ._methods import ritz_problem, sdgd_problem, wos_problem
from ._objective import ROLE_KINDS, Objective, Role, RoleKind
from ._operator_loss import OPERATOR_LOSSES, OperatorLoss, grid_gradient, relative_h1, relative_l2
from ._params import Parameters
from ._phase import SCHEDULES, Phase, PhaseSwitch, SwitchReason, on_plateau
from ._physics_loss import PHYSICS_NORMS, PhysicsOperatorLoss
from ._protocols import Batch, BatchSource, Loss
from ._refine import RefineResult, VorticityResidual, negative_sobolev_norm, refine_last_layer
from ._sampler import Sampler
from ._sdgd import SampledDims
from ._shards import ShardedSampler
from ._weak_form import WeakTests, WendlandTests, darcy_weak_residual
from ._wos import WosTargets

__all__ = [
    "BUDGET_CLOCKS",
    "OPERATOR_LOSSES",
    "PHYSICS_NORMS",
    "SCHEDULES",
    "ROLE_KINDS",
    "Batch",
    "BatchSource",
    "Callback",
    "Causal",
    "INSR_SCHEMES",
    "InsrOptions",
    "InsrResult",
    "InsrTrajectory",
    "Checkpointer",
    "DGNOLoss",
    "DatasetBatches",
    "FitResult",
    "InverseResult",
    "JsonlLogger",
    "LagrangianNet",
    "Loss",
    "Objective",
    "OperatorLoss",
    "Pairs",
    "RefineResult",
    "Parameters",
    "Phase",
    "PhaseSwitch",
    "PhysicsOperatorLoss",
    "ProgressBar",
    "Role",
    "RoleKind",
    "RunStatus",
    "SampledDims",
    "SwitchReason",
    "Sampler",
    "TimeScheme",
    "ShardedSampler",
    "TensorBoardLogger",
    "Trainer",
    "VorticityResidual",
    "WeakTests",
    "WendlandTests",
    "WosTargets",
    "darcy_weak_residual",
    "dgno_invert",
    "grid_gradient",
    "insr_solve",
    "lagrangian_net",
    "lagrangian_problem",
    "negative_sobolev_norm",
    "on_plateau",
    "refine_last_layer",
    "relative_h1",
    "relative_l2",
    "ritz_problem",
    "run_directory_callbacks",
    "save_checkpoint",
    "sdgd_problem",
    "wos_problem",
]
