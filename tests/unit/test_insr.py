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


def test_method_insr_is_registered_and_runs_through_solve():
    import physopt
    from physopt.config import METHODS, ConfigError

    assert METHODS["insr"].solver is not None
    sets = ["insr.steps=4", "insr.scheme=euler", "insr.iterations=30", "insr.initial_iterations=60",
            "insr.points=16", "model.width=4", "model.depth=1", "threads=1", "constraints=penalty"]
    result = physopt.solve(_problem(1), method="insr", optimizer="lbfgs", overrides=sets)
    assert result.report.message == "completed 4 INSR time steps (euler)"
    z = torch.tensor([[0.5, k / 4] for k in range(5)], dtype=torch.float64)
    with torch.no_grad():
        u = result.model(z)[:, 0].tolist()
    # An MLP fitted by L-BFGS in 30-60 iterations reaches ~1e-5; midpoint would differ by 0.07 at step 1.
    assert u == pytest.approx([(1 / (1 + A / 4)) ** k for k in range(5)], abs=1e-4)
    with pytest.raises(ConfigError, match="one optimizer per time step"):
        physopt.solve(_problem(1), method="insr", optimizer="adam+lbfgs", overrides=sets)
    with pytest.raises(ConfigError, match="insr.scheme must be one of"):
        physopt.solve(_problem(1), method="insr", optimizer="adam", overrides=[*sets, "insr.scheme=rk4"])


def test_elastic_waves_closed_form_meets_every_condition_componentwise():
    from physopt.problems.zoo import ZOO, elastic_waves_exact

    problem = ZOO["elastic-waves"]()
    params = Parameters.create(constants=problem.params, unknowns={}, dtype=torch.float64, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    widths = {"pde": 2, "bc_x": 4, "bc_y": 4, "ic": 2, "ic_t": 2}  # periodic: value and ∂/∂x_axis of (u, v)
    for name, condition in problem.conditions.items():
        r = condition.residual(elastic_waves_exact, condition.sample(problem.domain, 64, generator=gen,
                                                                    dtype=torch.float64), params)
        assert r.shape == (64, widths[name])
        # second derivatives of O(1) waves with |k| ≈ 9: float64 round-off times |k|² ω² ≲ 1e-12
        assert float(r.abs().max()) < 1e-10, name
    # A field whose second component breaks u_t(x, 0) is caught even when the first compensates
    # (the derivative of a sum of outputs would miss it).
    wrong = lambda z: elastic_waves_exact(z) + torch.stack([z[:, 2], -z[:, 2]], 1)  # noqa: E731
    r = problem.conditions["ic_t"].residual(wrong, problem.conditions["ic_t"].sample(
        problem.domain, 8, generator=gen, dtype=torch.float64), params)
    assert torch.allclose(r, torch.tensor([1.0, -1.0], dtype=torch.float64).expand(8, 2), atol=1e-12)


def test_an_insr_run_is_not_resumed(tmp_path):
    import physopt
    from physopt.config import ConfigError

    sets = ["insr.steps=1", "insr.iterations=1", "insr.initial_iterations=1", "insr.points=4", "model.width=2",
            "model.depth=1", "threads=1", "constraints=penalty"]
    physopt.solve(_problem(1), method="insr", optimizer="adam", overrides=sets, out=tmp_path / "run")
    with pytest.raises(ConfigError, match="cannot be resumed"):
        physopt.resume(tmp_path / "run", problem=_problem(1))


def test_taylor_green_closed_form_meets_every_condition_and_a_wrong_viscosity_does_not():
    from physopt.problems.zoo import ZOO, taylor_green_exact

    problem = ZOO["taylor-green"]()
    params = Parameters.create(constants=problem.params, unknowns={}, dtype=torch.float64, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    widths = {"pde": 3, "bc_x": 6, "bc_y": 6, "ic": 3}  # momentum x, y and continuity; periodic value + ∂ of 3
    for name, condition in problem.conditions.items():
        r = condition.residual(taylor_green_exact, condition.sample(problem.domain, 64, generator=gen,
                                                                   dtype=torch.float64), params)
        assert r.shape == (64, widths[name])
        # O(1) products of unit-frequency sines and their second derivatives: float64 round-off
        assert float(r.abs().max()) < 1e-12, name
    # The decay rate is 2ν: the same field with ν = 0.2 leaves the momentum residual 2(0.2 - 0.1) u.
    pde = problem.conditions["pde"]
    batch = pde.sample(problem.domain, 32, generator=gen, dtype=torch.float64)
    r = pde.residual(lambda z: taylor_green_exact(z, nu=0.2), batch, params)
    u = taylor_green_exact(batch["x"], nu=0.2)
    # u_t = -0.4u and -νΔu = +0.2u: the momentum residual is exactly -0.2u (the advection and the
    # pressure both scale with F² and still cancel), the divergence stays zero.
    torch.testing.assert_close(r[:, :2], -0.2 * u[:, :2], rtol=0, atol=1e-12)
    assert float(r[:, 2].abs().max()) < 1e-12 and float(u[:, :2].abs().max()) > 0.1
    with pytest.raises(ValueError, match="viscosity"):
        ZOO["taylor-green"](nu=0.0)
