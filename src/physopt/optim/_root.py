"""ROOT: robust orthogonalised momentum (soft-thresholded outliers, shape-adapted Newton–Schulz)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from ._base import (
    AdjustLR,
    MatrixOptimizer,
    check_ns_group,
    constructor_defaults,
    orthogonalize_group,
    sum_momentum,
)
from ._newton_schulz import KELLER_COEFFS, CoeffSpec, NSMethod
from ._root_fit import fit_root_coeffs
from ._validation import check_coeffs, check_range

__all__ = ["ROOT", "ROOT_COEFFS", "quantile_threshold", "soft_threshold_split"]

Coeffs = tuple[float, float, float]

# Shape-specific quintic coefficients keyed by (min(m, n), max(m, n)), from the authors' example
# (huawei-noah/noah-research ROOT/examples/example_train.py, the four shapes of their 1B model).
# How they were fitted is not published; other shapes use Keller's coefficients, or coefficients
# fitted to that shape's Gaussian spectra with ``fit_shapes=True`` (:mod:`._root_fit`).
ROOT_COEFFS: dict[tuple[int, int], Coeffs] = {
    (2048, 2048): (3.4916, -4.8224, 2.1095),
    (2048, 16384): (3.1943, -3.8221, 1.5322),
    (2048, 3072): (3.4509, -4.5790, 1.9325),
    (2048, 8192): (2.9794, -3.6674, 1.6207),
}


def quantile_threshold(x: Tensor, q: float) -> Tensor:
    """Per-matrix ``q``-quantile of ``|x|`` over all entries (linear interpolation, as
    :func:`torch.quantile`), via ``kthvalue`` so it has no input-size limit. ``x`` is ``(m, n)``
    or ``(k, m, n)``; returns shape ``()`` or ``(k, 1, 1)``."""
    flat = x.abs().reshape(-1, x.shape[-2] * x.shape[-1])
    pos = q * (flat.shape[1] - 1)
    lo = int(pos)
    hi = min(lo + 1, flat.shape[1] - 1)
    lower = flat.kthvalue(lo + 1, dim=1).values
    upper = flat.kthvalue(hi + 1, dim=1).values if hi != lo else lower
    value = torch.lerp(lower, upper, pos - lo)
    return value.reshape(()) if x.ndim == 2 else value.reshape(-1, 1, 1)


def soft_threshold_split(x: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
    r"""Split ``x = B + O`` with ``O = T_ε(x) = sign(x)·max(|x| − ε, 0)`` (the outliers, the
    proximal step of ``ε‖·‖₁``) and ``B = x − O = clip(x, −ε, ε)`` (the bulk).

    Returns ``(B, O)``.
    """
    outliers = torch.sign(x) * torch.relu(x.abs() - eps)
    return x - outliers, outliers


class ROOT(MatrixOptimizer):
    r"""ROOT — Robust Orthogonalized OpTimizer.

    For each matrix ``W`` (``(m, n)`` after flattening):

    .. math::
        M_t = \mu M_{t-1} + G_t,\qquad U_t = G_t + \mu M_t \ \text{(nesterov) or } M_t

        \varepsilon_t = \mathrm{quantile}_{q}(|U_t|) + 10^{-9},\quad
        O_t = \mathrm{sign}(U_t)\max(|U_t|-\varepsilon_t, 0),\quad B_t = U_t - O_t

        W_t = W_{t-1}(1-\eta\lambda) - \eta\,0.2\sqrt{\max(m,n)}\;
              \mathrm{NS}_k^{(a,b,c)(m,n)}(B_t)

    The soft-threshold removes the largest-magnitude momentum entries (the "outliers", above
    the ``q = 0.9`` quantile) before orthogonalisation, and the Newton–Schulz coefficients are
    looked up by shape (:data:`ROOT_COEFFS`, Keller's otherwise).

    Choices (following the authors' code, huawei-noah/noah-research ``ROOT/``): heavy-ball
    momentum (sum form, not EMA); threshold = 0.9-quantile of ``|U|`` over the whole matrix,
    recomputed each step, plus 1e-9; the outliers are *discarded* (the update uses only the
    orthogonalised bulk); Newton–Schulz runs in the parameter dtype (``ns_dtype=None``; no bf16
    cast); Moonlight scaling ``0.2·sqrt(max(m, n))``; decoupled decay with the unadjusted lr.
    Unknown shapes use Keller's coefficients silently (their code logs a warning). Defaults are
    theirs: lr 1e-3, weight_decay 0.1, momentum 0.95, 5 steps. Pass ``shape_coeffs`` to add
    coefficients for your own shapes.

    Args:
        threshold_quantile: ``q`` in (0, 1].
        shape_coeffs: ``{(min(m,n), max(m,n)): (a, b, c)}`` merged over :data:`ROOT_COEFFS`.
        ns_coeffs: coefficients for shapes not in the table (unless ``fit_shapes``).
        fit_shapes: fit coefficients for a shape not in the table the first time it is seen
            (:func:`fit_root_coeffs`: Gaussian spectra of that shape, 2 samples, seed 0) and keep
            them in the group's table; ``False`` (the authors' behaviour): ``ns_coeffs``.
        Others: as :class:`Muon`.

    References:
        He, Han, Zhou, Chen, Liu, Chen, Wang, "ROOT: Robust Orthogonalized Optimizer for Neural
        Network Training", arXiv:2511.20626.
    """

    algorithm = "root"

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 1e-3,
        momentum: float = 0.95,
        nesterov: bool = True,
        weight_decay: float = 0.1,
        threshold_quantile: float = 0.9,
        shape_coeffs: Mapping[tuple[int, int], Coeffs] | None = None,
        ns_steps: int = 5,
        ns_coeffs: CoeffSpec = KELLER_COEFFS,
        fit_shapes: bool = False,
        ns_eps: float = 1e-7,
        ns_dtype: torch.dtype | str | None = None,
        adjust_lr: AdjustLR = "match_rms_adamw",
        batched: bool = True,
        ns_method: NSMethod = "standard",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        defaults = constructor_defaults(locals())
        table = dict(ROOT_COEFFS)
        table.update(shape_coeffs or {})
        for key, value in table.items():
            check_coeffs(f"shape_coeffs[{key!r}]", value)
        super().__init__(params, {**defaults, "shape_coeffs": table})

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_ns_group(group, where)
        check_range(
            f"{where}: threshold_quantile",
            group["threshold_quantile"],
            low=0.0,
            high=1.0,
            low_open=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts saved before fit_shapes existed: the old behaviour
            group.setdefault("fit_shapes", False)

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        bulk = []
        for p, g in zip(params, grads, strict=True):
            u = self._momentum_input(group, p, g, rule=sum_momentum)
            eps = quantile_threshold(u, group["threshold_quantile"]) + 1e-9
            bulk.append(soft_threshold_split(u, eps)[0])
        table, fallback = group["shape_coeffs"], group["ns_coeffs"]

        def coeffs_for(short: int, long: int) -> CoeffSpec:
            if (short, long) not in table and group["fit_shapes"]:
                gen = torch.Generator().manual_seed(0)  # deterministic per shape, CPU scalars
                table[(short, long)] = fit_root_coeffs(short, long, steps=group["ns_steps"], samples=2,
                                                       generator=gen)
            return table.get((short, long), fallback)

        self._muon_updates(group, params, orthogonalize_group(bulk, group, coeffs=coeffs_for))
