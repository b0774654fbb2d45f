"""NormGauge: the model is s·u/‖u‖ (optionally its even part), so ψ = 0 and odd states are excluded."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from physopt.problems import Interval, NormGauge
from physopt.problems.zoo import Barrier, quantum_barrier

CPU = torch.device("cpu")


class _Scaled(nn.Module):
    def __init__(self, shape_fn, scale: float):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float64))
        self.shape_fn = shape_fn

    def forward(self, x):
        return self.scale * self.shape_fn(x)


def test_the_gauged_field_is_the_unit_norm_positive_multiple_whatever_the_scale():
    x = torch.linspace(0, 1, 21, dtype=torch.float64)[:, None]
    for scale in (-3.0, 1e-4, 7.0):
        net = _Scaled(lambda x: torch.sin(math.pi * x[:, :1]), scale)
        g = NormGauge().wrap(net, Interval(0.0, 1.0), device=CPU, dtype=torch.float64)
        # ∫ sin²(πx) = 1/2, so the unit-norm field is √2 sin(πx); 128 Gauss nodes integrate it to
        # round-off, hence 1e-12.
        assert torch.allclose(g(x), math.sqrt(2) * torch.sin(math.pi * x), atol=1e-12)


def test_the_gauged_field_does_not_depend_on_the_scale_so_its_gradient_wrt_the_scale_is_zero():
    net = _Scaled(lambda x: torch.sin(math.pi * x[:, :1]) + x[:, :1] ** 2, 2.5)
    g = NormGauge().wrap(net, Interval(0.0, 1.0), device=CPU, dtype=torch.float64)
    x = torch.rand(30, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (g(x) ** 2).sum().backward()
    # Without the normalisation d/dscale of Σ(scale·f)² = 2 Σ scale f² ≈ 60; normalised it is 0 to round-off.
    assert abs(float(net.scale.grad)) < 1e-10


def test_even_part_removes_the_odd_component_about_the_centre():
    # sin(πx) is even about 1/2, sin(2πx) odd: the even gauge keeps only the first.
    net = _Scaled(lambda x: torch.sin(math.pi * x[:, :1]) + 0.7 * torch.sin(2 * math.pi * x[:, :1]), 1.0)
    g = NormGauge(even=True).wrap(net, Interval(0.0, 1.0), device=CPU, dtype=torch.float64)
    x = torch.linspace(0, 1, 21, dtype=torch.float64)[:, None]
    assert torch.allclose(g(x), math.sqrt(2) * torch.sin(math.pi * x), atol=1e-12)
    odd = NormGauge(even=False).wrap(net, Interval(0.0, 1.0), device=CPU, dtype=torch.float64)
    assert not torch.allclose(odd(x), g(x), atol=1e-3)  # the test can fail: the odd part is visible without it


def test_barrier_problem_uses_the_even_norm_gauge_and_its_reference_is_even_and_unit_norm():
    p = quantum_barrier()
    assert isinstance(p.gauge, NormGauge) and p.gauge.even
    x = torch.linspace(0, 1, 2001, dtype=torch.float64).numpy()
    psi = Barrier().psi(x)
    assert abs(psi - psi[::-1]).max() < 1e-12  # even about 1/2 (float64 closed form)
    # trapezoid on 2001 points of a C¹ function: error O(h²) ≈ 1e-6, hence 1e-5
    assert abs((psi[:-1] ** 2 + psi[1:] ** 2).sum() / 2 * (x[1] - x[0]) - 1.0) < 1e-5


def test_norm_gauge_rejects_a_bad_point_count():
    with pytest.raises(ValueError, match="positive number of points"):
        NormGauge(points=0)
