"""MultiONet against its definition: the weighted mean of branch-trunk inner products of several layers."""

from __future__ import annotations

import pytest
import torch

from physopt.models import MultiONet, OperatorShape


def _model(*, out: int = 2, width: int = 8, depth: int = 4, sum_layers: int = 3, **options) -> MultiONet:
    shape = OperatorShape(in_channels=2, out_channels=out, grid=(5,), periodic=False)
    model = MultiONet(shape=shape, width=width, depth=depth, sum_layers=sum_layers,
                      generator=torch.Generator().manual_seed(0), dtype=torch.float64, **options)
    with torch.no_grad():  # non-trivial layer weights and bias, so the test sees where each goes
        model.weights.copy_(torch.randn(model.weights.shape, generator=torch.Generator().manual_seed(1),
                                        dtype=torch.float64))
        model.bias.copy_(torch.arange(1.0, out + 1.0, dtype=torch.float64))
    return model


@pytest.mark.parametrize(("out", "sum_layers"), [(1, 1), (1, 3), (2, 3), (2, 4)])
def test_output_is_the_weighted_mean_of_layer_inner_products(out, sum_layers):
    model = _model(out=out, sum_layers=sum_layers)
    a = torch.randn((3, 2, 5), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.rand((4, 1), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    hb, ht = a.reshape(3, -1), 2 * x - 1  # the trunk sees x in [0, 1] scaled to [-1, 1]
    branch, trunk = [], []
    for lb, lt in zip(model.branch.layers, model.trunk.layers, strict=True):
        hb, ht = torch.tanh(lb(hb)), torch.tanh(lt(ht))
        branch.append(hb)
        trunk.append(ht)
    group = 8 // out
    want = torch.zeros(3, out, 4, dtype=torch.float64)
    for j, layer in enumerate(range(4 - sum_layers, 4)):
        for c in range(out):
            units = slice(c * group, (c + 1) * group)
            want[:, c] += model.weights[j, c] * (branch[layer][:, units] @ trunk[layer][:, units].T)
    want = want / sum_layers + model.bias[:, None]
    torch.testing.assert_close(model(a, x), want, rtol=1e-12, atol=1e-12)


def test_parameter_count():
    model = _model(out=2, width=8, depth=3, sum_layers=2, trunk_features="fourier", features=5)
    w, n_in, d_feat = 8, 2 * 5, 1 + 2 * 5
    layers = (n_in * w + w) + (d_feat * w + w) + 2 * 2 * (w * w + w)
    assert sum(p.numel() for p in model.parameters()) == layers + 2 * 2 + 2


def test_bad_options_raise():
    with pytest.raises(ValueError, match="width 9 must be a multiple of the 2 output channels"):
        _model(out=2, width=9)
    with pytest.raises(ValueError, match="sum_layers must be <= depth = 4, got 5"):
        _model(sum_layers=5)
    with pytest.raises(ValueError, match="depth must be >= 2"):
        _model(depth=1, sum_layers=1)
    with pytest.raises(ValueError, match="sum_layers must be a positive int, got 0"):
        _model(sum_layers=0)
