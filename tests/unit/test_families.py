"""PDE families: registry, determinism (instance i depends on (seed, i) only), grid independence of the
random fields, the cache, and option errors. Solver accuracy is in tests/numerics/test_family_convergence.py."""

import math

import numpy as np
import pytest

from physopt.operators import FAMILIES, FamilySpec, family_options, load_family, load_npz
from physopt.operators._grf import GaussianField
from physopt.operators._spectral import evaluate_periodic

# Options small enough for a fast suite; the defaults are exercised by the convergence tests.
CHEAP = {
    "darcy": ({}, 9),
    "burgers-1d": ({"solver_points": 384, "dt": 1e-3, "time": 0.2}, 32),
    "antiderivative": ({}, 17),
    "poisson-1d": ({}, 17),
    "poisson-2d": ({}, 9),
    "navier-stokes-2d": ({"t_in": 1, "t_out": 1}, 16),
    "unit-cell": ({"subsamples": 2}, 8),
    "poisson-annulus": ({}, 17),
}


def _draw(name, *, n, seed, resolution=None, **extra):
    values, default = CHEAP[name]
    options = family_options(name, {**values, **extra})
    return FAMILIES[name].generate(options, n=n, resolution=resolution or default, seed=seed)


def test_every_family_is_registered_with_cheap_options():
    assert set(FAMILIES) == set(CHEAP)
    for spec in FAMILIES.values():
        assert isinstance(spec, FamilySpec) and spec.summary and spec.dim in (1, 2)


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_shapes_convention_and_solve_time(name):
    spec = FAMILIES[name]
    data = _draw(name, n=3, seed=0)
    assert data.n == 3 and data.dim == spec.dim and data.periodic == spec.periodic and data.name == name
    assert data.solve_time_s is not None and data.solve_time_s >= 0
    assert np.isfinite(data.inputs).all() and np.isfinite(data.outputs).all()
    assert data.outputs.std() > 0  # not a vacuous all-zero solution


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_instances_depend_on_seed_and_index_only(name):
    few, more = _draw(name, n=2, seed=5), _draw(name, n=4, seed=5)
    again = _draw(name, n=2, seed=5)
    other = _draw(name, n=2, seed=6)
    np.testing.assert_array_equal(few.inputs, again.inputs)  # the same draw: bit for bit
    np.testing.assert_array_equal(few.outputs, again.outputs)
    # A larger draw holds the same instances; batched float64 kernels may round the last bit differently
    # with another batch size (seen at 7.6e-16 relative on AVX-512), while another instance differs at O(1).
    np.testing.assert_allclose(few.inputs, more.inputs[:2], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(few.outputs, more.outputs[:2], rtol=1e-12, atol=1e-14)
    assert not np.allclose(few.inputs, other.inputs)
    assert not np.allclose(few.inputs[0], few.inputs[1])


def test_solving_in_chunks_changes_no_result(monkeypatch):
    import physopt.operators._navier_stokes as ns

    whole = _draw("navier-stokes-2d", n=3, seed=1)
    monkeypatch.setattr(ns, "_CHUNK", 2)
    # the same instances; the batched FFTs of another chunk size may round differently (measured 2.3e-14
    # relative on AVX-512), while a mixed-up instance or step would differ at O(1)
    np.testing.assert_allclose(_draw("navier-stokes-2d", n=3, seed=1).outputs, whole.outputs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_the_same_instance_on_two_grids_has_the_same_input(name):
    """Inputs are one function sampled twice: nested grids share points (``2n - 1`` nodes or ``2n`` periodic)."""
    coarse = _draw(name, n=2, seed=3)
    n = coarse.grid[0]
    fine = _draw(name, n=2, seed=3, resolution=2 * n if coarse.periodic else 2 * n - 1)
    # unit-cell's face conductivities are cell averages of a (resolution-dependent by definition): its loads G are
    # the channels sampled from one function
    channels = slice(2, 4) if name == "unit-cell" else slice(None)
    restrict = (slice(None), channels) + (slice(None, None, 2),) * coarse.dim
    np.testing.assert_allclose(fine.inputs[restrict], coarse.inputs[:, channels], rtol=0, atol=1e-12)  # sum rounding


@pytest.mark.parametrize("periodic", [False, True])
def test_random_field_is_orthonormal_expansion(periodic):
    """Parseval on a fine grid: the mean square of a draw is the sum of its squared coefficients, so the
    basis is orthonormal and the coefficient variances are the covariance's eigenvalues."""
    field = GaussianField(dim=2, alpha=2.0, tau=3.0, sigma=3.0, modes=6, periodic=periodic)
    c = field.sample(np.random.default_rng(0))
    if periodic:
        mean_square = np.mean(field.evaluate(c, 64) ** 2)  # exact for a trigonometric polynomial
    else:
        x = (np.arange(400) + 0.5) / 400  # midpoint rule, error O(h^2)
        mean_square = np.mean(field.evaluate_at(c, x) ** 2)
    assert mean_square == pytest.approx(np.sum(c**2), rel=1e-4)
    k = np.arange(6.0) if not periodic else np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5.0])
    scale = np.pi * (2 if periodic else 1)
    expected = 3.0 * ((scale * k[1]) ** 2 + (scale * k[2]) ** 2 + 9) ** -1.0
    assert field._scales()[1, 2] == pytest.approx(expected)


def test_periodic_evaluation_is_exact_on_any_grid():
    rng = np.random.default_rng(1)
    coeffs = rng.standard_normal(9) + 1j * rng.standard_normal(9)

    def poly(x):
        return np.real(sum(c * np.exp(2j * math.pi * k * x) for k, c in enumerate(coeffs)))

    samples = poly(np.arange(32) / 32)
    for n in (20, 32, 45, 96):
        np.testing.assert_allclose(evaluate_periodic(samples[None], n, 1)[0], poly(np.arange(n) / n), atol=1e-12)


def test_cache_is_written_reused_and_a_corrupt_file_regenerated(tmp_path, monkeypatch):
    calls = []
    spec = FAMILIES["antiderivative"]

    def counting(options, *, n, resolution, seed):
        calls.append(n)
        return spec.generate(options, n=n, resolution=resolution, seed=seed)

    monkeypatch.setitem(FAMILIES, "antiderivative", FamilySpec(counting, spec.config, spec.summary, spec.dim,
                                                               spec.resolution, spec.periodic))
    first = load_family("antiderivative", n=6, resolution=17, seed=2, cache=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    assert path.name.startswith("antiderivative-r17-s2-") and path.name.endswith("-n6.npz")
    fewer = load_family("antiderivative", n=4, resolution=17, seed=2, cache=tmp_path)
    assert calls == [6]
    np.testing.assert_array_equal(fewer.outputs, first.outputs[:4])
    assert load_npz(path).solve_time_s == first.solve_time_s
    path.write_bytes(path.read_bytes()[:100])  # a run killed mid-write
    again = load_family("antiderivative", n=6, resolution=17, seed=2, cache=tmp_path)
    assert calls == [6, 6]
    np.testing.assert_array_equal(again.outputs, first.outputs)
    load_family("antiderivative", n=6, resolution=17, seed=2, cache=tmp_path,
                options=family_options("antiderivative", {"tau": 4.0}))
    assert calls == [6, 6, 6]  # other options, another file


@pytest.mark.parametrize(("name", "values", "option"), [
    ("darcy", {"refine": 0}, "refine"),
    ("darcy", {"subsamples": 3}, "subsamples"),
    ("darcy", {"low": -3.0}, "low"),
    ("darcy", {"alpha": 0.0}, "alpha"),
    ("burgers-1d", {"nu": -1e-2}, "nu"),
    ("burgers-1d", {"solver_points": 100}, "solver_points"),
    ("burgers-1d", {"trajectory": "yes"}, "trajectory"),
    ("burgers-1d", {"snapshots": 0}, "snapshots"),
    ("antiderivative", {"modes": 1}, "modes"),
    ("poisson-1d", {"sigma": float("nan")}, "sigma"),
    ("poisson-2d", {"refine": 1.5}, "refine"),
    ("navier-stokes-2d", {"t_in": 0}, "t_in"),
    ("navier-stokes-2d", {"dt": float("inf")}, "dt"),
    ("navier-stokes-2d", {"modes": 30}, "solver_points"),
])
def test_bad_options_name_the_option(name, values, option):
    with pytest.raises(ValueError, match=rf"{name.split('-')[0]}.* option {option} must"):
        family_options(name, values)


def test_bad_seed_and_unknown_option_are_refused():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        _draw("antiderivative", n=2, seed=-1)
    with pytest.raises(ValueError, match="unknown option.*viscosity"):
        family_options("burgers-1d", {"viscosity": 1.0})


def test_unresolved_or_unstable_solves_are_refused_not_returned():
    with pytest.raises(ValueError, match="under-resolved.*increase solver_points"):
        _draw("burgers-1d", n=2, seed=0, nu=1e-4)
    with pytest.raises(ValueError, match="dt=0.01 is too large: the advective number"):
        _draw("burgers-1d", n=2, seed=0, dt=0.01)  # smooth but wrong (5e-3 off at dt=0.05): refused


def test_darcy_face_conductivities_average_the_way_flux_sees_a_layer():
    """a varying along x only, s = 4 samples per cell: a face normal to x sees the layers in series
    (harmonic mean of its cell's samples), a face normal to y sees them side by side (arithmetic mean of
    the samples within half a cell of its node)."""
    from physopt.operators._darcy import face_conductivities

    m, s = 5, 4
    layer = np.random.default_rng(0).uniform(1.0, 10.0, s * (m - 1))
    east, north = face_conductivities(np.repeat(layer[:, None], s * (m - 1), axis=1), s)
    assert east.shape == (m - 1, m - 2) and north.shape == (m - 2, m - 1)
    cells = layer.reshape(m - 1, s)
    np.testing.assert_allclose(east, np.repeat((s / (1 / cells).sum(axis=1))[:, None], m - 2, axis=1))
    around = layer[s // 2: s // 2 + (m - 2) * s].reshape(m - 2, s).mean(axis=1)
    np.testing.assert_allclose(north, np.repeat(around[:, None], m - 1, axis=1))
