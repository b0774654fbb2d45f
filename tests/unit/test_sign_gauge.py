"""SignGauge: the problem fixes an eigenfunction's sign, the loss does not see it."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from physopt.problems import Interval, SignGauge


class _Const(nn.Module):
    def __init__(self, shape_fn):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(-1.0, dtype=torch.float64))
        self.shape_fn = shape_fn

    def forward(self, x):
        return self.scale * self.shape_fn(x)


def test_gauge_flips_a_negative_field_and_keeps_a_positive_one():
    net = _Const(lambda x: torch.sin(math.pi * x[:, :1]))
    g = SignGauge().wrap(net, Interval(0.0, 1.0), device=torch.device("cpu"), dtype=torch.float64)
    x = torch.linspace(0, 1, 11, dtype=torch.float64)[:, None]
    assert torch.allclose(g(x), torch.sin(math.pi * x))  # -sin(πx) reported as +sin(πx)
    with torch.no_grad():
        net.scale.fill_(2.0)
    assert torch.allclose(g(x), 2 * torch.sin(math.pi * x))


def test_gauge_leaves_sign_symmetric_losses_and_their_gradients_unchanged():
    net = _Const(lambda x: torch.sin(math.pi * x[:, :1]) + 0.1)
    g = SignGauge().wrap(net, Interval(0.0, 1.0), device=torch.device("cpu"), dtype=torch.float64)
    x = torch.rand(20, 1, dtype=torch.float64)
    for model in (net, g):
        loss = ((model(x) ** 2).mean() - 1.0) ** 2
        loss.backward()
    grad_net_then_gauged = net.scale.grad.clone()
    # Two backward passes accumulated the same gradient twice: the gauged loss equals the raw one.
    net.scale.grad = None
    (((net(x) ** 2).mean() - 1.0) ** 2).backward()
    assert torch.allclose(grad_net_then_gauged, 2 * net.scale.grad)


def test_gauge_rejects_a_bad_point_count():
    with pytest.raises(ValueError, match="positive number of points"):
        SignGauge(points=0)
