"""Lagrangian PINNs: train transport problems along their characteristics.

Mojgani, Balajewicz & Hassanzadeh, "Lagrangian PINNs: A causality-conforming solution to failure
modes of physics-informed neural networks" (CMAME 2023, arXiv 2205.02902). For

    u_t + a(u) u_x = ν u_xx     on a periodic interval of length P,

the Lagrangian label ξ (a particle's position at t0) and time t parametrise two networks: the
characteristic curve X(ξ, t) and the solution along it U(ξ, t) = u(X(ξ, t), t). They satisfy

    X_t = a(U),        U_t = ν u_xx,   u_x = U_ξ / X_ξ,   u_xx = ∂_ξ(U_ξ / X_ξ) / X_ξ,
    X(ξ, t0) = ξ,      U(ξ, t0) = u0(ξ).

Both are functions of low Kolmogorov n-width (for linear convection X = ξ + βt and U = u0(ξ)),
which is why LPINNs train where Eulerian PINNs fail at large β.

Details decided here (the paper's code differs where noted):

* the initial conditions are exact: X = ξ + (t - t0) s D(ξ, t), U = u0(ξ) + (t - t0) N(ξ, t) (the
  paper penalises them with weight 1000). ``s = max |a(u0)|`` over the initial data (1 if zero) is
  a velocity scale, so the network D is O(1) whatever β (unscaled, Adam needs thousands of steps
  just to grow D's output to β = 50);
* D and N are two separate MLPs (the paper shares two layers) fed with the periodic embedding
  (cos 2πξ/P, sin 2πξ/P, t), so X - ξ and U are P-periodic in ξ by construction;
* the loss is the mean square of both residual columns with equal weights (the paper uses L2
  norms weighted 10 : 1);
* for ν > 0 the chain rule above is used (the paper's code differentiates U in ξ directly, which
  is exact only when X_ξ = 1).

The module's ``forward`` is the Eulerian solution u(x, t), so the usual evaluation grid, reports
and ``physopt.load(...).predict`` work unchanged: it solves X(ξ, t) = x (mod P) for ξ by Newton's
method from ξ0 = 2x - X(x, t) (exact for a uniform velocity) and returns U(ξ, t). A last Newton
step keeps the graph, so first derivatives of the output in (x, t) are exact (implicit function
theorem: ξ_x = 1 / X_ξ, ξ_t = -X_t / X_ξ). Characteristics must not cross (X_ξ > 0), i.e. no shocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..models import MLP
from ..problems import Condition, Initial, Periodic, Points, Problem, Residual, SpaceTime
from ..problems import value_at as _value

__all__ = ["Characteristics", "LagrangianNet", "lagrangian_net", "lagrangian_problem"]


class LagrangianNet(nn.Module):
    """Characteristics X(ξ, t) and solution U(ξ, t) of a periodic 1-D transport problem.

    Args:
        initial: u0, a callable on ``(n, 2)`` points ``(ξ, t)`` returning ``(n, 1)``.
        lo, period: the spatial interval ``[lo, lo + period)``.
        t0, t1: the time interval.
        width, depth, activation: of both MLPs.
        generator, dtype: for the initial weights.
        newton_steps: maximum Newton iterations of the Eulerian inversion.
        speed: the velocity scale s of the displacement (see the module docstring).
    """

    def __init__(
        self, *, initial, lo: float, period: float, t0: float, t1: float, width: int, depth: int,
        activation: str = "tanh", generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
        newton_steps: int = 50, speed: float = 1.0,
    ) -> None:
        super().__init__()
        if not period > 0 or not t1 > t0:
            raise ValueError(f"need period > 0 and t1 > t0, got period={period!r}, t0={t0!r}, t1={t1!r}")
        self.initial, self.lo, self.period, self.t0 = initial, float(lo), float(period), float(t0)
        self.newton_steps = newton_steps
        if not speed > 0:
            raise ValueError(f"speed (velocity scale) must be > 0, got {speed!r}")
        self.speed = float(speed)
        bounds = ((-1.0, -1.0, t0), (1.0, 1.0, t1))
        kw = dict(in_dim=3, out_dim=1, width=width, depth=depth, activation=activation, bounds=bounds,
                  generator=generator, dtype=dtype)
        self.displacement = MLP(**kw)  # D in X = ξ + (t - t0) D
        self.solution = MLP(**kw)  # N in U = u0 + (t - t0) N

    def _embed(self, xi: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        angle = 2 * math.pi * (xi - self.lo) / self.period
        return torch.cat([torch.cos(angle), torch.sin(angle), t], dim=1)

    def characteristic(self, xi: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """X(ξ, t) ``(n, 1)`` for column tensors ``ξ``, ``t``."""
        return xi + (t - self.t0) * self.speed * self.displacement(self._embed(xi, t))

    def along(self, xi: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """U(ξ, t) ``(n, 1)``: the solution carried by the characteristic from ξ."""
        z = torch.cat([xi, t], dim=1)
        return _value(self.initial, z) + (t - self.t0) * self.solution(self._embed(xi, t))

    def lagrangian(self, z: torch.Tensor) -> torch.Tensor:
        """``(X, U)`` as an ``(n, 2)`` tensor at Lagrangian points ``z = (ξ, t)``."""
        xi, t = z[:, :1], z[:, 1:2]
        return torch.cat([self.characteristic(xi, t), self.along(xi, t)], dim=1)

    def _wrap(self, d: torch.Tensor) -> torch.Tensor:
        return d - self.period * torch.round(d / self.period)

    def labels(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The label ξ with X(ξ, t) = x (mod period), by Newton's method (no graph)."""
        x, t = x.detach(), t.detach()
        with torch.enable_grad():
            xi = (2 * x - self.characteristic(x, t)).detach()
            for _ in range(self.newton_steps):
                xi.requires_grad_(True)
                X = self.characteristic(xi, t)
                (X_xi,) = torch.autograd.grad(X.sum(), xi)
                step = self._wrap(X.detach() - x) / X_xi
                xi = (xi - step).detach()
                if float(step.abs().max()) < 1e-13 * self.period:
                    break
        return xi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The Eulerian solution u at points ``x = (x, t)`` ``(n, 2)``."""
        xe, t = x[:, :1], x[:, 1:2]
        xi = self.labels(xe, t)
        with torch.enable_grad():
            leaf = xi.clone().requires_grad_(True)
            (X_xi,) = torch.autograd.grad(self.characteristic(leaf, t.detach()).sum(), leaf)
        # One Newton step with the graph: exact first derivatives of ξ(x, t) at the solution.
        xi = xi - self._wrap(self.characteristic(xi, t) - xe) / X_xi.detach()
        return self.along(xi, t)


@dataclass(frozen=True)
class Characteristics(Condition):
    """Residuals ``[X_t - a(U), U_t - ν u_xx]`` ``(n, 2)`` of a :class:`LagrangianNet`."""

    velocity: Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]
    diffusion: Callable[[Mapping[str, torch.Tensor]], torch.Tensor] | None = None
    kind: str = "interior"

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        return Points(domain.sample_interior(n, generator=generator, dtype=dtype))

    def residual(self, model, batch, params):  # type: ignore[override]
        z = batch["x"].detach().requires_grad_(True)
        XU = model.lagrangian(z)
        X, U = XU[:, :1], XU[:, 1:2]
        gX = torch.autograd.grad(X.sum(), z, create_graph=True)[0]
        gU = torch.autograd.grad(U.sum(), z, create_graph=True)[0]
        r_x = gX[:, 1:2] - self.velocity(U, params)
        r_u = gU[:, 1:2]
        if self.diffusion is not None:
            u_x = gU[:, :1] / gX[:, :1]
            u_xx = torch.autograd.grad(u_x.sum(), z, create_graph=True)[0][:, :1] / gX[:, :1]
            r_u = r_u - self.diffusion(params) * u_xx
        return torch.cat([r_x, r_u], dim=1)


def lagrangian_problem(problem: Problem) -> Problem:
    """The problem in Lagrangian form: one condition ``pde`` (:class:`Characteristics`).

    Needs ``problem.transport``, a 1-D periodic space (a :class:`Periodic` condition on axis 0)
    and an :class:`Initial` condition (u0); the initial and periodic conditions are then exact.
    """
    if problem.transport is None:
        raise ValueError(
            f"method lpinn needs a problem that declares its transport velocity; {problem.name!r} does not"
        )
    if not isinstance(problem.domain, SpaceTime) or problem.domain.space.dim != 1:
        raise ValueError(f"method lpinn needs a 1-D space x time domain; {problem.name!r} has {problem.domain!r}")
    if not any(isinstance(c, Periodic) and c.axis == 0 for c in problem.conditions.values()):
        raise ValueError(f"method lpinn needs a periodic space (a Periodic condition); {problem.name!r} has none")
    pdes = [k for k, c in problem.conditions.items() if isinstance(c, Residual) and c.kind == "interior"]
    if pdes != ["pde"]:
        raise ValueError(f"method lpinn replaces one interior condition named 'pde'; {problem.name!r} has {pdes}")
    tr = problem.transport
    return Problem(
        name=problem.name, domain=problem.domain, input_names=problem.input_names,
        output_names=problem.output_names, conditions={"pde": Characteristics(tr.velocity, tr.diffusion)},
        params=problem.params, reference=problem.reference, sizes={"pde": problem.sizes.get("pde", 1000)},
        description=problem.description,
    )


def initial_value(problem: Problem):
    """u0 of the problem's :class:`Initial` condition (order 0)."""
    inits = [c for c in problem.conditions.values() if isinstance(c, Initial) and c.order == 0]
    if len(inits) != 1:
        raise ValueError(
            f"method lpinn needs one initial condition u(x, t0) = u0(x); {problem.name!r} has {len(inits)}"
        )
    return inits[0].value


def lagrangian_net(problem: Problem, *, width: int, depth: int, activation: str, generator: torch.Generator,
                   dtype: torch.dtype) -> LagrangianNet:
    """The :class:`LagrangianNet` for a problem accepted by :func:`lagrangian_problem`."""
    (lo,), (hi,) = problem.domain.space.bounds
    t = problem.domain.time
    u0 = initial_value(problem)
    xi = torch.linspace(lo, hi, 1025, dtype=dtype)[:, None]
    params = {k: torch.tensor(v, dtype=dtype) for k, v in problem.params.items()}
    u_init = _value(u0, torch.cat([xi, torch.full_like(xi, t.t0)], 1))
    a0 = problem.transport.velocity(u_init, params)  # type: ignore[union-attr]
    speed = float(a0.abs().max()) or 1.0
    return LagrangianNet(initial=u0, lo=lo, period=hi - lo, t0=t.t0, t1=t.t1, width=width, depth=depth,
                         activation=activation, generator=generator, dtype=dtype, speed=speed)
