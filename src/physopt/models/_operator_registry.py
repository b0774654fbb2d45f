"""Name → neural-operator kind registry: what ``physopt learn --model KIND`` builds.

The contract every kind meets is in ``_operator_spec.py``; each kind lives in its own module and
adds one entry here.
"""

from __future__ import annotations

from ._deeponet import DeepONetConfig, build_deeponet
from ._dgno import DGNOConfig, build_dgno, fit_dgno
from ._dymixop import DyMixOpConfig, build_dymixop
from ._equino import EquiNOConfig, build_equino, fit_equino
from ._fno import FNOConfig, build_fno
from ._hcmoe import HCMoEConfig, build_hcmoe
from ._local_operator import LocalConfig, build_local
from ._lordnet import LordNetConfig, build_lordnet
from ._lsm import LSMConfig, build_lsm
from ._mgtfno import MGTFNOConfig, build_mgtfno
from ._mtdeeponet import MTDeepONetConfig, build_mtdeeponet, mask_and_task_channels
from ._multionet import MultiONetConfig, build_multionet
from ._operator_spec import OperatorSpec
from ._refiner import RefinerConfig, build_refiner
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
    "lsm": OperatorSpec(build_lsm, LSMConfig, dims=(1, 2, 3), any_grid=False, summary="Latent Spectral Model: U-Net "
                        "with attention to latent tokens and a sine/cosine latent operator, Wu et al. 2023"),
    "dymixop": OperatorSpec(build_dymixop, DyMixOpConfig, dims=(1, 2, 3), any_grid=True, summary="local-global "
                            "mixing (spectral x local convolution) in a dynamics-informed layer stack, DyMixOp 2025"),
    "spectral-refiner": OperatorSpec(build_refiner, RefinerConfig, dims=(1, 2, 3), any_grid=False, summary="FNO with "
                                     "an untruncated last spectral layer to fine-tune by a physics loss, Cao et al. "
                                     "2025"),
    "equino": OperatorSpec(build_equino, EquiNOConfig, dims=(1, 2, 3), any_grid=False, fit=fit_equino,
                           summary="fields in the POD basis of solved snapshots (equilibrium and periodicity by "
                           "construction), coefficients from the grid-mean load, Eivazi et al. 2026"),
    "hc-moe": OperatorSpec(build_hcmoe, HCMoEConfig, dims=(2,), any_grid=False, normalizable=False,
                           summary="FNO basis under hard PDE constraints solved per expert subdomain (batched), "
                           "Chalapathi et al. 2024"),
    "lordnet": OperatorSpec(build_lordnet, LordNetConfig, dims=(1, 2, 3), any_grid=False,
                            summary="low-rank (Kronecker) dense mixing over the grid, trained data-free on the "
                            "discretised residual, Huang et al. 2022"),
    "dgno": OperatorSpec(build_dgno, DGNOConfig, summary="DGNO: latent code of the input field decoded into the field "
                         "and (MultiONet) the solution, u = 0 on the square's boundary; Zang & Koutsourelakis 2025",
                         dims=(2,), any_grid=False, normalizable=False, fit=fit_dgno, latent=True),
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
