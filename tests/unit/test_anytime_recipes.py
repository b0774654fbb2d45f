"""Anytime recipes: under a time budget every multi-phase default switches at a fraction of it.

A zoo default written as ``first+second`` with ``switch_at`` steps would, under a budget shorter
than those steps, never reach its second optimizer (kovasznay at 45 CPU s was still in its 1000
Adam steps). Each such recipe declares ``optim.switch_fraction``; the run records every switch
(:class:`physopt.training.PhaseSwitch`) and the report says when and why it happened.
"""

from __future__ import annotations

import json

import pytest

import physopt
from physopt import optim
from physopt.config import PROBLEM_DEFAULTS, build, make_phases, resolve
from physopt.evaluation import Report
from physopt.training import PhaseSwitch, SwitchReason, Trainer

# burgers' RAD recipe (the flagship, docs/benchmarks.md) switches after 500 Adam steps, about 20 CPU s, so it
# reaches SSBroyden inside a 45 CPU s budget without a fraction; a fraction for it is not measured yet.
NOT_YET = {"burgers"}
TINY = ["model.width=8", "model.depth=2", "sampler.sizes.pde=64", "sampler.sizes.bc=32", "eval_every=1000000"]


def _chained() -> list[str]:
    return [n for n, t in PROBLEM_DEFAULTS.items() if "+" in t.get("optim", {}).get("name", "") and n not in NOT_YET]


def test_every_multi_phase_zoo_default_declares_its_budget_fraction():
    names = _chained()
    assert "kovasznay" in names and len(names) >= 10  # the list is the tuned recipes, not an empty loop
    for name in names:
        fraction = PROBLEM_DEFAULTS[name]["optim"].get("switch_fraction", 0.0)
        assert 0.0 < fraction < 1.0, name
        first = make_phases(resolve(name))[0]
        assert first.budget_fraction == fraction, name
        # Without a budget the recipe is unchanged: the first phase still ends after switch_at steps.
        assert first.steps == PROBLEM_DEFAULTS[name]["optim"]["switch_at"], name


def test_a_budgeted_solve_switches_at_the_stated_fraction_and_the_report_says_so(tmp_path):
    budget, fraction = 2.0, 0.4
    result = physopt.solve("poisson2d", steps=10**6, time_budget=budget, seed=0, out=tmp_path,
                           overrides=[*TINY, "budget_clock=cpu", "threads=1", "log_every=1", "optim.switch_at=1000000",
                                      f"optim.switch_fraction={fraction}"])
    report = result.report
    assert report.status == "time budget"
    [switch] = report.switches
    assert (switch.left, switch.entered, switch.reason) == ("adam", "ssbroyden", SwitchReason.BUDGET_FRACTION)
    # The switch is decided before a step from the CPU time spent so far, so it happens at the first
    # step boundary past fraction·budget; one step of this 8x2 net on 64 points costs well under 0.2 s.
    assert fraction * budget <= switch.cpu_time_s < fraction * budget + 0.2
    adam = [r for r in result.history if r["optimizer"] == "adam"]
    assert max(r["step"] for r in adam) == switch.step  # records are logged after a step: Adam ran steps 1..switch
    assert "adam → ssbroyden at step" in report.to_markdown()
    assert f"{fraction:g} of the {budget:g} CPU s budget" in (tmp_path / "report.md").read_text()
    again = Report.from_dict(json.loads((tmp_path / "report.json").read_text()))
    assert again.switches == report.switches


def test_a_switch_by_steps_is_recorded_and_survives_a_checkpoint():
    cfg = resolve("poisson2d", overrides=[*TINY, "steps=6", "optim.switch_at=3", "log_every=1"])
    b = build(cfg)

    def trainer() -> Trainer:
        return Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                       make_optimizer=lambda ph, ps: optim.build(ph.optimizer, list(ps), lr=ph.lr),
                       params=b.params, steps=cfg.steps, log_every=1, eval_every=1000)

    first = trainer()
    result = first.run()
    [switch] = result.switches
    assert (switch.step, switch.reason) == (3, SwitchReason.STEPS)
    second = trainer()
    second.load_state_dict(first.state_dict())
    assert second.switches == [switch]
    assert isinstance(second.switches[0], PhaseSwitch) and second.switches[0].reason is SwitchReason.STEPS


@pytest.mark.parametrize("reason", list(SwitchReason))
def test_every_switch_reason_has_a_sentence(reason):
    w = PhaseSwitch(step=5, wall_time_s=2.0, cpu_time_s=1.0, left="adam", entered="ssbroyden", reason=reason)
    line = w.describe(45.0, "cpu", 0.25)
    assert line.startswith("adam → ssbroyden at step 5 (1.0 CPU s): ")
