r"""Closure-based quasi-Newton optimizers: SSBroyden, SSBFGS (dense) and LBFGS.

All three follow the ``torch.optim.LBFGS`` closure contract::

    def closure():
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        return loss

    opt = SSBroyden(model.parameters())
    for _ in range(n_iter):
        loss = opt.step(closure)
        if opt.status != "running":
            break

and differ from it in four deliberate ways:

* ``step(closure)`` performs ``max_iter`` quasi-Newton iterations (default 1), each
  one a direction computation + strong-Wolfe line search + inverse-Hessian update.
  It returns the loss at the *new* iterate (a detached 0-d tensor).
* The loss and gradient at the current iterate are cached in the optimizer state and
  re-used by the next ``step`` as long as the parameters were not changed from the
  outside (checked bit-exactly).  A quasi-Newton iteration therefore costs only the
  line-search evaluations (usually one).  If the *objective* changes (e.g. collocation
  points are resampled), call :meth:`invalidate` so that the next step re-evaluates.
* ``opt.status`` reports why the optimizer stopped, one of :data:`STATUSES`:
  ``"running"``, ``"converged: gradient tolerance"``, ``"no progress"``,
  ``"max evaluations"``.  Once the status is not ``"running"``, ``step`` is a no-op
  that returns the cached loss (:meth:`invalidate` resets it to ``"running"``).
* ``state_dict()`` returns a deep copy and ``load_state_dict()`` deep-copies its input,
  so a checkpoint taken mid-run and loaded into a fresh optimizer (with the model
  parameters restored from the same checkpoint) continues on a bit-identical
  trajectory.

Line search
-----------
:func:`strong_wolfe_line_search` is the bracketing/zoom algorithm of Nocedal & Wright,
*Numerical Optimization* (2006), Algorithms 3.5/3.6, with safeguarded cubic
interpolation (eq. 3.59).  A trial step whose loss or directional derivative is not
finite is treated as "too long": it becomes the upper end of the bracket and the next
trial is ``lo + 0.25 (hi - lo)``, so the search shrinks and never accepts a non-finite
point.  If the evaluation budget runs out before the strong Wolfe conditions hold, the
best point satisfying the sufficient-decrease (Armijo) condition is accepted; if there
is none, the step is rejected (parameters unchanged), the Hessian approximation is
reset, and a second consecutive failure sets ``status = "no progress"``.

Initial trial step
------------------
``initial_step="unit"`` tries ``alpha = lr`` (1.0) first; ``"interpolate"`` tries
``min(lr, 2.02 (f_k - f_{k-1}) / g_k.p_k)`` (Nocedal & Wright eq. 3.60), which tends to
1 near a Newton-like regime.  Default: ``"interpolate"`` for the dense methods (on the
Burgers PINN, SSBroyden's unit step is too long in ~55% of iterations; the interpolated
guess cut closure evaluations per iteration from 1.6 to 1.07 at equal loss), ``"unit"``
for LBFGS (its unit step is accepted ~97% of the time).

Dense self-scaled Broyden family (SSBroyden, SSBFGS)
----------------------------------------------------
Notation: :math:`s_k = x_{k+1}-x_k = \alpha_k p_k`, :math:`p_k = -H_k g_k`,
:math:`y_k = g_{k+1}-g_k`, :math:`H_k \approx (\nabla^2 f)^{-1}`,
:math:`B_k = H_k^{-1}`.  The inverse update is (Urbán, Stefanou & Pons, J. Comput.
Phys. 523 (2025) 113656, eq. for the self-scaled Broyden class; used by Kiyani et al.,
arXiv:2501.16371, "Which optimizer works best for physics-informed neural networks and
Kolmogorov-Arnold networks?"; scaling/Broyden parameters from Al-Baali, Spedicato &
Maggioni, Optim. Methods Softw. 29 (2014) and Al-Baali & Khalfan (2005)):

.. math::

    H_{k+1} = \frac{1}{\tau_k}\Big[H_k - \frac{H_k y_k y_k^\top H_k}{y_k^\top H_k y_k}
              + \phi_k\, v_k v_k^\top\Big] + \frac{s_k s_k^\top}{y_k^\top s_k},
    \qquad
    v_k = \sqrt{y_k^\top H_k y_k}\Big[\frac{s_k}{y_k^\top s_k}
              - \frac{H_k y_k}{y_k^\top H_k y_k}\Big].

Because :math:`v_k^\top y_k = 0`, :math:`H_{k+1} y_k = s_k` (secant equation) for every
:math:`\tau_k, \phi_k`.  With

.. math::

    b_k = \frac{s_k^\top B_k s_k}{y_k^\top s_k} = \frac{-\alpha_k s_k^\top g_k}{y_k^\top s_k},
    \quad h_k = \frac{y_k^\top H_k y_k}{y_k^\top s_k},
    \quad a_k = b_k h_k - 1 \;(\ge 0 \text{ by Cauchy-Schwarz}),

* **SSBroyden** (the "SSBroyden2" choice of Urbán et al.):
  :math:`c_k = \sqrt{a_k/(1+a_k)}`, :math:`\rho_k^- = \min(1, h_k(1-c_k))`,
  :math:`\theta_k^- = (\rho_k^- - 1)/a_k`, :math:`\theta_k^+ = 1/\rho_k^-`,
  :math:`\theta_k = \max(\theta_k^-, \min(\theta_k^+, (1-b_k)/b_k))`,
  :math:`\phi_k = (1-\theta_k)/(1+a_k\theta_k)`,
  :math:`\sigma_k = 1+a_k\theta_k`, :math:`\hat\rho_k = \min(1, 1/b_k)`, and with
  :math:`n` the number of parameters

  .. math::

      \tau_k = \begin{cases}
          \min(\hat\rho_k\,\sigma_k^{1/(1-n)},\ \sigma_k), & \theta_k \le 0,\\
          \hat\rho_k \min(\sigma_k^{1/(1-n)},\ 1/\theta_k), & \theta_k > 0.
      \end{cases}

  If :math:`a_k \le 10^{-12}` (then :math:`H_k y_k \parallel s_k` and
  :math:`v_k \approx 0`) we take :math:`\theta_k = 0`.
* **SSBFGS** (Al-Baali's self-scaled BFGS): :math:`\phi_k = 1` (BFGS member,
  :math:`\theta_k = 0`) and :math:`\tau_k = \min(1, 1/b_k)`, i.e. the :math:`\theta_k=0`
  case of the formula above.

The rank-2 update is applied as one ``addmm`` in the basis :math:`[s_k, H_k y_k]`:
:math:`H_{k+1} = H_k/\tau_k + [s, Hy]\,M\,[s, Hy]^\top` with
:math:`M_{ss} = \phi\gamma\rho^2/\tau + \rho`, :math:`M_{sh} = -\phi\rho/\tau`,
:math:`M_{hh} = (\phi-1)/(\gamma\tau)`, :math:`\rho = 1/y^\top s`,
:math:`\gamma = y^\top H y`.

Safeguards: :math:`H_0 = I`; the first trial step is :math:`\min(1, 1/\|g_0\|_2)`; before
the first update :math:`H_0` is rescaled to :math:`(y^\top s / y^\top y) I` (Nocedal &
Wright eq. 6.20).  Pairs with :math:`y^\top s \le \epsilon_c \|y\|\|s\|` are skipped.
Non-finite or non-positive :math:`b_k, h_k, \tau_k` fall back to plain BFGS
(:math:`\phi=1, \tau=1`).  A non-descent direction resets :math:`H` to the scaled
identity.  Memory/time are :math:`O(n^2)` per iteration: intended for ``n`` up to ~10k.

LBFGS
-----
Standard limited-memory BFGS (Nocedal & Wright Algorithm 7.4, two-loop recursion) with
:math:`H_k^0 = (s^\top y / y^\top y) I` from the newest pair, the same strong-Wolfe line
search, skipping of pairs with :math:`y^\top s \le \epsilon_c\|y\|\|s\|`, and first trial
step :math:`\min(1, 1/\|g\|_2)` only when the memory is empty (``lr`` otherwise).
Unlike ``torch.optim.LBFGS`` there is no absolute ``tolerance_change`` test on the
first iteration, so it does not stop after one iteration when started from an Adam
iterate with a large gradient.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import Tensor

from ._flat import flat_grad, flat_params, set_flat_grad, set_flat_params

__all__ = [
    "STATUSES",
    "LineSearchResult",
    "strong_wolfe_line_search",
    "cubic_minimizer",
    "two_loop_direction",
    "ss_broyden_coefficients",
    "ss_bfgs_coefficients",
    "dense_inverse_update",
    "SSBroyden",
    "SSBFGS",
    "LBFGS",
]

RUNNING = "running"
CONVERGED = "converged: gradient tolerance"
NO_PROGRESS = "no progress"
MAX_EVALS = "max evaluations"
STATUSES = (RUNNING, CONVERGED, NO_PROGRESS, MAX_EVALS)


# --------------------------------------------------------------------------------------
# Line search (pure functions)
# --------------------------------------------------------------------------------------


@dataclass
class LineSearchResult:
    """Outcome of :func:`strong_wolfe_line_search`.

    ``alpha`` is the accepted step (0.0 if ``status == "failed"``), ``f``/``g`` the loss
    and flat gradient there (the starting values if failed), ``n_evals`` the number of
    objective evaluations, ``status`` one of ``"wolfe"`` (strong Wolfe conditions hold),
    ``"armijo"`` (only sufficient decrease holds: budget exhausted or bracket collapsed)
    or ``"failed"`` (no finite point with sufficient decrease was found).
    """

    alpha: float
    f: float
    g: Tensor
    n_evals: int
    status: str


def cubic_minimizer(
    x1: float, f1: float, d1: float, x2: float, f2: float, d2: float, lo: float, hi: float
) -> float:
    """Minimizer of the cubic interpolating (f, f') at x1 and x2, clamped to [lo, hi].

    Nocedal & Wright eq. (3.59).  Falls back to the midpoint of [lo, hi] if the cubic
    has no real minimizer or the inputs are not finite.
    """
    mid = 0.5 * (lo + hi)
    vals = (x1, f1, d1, x2, f2, d2)
    if not all(math.isfinite(v) for v in vals) or x1 == x2:
        return mid
    e1 = d1 + d2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = e1 * e1 - d1 * d2
    if disc < 0.0:
        return mid
    e2 = math.copysign(math.sqrt(disc), x2 - x1)
    denom = d2 - d1 + 2.0 * e2
    if denom == 0.0:
        return mid
    x = x2 - (x2 - x1) * (d2 + e2 - e1) / denom
    if not math.isfinite(x):
        return mid
    return min(max(x, lo), hi)


def strong_wolfe_line_search(
    evaluate: Callable[[float], tuple[float, Tensor]],
    f0: float,
    g0: Tensor,
    direction: Tensor,
    alpha0: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
    extrapolation: float = 10.0,
) -> LineSearchResult:
    """Find ``alpha`` with ``f(x+alpha d) <= f0 + c1 alpha g0.d`` and
    ``|g(x+alpha d).d| <= c2 |g0.d|`` (strong Wolfe), Nocedal & Wright Alg. 3.5/3.6.

    ``evaluate(alpha)`` must return ``(f, g)`` (python float, flat gradient tensor) at
    ``x + alpha * direction``.  ``direction`` must be a descent direction
    (``g0.d < 0``).  Non-finite trial values are treated as a too-long step
    (shrink towards the last good point by a factor 4); a non-finite point is never
    returned.  Bracketing extrapolates by cubic interpolation, safeguarded to
    ``[1.01 alpha, extrapolation * alpha]``; zoom trials are safeguarded to the inner
    80% of the bracket.
    """
    d0 = float(g0.dot(direction))
    if not d0 < 0.0:
        return LineSearchResult(0.0, f0, g0, 0, "failed")
    n_evals = 0

    def finite(f: float, d: float) -> bool:
        return math.isfinite(f) and math.isfinite(d)

    def armijo(a: float, f: float) -> bool:
        return f <= f0 + c1 * a * d0

    # best point satisfying sufficient decrease so far
    best_a, best_f, best_g = 0.0, f0, g0

    def note(a: float, f: float, g: Tensor, d: float) -> None:
        nonlocal best_a, best_f, best_g
        if finite(f, d) and armijo(a, f) and f < best_f:
            best_a, best_f, best_g = a, f, g

    def done(status: str) -> LineSearchResult:
        if best_a > 0.0:
            return LineSearchResult(best_a, best_f, best_g, n_evals, status)
        return LineSearchResult(0.0, f0, g0, n_evals, "failed")

    def zoom(a_lo, f_lo, d_lo, g_lo, a_hi, f_hi, d_hi) -> LineSearchResult:
        nonlocal n_evals
        while n_evals < max_evals:
            left, right = min(a_lo, a_hi), max(a_lo, a_hi)
            width = right - left
            if width <= 1e-12 * right:
                break
            if finite(f_hi, d_hi):
                a = cubic_minimizer(
                    a_lo, f_lo, d_lo, a_hi, f_hi, d_hi, left + 0.1 * width, right - 0.1 * width
                )
            else:
                a = a_lo + 0.25 * (a_hi - a_lo)
            f, g = evaluate(a)
            n_evals += 1
            d = float(g.dot(direction)) if math.isfinite(f) else math.nan
            note(a, f, g, d)
            if not finite(f, d) or not armijo(a, f) or f >= f_lo:
                a_hi, f_hi, d_hi = a, f, d
            else:
                if abs(d) <= -c2 * d0:
                    return LineSearchResult(a, f, g, n_evals, "wolfe")
                if d * (a_hi - a_lo) >= 0.0:
                    a_hi, f_hi, d_hi = a_lo, f_lo, d_lo
                a_lo, f_lo, d_lo, g_lo = a, f, d, g
        return done("armijo")

    a_prev, f_prev, d_prev, g_prev = 0.0, f0, d0, g0
    a = alpha0
    first = True
    while n_evals < max_evals:
        f, g = evaluate(a)
        n_evals += 1
        d = float(g.dot(direction)) if math.isfinite(f) else math.nan
        note(a, f, g, d)
        if not finite(f, d) or not armijo(a, f) or (not first and f >= f_prev):
            return zoom(a_prev, f_prev, d_prev, g_prev, a, f, d)
        if abs(d) <= -c2 * d0:
            return LineSearchResult(a, f, g, n_evals, "wolfe")
        if d >= 0.0:
            return zoom(a, f, d, g, a_prev, f_prev, d_prev)
        a_next = cubic_minimizer(
            a_prev, f_prev, d_prev, a, f, d, a + 0.01 * (a - a_prev), a * extrapolation
        )
        a_prev, f_prev, d_prev, g_prev = a, f, d, g
        a = a_next
        first = False
    return done("armijo")


# --------------------------------------------------------------------------------------
# Quasi-Newton algebra (pure functions)
# --------------------------------------------------------------------------------------


def two_loop_direction(
    g: Tensor, s_hist: list[Tensor], y_hist: list[Tensor], rho_hist: list[float], gamma: float
) -> Tensor:
    r"""L-BFGS direction :math:`-H_k g` by the two-loop recursion (N&W Alg. 7.4).

    ``s_hist``/``y_hist`` are ordered oldest first, ``rho_hist[i] = 1/(y_i.s_i)`` and the
    initial matrix is ``gamma * I``.
    """
    q = g.neg()
    m = len(s_hist)
    alphas = [0.0] * m
    for i in range(m - 1, -1, -1):
        alphas[i] = rho_hist[i] * float(s_hist[i].dot(q))
        q.add_(y_hist[i], alpha=-alphas[i])
    r = q.mul_(gamma)
    for i in range(m):
        beta = rho_hist[i] * float(y_hist[i].dot(r))
        r.add_(s_hist[i], alpha=alphas[i] - beta)
    return r


def ss_broyden_coefficients(b: float, h: float, n: int) -> tuple[float, float]:
    """Self-scaled Broyden parameters ``(tau, phi)`` from ``b_k``, ``h_k`` and the
    dimension ``n`` (SSBroyden2 choice; formulas in the module docstring)."""
    a = b * h - 1.0
    if a <= 1e-12:
        theta = 0.0
        a = max(a, 0.0)
    else:
        c = math.sqrt(a / (1.0 + a))
        rho_minus = min(1.0, h * (1.0 - c))
        theta_minus = (rho_minus - 1.0) / a
        theta_plus = 1.0 / rho_minus
        theta = max(theta_minus, min(theta_plus, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    rho_hat = min(1.0, 1.0 / b)
    sigma_pow = abs(sigma) ** (1.0 / (1.0 - n)) if n > 1 else 1.0
    if theta <= 0.0:
        tau = min(rho_hat * sigma_pow, sigma)
    else:
        tau = rho_hat * min(sigma_pow, 1.0 / theta)
    phi = (1.0 - theta) / (1.0 + a * theta)
    return tau, phi


def ss_bfgs_coefficients(b: float, h: float, n: int) -> tuple[float, float]:
    """Al-Baali self-scaled BFGS: ``tau = min(1, 1/b_k)``, ``phi = 1``."""
    del h, n
    return min(1.0, 1.0 / b), 1.0


def dense_inverse_update(
    H: Tensor, s: Tensor, y: Tensor, tau: float, phi: float, Hy: Tensor | None = None
) -> Tensor:
    r"""In-place self-scaled Broyden-class inverse update; returns ``H``.

    :math:`H \leftarrow \tau^{-1}[H - Hyy^\top H/(y^\top Hy) + \phi v v^\top] + ss^\top/(y^\top s)`
    with :math:`v = \sqrt{y^\top H y}\,(s/y^\top s - Hy/y^\top H y)`.  ``tau=phi=1`` is
    BFGS, ``phi=0, tau=1`` is DFP.  Requires ``y.s > 0`` and ``y.Hy > 0``.  ``Hy`` may
    be passed if already computed.
    """
    if Hy is None:
        Hy = H.mv(y)
    gamma = float(y.dot(Hy))
    rho = 1.0 / float(y.dot(s))
    m_ss = phi * gamma * rho * rho / tau + rho
    m_sh = -phi * rho / tau
    m_hh = (phi - 1.0) / (gamma * tau)
    U = torch.stack((s, Hy), dim=1)  # (n, 2)
    M = torch.tensor([[m_ss, m_sh], [m_sh, m_hh]], dtype=H.dtype, device=H.device)
    if tau != 1.0:
        H.mul_(1.0 / tau)
    H.addmm_(U @ M, U.t())
    return H


# --------------------------------------------------------------------------------------
# Optimizer classes
# --------------------------------------------------------------------------------------


class _QuasiNewtonBase(torch.optim.Optimizer):
    """Shared machinery: flat parameter views, cached evaluation, line search, status,
    exact state_dict round trip.

    Subclasses provide ``_direction(g) -> (d, alpha0)`` (search direction and first
    trial step), ``_update(s, y, g, alpha)`` (curvature update after an accepted step)
    and ``_reset_curvature() -> bool`` (drop curvature, return whether there was any).
    The status is stored as an integer index into :data:`STATUSES` because
    ``Optimizer.load_state_dict`` rebuilds iterables (strings included) element-wise.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        c1: float = 1e-4,
        c2: float = 0.9,
        max_ls: int = 25,
        curvature_eps: float = 1e-10,
        initial_step: str = "unit",
    ) -> None:
        if initial_step not in ("unit", "interpolate"):
            raise ValueError(f"initial_step must be 'unit' or 'interpolate', got {initial_step}")
        if lr <= 0.0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0.0 < c1 < c2 < 1.0:
            raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
        if max_iter < 1 or max_ls < 1:
            raise ValueError("max_iter and max_ls must be >= 1")
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            c1=c1,
            c2=c2,
            max_ls=max_ls,
            curvature_eps=curvature_eps,
            initial_step=initial_step,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__} supports a single parameter group")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._numel = sum(p.numel() for p in self._params)

    # ---- state -------------------------------------------------------------------
    @property
    def _st(self) -> dict:
        return self.state[self._params[0]]

    @property
    def status(self) -> str:
        """One of :data:`STATUSES`."""
        return STATUSES[self._st.get("status_code", 0)]

    @property
    def n_iter(self) -> int:
        """Quasi-Newton iterations taken (accepted or rejected line searches)."""
        return self._st.get("n_iter", 0)

    @property
    def n_evals(self) -> int:
        """Closure evaluations made so far."""
        return self._st.get("n_evals", 0)

    def invalidate(self) -> None:
        """Forget the cached loss/gradient (call after changing the objective, e.g.
        resampling collocation points) and set the status back to ``"running"``.
        Curvature information is kept."""
        st = self._st
        for key in ("x", "f", "g", "f_prev"):
            st.pop(key, None)
        st["status_code"] = 0
        st["fail_count"] = 0

    def state_dict(self) -> dict:
        """Deep copy of the optimizer state (safe to keep while optimization continues)."""
        return copy.deepcopy(super().state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a (deep-copied) state dict; continuing gives a bit-identical trajectory."""
        super().load_state_dict(copy.deepcopy(state_dict))

    # ---- flat views (see _flat.py) ----------------------------------------------
    def _gather_flat_params(self) -> Tensor:
        return flat_params(self._params)

    def _gather_flat_grad(self) -> Tensor:
        return flat_grad(self._params)

    def _set_flat_params(self, x: Tensor) -> None:
        set_flat_params(self._params, x)

    def _set_flat_grad(self, g: Tensor) -> None:
        set_flat_grad(self._params, g)

    def _evaluate(self, closure: Callable[[], Tensor]) -> tuple[float, Tensor]:
        with torch.enable_grad():
            loss = closure()
        self._st["n_evals"] = self._st.get("n_evals", 0) + 1
        f = float(loss.detach())
        return f, self._gather_flat_grad().clone()

    # ---- main loop -----------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """Perform up to ``max_iter`` quasi-Newton iterations; return the current loss."""
        if closure is None:
            raise RuntimeError(f"{type(self).__name__} requires a closure")
        group = self.param_groups[0]
        st = self._st
        st.setdefault("n_iter", 0)
        st.setdefault("n_evals", 0)
        st.setdefault("status_code", 0)
        st.setdefault("fail_count", 0)
        max_eval = group["max_eval"]

        x = self._gather_flat_params()
        cached = "x" in st and st["x"].shape == x.shape and torch.equal(st["x"], x)
        if not cached:
            st.pop("f_prev", None)  # objective or iterate changed: no step-length history
            f, g = self._evaluate(closure)
            st["x"], st["f"], st["g"] = x.clone(), torch.tensor(f, dtype=x.dtype), g
        if self.status != RUNNING:
            return st["f"].clone()

        for _ in range(group["max_iter"]):
            x, f, g = st["x"], float(st["f"]), st["g"]
            if not math.isfinite(f):
                st["status_code"] = STATUSES.index(NO_PROGRESS)
                break
            if float(g.abs().max()) <= group["tolerance_grad"]:
                st["status_code"] = STATUSES.index(CONVERGED)
                break
            budget = group["max_ls"]
            if max_eval is not None:
                budget = min(budget, max_eval - st["n_evals"])
                if budget <= 0:
                    st["status_code"] = STATUSES.index(MAX_EVALS)
                    break
            d, alpha0 = self._direction(g)
            if group["initial_step"] == "interpolate" and "f_prev" in st and st["n_iter"] > 0:
                # Nocedal & Wright eq. (3.60): alpha0 = 2.02 (f_k - f_{k-1}) / g_k.d_k
                guess = 2.02 * (f - float(st["f_prev"])) / float(g.dot(d))
                if math.isfinite(guess) and guess > 0.0:
                    alpha0 = min(alpha0, guess)

            def evaluate(alpha: float, x=x, d=d) -> tuple[float, Tensor]:
                self._set_flat_params(x + alpha * d)
                return self._evaluate(closure)

            res = strong_wolfe_line_search(
                evaluate, f, g, d, alpha0, group["c1"], group["c2"], budget
            )
            st["n_iter"] += 1
            if res.status == "failed":
                self._set_flat_params(x)
                self._set_flat_grad(g)
                st["fail_count"] += 1
                had_curvature = self._reset_curvature()
                if not had_curvature or st["fail_count"] >= 2:
                    st["status_code"] = STATUSES.index(NO_PROGRESS)
                    break
            else:
                st["fail_count"] = 0
                s = res.alpha * d
                x_new = x + s
                self._set_flat_params(x_new)
                self._set_flat_grad(res.g)
                self._update(s, res.g - g, g, res.alpha)
                st["x"] = self._gather_flat_params().clone()
                st["f_prev"] = st["f"]
                st["f"] = torch.tensor(res.f, dtype=x.dtype)
                st["g"] = res.g
            if max_eval is not None and st["n_evals"] >= max_eval:
                st["status_code"] = STATUSES.index(MAX_EVALS)
                break
        return st["f"].clone()


class _DenseSelfScaled(_QuasiNewtonBase):
    _coefficients = staticmethod(ss_broyden_coefficients)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        c1: float = 1e-4,
        c2: float = 0.9,
        max_ls: int = 25,
        curvature_eps: float = 1e-10,
        initial_step: str = "interpolate",
        max_params: int = 20_000,
    ) -> None:
        super().__init__(
            params, lr, max_iter, max_eval, tolerance_grad, c1, c2, max_ls, curvature_eps,
            initial_step,
        )
        if self._numel > max_params:
            raise ValueError(
                f"{type(self).__name__} stores a dense {self._numel}x{self._numel} inverse "
                f"Hessian; raise max_params (={max_params}) if that is intended, or use LBFGS"
            )

    def _direction(self, g: Tensor) -> tuple[Tensor, float]:
        st = self._st
        lr = self.param_groups[0]["lr"]
        if "H" not in st:
            st["H_scaled"] = False
            st["H"] = torch.eye(self._numel, dtype=g.dtype, device=g.device)
            return g.neg(), min(1.0, 1.0 / float(g.norm())) * lr
        d = st["H"].mv(g).neg_()
        if not float(d.dot(g)) < 0.0 or not bool(torch.isfinite(d).all()):
            self._reset_curvature()
            return g.neg(), min(1.0, 1.0 / float(g.norm())) * lr
        return d, lr

    def _update(self, s: Tensor, y: Tensor, g: Tensor, alpha: float) -> None:
        st = self._st
        H = st["H"]
        ys = float(y.dot(s))
        if not ys > self.param_groups[0]["curvature_eps"] * float(y.norm()) * float(s.norm()):
            return
        if not st["H_scaled"]:
            scale = ys / float(y.dot(y))
            H.mul_(scale)
            st["H_scaled"] = True
            b = float(s.dot(s)) / (scale * ys)
        else:
            b = -alpha * float(s.dot(g)) / ys
        Hy = H.mv(y)
        h = float(y.dot(Hy)) / ys
        tau, phi = 1.0, 1.0
        if math.isfinite(b) and math.isfinite(h) and b > 0.0 and h > 0.0:
            tau, phi = self._coefficients(b, h, self._numel)
            if not (math.isfinite(tau) and math.isfinite(phi) and tau > 0.0):
                tau, phi = 1.0, 1.0
        dense_inverse_update(H, s, y, tau, phi, Hy)
        st["last_tau"], st["last_phi"] = tau, phi

    def _reset_curvature(self) -> bool:
        st = self._st
        if "H" not in st or (not st.get("H_scaled", False) and "last_tau" not in st):
            had = False
        else:
            had = True
        st["H"] = torch.eye(self._numel, dtype=st["g"].dtype, device=st["g"].device)
        st["H_scaled"] = False
        st.pop("last_tau", None)
        st.pop("last_phi", None)
        return had


class SSBroyden(_DenseSelfScaled):
    r"""Dense self-scaled Broyden quasi-Newton method with strong-Wolfe line search.

    Inverse-Hessian update (Urbán et al., JCP 2025; Kiyani et al., arXiv:2501.16371)::

        H+ = (1/tau) [H - H y y^T H / (y^T H y) + phi v v^T] + s s^T / (y^T s)
        v  = sqrt(y^T H y) (s / y^T s - H y / y^T H y)

    with b = -alpha s^T g / y^T s, h = y^T H y / y^T s, a = b h - 1,
    c = sqrt(a/(1+a)), rho- = min(1, h(1-c)), theta- = (rho- - 1)/a, theta+ = 1/rho-,
    theta = max(theta-, min(theta+, (1-b)/b)), phi = (1-theta)/(1+a theta),
    sigma = 1 + a theta, rho^ = min(1, 1/b),
    tau = min(rho^ sigma^(1/(1-n)), sigma) if theta <= 0 else rho^ min(sigma^(1/(1-n)), 1/theta).
    See the module docstring for safeguards.

    Args:
        params: parameters (single group, any floating dtype; float64 recommended).
        lr: trial step length of the line search for quasi-Newton directions (1.0).
        max_iter: quasi-Newton iterations per ``step`` call (1).
        max_eval: lifetime budget of closure evaluations (None = unlimited); reaching it
            sets ``status = "max evaluations"``.
        tolerance_grad: stop with ``"converged: gradient tolerance"`` when
            ``max|g| <= tolerance_grad``.
        c1, c2: strong Wolfe constants.
        max_ls: closure evaluations allowed per line search.
        curvature_eps: skip the update when ``y.s <= curvature_eps |y||s|``.
        initial_step: ``"interpolate"`` (default) or ``"unit"``, see module docstring.
        max_params: refuse to allocate a dense inverse Hessian beyond this size.
    """

    _coefficients = staticmethod(ss_broyden_coefficients)


class SSBFGS(_DenseSelfScaled):
    r"""Dense self-scaled BFGS (Al-Baali) with strong-Wolfe line search.

    Same update as :class:`SSBroyden` with ``phi = 1`` (BFGS member) and
    ``tau = min(1, 1/b)``, ``b = -alpha s^T g / y^T s = s^T B s / y^T s``::

        H+ = (1/tau) [H - H y y^T H / (y^T H y) + v v^T] + s s^T / (y^T s)

    Arguments as for :class:`SSBroyden`.
    """

    _coefficients = staticmethod(ss_bfgs_coefficients)


class LBFGS(_QuasiNewtonBase):
    r"""Limited-memory BFGS with strong-Wolfe line search (N&W Alg. 7.4/7.5).

    Direction by the two-loop recursion with ``H0 = (s^T y / y^T y) I`` from the newest
    stored pair; pairs with ``y.s <= curvature_eps |y||s|`` are skipped; at most
    ``history_size`` pairs are kept.  With an empty memory the direction is ``-g`` and
    the first trial step ``min(1, 1/|g|_2) * lr``.  A failed line search clears the
    memory and retries from steepest descent; a second consecutive failure sets
    ``status = "no progress"``.  Other arguments as for :class:`SSBroyden`.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        c1: float = 1e-4,
        c2: float = 0.9,
        max_ls: int = 25,
        curvature_eps: float = 1e-10,
        initial_step: str = "unit",
        history_size: int = 100,
    ) -> None:
        if history_size < 1:
            raise ValueError("history_size must be >= 1")
        super().__init__(
            params, lr, max_iter, max_eval, tolerance_grad, c1, c2, max_ls, curvature_eps,
            initial_step,
        )
        self.param_groups[0]["history_size"] = history_size

    def _direction(self, g: Tensor) -> tuple[Tensor, float]:
        st = self._st
        lr = self.param_groups[0]["lr"]
        s_hist = st.setdefault("s_hist", [])
        if not s_hist:
            return g.neg(), min(1.0, 1.0 / float(g.norm())) * lr
        d = two_loop_direction(g, s_hist, st["y_hist"], st["rho_hist"], st["gamma"])
        if not float(d.dot(g)) < 0.0 or not bool(torch.isfinite(d).all()):
            self._reset_curvature()
            return g.neg(), min(1.0, 1.0 / float(g.norm())) * lr
        return d, lr

    def _update(self, s: Tensor, y: Tensor, g: Tensor, alpha: float) -> None:
        st = self._st
        ys = float(y.dot(s))
        if not ys > self.param_groups[0]["curvature_eps"] * float(y.norm()) * float(s.norm()):
            return
        s_hist = st.setdefault("s_hist", [])
        y_hist = st.setdefault("y_hist", [])
        rho_hist = st.setdefault("rho_hist", [])
        if len(s_hist) >= self.param_groups[0]["history_size"]:
            s_hist.pop(0)
            y_hist.pop(0)
            rho_hist.pop(0)
        s_hist.append(s.clone())
        y_hist.append(y.clone())
        rho_hist.append(1.0 / ys)
        st["gamma"] = ys / float(y.dot(y))

    def _reset_curvature(self) -> bool:
        st = self._st
        had = bool(st.get("s_hist"))
        st["s_hist"], st["y_hist"], st["rho_hist"] = [], [], []
        st["gamma"] = 1.0
        return had
