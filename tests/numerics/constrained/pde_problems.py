"""Linear-quadratic PDE-constrained test problems with optima computed independently (SciPy sparse LU).

Poisson control on ``(0, 1)^d`` (d = 1, 2) and heat control on ``(0, 1) × (0, T]``, finite differences
with zero Dirichlet data, variables ``x = (y, u)`` (state and control on the interior grid)::

    min ½‖y − y_d‖² + ½α‖u‖²   s.t.   A y − u = 0,   (optionally) a ≤ u ≤ b

``A = −Δ_h`` (the issue's form, ``‖A‖ ~ 4d/h²``) or, for the heat equation with implicit Euler steps,
``(y_k − y_{k−1})/Δt − Δ_h y_k − u_k = 0`` for ``k = 1..K``, ``y_0 = 0``. The torch constraint is a
stencil (no matrix); the reference assembles the sparse matrix and solves

- without bounds: the KKT system ``[[I, 0, Aᵀ], [0, αI, −I], [A, −I, 0]] (y, u, p) = (y_d, 0, 0)``;
- with bounds: the primal-dual active set method (= semismooth Newton for ``αu − p + ζ = 0,
  u = P_[a,b](p/α)``; Hintermüller, Ito & Kunisch, SIAM J. Optim. 13, 2002), iterated until the active
  sets repeat, each step one sparse LU solve.

Multipliers in physopt's convention: ``L = f + pᵀ(Ay − u)``, so ``multipliers.eq = p``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl
import torch
from torch import Tensor


@dataclass(frozen=True)
class LQControl:
    name: str
    n_state: int
    alpha: float
    target: np.ndarray  # y_d, flat
    matrix: sp.csr_matrix  # A (sparse), for the reference only
    stencil: object  # torch callable y -> A y (matrix-free)
    box: tuple[float, float] | None = None

    @property
    def n(self) -> int:
        return 2 * self.n_state

    def fun(self, x: Tensor) -> Tensor:
        y, u = x[: self.n_state], x[self.n_state :]
        yd = torch.as_tensor(self.target, dtype=x.dtype, device=x.device)
        return 0.5 * ((y - yd) ** 2).sum() + 0.5 * self.alpha * (u**2).sum()

    def eq(self, x: Tensor) -> Tensor:
        return self.stencil(x[: self.n_state]) - x[self.n_state :]  # type: ignore[operator]

    def bounds(self) -> tuple[Tensor, Tensor] | None:
        if self.box is None:
            return None
        inf = torch.full((self.n_state,), math.inf, dtype=torch.float64)
        lo = torch.cat([-inf, torch.full((self.n_state,), self.box[0], dtype=torch.float64)])
        hi = torch.cat([inf, torch.full((self.n_state,), self.box[1], dtype=torch.float64)])
        return lo, hi

    def tolerance(self) -> float:
        """``max(1e-8, 10 |c(x*)|∞)``: a KKT tolerance above the rounding floor of the constraint.

        ``A y`` is evaluated with relative error ~eps, so ``|c|`` cannot fall below ~``eps ‖A‖ |y|∞``
        (``‖A‖ = 4d/h²``): 1.5e-8 at the reference of the 1-D problem with 5 000 grid points, where
        the default ``tol = 1e-8`` is out of reach of any solver in float64."""
        x = torch.as_tensor(self.reference()[0], dtype=torch.float64)
        return max(1e-8, 10.0 * float(self.eq(x).abs().max()))

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x*, p*)`` from the KKT system (no box) or the primal-dual active set method."""
        m, a = self.n_state, self.matrix
        eye = sp.identity(m, format="csr")
        lo_act = np.zeros(m, dtype=bool)
        hi_act = np.zeros(m, dtype=bool)
        for _ in range(100):
            free = ~(lo_act | hi_act)
            # rows of the u-block: α u − p = 0 on the free set, u = bound on the active sets
            urow_u = sp.diags(np.where(free, self.alpha, 1.0))
            urow_p = sp.diags(np.where(free, -1.0, 0.0))
            kkt = sp.bmat([[eye, None, a.T], [None, urow_u, urow_p], [a, -eye, None]], format="csc")
            rhs_u = np.zeros(m)
            if self.box is not None:
                rhs_u = np.where(lo_act, self.box[0], np.where(hi_act, self.box[1], 0.0))
            sol = _refined_solve(kkt, np.concatenate([self.target, rhs_u, np.zeros(m)]))
            y, u, p = sol[:m], sol[m : 2 * m], sol[2 * m :]
            if self.box is None:
                return np.concatenate([y, u]), p
            zeta = p - self.alpha * u  # ζ = p − αu: > 0 pushes u up (upper bound active), < 0 down
            new_lo = np.where(free, u < self.box[0], zeta < 0)
            new_hi = np.where(free, u > self.box[1], zeta > 0)
            if np.array_equal(new_lo, lo_act) and np.array_equal(new_hi, hi_act):
                return np.concatenate([y, u]), p
            lo_act, hi_act = new_lo, new_hi
        raise RuntimeError("primal-dual active set did not settle in 100 iterations")


def _refined_solve(kkt: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """Sparse LU plus two steps of iterative refinement: one LU solve leaves ``u`` off ``p/α`` by 1.6e-5
    at one grid point of the 1-D problem with 5 000 points (``κ`` of the KKT matrix ~ 1/(α h⁴)); the
    refined solution satisfies ``u = P(p/α)`` to 1e-9 (``test_reference_is_a_kkt_point``)."""
    lu = spl.splu(kkt)
    sol = lu.solve(rhs)
    wide = kkt.astype(np.longdouble)  # residuals in extended precision (80-bit on x86): a forward-accurate x
    for _ in range(2):
        res = np.asarray(rhs, dtype=np.longdouble) - wide @ sol.astype(np.longdouble)
        sol = sol + lu.solve(res.astype(np.float64))
    return sol


def _lap1(n: int, h: float) -> sp.csr_matrix:
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr") / h**2


def poisson(dim: int, grid: int, *, alpha: float = 1e-2, box: tuple[float, float] | None = None) -> LQControl:
    """``grid`` interior points per direction: ``2 grid^dim`` variables."""
    h = 1.0 / (grid + 1)
    t = np.linspace(h, 1 - h, grid)
    if dim == 1:
        target = 10.0 * np.sin(np.pi * t) * t
        matrix = _lap1(grid, h)

        def stencil(y: Tensor) -> Tensor:
            yp = torch.nn.functional.pad(y, (1, 1))
            return (2 * yp[1:-1] - yp[:-2] - yp[2:]) / h**2
    else:
        xx, yy = np.meshgrid(t, t, indexing="ij")
        target = (10.0 * np.sin(np.pi * xx) * np.sin(2 * np.pi * yy) * xx).ravel()
        a1, eye = _lap1(grid, h), sp.identity(grid)
        matrix = (sp.kron(a1, eye) + sp.kron(eye, a1)).tocsr()

        def stencil(y: Tensor) -> Tensor:
            yp = torch.nn.functional.pad(y.reshape(grid, grid), (1, 1, 1, 1))
            c = yp[1:-1, 1:-1]
            out = 4 * c - yp[:-2, 1:-1] - yp[2:, 1:-1] - yp[1:-1, :-2] - yp[1:-1, 2:]
            return out.reshape(-1) / h**2
    name = f"poisson{dim}d-{2 * grid**dim}" + ("-box" if box else "")
    return LQControl(name, grid**dim, alpha, target, matrix, stencil, box)


def heat(grid: int, steps: int, *, final_time: float = 0.5, alpha: float = 1e-2,
         box: tuple[float, float] | None = None) -> LQControl:
    """1-D heat equation, ``grid`` interior points, ``steps`` implicit Euler steps: ``2 grid steps`` variables."""
    h, dt = 1.0 / (grid + 1), final_time / steps
    t = np.linspace(h, 1 - h, grid)
    times = dt * np.arange(1, steps + 1)
    target = (10.0 * np.sin(np.pi * t)[None, :] * np.minimum(1.0, 4 * times)[:, None]).ravel()
    a1 = _lap1(grid, h)
    step = sp.identity(grid) / dt + a1
    shift = sp.diags([np.ones(steps - 1)], [-1])
    matrix = (sp.kron(sp.identity(steps), step) - sp.kron(shift, sp.identity(grid) / dt)).tocsr()

    def stencil(y: Tensor) -> Tensor:
        yk = y.reshape(steps, grid)
        prev = torch.cat([yk.new_zeros(1, grid), yk[:-1]])
        yp = torch.nn.functional.pad(yk, (1, 1))
        lap = (2 * yp[:, 1:-1] - yp[:, :-2] - yp[:, 2:]) / h**2
        return ((yk - prev) / dt + lap).reshape(-1)

    name = f"heat1d-{2 * grid * steps}" + ("-box" if box else "")
    return LQControl(name, grid * steps, alpha, target, matrix, stencil, box)
