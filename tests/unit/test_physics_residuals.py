"""Each family's discretised residual: zero (to rounding) on its own solver's output at the same grid,
second order against exact or finer solutions, and the preconditioner an exact inverse where it should be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physopt.operators import FAMILIES, family_options
from physopt.operators._darcy import node_faces, solve_darcy


def _draw(name, resolution, n=3, **options):
    spec, opts = FAMILIES[name], family_options(name, options)
    d = spec.generate(opts, n=n, resolution=resolution, seed=0)
    return spec, opts, torch.from_numpy(d.inputs), torch.from_numpy(d.outputs)


def test_darcy_solver_output_has_zero_residual_at_its_own_discretisation():
    spec, opts, a, _ = _draw("darcy", 24)
    u = torch.from_numpy(np.stack([solve_darcy(*node_faces(x[0].numpy()))[None] for x in a]))
    r = spec.residual(opts, a, u)
    assert r.relative().max() < 1e-11  # the same sparse system solved by LU: rounding of ~500 unknowns only
    assert r.preconditioned().max() < 1e-11
    assert torch.allclose(spec.residual(opts, a, torch.zeros_like(u)).relative(), torch.ones(3, dtype=u.dtype))


def test_poisson_2d_solver_output_at_refine_1_has_zero_residual_and_the_preconditioner_is_exact():
    spec, opts, f, u = _draw("poisson-2d", 20, refine=1)
    assert spec.residual(opts, f, u).relative().max() < 1e-12  # the sine-transform solve of the same rows
    g = torch.Generator().manual_seed(1)
    v = torch.zeros_like(u)
    v[..., 1:-1, 1:-1] = torch.randn(v[..., 1:-1, 1:-1].shape, generator=g, dtype=u.dtype)
    r = spec.residual(opts, f, v)
    # P inverts the interior block of the rows exactly: for v = 0 on the boundary, P r(v) = v - u at every node
    error = r.precondition(r.rows)
    interior = (v - u)[:, 0, 1:-1, 1:-1].flatten(1)
    assert torch.allclose(error[:, :interior.shape[1]], interior, atol=1e-12)  # two sine transforms: rounding
    assert error[:, interior.shape[1]:].abs().max() == 0  # boundary rows / their diagonal: v = u = 0 there


@pytest.mark.parametrize("name", ["poisson-1d", "antiderivative"])
def test_one_d_residual_of_the_exact_solution_is_second_order(name):
    rel = []
    for n in (65, 129):
        spec, opts, f, u = _draw(name, n)
        rel.append(float(spec.residual(opts, f, u).relative().mean()))
    assert rel[1] < 3e-3  # the series solution is exact: what is left is the h^2 truncation error
    assert 3.5 < rel[0] / rel[1] < 4.5  # halving h divides it by 4 (second order)


def test_antiderivative_preconditioner_inverts_the_trapezoid_rows_exactly():
    spec, opts, f, u = _draw("antiderivative", 33)
    v = torch.randn(u.shape, generator=torch.Generator().manual_seed(2), dtype=u.dtype)
    trapezoid = torch.cat([torch.zeros_like(u[:, 0, :1]),
                           torch.cumsum((f[:, 0, 1:] + f[:, 0, :-1]) / 2 / 32, dim=1)], dim=1)
    r = spec.residual(opts, f, v)
    assert torch.allclose(r.precondition(r.rows), v[:, 0] - trapezoid, atol=1e-12)  # exact cumulative sum


def test_burgers_residual_is_second_order_in_the_snapshot_spacing_and_needs_a_trajectory():
    rel = []
    for snapshots in (40, 80):
        spec, opts, u0, u = _draw("burgers-1d", 128, n=2, trajectory=True, snapshots=snapshots)
        rel.append(float(spec.residual(opts, u0, u).relative().mean()))
    assert rel[1] < 2e-3  # the solver's IF-RK4 at dt = 5e-4 is far more accurate than the trapezoid rule at 1/80
    assert rel[0] / rel[1] > 3.5  # second order (or better) in the spacing
    spec, opts, u0, u = _draw("burgers-1d", 64, n=1)
    with pytest.raises(ValueError, match="trajectory = true"):
        spec.residual(opts, u0, u)
