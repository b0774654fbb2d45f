"""The device check on a real accelerator (skipped on machines without one, as here)."""

import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "device_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("device_check", _SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.gpu
def test_short_solve_on_every_accelerator_matches_the_cpu_run():
    mod = _module()
    devices = mod.accelerators()
    if not devices:
        pytest.skip("no CUDA or MPS device on this machine")
    failed = {d: f for d in devices if (f := mod.check(d, problem="burgers", steps=300, ratio=10.0))}
    assert not failed, failed
