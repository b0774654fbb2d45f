"""Walk on Spheres: a mesh-free Monte Carlo estimate of the solution of a Poisson problem.

For ``-Δu = f`` in Ω, ``u = g`` on ∂Ω (Muller 1956; the source term as in Sawhney & Crane 2020,
"Monte Carlo geometry processing", and as used for weak supervision by WoS-NO, "Operator learning
using weak supervision from Walk-on-Spheres", code neuraloperator/WoS-NO), one walk from x₀ is

    repeat:  r_k = dist(x_k, ∂Ω);  stop if r_k < ε
             S += (r_k² / 2d) · f(y_k),   y_k = x_k + r_k q_k ω'_k   (q_k ~ p_d, see below)
             x_{k+1} = x_k + r_k ω_k,     ω_k, ω'_k uniform on the unit sphere
    return   g(x_K) + S.

Why: u(x_k) is the mean of u over the sphere ∂B(x_k, r_k) plus ∫_B G_r(x_k, y) f(y) dy, with G_r
the Green's function of -Δ in the ball, whose integral is r²/2d. Sampling y with density
∝ G_r(x_k, y) (importance sampling) makes each source contribution (r²/2d)·f(y): bounded for
bounded f, in every dimension (uniform y with weight |B|·G has infinite variance for d >= 4).
The radial density of q = |y - x_k| / r is p_d(q) ∝ q^{d-1} G(q):

    d = 1:  ∝ 1 - q               sampled as q = 1 - √U
    d = 2:  ∝ q log(1/q)          q = √(U₁ U₂)   (-log q² ~ Gamma(2, 1))
    d >= 3: ∝ q - q^{d-1}         rejection from density 2q (q = √U, accept if V < 1 - q^{d-2};
                                  acceptance 1 - 2/d >= 1/3)

The mean over W walks is unbiased up to the ε-shell (g is read at the stopping point x_K, within ε
of ∂Ω: an O(ε) bias unless g extends harmonically off the boundary); its standard error is the
sample standard deviation over walks / √W. All walks of all points move together (one tensor of
n·W positions), drawn from an explicit generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["walk_on_spheres"]

PointFn = Callable[[torch.Tensor], torch.Tensor]


def _directions(m: int, d: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    g = torch.randn((m, d), generator=generator, dtype=dtype, device=generator.device)
    return g / g.norm(dim=1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)


def _green_radius(m: int, d: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """``m`` samples of q = |y - x| / r with density ∝ q^{d-1} G(q) (module docstring)."""
    if d == 1:
        return 1 - torch.rand(m, generator=generator, dtype=dtype, device=generator.device).sqrt()
    if d == 2:
        return (torch.rand(m, generator=generator, dtype=dtype, device=generator.device)
                * torch.rand(m, generator=generator, dtype=dtype, device=generator.device)).sqrt()
    out = torch.empty(m, dtype=dtype, device=generator.device)
    todo = torch.arange(m, device=generator.device)
    while todo.numel():
        q = torch.rand(todo.numel(), generator=generator, dtype=dtype, device=generator.device).sqrt()
        ok = torch.rand(todo.numel(), generator=generator, dtype=dtype, device=generator.device) < 1 - q ** (d - 2)
        out[todo[ok]] = q[ok]
        todo = todo[~ok]
    return out


def _column(v: torch.Tensor, m: int) -> torch.Tensor:
    v = v[:, 0] if v.ndim == 2 else v
    if v.shape != (m,):
        raise ValueError(f"walk_on_spheres: a data function returned shape {tuple(v.shape)} for {m} points")
    return v


def walk_on_spheres(
    points: torch.Tensor,
    *,
    distance: PointFn,
    boundary: PointFn,
    source: PointFn | None = None,
    walks: int = 100,
    epsilon: float = 1e-4,
    generator: torch.Generator,
    max_steps: int = 100_000,
) -> tuple[torch.Tensor, torch.Tensor]:
    """WoS estimates of ``u`` at ``points`` ``(n, d)`` for ``-Δu = source``, ``u = boundary`` on ∂Ω.

    Args:
        points: start points inside Ω.
        distance: ``(m, d) -> (m,)`` distance to ∂Ω of points inside (e.g. ``domain.distance_to_boundary``).
        boundary: ``g``, ``(m, d) -> (m,)`` or ``(m, 1)``, evaluated at the stopping points.
        source: ``f`` of ``-Δu = f`` (same shapes), ``None`` for Laplace's equation.
        walks: walks per point (W).
        epsilon: stopping shell width ε.
        generator: the RNG of every draw.
        max_steps: a walk still running after this many jumps raises ``RuntimeError``.

    Returns:
        ``(mean, stderr)``, both ``(n,)``: the estimate and its Monte Carlo standard error.
    """
    if points.ndim != 2 or points.shape[0] < 1:
        raise ValueError(f"walk_on_spheres needs points of shape (n, d) with n >= 1, got {tuple(points.shape)}")
    if isinstance(walks, bool) or not isinstance(walks, int) or walks < 2:
        raise ValueError(f"walk_on_spheres needs an integer number of walks >= 2 (for a standard error), got {walks!r}")
    if not 0 < epsilon < math.inf:
        raise ValueError(f"walk_on_spheres needs a finite epsilon > 0, got {epsilon!r}")
    n, d = points.shape
    dtype = points.dtype
    x = points.detach().repeat_interleave(walks, dim=0).clone()
    acc = torch.zeros(n * walks, dtype=dtype, device=x.device)
    active = torch.arange(n * walks, device=x.device)
    for _ in range(max_steps):
        r = _column(distance(x[active]), active.numel())
        moving = r >= epsilon
        active, r = active[moving], r[moving]
        if not active.numel():
            break
        xa = x[active]
        if source is not None:
            q = _green_radius(active.numel(), d, generator, dtype)
            y = xa + (r * q)[:, None] * _directions(active.numel(), d, generator, dtype)
            acc[active] += r**2 / (2 * d) * _column(source(y), active.numel())
        x[active] = xa + r[:, None] * _directions(active.numel(), d, generator, dtype)
    else:
        raise RuntimeError(f"walk_on_spheres: {active.numel()} walks still running after {max_steps} steps")
    values = (_column(boundary(x), n * walks) + acc).reshape(n, walks)
    return values.mean(dim=1), values.std(dim=1) / math.sqrt(walks)
