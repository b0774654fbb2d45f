"""Unknown scalars: transforms, bounds, their own param group, and a time-only (ODE) domain."""

import math

import pytest
import torch

from physopt.problems import TRANSFORMS, Initial, Instant, Problem, Residual, SpaceTime, TimeInterval, Unknown
from physopt.training import Parameters, Phase, Trainer


@pytest.mark.parametrize("u", [Unknown(0.3), Unknown(0.01, transform="log"),
                               Unknown(2.5, transform="softplus", lower=1.0),
                               Unknown(0.7, transform="sigmoid", lower=0.5, upper=2.0), Unknown(1e-3, transform="log")])
def test_transform_inverts_its_raw_value(u):
    raw = torch.tensor(u.raw_initial(), dtype=torch.float64)
    assert float(u.value(raw)) == pytest.approx(u.initial, rel=1e-12)  # float64 round trip


def test_transforms_keep_their_bounds_for_any_raw_value():
    raw = torch.linspace(-40, 40, 81, dtype=torch.float64)
    lo, hi = 0.5, 2.0
    assert (Unknown(1.0, transform="log").value(raw) > 0).all()
    assert (Unknown(1.0, transform="softplus", lower=lo).value(raw) >= lo).all()
    v = Unknown(1.0, transform="sigmoid", lower=lo, upper=hi).value(raw)
    assert ((v >= lo) & (v <= hi)).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"initial": 1.0, "transform": "exp"}, "unknown transform 'exp'"),
    ({"initial": 1.0, "lower": 0.0}, "cannot keep a lower bound"),
    ({"initial": 1.0, "transform": "log", "upper": 3.0}, "cannot keep an upper bound"),
    ({"initial": 1.0, "transform": "sigmoid", "lower": 0.0}, "needs both lower and upper"),
    ({"initial": -1.0, "transform": "log"}, "strictly inside"),
    ({"initial": 1.0, "lr": 0.0}, "lr must be"),
    ({"initial": float("nan")}, "initial must be a finite number"),
])
def test_bad_unknowns_name_what_was_given(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Unknown(**kwargs)


def test_every_registered_transform_declares_a_summary():
    assert set(TRANSFORMS) == {"identity", "log", "softplus", "sigmoid"}
    assert all(t.summary for t in TRANSFORMS.values())


def test_parameters_read_the_transformed_value_with_a_fresh_graph():
    p = Parameters.create(constants={"c": 2.0}, unknowns={"nu": Unknown(0.1, transform="log")},
                          dtype=torch.float64, device=torch.device("cpu"))
    assert set(p) == {"c", "nu"} and float(p["c"]) == 2.0
    (p["nu"] * 3).backward()
    raw = p.raw()["nu"]
    # d(3 exp(ρ))/dρ = 3 θ at θ = 0.1
    assert float(raw.grad) == pytest.approx(0.3, rel=1e-12)
    assert p.snapshot() == pytest.approx({"nu": 0.1})


def _ode_problem(**unknown):
    # u' = -k u, u(0) = 1 on [0, 1]
    def pde(x, u, params):
        du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
        return du + params["k"] * u

    return Problem(name="decay", domain=TimeInterval(0.0, 1.0), input_names=("t",), output_names=("u",),
                   conditions={"ode": Residual(pde), "ic": Initial(1.0)}, trainable={"k": Unknown(**unknown)})


def test_a_time_interval_alone_is_an_ode_domain():
    problem = _ode_problem(initial=1.0)
    assert isinstance(problem.domain, SpaceTime) and isinstance(problem.domain.space, Instant)
    gen = torch.Generator().manual_seed(0)
    t = problem.domain.sample_interior(64, generator=gen)
    assert t.shape == (64, 1) and bool(((t >= 0) & (t <= 1)).all())
    x0 = problem.conditions["ic"].sample(problem.domain, 4, generator=gen, dtype=torch.float64).x
    assert x0.shape == (4, 1) and bool((x0 == 0).all())
    with pytest.raises(ValueError, match="no spatial boundary"):
        problem.domain.sample_boundary(4, generator=gen)


class _Batches:
    def __init__(self, b): self.b, self.drawn_at, self.points = b, 0, b
    def batch(self, step): return self.b
    def adapt(self, step, residual): pass
    def state_dict(self): return {}
    def load_state_dict(self, s): pass


class _Loss:
    """(θ - 3)² with no network: the unknown alone is trained."""

    varies_per_step = has_duals = False

    def terms(self, model, batch, params): return {"fit": (params["theta"] - 3.0) ** 2}, {}
    def loss(self, terms, residuals): return terms["fit"]
    def end_step(self): pass
    def residual(self, *a): raise AssertionError
    def stats(self): return {}
    def state_dict(self): return {}
    def load_state_dict(self, s): pass


def _trainer(unknown, optimizer="adam", lr=1e-9, steps=1):
    params = Parameters.create(constants={}, unknowns={"theta": unknown}, dtype=torch.float64,
                               device=torch.device("cpu"))
    from physopt.config import make_optimizer

    return Trainer(model=torch.nn.Linear(1, 1).double(), objective=_Loss(), sampler=_Batches({}),
                   phases=[Phase(optimizer, None, lr)], make_optimizer=make_optimizer, params=params,
                   steps=steps, log_every=1, eval_every=1)


def test_an_unknown_with_its_own_lr_gets_its_own_param_group_and_converges():
    tr = _trainer(Unknown(1.0, lr=0.05), steps=400)
    groups = tr.optimizer.param_groups
    assert [g["lr"] for g in groups] == [1e-9, 0.05]
    result = tr.run()
    # The phase rate (1e-9) could not move θ; its own rate 0.05 brings Adam to the minimum 3.
    assert result.history[-1]["unknown/theta"] == pytest.approx(3.0, abs=1e-2)
    assert result.history[0]["unknown/theta"] != pytest.approx(3.0, abs=0.5)


def test_closure_optimizers_keep_unknowns_in_their_one_group():
    tr = _trainer(Unknown(1.0, lr=0.05), optimizer="lbfgs", lr=1.0, steps=5)
    assert len(tr.optimizer.param_groups) == 1
    assert tr.run().history[-1]["unknown/theta"] == pytest.approx(3.0, rel=1e-8)  # a quadratic: exact in a few steps


def test_a_resumed_trainer_restores_the_raw_unknowns():
    tr = _trainer(Unknown(1.0, transform="log", lr=0.05), steps=50)
    tr.run()
    state = tr.state_dict()
    fresh = _trainer(Unknown(1.0, transform="log", lr=0.05), steps=50)
    fresh.load_state_dict(state)
    assert fresh.params.snapshot() == pytest.approx(tr.params.snapshot(), rel=1e-15)
    assert not math.isclose(fresh.params.snapshot()["theta"], 1.0)
