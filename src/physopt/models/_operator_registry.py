"""Name → neural-operator kind registry: what ``physopt learn --model KIND`` builds.

The contract every kind meets is in ``_operator_spec.py``; each kind lives in its own module and
adds one entry here.
"""

from __future__ import annotations

from ._deeponet import DeepONetConfig, build_deeponet
from ._dgno import DGNOConfig, build_dgno
from ._fno import FNOConfig, build_fno
from ._local_operator import LocalConfig, build_local
from ._mgtfno import MGTFNOConfig, build_mgtfno
from ._mtdeeponet import MTDeepONetConfig, build_mtdeeponet, mask_and_task_channels
from ._multionet import MultiONetConfig, build_multionet
from ._operator_spec import OperatorSpec
from ._stagger import StaggerConfig, build_stagger
from ._tfno import TFNOConfig, build_tfno

__all__ = ["OPERATORS", "operator_spec"]

OPERATORS: dict[str, OperatorSpec] = {
    "local": OperatorSpec(build_local, LocalConfig, summary="baseline: one MLP on the input channels and coordinates "
                          "at each grid point (no mixing across the domain)", dims=(1, 2, 3), any_grid=True),
    "fno": OperatorSpec(build_fno, FNOConfig, summary="Fourier neural operator (Li et al. 2021)", dims=(1, 2, 3),
                        any_grid=True),
    "tfno": OperatorSpec(build_tfno, TFNOConfig, dims=(1, 2, 3), any_grid=True,
                         summary="FNO with Tucker/CP-factorised spectral weights (Kossaifi et al. 2023)"),
    "mgtfno": OperatorSpec(build_mgtfno, MGTFNOConfig, dims=(1, 2, 3), any_grid=True,
                           summary="TFNO on multigrid patches with coarsened context (Kossaifi et al. 2023)"),
    "deeponet": OperatorSpec(build_deeponet, DeepONetConfig, summary="branch (input at the sensors) x trunk (query "
                             "point) basis expansion, Lu et al. 2021", dims=(1, 2, 3), any_grid=False, queries=True),
    "mtdeeponet": OperatorSpec(build_mtdeeponet, MTDeepONetConfig, summary="one DeepONet for several tasks/geometries:"
                               " mask and task channels into the branch, Kumar et al. 2025", dims=(1, 2, 3),
                               any_grid=False, queries=True, unscaled_inputs=mask_and_task_channels),
    "multionet": OperatorSpec(build_multionet, MultiONetConfig, summary="DeepONet coupling branch and trunk at several"
                              " layers (DGNO's MultiONet), Zang & Koutsourelakis 2025", dims=(1, 2, 3), any_grid=False,
                              queries=True),
    "dgno": OperatorSpec(build_dgno, DGNOConfig, summary="DGNO: latent code of the input field decoded into the field "
                         "and (MultiONet) the solution, u = 0 on the square's boundary; Zang & Koutsourelakis 2025",
                         dims=(2,), any_grid=False),
    "stagger": OperatorSpec(build_stagger, StaggerConfig, summary="NeuralStagger: s^d small FNOs, one per staggered "
                            "coarse sub-grid, reassembled on the fine grid; Huang et al. 2023", dims=(1, 2, 3),
                            any_grid=False),
}


def operator_spec(kind: str) -> OperatorSpec:
    """The registered :class:`OperatorSpec` of ``kind`` (``ValueError`` naming the known kinds)."""
    try:
        return OPERATORS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown operator model {kind!r}; choose from {', '.join(sorted(OPERATORS))}") from None
