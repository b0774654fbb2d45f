"""References of the inverse zoo problems: checked against closed forms and invariants."""

import numpy as np
import torch

from physopt import problems
from physopt.problems.zoo import LOTKA_VOLTERRA_RATES, burgers_cole_hopf, kovasznay_exact, lotka_volterra


def test_lotka_volterra_reference_keeps_its_first_integral():
    # V = δx − γ ln x + βy − α ln y is constant along every Lotka–Volterra trajectory.
    r = LOTKA_VOLTERRA_RATES
    t = np.linspace(0.0, 6.0, 601)
    x, y = lotka_volterra(t).T
    v = r["delta"] * x - r["gamma"] * np.log(x) + r["beta"] * y - r["alpha"] * np.log(y)
    assert np.ptp(v) < 1e-10  # DOP853 at rtol = atol = 1e-12 over ~1 period: drift far below 1e-10


def test_lotka_volterra_reference_accepts_unsorted_times():
    t = np.array([3.0, 0.0, 6.0, 1.5])
    assert np.allclose(lotka_volterra(t)[np.argsort(t)], lotka_volterra(np.sort(t)), rtol=0, atol=1e-14)


def test_lotka_volterra_residual_vanishes_on_the_reference_at_the_true_rates():
    p = problems.get("lotka-volterra-inverse")
    # Spectral check: d/dt of the reference by central differences of the dense DOP853 output.
    t = np.linspace(0.5, 5.5, 11)
    h = 1e-4
    u = lotka_volterra(t)
    du = (lotka_volterra(t + h) - lotka_volterra(t - h)) / (2 * h)
    r = LOTKA_VOLTERRA_RATES
    res = np.stack([du[:, 0] - r["alpha"] * u[:, 0] + r["beta"] * u[:, 0] * u[:, 1],
                    du[:, 1] - r["delta"] * u[:, 0] * u[:, 1] + r["gamma"] * u[:, 1]], axis=1)
    assert np.abs(res).max() < 1e-6  # central-difference error h² · u''' / 6 ~ 1e-8 · O(10)
    assert p.conditions["data"].values.shape == (60, 2)


def test_kovasznay_inverse_residual_vanishes_on_the_closed_form_at_the_true_re():
    p = problems.get("kovasznay-inverse")
    x = torch.rand(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x2 = (x * torch.tensor([1.5, 2.0], dtype=torch.float64) - 0.5).requires_grad_(True)  # the domain
    r = p.conditions["pde"].fn(x2, kovasznay_exact(x2), {"re": torch.tensor(20.0, dtype=torch.float64)})
    assert float(r.detach().abs().max()) < 1e-12  # float64 autograd of the closed form: round-off only
    r19 = p.conditions["pde"].fn(x2, kovasznay_exact(x2), {"re": torch.tensor(19.0, dtype=torch.float64)})
    assert float(r19.detach().abs().max()) > 1e-3  # the residual does see Re


def test_burgers_inverse_observations_are_the_cole_hopf_solution():
    p = problems.get("burgers-inverse", sensors=64)
    d = p.conditions["data"]
    x = d.points.numpy()
    # noise 0: the observations are the reference formula itself, bit for bit
    assert np.array_equal(d.values.numpy()[:, 0], burgers_cole_hopf(x[:, 0], x[:, 1]))
