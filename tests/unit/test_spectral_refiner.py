"""Spectral-Refiner against its definition: the untruncated last layer (zero at the start, every frequency
of the grid), the H^{-s} norm by Parseval, the vorticity residual against closed forms and an alias-free
fine-grid evaluation, and the last-layer-only refinement."""

import math

import pytest
import torch

from physopt.models import OPERATORS, OperatorShape, SpectralRefiner
from physopt.models._refiner import full_modes
from physopt.training import VorticityResidual, negative_sobolev_norm, refine_last_layer

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _grid(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.arange(n, dtype=F64) / n
    return x[:, None].expand(n, n), x[None, :].expand(n, n)


def test_refiner_starts_as_its_fno_and_its_last_layer_keeps_every_frequency():
    spec = OPERATORS["spectral-refiner"]
    net = spec.factory(spec.config(modes=3, width=6, projection=8), shape=OperatorShape(2, 3, (8, 8), True),
                       generator=_gen(), dtype=F64)
    assert isinstance(net, SpectralRefiner) and full_modes((8, 8)) == (4, 5)
    a = torch.randn(2, 2, 8, 8, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(net(a), net.base(a), rtol=0, atol=0)  # S = 0 before refinement
    # S = identity at every frequency: u = 2 v exactly, so no frequency of the grid is cut (no truncation)
    with torch.no_grad():
        net.last.weight.zero_()
        net.last.weight[0] = torch.eye(3, dtype=F64)[:, :, None, None]
    v = torch.randn(1, 3, 8, 8, generator=_gen(2), dtype=F64)
    torch.testing.assert_close(net.last(v), v, rtol=0, atol=1e-13)  # float64 round-off of the 8x8 DFT
    assert [p.shape for p in net.last_layer()] == [net.last.weight.shape]


@pytest.mark.parametrize("order", [1.0, 2.0])
def test_negative_sobolev_norm_of_a_sine_is_parsevals(order):
    x, y = _grid(16)
    r = torch.sin(2 * math.pi * 3 * x) + 2 * torch.cos(2 * math.pi * (x + 2 * y))
    want = 0.5 * (1 + 4 * math.pi**2 * 9) ** -order + 4 * 0.5 * (1 + 4 * math.pi**2 * 5) ** -order
    got = negative_sobolev_norm(r[None], order=order)
    torch.testing.assert_close(got, torch.tensor([want], dtype=F64), rtol=1e-12, atol=0)  # float64 FFT round-off


def test_residual_of_a_decaying_laplace_eigenfunction_is_the_crank_nicolson_error():
    """w = e^{-νλt} φ with Δφ = -λφ solves w_t = νΔw (u·∇w = 0 for an eigenfunction): r_n is exactly
    ((e^{-νλΔt} - 1)/Δt + νλ(1 + e^{-νλΔt})/2) w_{n-1}, second order in Δt."""
    x, y = _grid(16)
    phi = torch.cos(2 * math.pi * x) + torch.sin(2 * math.pi * y)  # both |k| = 1: one eigenvalue
    lam, nu, dt = 4 * math.pi**2, 0.05, 0.1
    times = dt * torch.arange(0, 4, dtype=F64)
    traj = torch.exp(-nu * lam * times)[:, None, None] * phi
    res = VorticityResidual(nu=nu, dt=dt, forcing=torch.zeros(16, 16, dtype=F64))
    r = res(traj[None, 0], traj[None, 1:])
    q = math.exp(-nu * lam * dt)
    want = ((q - 1) / dt + nu * lam * (1 + q) / 2) * traj[:-1]
    torch.testing.assert_close(r[0], want, rtol=0, atol=1e-12)
    assert 0 < abs((q - 1) / dt + nu * lam * (1 + q) / 2) < (nu * lam) ** 3 * dt**2 / 12 * 1.01  # O(Δt²) truncation


def test_advection_is_the_closed_form_and_dealiased():
    x, y = _grid(16)
    w = torch.sin(2 * math.pi * x) + torch.sin(4 * math.pi * y)
    res = VorticityResidual(nu=0.0, dt=1.0, forcing=torch.zeros(16, 16, dtype=F64))
    # ψ = sin(2πx)/4π² + sin(4πy)/16π²: u·∇w = -1.5 cos(2πx) cos(4πy)
    torch.testing.assert_close(res.rhs(w), 1.5 * torch.cos(2 * math.pi * x) * torch.cos(4 * math.pi * y), rtol=0,
                               atol=1e-12)
    # a field up to |k| = 5 on 16 points: products reach |k| = 10 > 8; the dealiased G equals the low-pass of G
    # computed on a 64-point grid (where nothing aliases), sampled back
    c = torch.zeros(16, 16, dtype=torch.complex128)
    k = torch.fft.fftfreq(16, 1 / 16)
    low = (k.abs() <= 5)[:, None] & (k.abs() <= 5)[None, :]
    c[low] = torch.randn(int(low.sum()), dtype=torch.complex128, generator=_gen(3))
    w16 = torch.fft.ifft2(c).real * 256
    c64 = torch.zeros(64, 64, dtype=torch.complex128)
    idx = torch.tensor([int(v) % 64 for v in k])
    c64[idx[:, None], idx[None, :]] = torch.fft.fft2(w16) / 256
    w64 = torch.fft.ifft2(c64).real * 4096
    g64 = VorticityResidual(nu=0.01, dt=1.0, forcing=torch.zeros(64, 64, dtype=F64)).rhs(w64)
    spec = torch.fft.fft2(g64) / 4096
    keep = torch.zeros(16, 16, dtype=torch.complex128)
    band = torch.nonzero(k.abs() < 8).flatten()
    sel = idx[band]
    keep[band[:, None], band[None, :]] = spec[sel[:, None], sel[None, :]]
    want = torch.fft.ifft2(keep).real * 256
    g16 = VorticityResidual(nu=0.01, dt=1.0, forcing=torch.zeros(16, 16, dtype=F64)).rhs(w16)
    torch.testing.assert_close(g16, want, rtol=0, atol=1e-10)  # float64 FFT round-off on O(10^2) values


def test_refinement_changes_only_the_last_layer_and_lowers_a_convex_loss():
    spec = OPERATORS["spectral-refiner"]
    net = spec.factory(spec.config(modes=2, width=4, projection=4, layers=1), shape=OperatorShape(1, 2, (8, 8), True),
                       generator=_gen(), dtype=F64)
    a = torch.randn(16, 1, 8, 8, generator=_gen(1), dtype=F64)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}

    def loss(x, u):  # 1.5 base(x) is reachable by the last layer alone (S = identity / 2): a convex quadratic
        with torch.no_grad():
            target = 1.5 * net.base(x)
        return (u - target).square().mean()

    out = refine_last_layer(net, net.last_layer(), a, loss, steps=60, lr=5e-2, batch_size=8, generator=_gen(4))
    assert out.losses[-1] < 1e-2 * out.losses[0] and out.cpu_s >= 0  # Adam on a reachable convex quadratic
    for n, p in net.named_parameters():
        assert p.requires_grad  # restored
        assert torch.equal(p, before[n]) != n.startswith("last.")  # only the last layer moved
    with pytest.raises(ValueError, match="steps"):
        refine_last_layer(net, net.last_layer(), a, loss, steps=0, lr=1e-2, batch_size=4, generator=_gen())
