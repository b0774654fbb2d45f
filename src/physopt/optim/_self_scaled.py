r"""Dense self-scaled Broyden-class quasi-Newton methods: SSBroyden and SSBFGS.

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
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

from ._quasi_newton_base import QuasiNewtonBase

__all__ = [
    "SSBFGS",
    "SSBroyden",
    "dense_inverse_update",
    "ss_bfgs_coefficients",
    "ss_broyden_coefficients",
]


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



class _DenseSelfScaled(QuasiNewtonBase):
    """A dense inverse Hessian ``H`` updated by :func:`dense_inverse_update` with the subclass's
    ``_coefficients(b, h, n) -> (tau, phi)``."""

    _coefficients = staticmethod(ss_broyden_coefficients)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        *,
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
            params, lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
            c1=c1, c2=c2, max_ls=max_ls, curvature_eps=curvature_eps, initial_step=initial_step,
        )
        if self._numel > max_params:
            raise ValueError(
                f"{type(self).__name__} stores a dense {self._numel}x{self._numel} inverse "
                f"Hessian; raise max_params (={max_params}) if that is intended, or use LBFGS"
            )

    def _direction(self, g: Tensor) -> tuple[Tensor, float]:
        st = self._st
        if "H" not in st:
            st["H_scaled"] = False
            st["H"] = torch.eye(self._numel, dtype=g.dtype, device=g.device)
            return self._steepest_descent(g)
        d = st["H"].mv(g).neg_()
        if not self._is_descent(d, g):
            self._reset_curvature()
            return self._steepest_descent(g)
        return d, self.param_groups[0]["lr"]

    def _update(self, s: Tensor, y: Tensor, g: Tensor, alpha: float) -> None:
        st = self._st
        H = st["H"]
        ys = self._pair_curvature(s, y)
        if ys is None:
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
        had = "H" in st and (st.get("H_scaled", False) or "last_tau" in st)
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

