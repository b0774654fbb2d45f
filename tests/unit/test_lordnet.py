"""LordNet's Lord layer is the Kronecker-factored dense layer over the grid it claims to be."""

from __future__ import annotations

import pytest
import torch

from physopt.models import OPERATORS, LordNetConfig, OperatorShape
from physopt.models._lordnet import LordLayer


def test_lord_layer_equals_its_dense_kronecker_form():
    g = torch.Generator().manual_seed(0)
    width, grid, rank = 3, (5, 4), 2
    layer = LordLayer(width, grid, rank, generator=g, dtype=torch.float64)
    v = torch.randn(2, width, *grid, generator=g, dtype=torch.float64)
    # dense reference: per term r the (N x N) matrix kron(A1_r, A2_r) over C-ordered points, then M_r over channels
    want = layer.skip(v.flatten(2))
    for r in range(rank):
        dense = torch.kron(layer.spatial[0][r], layer.spatial[1][r])
        spatial = v.flatten(2) @ dense.T  # (B, C, N)
        want = want + torch.einsum("dc,bcn->bdn", layer.mix[:, r * width:(r + 1) * width], spatial)
    assert torch.allclose(layer(v), want, atol=1e-12)  # the same sums in another order: rounding only


def test_lordnet_predicts_on_its_training_grid_only():
    spec = OPERATORS["lordnet"]
    net = spec.factory(LordNetConfig(width=4, layers=2, rank=2, projection=8), generator=torch.Generator(),
                       shape=OperatorShape(1, 1, (6, 6), False), dtype=torch.float32)
    assert net(torch.randn(3, 1, 6, 6)).shape == (3, 1, 6, 6)
    with pytest.raises(ValueError, match="built for the grid"):
        net(torch.randn(3, 1, 8, 8))
    with pytest.raises(ValueError, match="model.rank must be a positive int"):
        spec.factory(LordNetConfig(rank=0), generator=torch.Generator(), shape=OperatorShape(1, 1, (6,), False),
                     dtype=torch.float32)
