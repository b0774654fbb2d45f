"""Name → optimizer registry, and :func:`build`, the one place where names become optimizers.

To add an optimizer, add one :class:`OptimizerSpec` to :data:`REGISTRY`. A spec's ``factory`` is any
callable ``(params_or_groups, *, lr, **options) -> torch.optim.Optimizer``; ``matrix=True`` makes
:func:`build` split the parameters first (matrices to the factory's own algorithm, the rest to
groups tagged ``algorithm="adamw"``), and ``needs_closure=True`` tells a training loop that
``step`` must be given a closure (quasi-Newton methods); ``needs_residuals=True`` means the
closure must return the residual *vector* ``r`` of a least-squares loss ``||r||^2`` (ENGD).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from ._adamp import SGDP, AdamP
from ._adaptive_momentum import AMSGD, AMAdamW
from ._aro import ARO
from ._auon import AuON, HybridAuON
from ._engd import ENGD
from ._fismo import FISMO
from ._gns import GNSNewton
from ._muon import Muon
from ._namo import NAMO, NAMOD
from ._normuon import NorMuon
from ._partition import split_parameters
from ._quasi_newton import LBFGS, SSBFGS, SSBroyden
from ._root import ROOT
from ._soap import SOAP
from ._validation import check_range

__all__ = ["REGISTRY", "OptimizerSpec", "available", "build", "spec"]

# Recommended settings (``OptimizerSpec.recommended``): each method's usual learning rate, checked
# on Burgers by a x0.1/x1/x10 pilot (`python benchmarks/pinn_optimizers.py --pilot --budget 10`,
# docs/benchmarks.md): x1 was best for adam, adamw, adamp, amadamw, aro, auon, fismo, hybridauon;
# amsgd was best at x10, hence 1e-1. The Muon family takes lr in spectral-norm units and gives
# the AdamW groups (biases, first and last layer) the usual AdamW rate.
_ADAM_LIKE = MappingProxyType({"lr": 1e-3})
_SGD_LIKE = MappingProxyType({"lr": 1e-2})
_MUON_LIKE = MappingProxyType({"lr": 2e-2, "adamw_lr": 1e-3})
_LINE_SEARCH = MappingProxyType({"lr": 1.0})  # quasi-Newton and Gauss-Newton: lr scales a searched step


@dataclass(frozen=True)
class OptimizerSpec:
    """How to construct one named optimizer.

    Attributes:
        factory: ``(params_or_groups, *, lr, **options) -> Optimizer``.
        matrix: the factory orthogonalises matrices and accepts ``algorithm="adamw"`` groups.
        needs_closure: ``step(closure)`` must be called with a closure that re-evaluates the loss.
        summary: one line for ``physopt list optimizers``.
        needs_residuals: the closure returns the residual vector ``r`` (loss ``||r||^2``) and
            does not call ``backward`` (see :class:`physopt.optim.ENGD`).
        recommended: ``lr`` and options to start from when nothing else is known (the config
            layer uses them when a run switches a problem to this optimizer without giving an
            ``lr``); :func:`build` itself never fills them in.
    """

    factory: Callable[..., Optimizer]
    matrix: bool
    summary: str
    needs_closure: bool = False
    needs_residuals: bool = False
    recommended: Mapping[str, Any] = field(default_factory=lambda: _ADAM_LIKE, hash=False)


def _torch_adam(params: Any, *, lr: float, **options: Any) -> Optimizer:
    return torch.optim.Adam(params, lr=lr, **options)


def _torch_adamw(params: Any, *, lr: float, **options: Any) -> Optimizer:
    return torch.optim.AdamW(params, lr=lr, **options)


def _torch_sgd(params: Any, *, lr: float, **options: Any) -> Optimizer:
    return torch.optim.SGD(params, lr=lr, **options)


# Each wrapper above only forwards; for option checking, build() inspects the real constructor.
_OPTION_SOURCE: dict[Callable[..., Optimizer], Callable[..., Any]] = {
    _torch_adam: torch.optim.Adam,
    _torch_adamw: torch.optim.AdamW,
    _torch_sgd: torch.optim.SGD,
}

def _matrix(factory: Callable[..., Optimizer], summary: str) -> OptimizerSpec:
    """A Muon-family entry: matrices to ``factory``, the rest to AdamW groups."""
    return OptimizerSpec(factory, matrix=True, recommended=_MUON_LIKE, summary=summary)


def _second_order(factory: Callable[..., Optimizer], summary: str, *, residuals: bool = False) -> OptimizerSpec:
    """A closure-based entry (a :class:`~physopt.optim.ClosureOptimizer`) whose ``lr`` scales a searched step."""
    return OptimizerSpec(
        factory, matrix=False, needs_closure=True, needs_residuals=residuals, recommended=_LINE_SEARCH,
        summary=summary,
    )


REGISTRY: dict[str, OptimizerSpec] = {
    "muon": _matrix(Muon, "Muon: Newton–Schulz-orthogonalised momentum"),
    "normuon": _matrix(NorMuon, "NorMuon: Muon with row-wise (per-neuron) normalisation"),
    "namo": _matrix(NAMO, "NAMO: Muon with one Adam-style adaptive step per matrix"),
    "namod": _matrix(NAMOD, "NAMO-D: NAMO with clamped per-column adaptive steps"),
    "root": _matrix(ROOT, "ROOT: soft-thresholded momentum, shape-adapted Newton–Schulz"),
    "auon": _matrix(AuON, "AuON: unit-norm momentum with a cosh brake (no Newton–Schulz)"),
    "hybridauon": _matrix(HybridAuON, "Hybrid-AuON: one Newton–Schulz step, then the cosh brake"),
    "fismo": _matrix(FISMO, "FISMO: Muon in a Kronecker-factored Fisher metric (P⁻½ O Q⁻½)"),
    "aro": _matrix(ARO, "ARO: Sinkhorn (or row-norm/sign) step in a QR-learned rotation"),
    "adamp": OptimizerSpec(
        AdamP, matrix=False, summary="AdamP: Adam without radial updates on scale-invariant weights",
    ),
    "sgdp": OptimizerSpec(
        SGDP,
        matrix=False,
        recommended=_SGD_LIKE,
        summary="SGDP: momentum SGD without radial updates on scale-invariant weights",
    ),
    "adam": OptimizerSpec(_torch_adam, matrix=False, summary="torch.optim.Adam"),
    "adamw": OptimizerSpec(_torch_adamw, matrix=False, summary="torch.optim.AdamW"),
    "sgd": OptimizerSpec(
        _torch_sgd, matrix=False, recommended=_SGD_LIKE, summary="torch.optim.SGD",
    ),
    "lbfgs": _second_order(LBFGS, "L-BFGS with a strong-Wolfe line search that never steps to NaN"),
    "ssbfgs": _second_order(SSBFGS, "self-scaled dense BFGS (Urbán et al. 2025; Kiyani et al. 2025)"),
    "ssbroyden": _second_order(SSBroyden, "self-scaled dense Broyden (Urbán et al. 2025)"),
    "engd": _second_order(
        ENGD,
        "energy natural gradient: dense Gauss–Newton step + line search (Müller & Zeinhofer 2023)",
        residuals=True,
    ),
    "gnsnewton": _second_order(
        GNSNewton,
        "gradient-regularized Newton, BFGS Hessian, gradient-normalized smoothness (Semenov et al. 2025)",
    ),
    "soap": OptimizerSpec(
        SOAP, matrix=False,
        recommended=MappingProxyType({"lr": 3e-3}),
        summary="SOAP: Adam in the eigenbasis of Shampoo's Kronecker factors",
    ),
    "amsgd": OptimizerSpec(
        AMSGD, matrix=False,
        recommended=MappingProxyType({"lr": 1e-1}),
        summary="AM-SGD: SGD with model-based adaptive memory momentum",
    ),
    "amadamw": OptimizerSpec(
        AMAdamW, matrix=False, summary="AM-AdamW: AdamW with model-based adaptive memory momentum",
    ),
}

# Options that build() consumes itself for matrix optimizers (not passed to the factory).
_SPLIT_OPTIONS = ("adamw_lr", "adamw_weight_decay", "edge_layers", "adamw_params")


def available() -> list[str]:
    """Names accepted by :func:`build` (and ``physopt solve --optimizer``), sorted."""
    return sorted(REGISTRY)


def spec(name: str) -> OptimizerSpec:
    """The registry entry for ``name``; raises ``ValueError`` listing the known names."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
    try:
        return REGISTRY[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; available: {', '.join(available())}"
        ) from None


def _option_names(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword options the factory accepts (``None`` if it takes arbitrary ``**kwargs``)."""
    target = _OPTION_SOURCE.get(factory, factory)
    params = inspect.signature(target).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL} - {"params"}


def build(
    name: str,
    model_or_params: nn.Module | Iterable[Tensor] | Iterable[tuple[str, Tensor]],
    *,
    lr: float,
    **options: Any,
) -> Optimizer:
    """Construct the optimizer ``name`` for a model (or an iterable of parameters).

    For matrix optimizers (``spec(name).matrix``) the parameters are split by
    :func:`split_parameters`: matrices go to the named algorithm with learning rate ``lr``, the rest
    to AdamW groups inside the *same* optimizer object (tagged ``algorithm="adamw"``), so one
    ``step()``, one LR scheduler and one ``state_dict()`` cover the whole model. Extra options for
    matrix optimizers:

    - ``adamw_lr`` (default: ``lr``) and ``adamw_weight_decay`` (default: 0) for the AdamW groups.
      With Muon's default ``adjust_lr="original"`` scaling, ``lr`` is in spectral-norm units
      (~0.02) and an AdamW learning rate is usually 10–50× smaller: set ``adamw_lr`` explicitly,
      or use ``adjust_lr="match_rms_adamw"`` so one learning rate suits both.
    - ``edge_layers`` (``"adamw"`` default / ``"matrix"``) and ``adamw_params`` (tensors or names
      forced to AdamW): see :func:`split_parameters`.

    All other options go to the optimizer's constructor (``adamw_betas``, ``adamw_eps``,
    ``momentum``, ...). An unknown option raises ``TypeError`` naming it.

    Example:
        >>> model = torch.nn.Sequential(torch.nn.Linear(2, 20), torch.nn.Tanh(),
        ...                             torch.nn.Linear(20, 20), torch.nn.Tanh(),
        ...                             torch.nn.Linear(20, 1)).double()
        >>> opt = build("muon", model, lr=0.02, adamw_lr=1e-3)
        >>> [g["algorithm"] for g in opt.param_groups]
        ['muon', 'adamw']
    """
    entry = spec(name)
    lr = check_range("lr", lr, low=0.0)
    accepted = _option_names(entry.factory)
    extra = set(_SPLIT_OPTIONS) if entry.matrix else set()
    unknown = sorted(k for k in options if accepted is not None and k not in accepted | extra)
    if unknown:
        valid = sorted((accepted | extra) - {"lr"}) if accepted is not None else []
        raise TypeError(
            f"unknown option(s) {unknown} for optimizer {name!r}; valid options: {valid}"
        )
    if not entry.matrix:
        params = (
            model_or_params.parameters()
            if isinstance(model_or_params, nn.Module)
            else model_or_params
        )
        return entry.factory(params, lr=lr, **options)

    adamw_lr = check_range("adamw_lr", options.pop("adamw_lr", lr), low=0.0)
    adamw_wd = check_range("adamw_weight_decay", options.pop("adamw_weight_decay", 0.0), low=0.0)
    split = split_parameters(
        model_or_params,
        edge_layers=options.pop("edge_layers", "adamw"),
        adamw_params=options.pop("adamw_params", ()),
    )
    groups: list[dict[str, Any]] = []
    if split.matrix:
        groups.append({"params": split.matrix})
    if split.adamw:
        groups.append(
            {"params": split.adamw, "algorithm": "adamw", "lr": adamw_lr, "weight_decay": adamw_wd}
        )
    if not groups:
        raise ValueError(f"build({name!r}): no parameters to optimize")
    return entry.factory(groups, lr=lr, **options)
