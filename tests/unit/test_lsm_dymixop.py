"""LSM and DyMixOp against their definitions: patching, the latent spectral operator as an explicit series,
per-patch locality of the neural spectral block, the zero-sum difference stencil and its resolution
behaviour, the local-global mixing as a quadratic Hadamard product, the dynamics-informed sum, shapes
through the registry."""

import math

import pytest
import torch

from physopt.models import OPERATORS, OperatorShape
from physopt.models._dymixop import DifferenceStencil, DyMixOp, LocalGlobalMixing
from physopt.models._lsm import LSM, NeuralSpectralBlock, patchify, unpatchify

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("grid", [(12,), (4, 6), (4, 2, 6)])
def test_patchify_cuts_whole_patches_and_unpatchify_inverts_it(grid):
    x = torch.randn(2, 3, *grid, generator=_gen(), dtype=F64)
    p = patchify(x, 2)
    assert p.shape == (2 * math.prod(n // 2 for n in grid), 3, 2 ** len(grid))
    first = x[(slice(0, 1), slice(None), *(slice(0, 2) for _ in grid))].reshape(3, -1)
    torch.testing.assert_close(p[0], first, rtol=0, atol=0)  # the first patch is the first 2^d corner
    torch.testing.assert_close(unpatchify(p, 2, 2, grid), x, rtol=0, atol=0)


def test_latent_spectral_operator_is_the_sine_cosine_series_per_channel():
    block = NeuralSpectralBlock(4, basis=5, tokens=3, heads=2, patch=2, dim=1, generator=_gen(), dtype=F64)
    t = torch.randn(2, 4, 3, generator=_gen(1), dtype=F64)
    want = t.clone()
    for c in range(4):
        for k in range(5):
            w = k * math.pi / 5
            sine, cosine = block.weights[c, k], block.weights[c, 5 + k]
            want[:, c] += sine * torch.sin(w * t[:, c]) + cosine * torch.cos(w * t[:, c])
    torch.testing.assert_close(block.spectral(t), want, rtol=0, atol=1e-14)  # float64 round-off of 10 terms


def test_neural_spectral_block_acts_patch_by_patch():
    """Each patch is projected to its own latent tokens: changing one patch changes no other patch's output."""
    block = NeuralSpectralBlock(4, basis=3, tokens=2, heads=2, patch=2, dim=2, generator=_gen(), dtype=F64)
    x = torch.randn(1, 4, 4, 6, generator=_gen(1), dtype=F64)
    y = block(x)
    x2 = x.clone()
    x2[..., 2:4, 4:6] += 1.0  # the last patch
    y2 = block(x2)
    changed = (y2 - y).abs().amax(dim=(0, 1)) > 0
    want = torch.zeros(4, 6, dtype=torch.bool)
    want[2:4, 4:6] = True
    assert torch.equal(changed, want)


def test_lsm_shapes_padding_and_registry():
    spec = OPERATORS["lsm"]
    assert not spec.any_grid  # its convolutions act in grid units
    net = spec.factory(spec.config(width=8, levels=2, heads=2, projection=16), shape=OperatorShape(2, 3, (30, 30),
                       False), generator=_gen(), dtype=F64)
    assert isinstance(net, LSM) and net.padded((30, 30)) == (32, 32)  # multiple of 2^2 · 2 holding 30
    y = net(torch.randn(3, 2, 30, 30, generator=_gen(1), dtype=F64))
    assert y.shape == (3, 3, 30, 30) and torch.isfinite(y).all()
    one_d = spec.factory(spec.config(width=4, levels=3, heads=2), shape=OperatorShape(1, 1, (64,), True),
                         generator=_gen(), dtype=F64)
    assert one_d(torch.randn(2, 1, 64, dtype=F64)).shape == (2, 1, 64)
    with pytest.raises(ValueError, match="heads"):
        spec.factory(spec.config(width=6, heads=4), shape=OperatorShape(1, 1, (16,), True), generator=_gen(),
                     dtype=F64)


def test_lsm_is_deterministic_and_every_parameter_gets_a_gradient():
    kw = {"in_channels": 1, "out_channels": 1, "dim": 2, "periodic": False, "width": 4, "levels": 2, "tokens": 2,
          "basis": 3, "heads": 2, "patch": 2, "projection": 8, "padding": 0.0, "dtype": F64}
    a, b = LSM(generator=_gen(3), **kw), LSM(generator=_gen(3), **kw)
    x = torch.randn(2, 1, 8, 8, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
    a(x).square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in a.parameters())


@pytest.mark.parametrize("periodic", [True, False])
def test_difference_stencil_sums_to_zero_and_annihilates_constants(periodic):
    d = DifferenceStencil(3, stencil=3, dim=2, padding="circular" if periodic else "replicate", reference=8,
                          generator=_gen(), dtype=F64)
    torch.testing.assert_close(d.stencil().sum(dim=(2, 3)), torch.zeros(3, 3, dtype=F64), rtol=0, atol=1e-15)
    const = torch.full((1, 3, 8, 8), 2.5, dtype=F64)
    assert d(const).abs().max() < 1e-14  # round-off only: a constant has no differences, at the edges too


def test_difference_stencil_means_the_same_derivative_at_every_resolution():
    """Σ_j w̃_j f(x + jh) = h (Σ_j j w̃_j) f'(x) + O(h²); times n/n_ref the output tends to a resolution-free limit:
    the gap between grids n and 2n halves when n doubles (first order)."""
    d = DifferenceStencil(1, stencil=3, dim=1, padding="circular", reference=16, generator=_gen(), dtype=F64)

    def on(n):
        x = torch.arange(n, dtype=F64) / n
        return d(torch.sin(2 * math.pi * x)[None, None])[0, 0]

    gaps = [(on(2 * n)[::2] - on(n)).abs().max().item() for n in (16, 32, 64)]
    for coarse, fine in zip(gaps, gaps[1:], strict=False):
        assert 1.8 < coarse / fine < 2.2  # first-order convergence (ratio 2 up to O(h) corrections)


def test_local_global_mixing_is_the_quadratic_hadamard_product():
    lgm = LocalGlobalMixing(3, modes=(3, 3), kernel=1, padding="circular", fast=True, generator=_gen(), dtype=F64)
    c = torch.randn(2, 3, 8, 8, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(lgm(c), lgm.glob(c) * lgm.local(c), rtol=0, atol=0)
    with torch.no_grad():
        lgm.local.bias.zero_()
    torch.testing.assert_close(lgm(2.0 * c), 4.0 * lgm(c), rtol=1e-12, atol=1e-12)  # degree 2, like u·∇u


def test_dymixop_dyia_with_one_layer_is_the_weighted_residual():
    net = DyMixOp(in_channels=1, out_channels=1, modes=(4,), width=3, layers=1, kernel=1, stencil=3, periodic=True,
                  reference=16, generator=_gen(), dtype=F64)
    c = torch.randn(2, 3, 16, generator=_gen(1), dtype=F64)
    want = c + net.evolution[0] * torch.nn.functional.gelu(net.layers[0](c)) + net.evolution_bias
    torch.testing.assert_close(net.dyia(c), want, rtol=0, atol=1e-14)


def test_dymixop_shapes_resolutions_and_fast_path_through_the_registry():
    spec = OPERATORS["dymixop"]
    assert spec.any_grid
    shape = OperatorShape(2, 3, (16, 16), True)
    fast = spec.factory(spec.config(modes=4, width=4, layers=2), shape=shape, generator=_gen(), dtype=F64)
    ref = spec.factory(spec.config(modes=4, width=4, layers=2, fast=False), shape=shape, generator=_gen(), dtype=F64)
    x = torch.randn(2, 2, 16, 16, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(fast(x), ref(x), rtol=1e-10, atol=1e-10)  # two float64 evaluations of one map
    assert fast(torch.randn(1, 2, 32, 32, dtype=F64)).shape == (1, 3, 32, 32)
    with pytest.raises(ValueError, match="stencil"):
        spec.factory(spec.config(stencil=2), shape=shape, generator=_gen(), dtype=F64)
