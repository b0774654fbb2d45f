"""Per-condition roles in the config, constraint roles under quasi-Newton phases, their report."""

import json

import pytest
import torch

import physopt
from physopt.config import ConfigError, RunConfig, apply_overrides, build, dumps_toml, from_dict, to_dict
from physopt.training import Trainer

SMALL = ["model.width=10", "model.depth=3", "sampler.sizes.pde=300", "optim.first_sizes.pde=100", "checkpoint_every=25",
         "eval_every=20", "log_every=10", "optim.switch_at=60"]


def _cfg(*overrides: str, **fields) -> RunConfig:
    return from_dict(apply_overrides(to_dict(RunConfig(**fields)), list(overrides)))


def test_roles_per_condition_override_the_global_mode():
    b = build(_cfg("roles.ic=penalty", "duals.penalties.bc=100", "weights.ic=5", constraints="alm"))
    roles = b.objective.roles
    assert {k: r.kind for k, r in roles.items()} == {"pde": "penalty", "bc": "alm", "ic": "penalty"}
    assert roles["bc"].penalty == 100 and roles["ic"].weight == 5
    assert b.objective.duals is not None and b.objective.duals.names == ("bc",)
    # Hard for exactly the conditions the ansatz enforces, on top of a penalty default.
    b = build(_cfg("roles.bc=hard", "roles.ic=hard", constraints="penalty"))
    assert {k: r.kind for k, r in b.objective.roles.items()} == {"pde": "penalty", "bc": "hard", "ic": "hard"}
    # Mixed: hard boundary, ALM normalisation (quantum well: the ansatz enforces bc only).
    b = build(_cfg("roles.norm=alm", problem="quantum-well", constraints="hard"))
    assert {k: r.kind for k, r in b.objective.roles.items()} == {
        "pde": "penalty", "bc": "hard", "norm": "alm", "sign": "penalty"}


@pytest.mark.parametrize(
    ("overrides", "fields", "match"),
    [(["roles.wall=alm"], {}, "unknown conditions \\['wall'\\]"),
     (["roles.bc=exact"], {}, "'bc': 'exact'"),
     (["roles.bc=hard-moe"], {}, "'bc': 'hard-moe'"),  # a model choice, not a per-condition role
     (["roles.pde=alm"], {}, "PDE residual"),
     (["roles.bc=hard"], {}, "enforces \\['bc', 'ic'\\] together"),
     (["roles.norm=hard"], {"problem": "quantum-well"}, "\\['norm'\\] hard"),
     (["duals.penalties.ic=3"], {"constraints": "penalty"}, "duals.penalties names \\['ic'\\]"),
     (["optim.first_sizes.bc=10"], {"constraints": "alm"}, "first_sizes names constrained"),
     (["sampler.resample_every=10"], {"constraints": "lagrangian"}, "fixed point set")],
)
def test_bad_roles_raise_config_errors_naming_them(overrides, fields, match):
    with pytest.raises(ConfigError, match=match):
        build(_cfg(*overrides, **fields))


def test_roles_survive_the_toml_round_trip(tmp_path):
    import tomllib

    cfg = _cfg("roles.ic=hard", "roles.bc=hard", "duals.dual_lrs.x=0.5")
    back = from_dict(tomllib.loads(dumps_toml(to_dict(cfg))))
    assert back == cfg and back.roles == {"ic": "hard", "bc": "hard"} and back.duals.dual_lrs == {"x": 0.5}
    res = physopt.solve("burgers", constraints="alm", optimizer="adam", steps=2, out=tmp_path / "r",
                        overrides=[*SMALL, "roles.ic=penalty"])
    text = (tmp_path / "r" / "config.toml").read_text()
    assert tomllib.loads(text)["roles"] == {"ic": "penalty"}
    assert res.report.roles == {"pde": "penalty", "bc": "alm", "ic": "penalty"}


class _Counting:
    """Wraps Duals.lagrangian/update to record the multipliers every closure evaluation sees."""

    def __init__(self, duals):
        self.duals, self.seen, self.updates = duals, [], 0
        self._lag, self._upd = duals.lagrangian, duals.update
        duals.lagrangian, duals.update = self.lagrangian, self.update

    def lagrangian(self, loss, values):
        self.seen.append(self.duals.multipliers["bc"].clone())
        return self._lag(loss, values)

    def update(self, values):
        self.updates += 1
        self._upd(values)


def test_quasi_newton_phase_holds_multipliers_fixed_within_a_step():
    from physopt.config._build import make_optimizer

    b = build(_cfg(*SMALL, "optim.name=lbfgs", constraints="alm"))
    trainer = Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                      make_optimizer=make_optimizer, params=b.params, steps=6, log_every=1, eval_every=100)
    spy = _Counting(b.objective.duals)
    per_step = []
    for _ in range(6):
        before = len(spy.seen)
        trainer._one_step()
        trainer.step += 1
        per_step.append(spy.seen[before:])
    assert spy.updates == 6  # exactly one dual update per trainer step
    assert b.objective.duals.state_dict()["steps"] == 6
    assert any(len(s) > 1 for s in per_step), "L-BFGS should evaluate more than once in some step"
    for evals in per_step:  # every evaluation of a step saw the same multipliers
        assert all(torch.equal(evals[0], m) for m in evals[1:])
    assert not torch.equal(per_step[1][0], per_step[-1][0])  # ... which did move between steps


@pytest.mark.parametrize(
    ("stop", "optimizer"),
    [(70, "adam+lbfgs"), pytest.param(40, "adam+lbfgs", marks=pytest.mark.slow),
     pytest.param(70, "adam+ssbroyden", marks=pytest.mark.slow)],
)
def test_resume_equals_uninterrupted_with_constraints_and_quasi_newton(tmp_path, stop, optimizer, stop_at):
    common = dict(optimizer=optimizer, constraints="alm", steps=80, seed=3, overrides=[*SMALL, "roles.ic=lagrangian"])
    full = physopt.solve("burgers", out=tmp_path / "full", **common)
    part = tmp_path / "part"
    r = physopt.solve("burgers", out=part, callbacks=[stop_at(stop)], **common)
    assert r.status == "interrupted" and r.report.steps == stop
    resumed = physopt.resume(part)
    assert resumed.status == full.status == "completed"
    # Bit-for-bit: float64 on CPU with the same thread count is deterministic.
    assert resumed.report.final_loss == full.report.final_loss
    assert resumed.report.multipliers == full.report.multipliers
    assert resumed.report.violations == full.report.violations
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    strip = lambda hist: [{k: v for k, v in h.items() if k not in ("wall_time_s", "cpu_time_s")} for h in hist]  # noqa: E731
    lines = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    assert strip(lines) == strip(full.history)
    assert any("violation/bc" in h and "multiplier_max/ic" in h for h in full.history)
