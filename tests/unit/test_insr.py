"""INSR time stepping against the recurrences its schemes define.

A spatially constant field (a one-parameter "network") under ``u_t = -a u`` or ``u_tt = -ω² u``
turns each step's minimisation into a scalar least-squares problem whose minimiser is the scheme's
recurrence, so the stored states must follow it to solver precision."""

import pytest
import torch
from torch import nn

from physopt.problems import Initial, Interval, Problem, Residual, TimeInterval
from physopt.problems.ops import dt as d_dt
from physopt.problems.ops import partial
from physopt.training import InsrOptions, Parameters, insr_solve

A, OMEGA, STEPS = 2.0, 3.0, 8


class _Constant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c.expand(x.shape[0], 1) + 0 * x[:, :1]  # 0·x: the output depends on x for autograd


def _problem(order: int) -> Problem:
    if order == 1:
        conditions = {"pde": Residual(lambda x, u, p: d_dt(u, x) + A * u), "ic": Initial(1.0)}
    else:
        conditions = {"pde": Residual(lambda x, u, p: partial(u, x, -1, -1) + OMEGA**2 * u),
                      "ic": Initial(1.0), "ic_t": Initial(0.0, order=1)}
    return Problem(name=f"decay{order}", domain=Interval(0.0, 1.0) * TimeInterval(0.0, 1.0), input_names=("x", "t"),
                   output_names=("u",), conditions=conditions)


def _run(order: int, scheme: str) -> list[float]:
    opts = InsrOptions(steps=STEPS, scheme=scheme, iterations=30, initial_iterations=30, optimizer="lbfgs", lr=1.0,
                       points=16)
    params = Parameters.create(constants={}, unknowns={}, dtype=torch.float64, device=torch.device("cpu"))
    result = insr_solve(_problem(order), _Constant(), options=opts, generator=torch.Generator().manual_seed(0),
                        params=params)
    return result.trajectory.states[:, 0].tolist()


@pytest.mark.parametrize(("scheme", "factor"), [("euler", 1 / (1 + A / STEPS)),
                                                ("midpoint", (1 - A / STEPS / 2) / (1 + A / STEPS / 2))])
def test_first_order_schemes_follow_their_recurrence(scheme, factor):
    states = _run(1, scheme)
    for n, u in enumerate(states):
        assert u == pytest.approx(factor**n, abs=1e-10)  # quasi-Newton on a 1-D quadratic: round-off level


def test_second_order_schemes_follow_their_recurrence():
    h2 = (OMEGA / STEPS) ** 2
    for scheme, step in (("euler", lambda u, v: (2 * u - v) / (1 + h2)),
                         ("midpoint", lambda u, v: ((2 - h2 / 2) * u - (1 + h2 / 4) * v) / (1 + h2 / 4))):
        expected = [1.0]
        previous = 1.0  # the ghost u_{-1} = u_0 - Δt u_t(0) = u_0
        for _ in range(STEPS):
            expected, previous = [*expected, step(expected[-1], previous)], expected[-1]
        assert _run(2, scheme) == pytest.approx(expected, abs=1e-10)  # as above
    # Newmark's average acceleration conserves ((u_{n+1} - u_n)/Δt)² + ω² ((u_{n+1} + u_n)/2)² (= ω² here).
    u, h = _run(2, "midpoint"), 1 / STEPS
    energy = [((b - a) / h) ** 2 + OMEGA**2 * ((a + b) / 2) ** 2 for a, b in zip(u[:-1], u[1:], strict=True)]
    assert energy == pytest.approx([OMEGA**2] * STEPS, rel=1e-8)  # states to 1e-10, divided by Δt = 1/8


def test_trajectory_interpolates_linearly_between_steps():
    result_states = _run(1, "euler")
    opts = InsrOptions(steps=STEPS, scheme="euler", iterations=30, initial_iterations=30, optimizer="lbfgs", lr=1.0,
                       points=16)
    params = Parameters.create(constants={}, unknowns={}, dtype=torch.float64, device=torch.device("cpu"))
    traj = insr_solve(_problem(1), _Constant(), options=opts, generator=torch.Generator().manual_seed(0),
                      params=params).trajectory
    z = torch.tensor([[0.3, 0.0], [0.7, 1.5 / STEPS], [0.1, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        u = traj(z)[:, 0].tolist()
    mid = 0.5 * (result_states[1] + result_states[2])
    assert u == pytest.approx([result_states[0], mid, result_states[-1]], abs=1e-12)  # float64 round-off


def test_bad_input_is_refused():
    params = Parameters.create(constants={}, unknowns={}, dtype=torch.float64, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="scheme must be one of euler, midpoint"):
        insr_solve(_problem(1), _Constant(), options=InsrOptions(scheme="rk4"), generator=gen, params=params)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        insr_solve(_problem(1), _Constant(), options=InsrOptions(steps=0), generator=gen, params=params)
    steady = Problem(name="steady", domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                     conditions={"pde": Residual(lambda x, u, p: u)})
    with pytest.raises(ValueError, match="no time axis"):
        insr_solve(steady, _Constant(), options=InsrOptions(), generator=gen, params=params)
