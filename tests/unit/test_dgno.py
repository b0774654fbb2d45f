"""DGNO (issue 16): Wendland test functions, the Darcy weak residual of the family's own solver output,
the network's exact boundary condition, label-free training and the inverse problem's input checks."""

import math

import numpy as np
import pytest
import torch

from physopt.models import DGNO, OPERATORS, OperatorShape
from physopt.operators import family_options, load_family
from physopt.training import DatasetBatches, DGNOLoss, Pairs, WendlandTests, darcy_weak_residual, dgno_invert


def _tests(m, count=300, radius=(0.08, 0.25), seed=0):
    return WendlandTests(resolution=m, count=count, radius=radius).draw(
        generator=torch.Generator().manual_seed(seed), dtype=torch.float64, device="cpu")


def test_wendland_integrals_match_the_closed_form():
    m = 65
    t = WendlandTests(resolution=m, count=50, radius=(0.1, 0.2)).draw(
        generator=torch.Generator().manual_seed(3), dtype=torch.float64, device="cpu")
    # int psi = 2 pi r^2 int_0^1 (1-s)^4 (4s+1) s ds = pi r^2 / 7; radii are not returned: recover them from
    # the gradient integral identity int grad psi = 0 (compact support) and check int psi > 0 and <= pi 0.2^2 / 7
    h2 = 1.0 / (m - 1) ** 2
    total = t.psi.sum(1) * h2
    assert torch.all(total > math.pi * 0.1**2 / 7 * 0.99) and torch.all(total < math.pi * 0.2**2 / 7 * 1.01)
    for g in (t.g1a + t.g1b, t.g2a + t.g2b):  # int d psi / dx = 0: the support lies inside the square
        assert (g.sum(1) * h2 / 2).abs().max() < 1e-4  # midpoint rule on 16 sub-points per cell: ~1e-6 typical


def test_weak_residual_of_the_solver_output_is_near_zero():
    d = load_family("darcy", n=3, resolution=33, seed=0, options=family_options("darcy", {"high": 1.0, "low": 1.0}))
    u, a = torch.from_numpy(d.outputs), torch.from_numpy(d.inputs)
    t = _tests(33)
    exact = darcy_weak_residual(u, a, t).pow(2).mean().sqrt()
    wrong = darcy_weak_residual(1.2 * u, a, t).pow(2).mean().sqrt()
    # the five-point solution is second order (h^2 ~ 1e-3) and the weak form is exact for bilinear u: < 2e-3;
    # scaling u by 1.2 leaves a residual of exactly 0.2 (R is affine in u with R(0) = -1)
    assert exact < 2e-3
    assert abs(wrong - 0.2) < 5e-3


def test_dgno_is_zero_on_the_boundary_and_decodes_at_points():
    model = DGNO(shape=OperatorShape(1, 1, (17, 17), False), latent=8, width=16,
                 generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = torch.rand((2, 1, 17, 17), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    u = model(a)
    assert u.shape == (2, 1, 17, 17)
    for edge in (u[..., 0, :], u[..., -1, :], u[..., :, 0], u[..., :, -1]):
        assert edge.abs().max() == 0
    beta = model.encode(a)[0]
    torch.testing.assert_close(model.decode(beta, model.points), model.decode(beta).flatten(2)[:, 0])
    assert model.decode_field(beta).shape == a.shape
    assert "dgno" in OPERATORS


@pytest.mark.slow
def test_label_free_training_drives_the_error_down():
    d = load_family("darcy", n=24, resolution=17, seed=0, options=family_options("darcy", {"high": 1.0, "low": 1.0}))
    a, u = torch.from_numpy(d.inputs).float(), torch.from_numpy(d.outputs).float()
    model = DGNO(shape=OperatorShape(1, 1, (17, 17), False), latent=8, width=32,
                 generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    model.in_std.fill_(1.0)
    loss = DGNOLoss(tests=WendlandTests(resolution=17, count=100, radius=(0.1, 0.25)), seed=0)
    batches = DatasetBatches(Pairs(a, torch.full_like(u, float("nan"))), batch_size=8, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def error():
        with torch.no_grad():
            return float(((model(a) - u).flatten(1).norm(dim=1) / u.flatten(1).norm(dim=1)).mean())

    before = error()
    for step in range(300):
        terms, _ = loss.terms(model, batches.batch(step), {})
        opt.zero_grad()
        loss.loss(terms, {}).backward()
        opt.step()
    # no labels at all: the weak form alone must bring the relative error from ~1 (random init) below 0.1
    assert before > 0.5 and error() < 0.1


def test_invert_checks_its_inputs():
    model = DGNO(shape=OperatorShape(1, 1, (9, 9), False), latent=4, width=8,
                 generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"points must be \(S, 2\)"):
        dgno_invert(model, points=torch.zeros(5, 3), values=torch.zeros(5), noise=0.1,
                    generator=torch.Generator())
    with pytest.raises(ValueError, match="noise standard deviation must be > 0"):
        dgno_invert(model, points=torch.zeros(5, 2), values=torch.zeros(5), noise=0.0, generator=torch.Generator())


def test_the_benchmarks_q1_galerkin_solves_the_weak_form():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "physics_operators_dgno.py"
    spec = importlib.util.spec_from_file_location("physics_operators_dgno", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # constant coefficient: Q1 elements and the five-point solver are both second order, so they agree to O(h^2)
    gaps = []
    for m in (17, 33):
        d = load_family("darcy", n=2, resolution=m, seed=0, options=family_options("darcy", {"high": 2.0, "low": 2.0}))
        v = torch.from_numpy(np.stack([bench.q1_galerkin(a[0])[None] for a in d.inputs]))
        gaps.append(float((v - torch.from_numpy(d.outputs)).norm() / torch.from_numpy(d.outputs).norm()))
    assert gaps[0] < 0.02 and gaps[1] < 0.35 * gaps[0]  # measured 4.1e-3 and 1.0e-3: a ratio of 0.25
    # the two-phase field: the weak residual of the Q1 solution is far below the solver output's (the weak form
    # of the cell-mean a is the problem Q1 solves; measured 1e-4 against 0.028 at 32x32 over 500 tests)
    d = load_family("darcy", n=3, resolution=33, seed=0)
    a, u = torch.from_numpy(d.inputs), torch.from_numpy(d.outputs)
    v = torch.from_numpy(np.stack([bench.q1_galerkin(x[0])[None] for x in d.inputs]))
    tests = _tests(33)
    assert darcy_weak_residual(v, a, tests).pow(2).mean() < 0.05 * darcy_weak_residual(u, a, tests).pow(2).mean()
