"""``time_budget`` on the wall clock or on process CPU time (``budget_clock``)."""

from __future__ import annotations

import time

import pytest

from physopt.config import ConfigError, build, make_optimizer, resolve
from physopt.training import Trainer

TINY = ["model.width=4", "model.depth=1", "sampler.sizes.pde=8", "sampler.sizes.bc=8", "threads=1"]


class _Sleep:
    """Spends wall-clock time without CPU time after every step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_record(self, trainer, record) -> None: ...

    def on_step(self, trainer) -> None:
        time.sleep(self.seconds)

    def on_end(self, trainer, result) -> None: ...


def _trainer(steps: int, budget: float, clock: str, sleep: float) -> Trainer:
    b = build(resolve("poisson2d", flags={"optim.name": "adam", "constraints": "penalty", "steps": steps},
                      overrides=TINY))
    return Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                   make_optimizer=make_optimizer, params=b.params, steps=steps, time_budget=budget,
                   budget_clock=clock, eval_every=10**6, log_every=10**6, callbacks=[_Sleep(sleep)])


def test_wall_budget_counts_sleep_and_cpu_budget_does_not():
    # 8 steps that each sleep 0.1 s: the wall budget of 0.35 s stops the run after 4 steps (the
    # check comes before a step; sleeping happens after it); the CPU budget never sees the
    # sleep — 8 tiny steps cost a few ms of CPU, far below 0.35 s — so the run completes.
    wall = _trainer(8, 0.35, "wall", 0.1).run()
    assert wall.status == "time budget" and 3 <= wall.steps <= 5
    assert "0.35 s reached" in wall.message
    cpu_trainer = _trainer(8, 0.35, "cpu", 0.1)
    cpu = cpu_trainer.run()
    assert cpu.status == "completed" and cpu.steps == 8
    assert cpu.wall_time_s >= 0.7 and cpu.cpu_time_s == cpu_trainer.cpu_elapsed < 0.35  # 7 sleeps are inside the loop


def test_cpu_budget_stops_and_is_checkpointed():
    t = _trainer(10**6, 0.2, "cpu", 0.0)
    res = t.run()
    assert res.status == "time budget" and "0.2 CPU s reached" in res.message
    assert t.cpu_elapsed >= 0.2
    assert t.history[-1]["cpu_time_s"] == pytest.approx(t.cpu_elapsed, abs=1e-3)  # rounded to ms
    state = t.state_dict()
    again = _trainer(10**6, 0.2, "cpu", 0.0)
    again.load_state_dict(state)
    assert again.cpu_elapsed == t.cpu_elapsed
    assert again.run().steps == t.step  # budget already spent: stops before another step


def test_bad_clock_is_refused():
    with pytest.raises(ValueError, match="budget_clock must be one of wall, cpu, got 'gpu'"):
        _trainer(1, 1.0, "gpu", 0.0)
    with pytest.raises(ConfigError, match="budget_clock must be one of wall, cpu, got 'cpus'"):
        build(resolve("poisson2d", overrides=[*TINY, "budget_clock=cpus"]))
