"""A quasi-Newton phase that stops on its gradient tolerance ends the run cleanly.

SSBroyden checks the cached gradient of the previous step against ``tolerance_grad`` before it
evaluates anything, so the step on which it converges never calls the closure; the trainer used to
crash there (KeyError 'loss') instead of reporting ``converged``.
"""

import math

import physopt


def test_gradient_tolerance_stop_reports_converged(tmp_path):
    # A loose tolerance (1e-3 on the largest gradient entry) makes SSBroyden converge within the
    # 300 steps on this tiny quantum-well net (~3 CPU s), so the run must end on that stop.
    res = physopt.solve(
        "quantum-well", steps=300, seed=0, constraints="hard", optimizer="adam+ssbroyden", out=tmp_path / "qw",
        overrides=["threads=1", "model.depth=2", "model.width=10", "optim.switch_at=50",
                   "optim.then_options={tolerance_grad = 1e-3}"],
    )
    assert res.report.status == "converged"
    assert "gradient tolerance" in res.report.message
    last = res.history[-1]
    assert last["step"] < 300
    assert math.isfinite(last["loss"]) and last["loss"] > 0.0
