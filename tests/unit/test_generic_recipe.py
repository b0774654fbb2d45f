"""The generic recipe: what a user's own problem file (or an untuned zoo problem) runs by default."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from physopt import optim
from physopt.config import GENERIC_DEFAULTS, PROBLEM_DEFAULTS, ConfigError, make_phases, resolve
from physopt.config import build as build_run
from physopt.models import MLP
from physopt.problems import (
    Data,
    Dirichlet,
    Initial,
    Interval,
    Neumann,
    Polygon,
    Problem,
    Residual,
    TimeInterval,
    available,
    ops,
    output_scales,
)
from physopt.training import Phase, Trainer, on_plateau

ROOT = Path(__file__).resolve().parents[2]
HOLES = f"{ROOT / 'benchmarks' / 'user_panel' / 'poisson_holes.py'}:make"


def _pde(x, u, params):
    return ops.laplacian(u, x) + 1.0


def test_a_problem_file_gets_the_generic_plan_not_the_adam_only_fields():
    cfg = resolve(HOLES)
    g = GENERIC_DEFAULTS
    assert (cfg.constraints, cfg.steps) == (g["constraints"], g["steps"])
    assert cfg.optim.name == "adam+ssbroyden"
    assert (cfg.optim.switch_at, cfg.optim.switch_fraction) == (g["optim"]["switch_at"], g["optim"]["switch_fraction"])
    assert cfg.model.scale_outputs and cfg.sampler.method == "sobol"
    phases = make_phases(cfg)
    assert [p.optimizer for p in phases] == ["adam", "ssbroyden"]
    assert phases[0].budget_fraction == g["optim"]["switch_fraction"]
    # A tuned zoo problem keeps its own entry; an untuned one gets the generic recipe.
    assert resolve("burgers").optim.first_sizes == PROBLEM_DEFAULTS["burgers"]["optim"]["first_sizes"]
    for name in available():
        table = PROBLEM_DEFAULTS.get(name, GENERIC_DEFAULTS)
        cfg = resolve(name)
        assert (cfg.steps, cfg.optim.name) == (table["steps"], table["optim"]["name"]), name
        assert cfg.constraints == table.get("constraints", "penalty"), name


def test_switching_the_generic_plans_optimizer_takes_that_optimizers_settings():
    cfg = resolve(HOLES, flags={"optim.name": "muon"})
    assert cfg.optim.lr == optim.spec("muon").recommended["lr"]
    assert [p.optimizer for p in make_phases(cfg)] == ["muon"]


def test_auto_constraints_are_hard_where_an_ansatz_exists_and_penalties_elsewhere():
    dirichlet = Problem(name="p", domain=Interval(0.0, 100.0), input_names=("x",), output_names=("u",),
                        conditions={"pde": Residual(_pde), "bc": Dirichlet(30.0)})
    b = build_run(resolve("p", overrides=["steps=1"]), dirichlet)
    assert b.objective.roles["bc"].kind == "hard"
    # A polygon has no automatic ansatz: its data stay penalties instead of an error.
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    poly = Problem(name="q", domain=square, input_names=("x", "y"), output_names=("u",),
                   conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0)})
    b = build_run(resolve("q", overrides=["steps=1"]), poly)
    assert b.objective.roles["bc"].kind == "penalty"
    # ``hard`` itself still refuses it, and so does an explicit hard role under ``auto``.
    with pytest.raises(ConfigError, match="hard constraints"):
        build_run(resolve("q", flags={"constraints": "hard"}), poly)
    with pytest.raises(ConfigError, match="hard constraints"):
        build_run(resolve("q", overrides=["roles.bc=hard"]), poly)


def test_output_scales_read_the_prescribed_values_never_zero():
    gen = torch.Generator().manual_seed(0)
    pts = torch.linspace(0.0, 1.0, 5, dtype=torch.float64)[:, None]
    vals = torch.tensor([[3.0, -4.0]] * 5, dtype=torch.float64)
    p = Problem(name="s", domain=Interval(0.0, 1.0) * TimeInterval(0.0, 1.0), input_names=("x", "t"),
                output_names=("u", "v", "w"),
                conditions={"bc": Dirichlet(30.0, components=(0,)), "ic": Initial(0.0),
                            "data": Data(torch.cat([pts, pts], 1), vals, components=(0, 1)),
                            "flux": Neumann(7.0)})
    s = output_scales(p, generator=gen, points=64)
    n_bc = 64  # one Dirichlet sample per point; the Initial's zeros count for every output
    u_rms = ((n_bc * 30.0**2 + 64 * 0.0 + 5 * 9.0) / (n_bc + 64 + 5)) ** 0.5
    assert s[0] == pytest.approx(u_rms, rel=1e-12)  # exact arithmetic of the same sums
    assert s[1] == pytest.approx((5 * 16.0 / (64 + 5)) ** 0.5, rel=1e-12)
    assert s[2] == 1.0  # only a homogeneous initial value: no size information, the neutral 1
    net = MLP(in_dim=1, out_dim=2, width=4, depth=1, out_scale=(30.0, 2.0), generator=gen)
    plain = MLP(in_dim=1, out_dim=2, width=4, depth=1, generator=torch.Generator().manual_seed(0))
    net.load_state_dict({**plain.state_dict(), "out_scale": net.out_scale})
    x = torch.rand(7, 1, dtype=torch.float64, generator=gen)
    assert torch.equal(net(x), plain(x) * torch.tensor([30.0, 2.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="out_scale"):
        MLP(in_dim=1, out_dim=2, out_scale=(1.0, 0.0))


def test_a_budget_fraction_ends_the_first_phase_before_its_steps():
    problem = Problem(name="f", domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                      conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0)})
    cfg = resolve("f", flags={"time_budget": 1.5, "budget_clock": "cpu"},
                  overrides=["optim.switch_at=1000000", "optim.switch_fraction=0.5", "steps=1000000",
                             "model.width=8", "model.depth=2"])
    b = build_run(cfg, problem)
    trainer = Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                      make_optimizer=lambda ph, ps: optim.build(ph.optimizer, list(ps), lr=ph.lr),
                      params=b.params, steps=cfg.steps, time_budget=1.5, budget_clock="cpu", log_every=1)
    result = trainer.run()
    names = [r["optimizer"] for r in result.history]
    assert "adam" in names and "ssbroyden" in names
    adam = [r["cpu_time_s"] for r in result.history if r["optimizer"] == "adam"]
    # Every step is recorded: the step that crossed half of the 1.5 CPU s was Adam's last.
    assert adam[-2] < 0.75 <= adam[-1]
    assert result.history[len(adam)]["optimizer"] == "ssbroyden"
    with pytest.raises(ValueError, match="budget_fraction"):
        Phase("adam", 10, 1e-3, budget_fraction=1.0)


def _records(losses, every=100):
    return [{"step": every * (i + 1), "loss": v} for i, v in enumerate(losses)]


def test_on_plateau_compares_the_best_loss_of_the_last_window_with_the_best_before():
    falling = _records([8.0, 4.0, 2.0, 1.0])  # halves every 100 steps: never a plateau at drop 0.1
    assert not on_plateau(falling, start=0, step=400, window=200, drop=0.1)
    # Last window's best 0.95 against 1.0 before: a 5 % drop, under 10 % -> plateau; over 4 % -> not.
    flat = _records([2.0, 1.0, 1.2, 0.95])
    assert on_plateau(flat, start=0, step=400, window=200, drop=0.1)
    assert not on_plateau(flat, start=0, step=400, window=200, drop=0.04)
    # Less than two windows into the phase: no decision yet; records of an earlier phase are not read.
    assert not on_plateau(flat, start=0, step=300, window=200, drop=0.1)
    earlier = [{"step": 100, "loss": 1e-9}, *_records([2.0, 1.0, 0.5, 0.25, 0.2], every=100)[1:]]
    assert not on_plateau(earlier, start=100, step=500, window=200, drop=0.1)  # 0.2 vs 1.0 in its own phase
    with pytest.raises(ValueError, match="plateau"):
        Phase("adam", 10, 1e-3, plateau=-1)
    with pytest.raises(ValueError, match="plateau_drop"):
        Phase("adam", 10, 1e-3, plateau=10, plateau_drop=1.0)


def test_a_plateau_ends_the_first_phase_before_its_steps():
    # u'' + 1 = 0 with u(0) = u(1) = 0 (hard ansatz): Adam at lr 3e-2 slows to a few % per 50
    # steps by step ~550 (measured: loss 3.4e-6 -> 3.3e-6), far before its 100000 steps.
    problem = Problem(name="f", domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                      conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0)}, sizes={"pde": 64})
    cfg = resolve("f", overrides=["optim.switch_at=100000", "optim.switch_plateau=50", "optim.lr=3e-2",
                                  "steps=1500", "model.width=8", "model.depth=2", "log_every=10", "eval_every=1000"])
    b = build_run(cfg, problem)
    trainer = Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                      make_optimizer=lambda ph, ps: optim.build(ph.optimizer, list(ps), lr=ph.lr),
                      params=b.params, steps=cfg.steps, log_every=10)
    history = trainer.run().history
    adam = [r for r in history if r["optimizer"] == "adam"]
    last = adam[-1]["step"]
    assert history[len(adam)]["optimizer"] == "ssbroyden"
    assert last < 1500
    # The switch came at the first logged step where the test holds, and not before.
    assert on_plateau(adam, start=0, step=last, window=50, drop=0.1)
    assert not any(on_plateau(adam, start=0, step=r["step"], window=50, drop=0.1) for r in adam[:-1])
