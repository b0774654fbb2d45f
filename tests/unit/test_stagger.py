"""NeuralStagger (issue 16): the staggered split and reassembly, the registry entry, and the physics losses of
the benchmarks (the discretised residual of the family's own solver output is zero)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from physopt.models import OPERATORS, NeuralStagger, OperatorShape, StaggerConfig
from physopt.models._fno import FNOConfig
from physopt.operators import family_options, load_family
from physopt.operators._annulus import annulus_instances

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(factor=2, grid=(8, 8)):
    return NeuralStagger(shape=OperatorShape(2, 1, grid, False), factor=factor,
                         solver=FNOConfig(modes=2, width=4, layers=1, projection=4),
                         generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_sub_grids_are_stacked_and_reassembled_in_place():
    model = _model()
    a = torch.randn((3, 2, 8, 8), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    coarse = model.split(a)
    assert coarse.shape == (3, 8, 4, 4)
    torch.testing.assert_close(coarse[:, 2:4], a[..., 0::2, 1::2])  # offset (0, 1) is the second pair of channels
    u = model(a)
    for k, (p, q) in enumerate(model.offsets):
        torch.testing.assert_close(u[..., p::2, q::2], model.solve(k, coarse))  # solver k owns sub-grid k alone
    assert len(model.solvers) == 4 and "stagger" in OPERATORS
    assert OPERATORS["stagger"].config is StaggerConfig


def test_factor_must_divide_the_grid():
    with pytest.raises(ValueError, match=r"factor 3 must divide every grid axis, got grid \(8, 8\)"):
        _model(factor=3)
    with pytest.raises(ValueError, match="factor must be a positive int, got 0"):
        _model(factor=0)
    with pytest.raises(ValueError, match=r"built for grid \(8, 8\), got \(16, 16\)"):
        _model()(torch.zeros((1, 2, 16, 16), dtype=torch.float64))


def test_five_point_residual_of_the_solver_output_is_zero():
    bench = _bench("physics_operators_stagger")
    data = load_family("poisson-2d", n=3, resolution=17, seed=0,
                       options=family_options("poisson-2d", {"refine": 1}))
    f, u = torch.from_numpy(data.inputs), torch.from_numpy(data.outputs)
    # refine = 1: the solver inverts exactly this five-point system (DST-I, round-off ~1e-13)
    assert bench.five_point_residual(u, f).max() < 1e-10
    assert bench.five_point_residual(1.1 * u, f).min() > 0.09  # affine in u: exactly 0.1 when scaled by 1.1
    # the benchmark's loss, the Dirichlet energy, is stationary there (its gradient is h^2 times the residual)
    # and larger at any other field
    v = u.clone().requires_grad_(True)
    bench.dirichlet_energy(v, f).sum().backward()
    assert v.grad[..., 1:-1, 1:-1].abs().max() < 1e-12
    for other in (1.1 * u, 0.9 * u, u + 1e-3 * torch.randn(u.shape, generator=torch.Generator().manual_seed(0),
                                                         dtype=u.dtype) * bench.boundary_mask(17, u)):
        assert torch.all(bench.dirichlet_energy(other, f) > bench.dirichlet_energy(u, f))


def test_shortley_weller_residual_of_the_closed_form_converges():
    bench = _bench("physics_operators_wos")
    values = []
    for r in (32, 64):
        data = load_family("poisson-annulus", n=3, resolution=r, seed=0)
        arms = np.stack([bench.crossings(inst, r) for inst in annulus_instances(
            family_options("poisson-annulus"), seed=0, indices=range(3))])
        pairs = bench.Pairs(torch.from_numpy(data.inputs), torch.from_numpy(arms))
        values.append(float(bench.ShortleyWellerLoss(r).terms(lambda a, y=data.outputs: torch.from_numpy(y),
                                                              {"data": pairs}, {})[0]["data"]))
    # the exact solution's residual is truncation error only: well below 1 and shrinking with h
    # (measured 0.22 at 32, 0.14 at 64: first-order local error at the Shortley-Weller rows)
    assert values[0] < 0.3 and values[1] < 0.75 * values[0]
