"""Matrix-aware optimizers (torch only).

Orthogonalised-momentum optimizers for ≥2-D weights — :class:`Muon` and relatives — plus
:class:`AdamP` / :class:`SGDP`, the Newton–Schulz kernel they share, and :func:`build`, which splits
a model's parameters (matrices → the named optimizer, the rest → AdamW) and returns one
``torch.optim.Optimizer``::

    opt = physopt.optim.build("muon", model, lr=0.02, adamw_lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)

``available()`` lists the names. See docs/optim.md for the algorithms and their sources.

Closure-based optimizers (``SSBroyden``, ``SSBFGS``, ``LBFGS``, ``ENGD``, ``GNSNewton``) derive from
:class:`ClosureOptimizer`: ``step(closure)``, ``invalidate()`` after the objective changes, and
``status``, an :class:`OptimizerStatus` whose ``finished`` says that further steps do nothing.

Inside a ``torch.distributed`` group (``torchrun``) the Muon family shares its Newton–Schulz work
out over the ranks, balanced by :func:`newton_schulz_cost` (:func:`assign_by_cost`), and exchanges
the results; the update equals the single-process one (docs/scaling.md).
"""

from ._adamp import SGDP, AdamP, project_radial
from ._adaptive_momentum import AMSGD, AMAdamW
from ._aro import ARO
from ._auon import AuON, HybridAuON, cosh_brake
from ._base import MatrixOptimizer, lr_ratio
from ._build import REGISTRY, OptimizerSpec, available, build, spec
from ._closure import ClosureOptimizer, OptimizerStatus
from ._distributed_ns import assign_by_cost, newton_schulz_cost
from ._engd import ENGD, BlockedResiduals
from ._fismo import FISMO
from ._gns import GNSNewton
from ._muon import Muon
from ._namo import NAMO, NAMOD
from ._newton_schulz import (
    KELLER_COEFFS,
    POLAR_EXPRESS_COEFFS,
    STACK_MAX_NUMEL,
    gram_newton_schulz,
    newton_schulz,
    orthogonalize,
    svd_polar,
)
from ._normuon import NorMuon
from ._partition import ParameterSplit, split_parameters
from ._quasi_newton import LBFGS, SSBFGS, SSBroyden
from ._root import ROOT, ROOT_COEFFS
from ._root_fit import fit_root_coeffs
from ._safe_step import SafeStep
from ._soap import SOAP

__all__ = [
    "assign_by_cost",
    "newton_schulz_cost",
    "AMSGD",
    "ARO",
    "ENGD",
    "FISMO",
    "KELLER_COEFFS",
    "LBFGS",
    "NAMO",
    "NAMOD",
    "POLAR_EXPRESS_COEFFS",
    "REGISTRY",
    "ROOT",
    "ROOT_COEFFS",
    "SGDP",
    "SOAP",
    "SSBFGS",
    "STACK_MAX_NUMEL",
    "AMAdamW",
    "AdamP",
    "AuON",
    "BlockedResiduals",
    "ClosureOptimizer",
    "GNSNewton",
    "HybridAuON",
    "MatrixOptimizer",
    "Muon",
    "NorMuon",
    "OptimizerSpec",
    "OptimizerStatus",
    "ParameterSplit",
    "SSBroyden",
    "SafeStep",
    "available",
    "build",
    "cosh_brake",
    "gram_newton_schulz",
    "lr_ratio",
    "newton_schulz",
    "orthogonalize",
    "project_radial",
    "spec",
    "split_parameters",
    "svd_polar",
    "fit_root_coeffs",
]
