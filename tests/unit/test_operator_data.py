"""OperatorData validation, .npz round trips and the family cache (with a toy family)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from physopt.operators import FAMILIES, FamilySpec, OperatorData, axis_coordinates, load_family, load_npz


def _pairs(n=4, grid=(8,), c_in=1, c_out=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c_in, *grid)), rng.normal(size=(n, c_out, *grid))


def test_axis_coordinates_follow_the_grid_convention():
    assert np.allclose(axis_coordinates(4, periodic=True), [0, 0.25, 0.5, 0.75])
    assert np.allclose(axis_coordinates(3, periodic=False), [0, 0.5, 1])
    with pytest.raises(ValueError, match="at least 2"):
        axis_coordinates(1, periodic=False)


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (np.zeros((3, 1, 8)), np.zeros((4, 1, 8)), "same number of samples, got 3 and 4"),
        (np.zeros((3, 8)), np.zeros((3, 8)), r"shape \(N, channels, \*grid\).*got shape \(3, 8\)"),
        (np.zeros((3, 1, 8)), np.zeros((3, 1, 9)), r"same grid, got grids \(8,\) and \(9,\)"),
        (np.full((2, 1, 4), np.nan), np.zeros((2, 1, 4)), r"inputs has non-finite.*index \(0, 0, 0\)"),
        (np.zeros((2, 1, 4), dtype=complex), np.zeros((2, 1, 4)), "must be numeric"),
        (np.zeros((0, 1, 4)), np.zeros((0, 1, 4)), "no samples"),
    ],
)
def test_bad_arrays_are_refused_with_what_was_given(inputs, outputs, message):
    with pytest.raises(ValueError, match=message):
        OperatorData(inputs, outputs)


def test_integer_arrays_are_accepted_and_shapes_reported():
    d = OperatorData(np.ones((5, 2, 4, 6), dtype=np.int32), np.zeros((5, 1, 4, 6), dtype=np.float32))
    assert (d.n, d.in_channels, d.out_channels, d.grid, d.dim) == (5, 2, 1, (4, 6), 2)
    assert d.take(slice(1, 3)).n == 2


def test_npz_round_trip_and_errors(tmp_path):
    x, y = _pairs()
    d = OperatorData(x, y, periodic=True, solve_time_s=0.5)
    back = load_npz(d.save(tmp_path / "d.npz"))
    assert np.array_equal(back.inputs, x) and np.array_equal(back.outputs, y)
    assert back.periodic and back.solve_time_s == 0.5
    np.savez(tmp_path / "only.npz", inputs=x)
    with pytest.raises(ValueError, match="lacks array.*outputs"):
        load_npz(tmp_path / "only.npz")
    np.savez(tmp_path / "extra.npz", inputs=x, outputs=y, weights=x)
    with pytest.raises(ValueError, match="unexpected array.*weights"):
        load_npz(tmp_path / "extra.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        load_npz(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="does not exist"):
        load_npz(tmp_path / "missing.npz")


@dataclass(frozen=True)
class _ToyOptions:
    scale: float = 1.0


def _toy_generate(options, *, n, resolution, seed):
    calls.append((n, resolution))
    x = axis_coordinates(resolution, periodic=False)
    amp = np.array([np.random.default_rng([seed, i]).normal() for i in range(n)])  # instance i from (seed, i) only
    f = options.scale * amp[:, None, None] * np.sin(np.pi * x)[None, None]
    return OperatorData(f, f ** 2, name="toy")


calls: list[tuple[int, int]] = []


@pytest.fixture
def toy(monkeypatch):
    calls.clear()
    monkeypatch.setitem(FAMILIES, "toy", FamilySpec(_toy_generate, _ToyOptions, "toy", dim=1, resolution=8,
                                                    periodic=False))
    return "toy"


def test_family_cache_reuses_a_larger_draw_and_regenerates_a_corrupt_file(toy, tmp_path):
    big = load_family(toy, n=6, resolution=8, seed=3, cache=tmp_path)
    small = load_family(toy, n=4, resolution=8, seed=3, cache=tmp_path)
    assert calls == [(6, 8)]  # the second call read the cached draw of 6
    assert np.array_equal(small.inputs, big.inputs[:4])
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"truncated")
    again = load_family(toy, n=4, resolution=8, seed=3, cache=tmp_path)
    assert calls == [(6, 8), (4, 8)] and np.array_equal(again.inputs, big.inputs[:4])
    other = load_family(toy, n=4, resolution=8, seed=3, options=_ToyOptions(scale=2.0), cache=tmp_path)
    assert np.allclose(other.inputs, 2 * big.inputs[:4])  # options are part of the cache key


def test_family_argument_errors(toy):
    with pytest.raises(ValueError, match="unknown PDE family 'nope'"):
        load_family("nope", n=1, resolution=8, seed=0)
    with pytest.raises(ValueError, match="positive int, got 0"):
        load_family(toy, n=0, resolution=8, seed=0)
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        load_family(toy, n=1, resolution=1, seed=0)
    with pytest.raises(ValueError, match="must be a _ToyOptions"):
        load_family(toy, n=1, resolution=8, seed=0, options={"scale": 2})
