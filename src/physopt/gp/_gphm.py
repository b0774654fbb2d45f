"""GP-HM: a Gaussian-process solver for linear second-order PDEs on a grid of collocation points.

Fang et al. (2024), "Solving High Frequency and Multi-Scale PDEs with Gaussian Processes" (ICLR
2024). The unknowns are the solution values ``U`` on a grid ``X = X_1 × … × X_D`` (boundary nodes
included); the solution everywhere is the GP conditional mean given them,

    u(x) = k(x, X) K⁻¹ vec(U),   K = K_1 ⊗ … ⊗ K_D (+ jitter per factor),

with the product of one :class:`~physopt.gp.SpectralMixture` per axis. Derivatives of the mean
come from the kernel's closed-form derivatives: at the grid, ``∂²u/∂x_d² = (K_d'' K_d⁻¹) ×_d U``
(one ``n_d × n_d`` differentiation matrix per axis), so the PDE residual of

    Σ_d a_d ∂²u/∂x_d² + c u = f  on the grid,   u = g on the boundary nodes,

costs per-axis solves only. Training maximises the log joint probability of the values, the
boundary data and the residuals (the paper's objective): minimised here,

    L = ½ log|K| + ½ vec(U)ᵀ K⁻¹ vec(U)
        + λ_b (½ τ_b Σ_∂ (U - g)² - ½ N_∂ log τ_b) + ½ τ_r Σ_X r² - ½ N log τ_r,

with the boundary and residual precisions ``τ_b, τ_r`` learned (log domain, start at 1) and the
boundary likelihood weighted by ``λ_b`` (the paper's 200). Adam over ``U`` and all kernel
hyper-parameters (weights in the log domain: the Jeffreys prior, see :mod:`physopt.gp._kernel`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._kernel import Envelope, SpectralMixture
from ._kron import KroneckerCholesky, mode_product
from ._values import VALUES_RULES, ValuesUpdate

__all__ = ["GPHM", "GPHMResult", "GridPDE", "gphm_fit", "grid_pde", "grid_points"]

GridFunction = Callable[[torch.Tensor], torch.Tensor]  # points (n, D) -> values (n,) or (n, 1)


@dataclass(frozen=True)
class GridPDE:
    """``Σ_d a_d ∂²u/∂x_d² + c u = f`` on the grid ``axes``, ``u = g`` on its boundary nodes.

    ``source`` and ``boundary`` are grid tensors of shape ``(n_1, …, n_D)`` (``boundary`` is read
    on the boundary nodes only); ``second`` holds ``a_d``, ``zeroth`` is ``c``.
    """

    axes: tuple[torch.Tensor, ...]
    second: tuple[float, ...]
    zeroth: float
    source: torch.Tensor
    boundary: torch.Tensor

    def __post_init__(self) -> None:
        shape = tuple(len(a) for a in self.axes)
        if len(self.second) != len(self.axes):
            raise ValueError(f"one second-derivative coefficient per axis ({len(self.axes)}), got {self.second}")
        for name in ("source", "boundary"):
            got = tuple(getattr(self, name).shape)
            if got != shape:
                raise ValueError(f"{name} must be a grid tensor of shape {shape}, got {got}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    def boundary_mask(self) -> torch.Tensor:
        """True on the grid nodes with some coordinate at the first or last node of its axis."""
        mask = torch.zeros(self.shape, dtype=torch.bool, device=self.source.device)
        for d, n in enumerate(self.shape):
            idx = [slice(None)] * len(self.shape)
            for end in (0, n - 1):
                idx[d] = end
                mask[tuple(idx)] = True
        return mask


def grid_points(axes: Sequence[torch.Tensor]) -> torch.Tensor:
    """The grid's nodes as ``(N, D)`` points, C order (the last axis fastest)."""
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=1)


def grid_pde(*, lo: Sequence[float], hi: Sequence[float], points: Sequence[int], source: GridFunction,
             boundary: GridFunction, second: Sequence[float], zeroth: float = 0.0,
             dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> GridPDE:
    """A :class:`GridPDE` on the uniform grid of ``points[d]`` nodes on ``[lo[d], hi[d]]`` per axis."""
    if not len(lo) == len(hi) == len(points) or not points:
        raise ValueError(f"lo, hi and points need one entry per axis, got {lo}, {hi}, {points}")
    for n in points:
        if isinstance(n, bool) or not isinstance(n, int) or n < 3:
            raise ValueError(f"each axis needs an integer >= 3 grid nodes, got points={list(points)}")
    axes = tuple(torch.linspace(a, b, n, dtype=dtype, device=device) for a, b, n in zip(lo, hi, points, strict=True))
    x = grid_points(axes)
    shape = tuple(points)
    return GridPDE(axes=axes, second=tuple(float(a) for a in second), zeroth=float(zeroth),
                   source=source(x).reshape(shape).to(dtype), boundary=boundary(x).reshape(shape).to(dtype))


class GPHM(nn.Module):
    """The GP-HM solution model on a grid: values ``U``, one spectral mixture per axis, precisions.

    ``model(x)`` is the conditional mean ``u(x)`` at points ``x`` (n, D), shape ``(n, 1)``.
    """

    def __init__(self, axes: Sequence[torch.Tensor], *, components: int = 30,
                 max_frequency: float | Sequence[float] = 20.0, envelope: Envelope = Envelope.MATERN52,
                 jitter: float = 1e-6) -> None:
        super().__init__()
        axes = tuple(axes)
        top = [float(max_frequency)] * len(axes) if isinstance(max_frequency, int | float) else list(max_frequency)
        if len(top) != len(axes):
            raise ValueError(f"max_frequency needs one value per axis ({len(axes)}), got {max_frequency!r}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        ref = axes[0]
        self.jitter = jitter
        self.kernels = nn.ModuleList(SpectralMixture(components=components, max_frequency=f, envelope=envelope,
                                                     dtype=ref.dtype, device=ref.device) for f in top)
        for d, a in enumerate(axes):
            self.register_buffer(f"axis{d}", a.clone())
        # Uniform axes (what grid_pde builds) take the Toeplitz path: 2n - 1 kernel evaluations per matrix.
        self.spacings = tuple(_uniform_spacing(a) for a in axes)
        shape = tuple(len(a) for a in axes)
        self.values = nn.Parameter(torch.zeros(shape, dtype=ref.dtype, device=ref.device))
        self.log_boundary_precision = nn.Parameter(torch.zeros((), dtype=ref.dtype, device=ref.device))
        self.log_residual_precision = nn.Parameter(torch.zeros((), dtype=ref.dtype, device=ref.device))

    @property
    def axes(self) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self, f"axis{d}") for d in range(len(self.kernels)))

    def grid_matrix(self, d: int, derivative: int = 0) -> torch.Tensor:
        """``∂ⁿk_d(X_d, X_d)/∂xⁿ`` on axis ``d``'s nodes (Toeplitz evaluation on a uniform axis)."""
        a, h = self.axes[d], self.spacings[d]
        if h is None:
            return self.kernels[d].matrix(a, a, derivative)
        return self.kernels[d].toeplitz(len(a), h, derivative)

    def covariance(self) -> KroneckerCholesky:
        """The factorised grid covariance ``⊗_d (K_d + jitter I)``."""
        return KroneckerCholesky([self.grid_matrix(d) for d in range(len(self.kernels))], jitter=self.jitter)

    def second_derivative(self, cov: KroneckerCholesky, d: int) -> torch.Tensor:
        """``∂²u/∂x_d²`` at the grid nodes: ``K_d'' ×_d (K_d⁻¹ ×_d U)``."""
        return mode_product(self.grid_matrix(d, derivative=2), cov.solve_along(d, self.values), d)

    def residual(self, pde: GridPDE, cov: KroneckerCholesky | None = None) -> torch.Tensor:
        """``Σ_d a_d ∂²u/∂x_d² + c u - f`` at the grid nodes."""
        cov = self.covariance() if cov is None else cov
        r = pde.zeroth * self.values - pde.source
        for d, a_d in enumerate(pde.second):
            if a_d != 0.0:
                r = r + a_d * self.second_derivative(cov, d)
        return r

    def objective(self, pde: GridPDE, *, boundary_weight: float = 200.0) -> torch.Tensor:
        """The negative log joint probability ``L`` of the module docstring."""
        if pde.shape != tuple(self.values.shape):
            raise ValueError(f"the PDE's grid {pde.shape} is not the model's {tuple(self.values.shape)}")
        cov = self.covariance()
        u = self.values
        prior = 0.5 * cov.logdet() + 0.5 * (u * cov.solve(u)).sum()
        mask = pde.boundary_mask()
        gap_b = ((u - pde.boundary)[mask] ** 2).sum()
        gap_r = (self.residual(pde, cov) ** 2).sum()
        tb, tr = self.log_boundary_precision, self.log_residual_precision
        boundary = 0.5 * tb.exp() * gap_b - 0.5 * int(mask.sum()) * tb
        equation = 0.5 * tr.exp() * gap_r - 0.5 * u.numel() * tr
        return prior + boundary_weight * boundary + equation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``u(x) = Σ_grid Π_d k_d(x_d, X_d) [K⁻¹U]``, contracted one axis at a time; ``(n, 1)``."""
        if x.ndim != 2 or x.shape[1] != len(self.kernels):
            raise ValueError(f"points of shape (n, {len(self.kernels)}) were expected, got {tuple(x.shape)}")
        x = x.to(self.values.dtype)
        alpha = self.covariance().solve(self.values)
        # Chunks of points: the kernel rows are built as (points, n_d, Q) tensors, so a reference grid
        # of 4001 points against 400 nodes and 30 components would hold ~0.4 GB per intermediate.
        width = max(len(a) for a in self.axes) * self.kernels[0].frequency.numel()
        step = max(1, 2**21 // width)
        return torch.cat([self._mean(alpha, x[i : i + step]) for i in range(0, x.shape[0], step)])

    def _mean(self, alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        t, n = alpha, x.shape[0]
        for d, (k, a) in enumerate(zip(self.kernels, self.axes, strict=True)):
            b = k.rows(x[:, d], a)  # (n, n_d)
            if d == 0:
                t = b @ t.reshape(t.shape[0], -1)  # (n, rest)
            else:
                t = (t.reshape(n, b.shape[1], -1) * b[:, :, None]).sum(1)
        return t.reshape(n, 1)


def _uniform_spacing(axis: torch.Tensor) -> float | None:
    """The node spacing of an evenly spaced increasing axis, else ``None``."""
    if axis.ndim != 1 or len(axis) < 2:
        raise ValueError(f"each axis must be a 1-D tensor of >= 2 nodes, got shape {tuple(axis.shape)}")
    steps = torch.diff(axis)
    h = float(steps.mean())
    # Relative 1e-9: linspace nodes in float64 are evenly spaced to ~1e-15; a deliberately
    # graded axis differs at O(1).
    if h > 0 and float((steps - h).abs().max()) <= 1e-9 * h:
        return h
    return None


@dataclass(frozen=True)
class GPHMResult:
    """What :func:`gphm_fit` did: the objective per step, steps taken, process CPU and wall seconds."""

    losses: list[float]
    steps: int
    cpu_time_s: float
    wall_time_s: float


def gphm_fit(model: GPHM, pde: GridPDE, *, iterations: int, lr: float = 1e-2, final_lr: float | None = None,
             boundary_weight: float = 200.0, budget_s: float = math.inf,
             clock: Callable[[], float] = time.process_time,
             values: ValuesUpdate = ValuesUpdate.ADAM) -> GPHMResult:
    """Minimise :meth:`GPHM.objective` with Adam (the paper's optimiser and lr) for ``iterations``
    steps or until ``budget_s`` seconds of ``clock`` (default: process CPU time) are spent;
    ``ValueError`` on a non-finite objective, naming the step.

    ``final_lr`` (default ``lr``: the paper's constant step) decays the step geometrically from
    ``lr`` to ``final_lr`` over ``iterations``. Decided here: with a constant step the error of a
    converged run keeps oscillating over an order of magnitude (Adam's step does not shrink as the
    gradient does), and the paper ran 10⁵ steps where a CPU budget allows 10³.

    ``values`` says who updates the grid values (:class:`~physopt.gp.ValuesUpdate`): ``ADAM``, the
    paper's joint Adam, or ``SOLVE``, the exact minimiser in ``U`` before every Adam step on the
    hyper-parameters (:mod:`physopt.gp._values`: what makes multi-scale solutions converge).
    """
    if not isinstance(values, ValuesUpdate):
        raise ValueError(f"values must be one of {[v.value for v in ValuesUpdate]}, got {values!r}")
    rule = VALUES_RULES[values]
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
    final_lr = lr if final_lr is None else final_lr
    if not lr > 0 or not final_lr > 0:
        raise ValueError(f"lr and final_lr must be > 0, got lr={lr!r}, final_lr={final_lr!r}")
    trained = [p for p in model.parameters() if p.requires_grad and (rule.adam_owns_values or p is not model.values)]
    opt = torch.optim.Adam(trained, lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(final_lr / lr) ** (1 / iterations))
    start, cpu, wall = clock(), time.process_time(), time.perf_counter()
    losses: list[float] = []
    for step in range(iterations):
        if rule.before_step is not None:
            rule.before_step(model, pde, boundary_weight)
        opt.zero_grad(set_to_none=True)
        loss = model.objective(pde, boundary_weight=boundary_weight)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ValueError(f"GP-HM objective is {value} at step {step} (try a larger jitter)")
        loss.backward(inputs=trained)  # solved values: no gradient accumulates on U
        opt.step()
        sched.step()
        losses.append(value)
        if clock() - start >= budget_s:
            break
    return GPHMResult(losses=losses, steps=len(losses), cpu_time_s=time.process_time() - cpu,
                      wall_time_s=time.perf_counter() - wall)
