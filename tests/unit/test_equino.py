"""EquiNO and the unit-cell family against their definitions: the reference is divergence-free and satisfies the
discrete law, converges to the laminate's 1-D closed form at first order, and EquiNO's predictions are
divergence-free for any coefficients (through the learn pipeline's normalisation too)."""

import math

import numpy as np
import pytest
import torch

from physopt.config import ConfigError, build_learn, resolve_learn
from physopt.models import OPERATORS, OperatorShape
from physopt.models._equino import constitutive_residual
from physopt.operators import UnitCellOptions, load_family
from physopt.operators._unit_cell import _faces, cell_conductivity, generate_unit_cell, laminate_flux, solve_unit_cell

F64 = torch.float64


def _divergence(q: np.ndarray | torch.Tensor) -> np.ndarray:
    """Cell flux balance ``n (q_x[i] − q_x[i−1] + q_y[j] − q_y[j−1])`` of ``(..., 2+, n, n)`` face fluxes."""
    q = torch.as_tensor(q)
    n = q.shape[-1]
    return ((q[..., 0, :, :] - q[..., 0, :, :].roll(1, -2) + q[..., 1, :, :] - q[..., 1, :, :].roll(1, -1)) * n).numpy()


def test_reference_is_divergence_free_and_satisfies_the_discrete_law():
    opts = UnitCellOptions()
    d = generate_unit_cell(opts, n=4, resolution=16, seed=0)
    scale = np.abs(d.outputs[:, :2]).max()
    assert np.abs(_divergence(d.outputs)).max() < 1e-8 * scale * 16  # Newton's tol (1e-10) times the n of ∂
    res = constitutive_residual(torch.as_tensor(d.inputs), torch.as_tensor(d.outputs), beta=opts.beta)
    assert res.max() < 1e-24  # q is computed from φ by the law: round-off squared
    assert abs(d.outputs[:, 2].mean()) < 1e-12  # the fluctuation has mean zero


def test_laminate_flux_is_the_harmonic_mean_when_linear_and_solves_its_phase_equations():
    lin = UnitCellOptions(shape="laminate", radius=0.25, beta=0.0, high=10.0, low=1.0)
    harmonic = 1.0 / (0.5 / 10.0 + 0.5 / 1.0)
    assert abs(laminate_flux(lin, 0.7) - 0.7 * harmonic) < 1e-13
    non = UnitCellOptions(shape="laminate", radius=0.25, beta=1.0)
    q = laminate_flux(non, 1.0)
    g = [np.roots([non.beta * a, 0, a, -q]) for a in (non.high, non.low)]
    g = [float(r[np.abs(r.imag) < 1e-12].real[0]) for r in g]  # the one real root of a (g + g³) = q
    assert abs(0.5 * g[0] + 0.5 * g[1] - 1.0) < 1e-12  # the phases' gradients average to the load


def test_laminate_mean_flux_converges_at_first_order_to_the_closed_form():
    """The convergence study of the family's own reference (docs/operators.md lists 16..128)."""
    opts = UnitCellOptions(shape="laminate", radius=0.25)
    exact = laminate_flux(opts, 1.0)
    errors = []
    for n in (16, 32, 64):
        e, no = _faces(cell_conductivity(opts, n))
        qx, _, _ = solve_unit_cell(e, no, np.array([1.0, 0.0]), beta=opts.beta, tol=opts.tol)
        errors.append(abs(qx.mean() - exact))
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert 1.8 < coarse / fine < 2.2  # first order: the harmonic face mean at the phase interfaces


def test_equino_is_divergence_free_for_any_coefficients_and_spans_its_snapshots():
    d = load_family("unit-cell", n=12, resolution=16, seed=0)
    spec = OPERATORS["equino"]
    net = spec.factory(spec.config(modes=12, width=8, depth=2), shape=OperatorShape(4, 3, (16, 16), True),
                       generator=torch.Generator().manual_seed(0), dtype=F64)
    y = torch.as_tensor(d.outputs)
    spec.fit(net, torch.as_tensor(d.inputs), y)
    # the basis spans every snapshot: projecting a training output onto it reproduces it
    flat = (y - net.mean).flatten(1)
    coef = flat @ net.basis.flatten(1).T
    torch.testing.assert_close(coef @ net.basis.flatten(1) + net.mean.flatten(), y.flatten(1), rtol=0, atol=1e-10)
    # arbitrary coefficients (random weights, random inputs): still divergence-free to round-off
    with torch.no_grad():
        u = net(torch.randn(5, 4, 16, 16, dtype=F64))
    assert np.abs(_divergence(u)).max() < 1e-8 * float(u[:, :2].abs().max()) * 16  # the snapshots' own level
    with pytest.raises(ValueError, match="training grid"):
        net(torch.randn(1, 4, 8, 8, dtype=F64))


def test_equino_through_learn_is_divergence_free_in_physical_units_and_checks_its_modes():
    sets = ["data.n_train=12", "data.n_val=2", "data.n_test=2", "data.resolution=16", "model.kind=equino",
            "model.modes=6", "model.width=8", "epochs=1", "dtype=float64"]
    b = build_learn(resolve_learn("unit-cell", overrides=sets))
    x = torch.as_tensor(b.splits.train.inputs)
    with torch.no_grad():
        u = b.model(x)  # Normalized(EquiNO): the basis lives in normalised units, the constraint survives
    assert np.abs(_divergence(u)).max() < 1e-7 * float(u[:, :2].abs().max()) * 16
    assert not math.isnan(float(u.sum()))
    with pytest.raises(ConfigError, match="exceeds the training instances"):
        build_learn(resolve_learn("unit-cell", overrides=[*sets, "model.modes=20"]))
