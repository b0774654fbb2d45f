"""DeepONet against its definition, and the operator contract for the whole DeepONet family."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from physopt.models import OPERATORS, DeepONet, OperatorShape, grid_points, operator_spec

FAMILY = ("deeponet", "mtdeeponet", "multionet")


def _mlp_params(n_in: int, width: int, depth: int, n_out: int) -> int:
    return n_in * width + width + (depth - 1) * (width * width + width) + width * n_out + n_out


def _inputs(kind: str, shape: OperatorShape, batch: int, *, seed: int = 0) -> torch.Tensor:
    """Random inputs; for MT-DeepONet a valid mask channel and task 0's one-hot channel."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn((batch, shape.in_channels, *shape.grid), generator=g, dtype=torch.float64)
    if kind == "mtdeeponet":
        tasks = operator_spec(kind).config().tasks
        c = shape.in_channels - 1 - tasks
        a[:, c] = 1.0
        a[:, c + 1:] = 0.0
        a[:, c + 1] = 1.0
    return a


def _build(kind: str, shape: OperatorShape, *, seed: int = 0, dtype: torch.dtype = torch.float64, **options):
    spec = operator_spec(kind)
    small = {"width": 12, "depth": 2}
    small.update({"basis": 5} if kind != "multionet" else {"sum_layers": 2})
    small.update(options)
    return spec.factory(spec.config(**small), shape=shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _shape(kind: str, *, grid=(5, 4), periodic=False, in_fields=2, out=2) -> OperatorShape:
    extra = 1 + operator_spec(kind).config().tasks if kind == "mtdeeponet" else 0
    return OperatorShape(in_channels=in_fields + extra, out_channels=out, grid=grid, periodic=periodic)


@pytest.mark.parametrize("kind", FAMILY)
def test_registered_with_queries_and_training_grid_only(kind):
    spec = OPERATORS[kind]
    assert spec.queries and not spec.any_grid
    assert spec.config().kind == kind


@pytest.mark.parametrize("kind", FAMILY)
@pytest.mark.parametrize("periodic", [False, True])
def test_grid_forward_equals_queries_at_grid_points(kind, periodic):
    shape = _shape(kind, periodic=periodic)
    model = _build(kind, shape)
    a = _inputs(kind, shape, 3)
    on_grid = model(a)
    assert on_grid.shape == (3, 2, 5, 4)
    at_points = model(a, grid_points(shape.grid, periodic=periodic, dtype=torch.float64))
    assert at_points.shape == (3, 2, 20)
    # same arithmetic on the same coordinates: equal up to the reduction order of the einsum
    torch.testing.assert_close(on_grid.reshape(3, 2, -1), at_points, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", FAMILY)
def test_queries_at_arbitrary_points_are_pointwise(kind):
    shape = _shape(kind, grid=(7,), in_fields=1, out=1)
    model = _build(kind, shape)
    a = _inputs(kind, shape, 2)
    points = torch.rand((9, 1), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    together = model(a, points)
    assert together.shape == (2, 1, 9) and torch.isfinite(together).all()
    one_by_one = torch.cat([model(a, points[i : i + 1]) for i in range(9)], dim=2)
    torch.testing.assert_close(together, one_by_one, rtol=1e-12, atol=1e-12)  # float64 round-off only
    # a query point between two sensors is not a sensor value: the prediction varies smoothly in x
    assert not torch.allclose(model(a, points[:1]), model(a, points[:1] + 1e-3))


@pytest.mark.parametrize("kind", FAMILY)
def test_weights_come_from_the_generator_only(kind):
    shape = _shape(kind)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = _build(kind, shape, seed=4)
    assert torch.equal(torch.random.get_rng_state(), before)  # the global RNG is untouched
    again, other = _build(kind, shape, seed=4), _build(kind, shape, seed=5)
    for (name, p), q in zip(first.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    assert any(not torch.equal(p, r) for p, r in zip(first.parameters(), other.parameters(), strict=True))


@pytest.mark.parametrize("kind", FAMILY)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_of_parameters_and_outputs(kind, dtype):
    shape = _shape(kind)
    model = _build(kind, shape, dtype=dtype)
    assert {p.dtype for p in model.parameters()} == {dtype}
    assert model(_inputs(kind, shape, 2).to(dtype)).dtype == dtype


@pytest.mark.parametrize("kind", FAMILY)
def test_bad_shapes_raise_naming_the_shape(kind):
    shape = _shape(kind)
    model = _build(kind, shape)
    a = _inputs(kind, shape, 2)
    with pytest.raises(ValueError, match=r"got \(2, \d, 6, 4\)"):  # another resolution
        model(torch.zeros(2, shape.in_channels, 6, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"got \(2, 7, 5, 4\)"):  # wrong channels
        model(torch.zeros(2, 7, 5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"got \(\d, 5, 4\)"):  # no batch axis
        model(a[0])
    with pytest.raises(ValueError, match=r"\(Q, 2\), got \(3, 1\)"):
        model(a, torch.zeros(3, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(Q, 2\), got \(6,\)"):
        model(a, torch.zeros(6, dtype=torch.float64))


def test_deeponet_is_the_explicit_sum_over_basis_functions():
    shape = OperatorShape(in_channels=2, out_channels=3, grid=(6,), periodic=False)
    model = DeepONet(shape=shape, width=10, depth=2, basis=4, generator=torch.Generator().manual_seed(0),
                     dtype=torch.float64)
    with torch.no_grad():
        model.bias.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    a = _inputs("deeponet", shape, 2)
    x = torch.rand((5, 1), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    b = model.branch(a.reshape(2, -1))  # (B, p · C_out)
    t = torch.nn.functional.gelu(model.trunk(x))  # (Q, p · C_out): the trunk's last layer is activated too
    want = torch.empty(2, 3, 5, dtype=torch.float64)
    for i in range(2):
        for c in range(3):
            for q in range(5):  # split_both: output c pairs units c·p .. c·p + p - 1 of branch and trunk
                want[i, c, q] = sum(b[i, c * 4 + k] * t[q, c * 4 + k] for k in range(4)) + model.bias[c]
    torch.testing.assert_close(model(a, x), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("features", "d_feat"), [("raw", 2), ("fourier", 2 + 2 * 7), ("periodic", 2 * 7 * 2)])
def test_deeponet_parameter_count(features, d_feat):
    shape = OperatorShape(in_channels=3, out_channels=2, grid=(5, 4), periodic=True)
    model = DeepONet(shape=shape, width=11, depth=3, basis=6, trunk_features=features, features=7,
                     generator=torch.Generator().manual_seed(0))
    want = _mlp_params(3 * 20, 11, 3, 12) + _mlp_params(d_feat, 11, 3, 12) + 2
    assert sum(p.numel() for p in model.parameters()) == want


def test_periodic_trunk_is_exactly_periodic_and_needs_periodic_data():
    shape = OperatorShape(in_channels=1, out_channels=1, grid=(8, 8), periodic=True)
    model = _build("deeponet", shape, trunk_features="periodic", features=3)
    a = _inputs("deeponet", shape, 2)
    x = torch.tensor([[0.0, 0.3], [0.7, 0.0]], dtype=torch.float64)
    shifted = x + torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(model(a, x), model(a, shifted), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="not periodic"):
        _build("deeponet", dataclasses.replace(shape, periodic=False), trunk_features="periodic")


def test_bad_options_raise():
    shape = OperatorShape(in_channels=1, out_channels=1, grid=(8,), periodic=False)
    with pytest.raises(ValueError, match="basis must be a positive int, got 0"):
        _build("deeponet", shape, basis=0)
    with pytest.raises(ValueError, match="unknown trunk_features 'sinc'"):
        _build("deeponet", shape, trunk_features="sinc")
    with pytest.raises(ValueError, match="fourier_scale must be a finite number > 0"):
        _build("deeponet", shape, trunk_features="fourier", fourier_scale=-1.0)
    with pytest.raises(ValueError, match="unknown activation"):
        _build("deeponet", shape, activation="relu6")


def test_model_moves_with_its_grid():
    shape = OperatorShape(in_channels=1, out_channels=1, grid=(6,), periodic=False)
    model = _build("deeponet", shape, dtype=torch.float32).double()
    a = _inputs("deeponet", shape, 2)
    assert model(a).dtype == torch.float64  # the training-grid buffer followed .double()
