"""Public entry point :func:`minimize_bilevel` and the registry of bilevel methods.

Each :class:`BilevelMethod` entry declares what it needs (its options type, whether it accepts
lower-level constraints, whether it draws minibatches) and its defaults; :func:`minimize_bilevel`
only validates against those declarations and calls the entry's runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import torch
from torch import Tensor

from ._bilevel_penalty import PenaltyOptions, run_penalty
from ._bilevel_problem import BilevelProblem, Projection
from ._bilevel_result import BilevelResult
from ._bounds import Bounds, read_bounds
from ._lvhba import LVHBAOptions, run_lv_hba
from ._minimize import _check_positive

__all__ = ["BILEVEL_METHODS", "BilevelMethod", "minimize_bilevel"]

Method = Literal["lv-hba", "penalty", "penalty-sgd"]
Options = LVHBAOptions | PenaltyOptions


@dataclass(frozen=True)
class BilevelMethod:
    """One bilevel method: what it needs and how to run it.

    Attributes:
        options: the options dataclass it reads (a default instance is used when none is given).
        constraints: whether it accepts ``lower_ineq`` (lower-level ``g(x, y) <= 0``).
        needs_projection: whether ``lower_ineq`` needs ``project=`` (the projection onto ``{g <= 0}``).
        stochastic: whether it needs ``sample`` (functions then take a third argument, the batch).
        max_iter: default outer-iteration budget.
        run: ``run(problem, x, y, options=, tol=, max_iter=, record_every=, draw=)``.
    """

    options: type
    constraints: bool
    stochastic: bool
    needs_projection: bool
    max_iter: int
    run: Callable[..., BilevelResult]


def _lv_hba(problem: BilevelProblem, x: Tensor, y: Tensor, *, draw: Callable[[], None], **kw: object) -> BilevelResult:
    return run_lv_hba(problem, x, y, **kw)  # type: ignore[arg-type]


def _penalty(problem: BilevelProblem, x: Tensor, y: Tensor, **kw: object) -> BilevelResult:
    return run_penalty(problem, x, y, stochastic=False, **kw)  # type: ignore[arg-type]


def _penalty_sgd(problem: BilevelProblem, x: Tensor, y: Tensor, **kw: object) -> BilevelResult:
    return run_penalty(problem, x, y, stochastic=True, **kw)  # type: ignore[arg-type]


BILEVEL_METHODS: Mapping[str, BilevelMethod] = MappingProxyType({
    "lv-hba": BilevelMethod(LVHBAOptions, constraints=True, stochastic=False, needs_projection=True,
                             max_iter=20000, run=_lv_hba),
    "penalty": BilevelMethod(PenaltyOptions, constraints=True, stochastic=False, needs_projection=False,
                              max_iter=500, run=_penalty),
    "penalty-sgd": BilevelMethod(PenaltyOptions, constraints=False, stochastic=True, needs_projection=False,
                                  max_iter=2000, run=_penalty_sgd),
})


def _start(name: str, value: object, dtype: torch.dtype) -> Tensor:
    if isinstance(value, Tensor):
        t = value.detach().to(dtype)
    else:
        try:
            t = torch.as_tensor(value, dtype=dtype)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must be a real tensor or array; got {value!r}") from err
    if t.numel() == 0 or not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be a non-empty finite tensor; got {value!r}")
    return t


def minimize_bilevel(
    upper: Callable[..., Tensor],
    lower: Callable[..., Tensor],
    *,
    x0: Tensor,
    y0: Tensor,
    lower_ineq: Callable[..., Tensor] | None = None,
    x_bounds: Bounds | None = None,
    y_bounds: Bounds | None = None,
    project: Projection | None = None,
    method: Method = "lv-hba",
    options: Options | None = None,
    tol: float = 1e-6,
    max_iter: int | None = None,
    record_every: int = 10,
    sample: Callable[[torch.Generator], object] | None = None,
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> BilevelResult:
    """Solve ``min_x F(x, y*(x))`` with ``y*(x) ∈ argmin_y {f(x, y) : g(x, y) <= 0}``.

    Args:
        upper: ``F(x, y)`` returning a scalar tensor (``F(x, y, batch)`` with ``sample``).
        lower: ``f(x, y)``, the lower-level objective (same calling convention).
        x0, y0: start points (any shapes; functions receive tensors of these shapes on their device).
        lower_ineq: ``g(x, y) <= 0`` (scalar or 1-D), lower-level constraints (``"lv-hba"`` and
            ``"penalty"``; the penalty method needs no projection).
        x_bounds, y_bounds: boxes on ``x`` and ``y`` (:class:`Bounds`); iterates stay inside.
        project: ``(x, y) -> (x, y)``, the Euclidean projection onto ``C = {(x, y): g(x, y) <= 0}``
            (LV-HBA keeps its iterates in ``C``; required with ``lower_ineq`` as the paper assumes a
            set that is simple to project on — e.g. a half-space or a box).
        method: ``"lv-hba"`` (single loop, Hessian-free; Yao et al. 2024), ``"penalty"`` (value-
            function penalty with inner gradient loops; Kwon et al. 2024) or ``"penalty-sgd"``
            (its stochastic variant; needs ``sample``).
        options: :class:`LVHBAOptions` for ``"lv-hba"``, :class:`PenaltyOptions` for the others.
        tol: on the upper step (``‖Δx‖∞/step``) and the lower-level residual.
        max_iter: outer iterations; default 20000 / 500 / 2000 for lv-hba / penalty / penalty-sgd.
        record_every: iterations between :class:`BilevelRecord` lines of the history.
        sample: ``sample(generator) -> batch`` draws a minibatch (``"penalty-sgd"``).
        seed: seed of the generator passed to ``sample``.
        dtype: computation dtype (default: ``x0``'s if floating, else float64).

    Returns:
        A :class:`BilevelResult`; failures (budget, NaN) are statuses, never exceptions.

    Raises:
        ValueError: naming the bad input (unknown method, options of another method, constraints
            for a method without them, missing ``project`` or ``sample``, bad start points or numbers).
    """
    if method not in BILEVEL_METHODS:
        raise ValueError(f"method must be one of {tuple(BILEVEL_METHODS)}; got {method!r}")
    spec = BILEVEL_METHODS[method]
    for name, fn in (("upper", upper), ("lower", lower)):
        if not callable(fn):
            raise ValueError(f"{name} must be callable; got {type(fn).__name__}")
    if options is None:
        options = spec.options()
    elif not isinstance(options, spec.options):
        raise ValueError(f"method={method!r} takes {spec.options.__name__}; got {type(options).__name__}")
    if lower_ineq is not None and not spec.constraints:
        raise ValueError(f"method={method!r} does not handle lower_ineq; use method='lv-hba' or 'penalty'")
    if lower_ineq is not None and project is None and spec.needs_projection:
        raise ValueError(f"method={method!r}: lower_ineq needs project=, the projection onto "
                         "{(x, y): g(x, y) <= 0} (or use method='penalty', which needs none)")
    if spec.stochastic != (sample is not None):
        need = "needs sample=" if spec.stochastic else "is deterministic; sample= is for 'penalty-sgd'"
        raise ValueError(f"method={method!r} {need}")
    _check_positive("tol", tol)
    for name, v in (("max_iter", max_iter), ("record_every", record_every)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    if dtype is None:
        dtype = x0.dtype if isinstance(x0, Tensor) and x0.dtype.is_floating_point else torch.float64
    x = _start("x0", x0, dtype)
    y = _start("y0", y0, dtype).to(x.device)
    x_lo, x_hi = read_bounds(x_bounds, x.reshape(-1), x.shape)
    y_lo, y_hi = read_bounds(y_bounds, y.reshape(-1), y.shape)
    problem = BilevelProblem(
        upper=upper, lower=lower, lower_ineq=lower_ineq, x_shape=x.shape, y_shape=y.shape,
        x_lo=x_lo, x_hi=x_hi, y_lo=y_lo, y_hi=y_hi, project_c=project, stochastic=spec.stochastic,
    )
    generator = torch.Generator(device=x.device).manual_seed(seed)

    def draw() -> None:
        if sample is not None:
            problem.batch = sample(generator)

    draw()
    xf, yf = problem.project_xy(x.reshape(-1), y.reshape(-1))
    return spec.run(problem, xf, yf, options=options, tol=tol,
                    max_iter=spec.max_iter if max_iter is None else max_iter,
                    record_every=record_every, draw=draw)
