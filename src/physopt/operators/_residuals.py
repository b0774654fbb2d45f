"""Discretised PDE residuals of predicted fields: each family's equation on its output grid.

A family that supports physics-informed training (PINO-style losses, LordNet's data-free training)
declares ``FamilySpec.residual``: ``(options, inputs, outputs) -> Residual`` on torch tensors in
physical units (``inputs (B, C_in, *grid)``, ``outputs (B, C_out, *grid)``). The residual is the one
of the *discretised* equation, written as the rows ``A(u; a) − b`` of the linear (or nonlinear)
system a solver on the output grid would solve, boundary rows included, so that the family's own
solver at that grid makes it zero to rounding:

- ``darcy``: the five-point flux form of :func:`physopt.operators._darcy.solve_darcy`,
  ``−Σ_faces k (u_nb − u) − h² f`` with the two-node harmonic mean face conductivities of the nodal
  ``a`` (:func:`node_faces`); boundary rows ``4 a u`` (the Dirichlet rows scaled like a diagonal).
- ``poisson-2d`` / ``poisson-1d``: the five- / three-point ``−Laplace_h u − f`` times ``h²``
  (``solve_poisson_2d`` at ``refine = 1`` zeroes it); boundary rows ``2d · u``.
- ``antiderivative``: the trapezoid rule ``u_{i+1} − u_i − h (f_i + f_{i+1}) / 2``; row ``u_0``.
- ``burgers-1d`` (``trajectory = true``: the residual needs ``u_t``): the solver's integrating factor
  ``E = exp(−ν k² Δ)`` (diffusion exactly) and the trapezoid rule for ``N(u) = −(u²/2)_x``
  (pseudo-spectral, 2/3-dealiased as in the solver) between the snapshots, ``u(., 0)`` being the input:
  ``û^{k+1} − E û^k − Δ (N̂^{k+1} + E N̂^k) / 2``. Second order in ``Δ``: the data's residual is the
  time-discretisation error of the snapshot spacing.

``Residual.reference`` is a norm of the right-hand side that does not depend on the prediction
(``‖h² f‖``, ``‖u0‖ √K``), so ``‖rows‖ / reference`` is a relative residual a model cannot lower by
inflating its output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._burgers import BurgersOptions
from ._darcy import DarcyOptions
from ._poisson import Poisson2dOptions, PoissonOptions
from ._spectral import dealias_mask, wavenumbers

__all__ = ["Residual", "antiderivative_residual", "burgers_residual", "darcy_residual", "poisson_1d_residual",
           "poisson_2d_residual"]


@dataclass(frozen=True)
class Residual:
    """The rows of a discretised equation ``A(u) − b`` for a batch.

    Attributes:
        rows: ``(B, M)``, interior equations then boundary rows.
        reference: ``(B,)``, ``‖b‖`` (or a label-free scale of it).
        rhs: ``(B, M)`` the rows ``b`` (linear families; ``None``: nonlinear, no preconditioned norm).
        precondition: ``P ≈ A⁻¹`` on rows, ``(B, M) -> (B, M)``, input-independent and cheap (a sine
            transform, a cumulative sum); ``None``: the identity.
    """

    rows: torch.Tensor
    reference: torch.Tensor
    rhs: torch.Tensor | None = None
    precondition: Callable[[torch.Tensor], torch.Tensor] | None = None

    def relative(self) -> torch.Tensor:
        """Per-sample ``‖rows‖ / reference``, shape ``(B,)``."""
        return self.rows.norm(dim=1) / self.reference.clamp_min(torch.finfo(self.rows.dtype).tiny)

    def preconditioned(self) -> torch.Tensor:
        """Per-sample ``‖P rows‖ / ‖P b‖`` (``relative`` without a preconditioner), shape ``(B,)``.

        ``‖A⁻¹ r‖`` is the error of ``u`` against the discrete solution, so with ``P`` close to
        ``A⁻¹`` this norm weighs all frequencies of the error alike, where ``‖r‖`` weighs an error of
        wavenumber ``k`` by ``k²`` (the strong form's condition number ``~ h⁻²``)."""
        if self.precondition is None or self.rhs is None:
            return self.relative()
        tiny = torch.finfo(self.rows.dtype).tiny
        return self.precondition(self.rows).norm(dim=1) / self.precondition(self.rhs).norm(dim=1).clamp_min(tiny)

    def mean_square(self) -> torch.Tensor:
        """Per-sample mean squared row (LordNet's MSR), shape ``(B,)``."""
        return self.rows.pow(2).mean(dim=1)


def _edges(u: torch.Tensor) -> torch.Tensor:
    """The boundary nodes of ``u (B, *grid)`` flattened to ``(B, M)`` (each node once)."""
    mask = torch.zeros(u.shape[1:], dtype=torch.bool, device=u.device)
    for axis in range(mask.ndim):
        mask.narrow(axis, 0, 1).fill_(True)
        mask.narrow(axis, mask.shape[axis] - 1, 1).fill_(True)
    return u[:, mask]


def _interior(u: torch.Tensor) -> torch.Tensor:
    out = u
    for axis in range(1, u.ndim):
        out = out.narrow(axis, 1, u.shape[axis] - 2)
    return out


def _sine_transform(r: torch.Tensor) -> torch.Tensor:
    """The orthonormal type-I sine transform of ``r (B, *interior)`` along every grid axis (its own inverse)."""
    for axis in range(1, r.ndim):
        n = r.shape[axis]
        j = torch.arange(1, n + 1, dtype=r.dtype, device=r.device)
        sine = math.sqrt(2.0 / (n + 1)) * torch.sin(math.pi * j[:, None] * j[None, :] / (n + 1))
        r = torch.movedim(torch.tensordot(r, sine, dims=([axis], [0])), -1, axis)
    return r


def _inverse_laplacian(rows: torch.Tensor, interior: tuple[int, ...], boundary_diagonal: torch.Tensor,
                       interior_scale: torch.Tensor) -> torch.Tensor:
    """``P rows``: the interior rows (the first ``prod(interior)``, C order) times the inverse of the
    ``h²``-scaled constant-coefficient ``−Laplace_h`` (Dirichlet, diagonalised by the sine transform
    ``S``: ``P = S Λ⁻¹ S / interior_scale``), the boundary rows divided by their diagonal."""
    count = math.prod(interior)
    eigen = torch.zeros(interior, dtype=rows.dtype, device=rows.device)
    for axis, n in enumerate(interior):
        j = torch.arange(1, n + 1, dtype=rows.dtype, device=rows.device)
        shape = [1] * len(interior)
        shape[axis] = n
        eigen = eigen + (2 - 2 * torch.cos(math.pi * j / (n + 1))).view(shape)
    r = _sine_transform(_sine_transform(rows[:, :count].reshape(rows.shape[0], *interior)) / eigen)
    scale = interior_scale.view(-1, *([1] * len(interior)))
    return torch.cat([(r / scale).flatten(1), rows[:, count:] / boundary_diagonal], dim=1)


def _square_grid(outputs: torch.Tensor, dim: int, family: str) -> None:
    if outputs.ndim != 2 + dim or outputs.shape[1] != 1:
        raise ValueError(f"the {family} residual takes one output channel on a {dim}-D grid, "
                         f"got {tuple(outputs.shape)}")


def darcy_residual(options: DarcyOptions, inputs: torch.Tensor, outputs: torch.Tensor) -> Residual:
    """``−div(a grad u) = 1`` in the flux form of ``solve_darcy`` on the output node grid (see the module)."""
    _square_grid(outputs, 2, "darcy")
    a, u = inputs[:, 0], outputs[:, 0]
    m = u.shape[-1]
    h2 = 1.0 / (m - 1) ** 2
    east = 2 * a[:, 1:, 1:-1] * a[:, :-1, 1:-1] / (a[:, 1:, 1:-1] + a[:, :-1, 1:-1])  # node_faces, batched
    north = 2 * a[:, 1:-1, 1:] * a[:, 1:-1, :-1] / (a[:, 1:-1, 1:] + a[:, 1:-1, :-1])
    flux_x = east * (u[:, 1:, 1:-1] - u[:, :-1, 1:-1])
    flux_y = north * (u[:, 1:-1, 1:] - u[:, 1:-1, :-1])
    interior = -(flux_x[:, 1:] - flux_x[:, :-1] + flux_y[:, :, 1:] - flux_y[:, :, :-1]) - h2
    diagonal = 4 * _edges(a)
    rows = torch.cat([interior.flatten(1), diagonal * _edges(u)], dim=1)
    rhs = torch.cat([torch.full_like(interior, h2).flatten(1), torch.zeros_like(diagonal)], dim=1)
    mean = _interior(a).flatten(1).mean(dim=1)  # P: the Laplacian of the mean coefficient (κ(PA) ≲ high/low)
    return Residual(rows, rhs.norm(dim=1), rhs,
                    lambda r: _inverse_laplacian(r, tuple(interior.shape[1:]), diagonal, mean))


def _laplacian_rows(u: torch.Tensor, f: torch.Tensor) -> Residual:
    """``h² (−Laplace_h u − f)`` at the interior nodes of ``u``, ``f`` ``(B, *grid)``; ``2d · u`` on the boundary."""
    d = u.ndim - 1
    h2 = 1.0 / (u.shape[-1] - 1) ** 2
    minus_laplace = 2 * d * _interior(u)
    for axis in range(1, u.ndim):
        line = u  # interior along every other axis, all nodes along this one
        for other in range(1, u.ndim):
            if other != axis:
                line = line.narrow(other, 1, u.shape[other] - 2)
        n = u.shape[axis]
        minus_laplace = minus_laplace - line.narrow(axis, 0, n - 2) - line.narrow(axis, 2, n - 2)
    b = h2 * _interior(f)
    edges = _edges(u)
    rows = torch.cat([(minus_laplace - b).flatten(1), 2 * d * edges], dim=1)
    rhs = torch.cat([b.flatten(1), torch.zeros_like(edges)], dim=1)
    ones = torch.ones(u.shape[:1], dtype=u.dtype, device=u.device)
    return Residual(rows, b.flatten(1).norm(dim=1), rhs,
                    lambda r: _inverse_laplacian(r, tuple(b.shape[1:]), torch.full_like(edges, 2.0 * d), ones))


def poisson_2d_residual(options: Poisson2dOptions, inputs: torch.Tensor, outputs: torch.Tensor) -> Residual:
    """``−Laplace u = f``, ``u = 0`` on the boundary: the five-point rows of ``solve_poisson_2d``."""
    _square_grid(outputs, 2, "poisson-2d")
    return _laplacian_rows(outputs[:, 0], inputs[:, 0])


def poisson_1d_residual(options: PoissonOptions, inputs: torch.Tensor, outputs: torch.Tensor) -> Residual:
    """``−u'' = f``, ``u(0) = u(1) = 0``: the three-point rows."""
    _square_grid(outputs, 1, "poisson-1d")
    return _laplacian_rows(outputs[:, 0], inputs[:, 0])


def _summed(rows: torch.Tensor) -> torch.Tensor:
    """The exact inverse of the trapezoid rows: ``e_0 = r_last``, ``e_{i+1} = e_0 + Σ_{j<=i} r_j``."""
    start = rows[:, -1:]
    return torch.cat([start, start + torch.cumsum(rows[:, :-1], dim=1)], dim=1)


def antiderivative_residual(options: PoissonOptions, inputs: torch.Tensor, outputs: torch.Tensor) -> Residual:
    """``u' = f``, ``u(0) = 0``: the trapezoid rows ``u_{i+1} − u_i − h (f_i + f_{i+1}) / 2`` and ``u_0``."""
    _square_grid(outputs, 1, "antiderivative")
    u, f = outputs[:, 0], inputs[:, 0]
    h = 1.0 / (u.shape[-1] - 1)
    b = h * (f[:, 1:] + f[:, :-1]) / 2
    rows = torch.cat([u[:, 1:] - u[:, :-1] - b, u[:, :1]], dim=1)
    rhs = torch.cat([b, torch.zeros_like(u[:, :1])], dim=1)
    return Residual(rows, b.norm(dim=1), rhs, _summed)


def _burgers_spectra(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(û, N̂(u), k)`` on the periodic grid ``i/n``: ``N(u) = −(u²/2)_x`` of the 2/3-dealiased ``u``, as the solver."""
    n = u.shape[-1]
    (k_np,) = wavenumbers(n, 1)
    k = torch.as_tensor(k_np, dtype=u.dtype, device=u.device)
    keep = torch.as_tensor(dealias_mask(n, 1), dtype=u.dtype, device=u.device)  # the solver's 2/3 rule
    v = torch.fft.rfft(u)
    ud = torch.fft.irfft(v * keep, n=n)
    return v, -0.5j * k * torch.fft.rfft(ud * ud), k


def burgers_residual(options: BurgersOptions, inputs: torch.Tensor, outputs: torch.Tensor) -> Residual:
    """Integrating-factor trapezoid rows between ``u(., 0)`` (input) and the ``K`` output snapshots (see the module)."""
    if not options.trajectory:
        raise ValueError("the burgers-1d residual needs u_t: set family.trajectory = true (outputs are the "
                         "snapshots of the trajectory)")
    if outputs.ndim != 3 or inputs.shape[1] != 1:
        raise ValueError(f"the burgers-1d residual takes inputs (B, 1, n) and outputs (B, K, n), got "
                         f"{tuple(inputs.shape)} and {tuple(outputs.shape)}")
    states = torch.cat([inputs, outputs], dim=1)  # (B, K + 1, n)
    step = options.time / outputs.shape[1]
    v, nonlinear, k = _burgers_spectra(states)
    decay = torch.exp(-options.nu * k**2 * step)  # the integrating factor: diffusion exactly, as the solver
    spectral = v[:, 1:] - decay * v[:, :-1] - step * (nonlinear[:, 1:] + decay * nonlinear[:, :-1]) / 2
    rows = torch.fft.irfft(spectral, n=states.shape[-1])
    reference = inputs.flatten(1).norm(dim=1) * math.sqrt(outputs.shape[1])
    return Residual(rows.flatten(1), reference)
