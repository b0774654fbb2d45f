"""PINNacle's Poisson 2d-C written as a user file (benchmarks/user_panel/poisson_holes.py)."""

import json
import runpy
from pathlib import Path

import pytest
import torch

from physopt.cli import main

FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "user_panel" / "poisson_holes.py"


def test_the_user_file_builds_a_problem_whose_conditions_sample_their_parts():
    problem = runpy.run_path(str(FILE))["make"]()
    gen = torch.Generator().manual_seed(0)
    square = problem.conditions["square"].sample(problem.domain, 200, generator=gen, dtype=torch.float64)["x"]
    circles = problem.conditions["circles"].sample(problem.domain, 200, generator=gen, dtype=torch.float64)["x"]
    assert (square.abs().max(dim=1).values - 0.5).abs().max() < 1e-12
    centres = torch.tensor([(0.3, 0.3), (0.3, -0.3), (-0.3, 0.3), (-0.3, -0.3)], dtype=torch.float64)
    gap = (circles[:, None] - centres[None]).norm(dim=2).min(dim=1).values
    assert (gap - 0.1).abs().max() < 1e-12
    # The hard ansatz puts the data on the boundary exactly: u = 1 on the square, 0 on the holes.
    a = problem.ansatz
    torch.testing.assert_close(a.lift(square), torch.ones(200, 1, dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(a.lift(circles), torch.zeros(200, 1, dtype=torch.float64), rtol=0, atol=1e-12)
    assert a.distance(torch.cat([square, circles])).abs().max() < 1e-12


@pytest.mark.slow  # ~15 CPU s (200 steps of 2,000 points)
def test_physopt_solve_runs_the_user_file(tmp_path):
    out = tmp_path / "run"
    assert main(["solve", f"{FILE}:make", "--steps", "200", "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 200 and rows[-1]["loss"] <= rows[0]["loss"]  # ran to the end, loss going down
