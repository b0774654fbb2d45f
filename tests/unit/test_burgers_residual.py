"""The Burgers residual (one gradient for u_x and u_t) is u_t + u u_x − ν u_xx, and costs two passes."""

import math

import torch

from physopt.problems import get
from physopt.problems._ops import dt, partial
from physopt.problems.zoo._burgers import NU


def _points(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g, dtype=torch.float64) * torch.tensor([2.0, 0.99], dtype=torch.float64)
    return (x - torch.tensor([1.0, 0.0], dtype=torch.float64)).requires_grad_(True)


def test_matches_a_closed_form_field():
    # u = sin(2x)·e^{-t}: u_t = -u, u_x = 2cos(2x)e^{-t}, u_xx = -4u. Only the terms' rounding differs:
    # 1e-13 against values of size ~1 (a wrong sign or a missing ν would be off by ~1e-2 or more).
    x = _points(200, 0)
    u = torch.sin(2 * x[:, :1]) * torch.exp(-x[:, 1:])
    r = get("burgers").conditions["pde"].fn(x, u, {"nu": torch.tensor(NU, dtype=torch.float64)})
    ux = 2 * torch.cos(2 * x[:, :1]) * torch.exp(-x[:, 1:])
    expected = -u + u * ux + 4 * NU * u
    assert torch.allclose(r, expected, rtol=0, atol=1e-13)


def test_equals_the_composed_operators_on_a_network():
    # The dt/partial form differentiates u four times; the residual must give the same numbers
    # (and parameter gradients) up to the order of floating-point sums: 1e-12 relative.
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 1)).double()
    nu = torch.tensor(0.01 / math.pi, dtype=torch.float64)
    fn = get("burgers").conditions["pde"].fn
    grads = []
    for composed in (False, True):
        x = _points(500, 1)
        u = net(x)
        r = dt(u, x) + u * partial(u, x, 0) - nu * partial(u, x, 0, 0) if composed else fn(x, u, {"nu": nu})
        net.zero_grad()
        r.pow(2).mean().backward()
        grads.append((r.detach(), [p.grad.clone() for p in net.parameters()]))
    (r0, g0), (r1, g1) = grads
    assert torch.allclose(r0, r1, rtol=1e-12, atol=1e-14)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-16)
