"""Bilevel optimization: ``min_x F(x, y*(x))`` with ``y*(x) ∈ argmin_y {f(x, y) : g(x, y) <= 0}``.

:func:`minimize_bilevel` with ``method="lv-hba"`` (Yao et al., ICLR 2024: proximal Lagrangian value
function, single loop, Hessian-free; lower-level constraints), ``"penalty"`` or ``"penalty-sgd"``
(Kwon et al., ICLR 2024: value-function penalty, first order, deterministic and stochastic). It
returns a :class:`BilevelResult` whose :class:`BilevelStatus` says why it stopped::

    res = minimize_bilevel(lambda x, y: ((y - 1) ** 2).sum() + (x ** 2).sum(),
                           lambda x, y: ((y - x) ** 2).sum(), x0=torch.zeros(1), y0=torch.zeros(1))
"""

from ._bilevel import BILEVEL_METHODS, BilevelMethod, minimize_bilevel
from ._bilevel_penalty import PenaltyOptions
from ._bilevel_result import BilevelRecord, BilevelResult, BilevelStatus
from ._lvhba import LVHBAOptions

__all__ = [
    "BILEVEL_METHODS",
    "BilevelMethod",
    "BilevelRecord",
    "BilevelResult",
    "BilevelStatus",
    "LVHBAOptions",
    "PenaltyOptions",
    "minimize_bilevel",
]
