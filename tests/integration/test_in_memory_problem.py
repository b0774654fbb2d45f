"""A run started from an in-memory Problem: its directory says so, and load/resume take the problem again."""

import pytest

import physopt
from physopt.config import ConfigError
from physopt.problems import Dirichlet, Interval, Problem, Residual, ops


def _problem(name="line"):
    def pde(x, u, params):
        return ops.laplacian(u, x) + 1.0

    return Problem(name=name, domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                   conditions={"pde": Residual(pde), "bc": Dirichlet(0.0)}, sizes={"pde": 64, "bc": 2})


def test_in_memory_runs_reload_only_with_their_problem(tmp_path, stop_at):
    import io

    out, log = tmp_path / "run", io.StringIO()
    full = physopt.solve(_problem(), steps=8, out=tmp_path / "full", overrides=["log_every=2", "model.depth=2"])
    part = physopt.solve(_problem(), steps=8, out=out, progress=log, callbacks=[stop_at(4)],
                         overrides=["log_every=2", "model.depth=2"])
    assert part.status == "interrupted"
    assert "in-memory Problem" in log.getvalue() and "problem=" in log.getvalue()  # said at solve time
    with pytest.raises(ConfigError, match="in-memory Problem 'line'.*problem=p"):
        physopt.resume(out)
    with pytest.raises(ConfigError, match="in-memory Problem 'line'"):
        physopt.load(out)
    with pytest.raises(ConfigError, match="was run on problem 'line', got problem 'other'"):
        physopt.resume(out, problem=_problem("other"))
    resumed = physopt.resume(out, problem=_problem())
    assert resumed.history[-1]["loss"] == full.history[-1]["loss"]  # bit-exact continuation
    sol = physopt.load(out, problem=_problem())
    assert sol.predict([[0.5]]).shape == (1, 1)
