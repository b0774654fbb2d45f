"""INSR: implicit neural spatial representations stepped through time (Chen et al., ICLR 2023).

Chen, Wu, Guo, Grinspun & Xu, "Implicit neural spatial representations for time-dependent PDEs",
ICML 2023 (arXiv 2210.00124). A network ``u_θ(x)`` on *space* is the field at one time; each time
step starts from the previous weights and minimises the time-discrete residual of the step. Here
the step residual is the problem's own space-time residual, evaluated on a local polynomial in
time built from the previous states, so every time-dependent problem of the zoo can be stepped:

    U(x, t) = V(x) + (t - t_e) V_t(x) + ½ (t - t_e)² V_tt(x),

whose value and time derivatives at ``t_e`` are the scheme's combinations (:data:`SCHEMES`) of the
unknown next state ``u = u_θ`` and the known ``u_n`` (and ``u_{n-1}``, second order in time):

- ``euler`` (implicit Euler, ``t_e = t_{n+1}``): ``V = u``, ``V_t = (u - u_n)/Δt``,
  ``V_tt = (u - 2u_n + u_{n-1})/Δt²`` — the paper's variational implicit Euler;
- ``midpoint``: first order ``t_e = t_n + Δt/2``, ``V = (u + u_n)/2``, ``V_t = (u - u_n)/Δt`` (the
  implicit midpoint rule); second order ``t_e = t_n``, ``V = (u + 2u_n + u_{n-1})/4``,
  ``V_t = (u - u_{n-1})/(2Δt)``, ``V_tt`` as above (Newmark's average acceleration, which conserves
  the energy of linear problems).

The loss of a step is ``Σ_c w_c mean(r_c²)`` over the PDE and boundary conditions, the PDE at
``t_e`` and boundary conditions at ``t_{n+1}`` (where ``U = u`` for ``euler``; for ``midpoint`` the
boundary residual is that of the average, which holds when both states satisfy it). The network
sees time ``t_e`` with derivative one (a straight-through time input), so residuals that read
``x[:, -1]`` see ``t_e`` and periodic pairs stay at one time. The initial network fits the
:class:`~physopt.problems.Initial` value (and the boundary conditions at ``t_0``); a problem with an
``Initial(order=1)`` (``u_t(x, t_0)``) is second order in time, its ghost state
``u_{-1} = u_0 - Δt u_t(·, t_0)``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from .. import optim as optim_pkg
from ..problems import Initial, Problem, SpaceTime, value_at

__all__ = ["SCHEMES", "InsrOptions", "InsrResult", "InsrTrajectory", "TimeScheme", "insr_solve"]

State = Callable[[torch.Tensor], torch.Tensor]  # x (n, d) -> u (n, k)


@dataclass(frozen=True)
class TimeScheme:
    """One time discretisation: where the PDE is evaluated and the state polynomial there.

    ``offset(order)`` is ``(t_e - t_n)/Δt``; ``coefficients(order)`` gives ``(V, V_t Δt)`` (first
    order in time) or ``(V, V_t Δt, V_tt Δt²)`` (second order) as weights of ``(u, u_n, u_{n-1})``."""

    summary: str
    offset: Callable[[int], float]
    coefficients: Callable[[int], tuple[tuple[float, float, float], ...]]


_SECOND = (1.0, -2.0, 1.0)  # (u - 2u_n + u_{n-1}): the second difference, both schemes
SCHEMES: dict[str, TimeScheme] = {
    "euler": TimeScheme("implicit Euler: the residual of the new state",
                        lambda order: 1.0, lambda order: ((1.0, 0.0, 0.0), (1.0, -1.0, 0.0), _SECOND)[:order + 1]),
    "midpoint": TimeScheme(
        "implicit midpoint (first order in time) / average acceleration (second order)",
        lambda order: 0.5 if order == 1 else 0.0,
        lambda order: (((0.5, 0.5, 0.0), (1.0, -1.0, 0.0)) if order == 1
                       else ((0.25, 0.5, 0.25), (0.5, 0.0, -0.5), _SECOND))),
}


@dataclass(frozen=True)
class InsrOptions:
    """``steps`` time steps of ``Δt = (t_1 - t_0)/steps`` with ``scheme``; each runs ``iterations``
    steps of ``optimizer`` (a :mod:`physopt.optim` name, ``lr``, ``options``) from the previous
    weights on ``points`` fresh points per condition (``sizes`` per condition overrides), with a fresh
    optimizer state; the initial fit runs ``initial_iterations``. ``weights`` per condition (1)."""

    steps: int = 100
    scheme: str = "midpoint"
    iterations: int = 100
    initial_iterations: int = 1000
    optimizer: str = "adam"
    lr: float = 1e-3
    options: Mapping[str, Any] = field(default_factory=dict)
    points: int = 1000
    sizes: Mapping[str, int] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)


class _Local(nn.Module):
    """``U(x, t)`` of the module docstring: ``net`` is ``u``, ``previous`` are ``(u_n, u_{n-1})``."""

    def __init__(self, net: nn.Module, previous: tuple[State, State], *, t_e: float, dt: float,
                 coefficients: tuple[tuple[float, float, float], ...]) -> None:
        super().__init__()
        self.net, self.previous, self.t_e, self.dt, self.coefficients = net, previous, t_e, dt, coefficients

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x, t = z[:, :-1], z[:, -1:]
        s = t - t.detach()  # t - t_e, zero in value: every point is at t_e, with d/dt = 1
        used = [any(row[i] for row in self.coefficients) for i in range(3)]  # u_{n-1}: second order only
        states = [f(x) if use else None for f, use in zip((self.net, *self.previous), used, strict=True)]
        terms = [sum(c * u for c, u in zip(row, states, strict=True) if c) for row in self.coefficients]
        out = terms[0] + s * terms[1] / self.dt
        return out + 0.5 * s * s * terms[2] / self.dt**2 if len(terms) == 3 else out


class _Space(nn.Module):
    """The spatial network on space-time points (time ignored): the initial fit."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :-1])


def _frozen(net: nn.Module) -> nn.Module:
    out = copy.deepcopy(net)
    for p in out.parameters():
        p.requires_grad_(False)
    return out


class InsrTrajectory(nn.Module):
    """The stored states as one space-time model: linear in time between consecutive steps.

    ``parameters`` ``(steps + 1, P)`` are the flat weights of ``net`` at ``times``."""

    def __init__(self, net: nn.Module, states: torch.Tensor, times: torch.Tensor) -> None:
        super().__init__()
        self.net = _frozen(net)
        self.names = [n for n, _ in net.named_parameters()]
        self.shapes = [p.shape for _, p in net.named_parameters()]
        self.register_buffer("states", states)
        self.register_buffer("times", times)

    def network(self, k: int) -> State:
        """The spatial field at ``times[k]``."""
        sizes = [s.numel() for s in self.shapes]
        flat = torch.split(self.states[k], sizes)
        weights = {n: w.reshape(s) for n, w, s in zip(self.names, flat, self.shapes, strict=True)}
        return lambda x: functional_call(self.net, weights, (x,))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x, t = z[:, :-1], z[:, -1]
        k = torch.clamp(torch.searchsorted(self.times, t.detach().contiguous(), right=True) - 1, 0, len(self.times) - 2)
        out = None
        for j in torch.unique(k).tolist():
            rows = (k == j).nonzero().squeeze(1)
            a = ((t[rows] - self.times[j]) / (self.times[j + 1] - self.times[j]))[:, None]
            u = (1 - a) * self.network(j)(x[rows]) + a * self.network(j + 1)(x[rows])
            if out is None:
                out = u.new_zeros((z.shape[0], u.shape[1]))
            out = out.index_copy(0, rows, u)
        assert out is not None  # z has at least one row
        return out


@dataclass(frozen=True)
class InsrResult:
    """What :func:`insr_solve` returns: the trajectory, the final loss of every step (index 0: the
    initial fit) and the process CPU seconds; ``parameters`` is the size of one stored state."""

    trajectory: InsrTrajectory
    losses: list[float]
    cpu_time_s: float
    parameters: int


def _flat(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def _check(problem: Problem, options: InsrOptions) -> int:
    if not isinstance(problem.domain, SpaceTime):
        raise ValueError(f"INSR steps a time-dependent problem; {problem.name!r} has no time axis")
    if problem.unknowns:
        raise ValueError(f"INSR solves forward problems; {problem.name!r} has unknowns {sorted(problem.unknowns)}")
    if options.scheme not in SCHEMES:
        raise ValueError(f"INSR scheme must be one of {', '.join(SCHEMES)}, got {options.scheme!r}")
    for key in ("steps", "iterations", "points"):
        v = getattr(options, key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"INSR {key} must be a positive int, got {v!r}")
    if optim_pkg.spec(options.optimizer).needs_residuals:
        raise ValueError(f"INSR gives its optimizer a loss closure; {options.optimizer!r} needs residual vectors")
    initial = [c for c in problem.conditions.values() if isinstance(c, Initial)]
    if not any(c.order == 0 for c in initial):
        raise ValueError(f"INSR fits the initial state first; {problem.name!r} has no Initial(order=0) condition")
    return 2 if any(c.order == 1 for c in initial) else 1


def _minimise(net: nn.Module, loss: Callable[[], torch.Tensor], iterations: int, options: InsrOptions) -> float:
    opt = optim_pkg.build(options.optimizer, list(net.parameters()), lr=options.lr, **dict(options.options))

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss()
        if not torch.isfinite(value):
            raise ValueError(f"INSR: the step loss is {float(value)} (reduce lr or the time step)")
        value.backward()
        return value

    for _ in range(iterations):
        opt.step(closure)
    return float(loss().detach())  # residuals need autograd: no torch.no_grad here


def insr_solve(problem: Problem, net: nn.Module, *, options: InsrOptions, generator: torch.Generator,
               params: Mapping[str, torch.Tensor]) -> InsrResult:
    """Step ``problem`` from ``t_0`` to ``t_1`` with the spatial network ``net`` (module docstring).

    ``net`` maps space points ``(n, d)`` to the outputs and is trained in place (it ends as the
    final state); ``generator`` (on the points' device) draws every step's points; ``params`` are the
    problem's constants (e.g. :class:`~physopt.training.Parameters`)."""
    order = _check(problem, options)
    start = time.process_time()
    domain, scheme = problem.domain, SCHEMES[options.scheme]
    dtype = next(net.parameters()).dtype
    t0, t1 = domain.time.t0, domain.time.t1
    dt = (t1 - t0) / options.steps
    initial = {k: c for k, c in problem.conditions.items() if isinstance(c, Initial)}
    others = {k: c for k, c in problem.conditions.items() if k not in initial}

    def batches(conditions: Mapping[str, Any], t: float | None) -> dict[str, Any]:
        out = {}
        for name, c in conditions.items():
            b = c.sample(domain, options.sizes.get(name, options.points), generator=generator, dtype=dtype)
            out[name] = b if t is None else b.with_x(torch.cat([b.x[:, :-1], torch.full_like(b.x[:, -1:], t)], 1))
        return out

    def loss_of(model: nn.Module, terms: dict[str, tuple[Any, Any]]) -> Callable[[], torch.Tensor]:
        def loss() -> torch.Tensor:
            return sum(options.weights.get(k, 1.0) * c.residual(model, b, params).pow(2).mean()
                       for k, (c, b) in terms.items())
        return loss

    first = {k: c for k, c in initial.items() if c.order == 0}
    pde = {k: c for k, c in others.items() if c.kind == "interior"}
    walls = {k: c for k, c in others.items() if k not in pde}
    fit = {k: ((first | walls)[k], b) for k, b in {**batches(first, None), **batches(walls, t0)}.items()}
    losses = [_minimise(net, loss_of(_Space(net), fit), options.initial_iterations, options)]
    states, u_prev = [_flat(net)], _frozen(net)
    ghost: State = u_prev
    if order == 2:
        velocity = next(c for c in initial.values() if c.order == 1)

        def ghost(x: torch.Tensor, u0: nn.Module = u_prev) -> torch.Tensor:  # u_{-1} = u_0 - Δt u_t(x, t_0)
            return u0(x) - dt * value_at(velocity.value, torch.cat([x, torch.full_like(x[:, :1], t0)], 1))

    for n in range(options.steps):
        t_n = t0 + n * dt
        t_e, t_next = t_n + scheme.offset(order) * dt, t_n + dt
        local = _Local(net, (u_prev, ghost), t_e=t_e, dt=dt, coefficients=scheme.coefficients(order))
        terms = {k: (others[k], b) for k, b in {**batches(pde, t_e), **batches(walls, t_next)}.items()}
        losses.append(_minimise(net, loss_of(local, terms), options.iterations, options))
        ghost, u_prev = u_prev, _frozen(net)
        states.append(_flat(net))
    times = torch.tensor([t0 + k * dt for k in range(options.steps + 1)], dtype=dtype, device=states[0].device)
    trajectory = InsrTrajectory(net, torch.stack(states), times)
    return InsrResult(trajectory, losses, time.process_time() - start, int(states[0].numel()))
