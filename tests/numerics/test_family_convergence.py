"""The PDE families' solvers are right (closed forms) and converged (the same instances solved finer agree
far below the ~1e-2 errors operators reach). Measured values: docs/operators.md, benchmarks/families.py."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from physopt.operators import FAMILIES, family_options
from physopt.operators._burgers import cole_hopf_sine, solve_burgers
from physopt.operators._darcy import node_faces, solve_darcy
from physopt.operators._grf import GaussianField
from physopt.operators._navier_stokes import fno_forcing, solve_vorticity
from physopt.operators._poisson import PoissonOptions, solve_poisson_2d


def relative(a, b):
    return np.linalg.norm((a - b).reshape(len(a), -1), axis=1) / np.linalg.norm(b.reshape(len(b), -1), axis=1)


def draw(name, n, resolution, **values):
    return FAMILIES[name].generate(family_options(name, values), n=n, resolution=resolution, seed=0)


def nodes(m):
    x = np.linspace(0.0, 1.0, m)
    return np.meshgrid(x, x, indexing="ij")


# ---------------------------------------------------------------- darcy

def test_darcy_finite_differences_are_second_order_on_a_manufactured_solution():
    """u = sin(pi x) sin(pi y), a = 2 + x^2 y: f = 2 pi^2 a u - grad a . grad u."""
    errors = []
    for m in (17, 33, 65):
        x, y = nodes(m)
        u = np.sin(math.pi * x) * np.sin(math.pi * y)
        a = 2 + x**2 * y
        f = 2 * math.pi**2 * a * u - math.pi * (2 * x * y * np.cos(math.pi * x) * np.sin(math.pi * y)
                                               + x**2 * np.sin(math.pi * x) * np.cos(math.pi * y))
        errors.append(np.abs(solve_darcy(*node_faces(a), f) - u).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-3 and np.all(rates > 1.9), (errors, rates)  # second order: rate 2 up to O(h) terms


def test_darcy_two_resolutions_of_the_same_instances_agree():
    """Nested grids 33 and 65 (every other node shared), default options: measured 2.0e-3 worst."""
    coarse, fine = draw("darcy", 6, 33), draw("darcy", 6, 65)
    np.testing.assert_array_equal(coarse.inputs, fine.inputs[..., ::2, ::2])
    assert relative(coarse.outputs, fine.outputs[..., ::2, ::2]).max() < 5e-3  # 2x the measured worst


@pytest.mark.slow
def test_darcy_converges_to_a_fine_reference():
    """Against res 129 (257-node solver grid): measured worst 2.4e-3 (res 33) and 1.0e-3 (res 65)."""
    ref = draw("darcy", 4, 129)
    e33 = relative(draw("darcy", 4, 33).outputs, ref.outputs[..., ::4, ::4])
    e65 = relative(draw("darcy", 4, 65).outputs, ref.outputs[..., ::2, ::2])
    assert e33.max() < 5e-3 and e65.max() < 2.5e-3  # 2x the measured worst
    assert e65.mean() < 0.7 * e33.mean()  # converging (measured ratio 0.34), not a plateau


# ---------------------------------------------------------------- burgers

@pytest.mark.parametrize("t", [0.1, 0.3, 1.0])
def test_burgers_matches_cole_hopf(t):
    """u0 = sin(2 pi x), nu = 1e-2: a shock forms at t = 1/(2 pi) and decays. Measured <= 1e-9."""
    x = np.arange(512) / 512
    u = solve_burgers(np.sin(2 * math.pi * x)[None], nu=1e-2, times=np.array([t]), dt=5e-4)[0, 0]
    exact = cole_hopf_sine(512, nu=1e-2, t=t)
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 1e-8


def test_burgers_converges_in_grid_and_time_step():
    """Default (512 points, dt 5e-4) against 1024 points, dt 2.5e-4 on the same instances: measured 1e-9."""
    coarse = draw("burgers-1d", 3, 256)
    fine = draw("burgers-1d", 3, 256, solver_points=1024, dt=2.5e-4)
    assert relative(coarse.outputs, fine.outputs).max() < 1e-7


def test_burgers_outputs_on_two_grids_are_samples_of_one_solution():
    a, b = draw("burgers-1d", 3, 128), draw("burgers-1d", 3, 256)
    np.testing.assert_allclose(a.outputs, b.outputs[..., ::2], rtol=0, atol=1e-12)


def test_burgers_trajectory_ends_at_the_final_state():
    end = draw("burgers-1d", 2, 64)
    path = draw("burgers-1d", 2, 64, trajectory=True, snapshots=4)
    assert path.outputs.shape == (2, 4, 64)
    np.testing.assert_allclose(path.outputs[:, -1:], end.outputs, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- poisson / antiderivative

def _quadrature_truth(name):
    field = PoissonOptions().field()
    x = np.linspace(0, 1, 9)
    for i in range(3):
        c = field.sample(np.random.default_rng([0, i]))[None]

        def f(t, c=c):
            return float(field.evaluate_at(c, np.array([t]))[0, 0])

        if name == "antiderivative":
            yield i, np.array([quad(f, 0, t, epsabs=1e-14, limit=200)[0] for t in x])
        else:  # the Green's function of -u'' = f with u(0) = u(1) = 0
            yield i, np.array([quad(lambda s, t=t: f(s) * (s * (1 - t) if s < t else t * (1 - s)), 0, 1,
                                    points=[t], epsabs=1e-14, limit=200)[0] for t in x])


@pytest.mark.parametrize("name", ["antiderivative", "poisson-1d"])
def test_exact_one_dimensional_solutions_match_quadrature(name):
    """Term-by-term closed forms against adaptive quadrature of the source: measured ~1e-15."""
    data = draw(name, 3, 9)
    for i, truth in _quadrature_truth(name):
        assert np.linalg.norm(data.outputs[i, 0] - truth) / np.linalg.norm(truth) < 1e-11  # quad's accuracy


def test_poisson_2d_is_second_order_on_a_manufactured_solution():
    errors = []
    for m in (17, 33, 65):
        x, y = nodes(m)
        u = np.sin(math.pi * x) * np.sin(2 * math.pi * y)
        errors.append(np.abs(solve_poisson_2d(5 * math.pi**2 * u) - u).max())
    assert np.allclose(np.log2(np.array(errors[:-1]) / np.array(errors[1:])), 2.0, atol=0.05)


def test_poisson_2d_converges_in_the_solver_grid():
    """Default (refine 4) against refine 32 at res 33: measured worst 2.2e-4 (mean 1.2e-4) over 6 instances."""
    assert relative(draw("poisson-2d", 6, 33).outputs, draw("poisson-2d", 6, 33, refine=32).outputs).max() < 5e-4


# ---------------------------------------------------------------- navier-stokes

def test_vortex_of_one_wavenumber_decays_exactly():
    """Taylor–Green-type: a sum of modes with the same |k| is a steady Euler flow (u . grad w = 0), so
    without forcing w(t) = w0 exp(-nu |k|^2 t), |k| = 2 pi 5."""
    x = np.arange(32) / 32
    x, y = np.meshgrid(x, x, indexing="ij")
    w0 = np.sin(2 * math.pi * (3 * x + 4 * y)) + np.cos(2 * math.pi * 5 * x) + np.sin(2 * math.pi * (4 * x - 3 * y))
    w = solve_vorticity(w0[None], nu=1e-2, times=np.array([0.5, 1.0]), dt=1e-2, forcing=None)
    for j, t in enumerate((0.5, 1.0)):
        np.testing.assert_allclose(w[j, 0], w0 * math.exp(-1e-2 * (2 * math.pi * 5) ** 2 * t), atol=1e-12)


def test_forcing_from_rest_saturates_exactly():
    """w0 = 0: the FNO forcing is a single |k|^2 = 8 pi^2 shell, so w = f (1 - exp(-nu |k|^2 t)) / (nu |k|^2)."""
    w = solve_vorticity(np.zeros((1, 32, 32)), nu=1e-3, times=np.array([5.0]), dt=5e-2, forcing=fno_forcing(32))
    rate = 1e-3 * 8 * math.pi**2
    np.testing.assert_allclose(w[0, 0], fno_forcing(32) * (1 - math.exp(-rate * 5.0)) / rate, atol=1e-12)


def test_advection_has_the_right_sign_and_velocity():
    """w0 = sin 2 pi x + sin 4 pi y: psi = sin(2 pi x)/(4 pi^2) + sin(4 pi y)/(16 pi^2), u = psi_y, v = -psi_x,
    so dw/dt = -(u w_x + v w_y) = 1.5 cos(2 pi x) cos(4 pi y) at t = 0."""
    x = np.arange(32) / 32
    x, y = np.meshgrid(x, x, indexing="ij")
    w0 = np.sin(2 * math.pi * x) + np.sin(4 * math.pi * y)
    t = 1e-4
    w = solve_vorticity(w0[None], nu=1e-12, times=np.array([t]), dt=t, forcing=None)[0, 0]
    rate = (w - w0) / t
    np.testing.assert_allclose(rate, 1.5 * np.cos(2 * math.pi * x) * np.cos(4 * math.pi * y), atol=1e-3)  # O(t)


def test_inviscid_dealiased_flow_conserves_energy_and_enstrophy():
    """The 2/3-rule Galerkin truncation conserves both exactly in space; RK4 leaves O(dt^4) drift."""
    field = GaussianField(dim=2, alpha=2.5, tau=7.0, sigma=math.sqrt(2.0) * 7**1.5, modes=6, periodic=True,
                          mean_zero=True)
    w0 = field.evaluate(field.sample(np.random.default_rng(0)), 64)[None]  # short enough to stay resolved
    w = solve_vorticity(w0, nu=1e-14, times=np.array([2.0]), dt=2e-2, forcing=None)[0]
    k = 2 * math.pi * np.fft.fftfreq(64, 1 / 64)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    k2[0, 0] = 1.0

    def invariants(v):
        modes = np.abs(np.fft.fft2(v)) ** 2
        return np.sum(modes / k2), np.sum(modes)

    (e0, z0), (e1, z1) = invariants(w0[0]), invariants(w[0])
    assert abs(e1 / e0 - 1) < 1e-8 and abs(z1 / z0 - 1) < 1e-8
    assert np.abs(w - w0).max() > 0.1 * np.abs(w0).max()  # the flow did evolve


def test_navier_stokes_converges_in_grid_and_time_step():
    """Four snapshots (t = 1..4): default (64 points, dt 5e-2) against 128 points, dt 1.25e-2, measured 2.7e-9;
    outputs at 32 and 64 points are samples of one solution (measured 9e-15 apart)."""
    short = {"t_in": 2, "t_out": 2}
    coarse = draw("navier-stokes-2d", 2, 32, **short)
    fine = draw("navier-stokes-2d", 2, 32, solver_points=128, dt=1.25e-2, **short)
    assert relative(coarse.outputs, fine.outputs).max() < 1e-7
    np.testing.assert_allclose(draw("navier-stokes-2d", 2, 64, **short).outputs[..., ::2, ::2], coarse.outputs,
                               rtol=0, atol=1e-12)


@pytest.mark.slow
def test_navier_stokes_default_horizon_converges():
    """The 10 output snapshots of the default (t = 11..20): measured 2.8e-9 worst against 128 points, dt 1.25e-2."""
    coarse = draw("navier-stokes-2d", 2, 64)
    fine = draw("navier-stokes-2d", 2, 64, solver_points=128, dt=1.25e-2)
    assert relative(coarse.outputs, fine.outputs).max() < 1e-7
