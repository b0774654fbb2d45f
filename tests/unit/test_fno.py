"""FNO and TFNO against their definitions: the spectral convolution as an explicit DFT sum, mode truncation,
resolution invariance, fast path == reference, full-rank Tucker == dense, parameter-count formulas,
determinism, gradients."""

import itertools
import math

import pytest
import torch

from physopt.models import OPERATORS, OperatorShape
from physopt.models._fno import FNO, fno_parameter_count
from physopt.models._spectral import SpectralConv, spectral_conv_fast, spectral_conv_reference
from physopt.models._tfno import TuckerWeight, cp_rank, tucker_count, tucker_ranks

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _explicit(x: torch.Tensor, w: torch.Tensor, modes: tuple[int, ...]) -> torch.Tensor:
    """y[o, j] = Re (1/N) Σ_k c_k e^{2πi k·j/n} Σ_i W[i, o, k] Σ_l x[i, l] e^{-2πi k·l/n}, over the kept
    frequencies k (0..m-1 and -m..-1 on the first axes, 0..m-1 on the last), c_k = 2 when the last
    frequency is neither 0 nor n/2 (its conjugate twin is implied by a real output), else 1."""
    b, c_in, *grid = x.shape
    d = len(grid)
    wc = torch.complex(w[0], w[1])
    axes = [list(range(m)) + list(range(-m, 0)) for m in modes[:-1]] + [list(range(modes[-1]))]
    points = torch.tensor(list(itertools.product(*(range(n) for n in grid))), dtype=F64)  # (N, d) C order
    n_vec = torch.tensor(grid, dtype=F64)
    y = torch.zeros(b, wc.shape[1], math.prod(grid), dtype=torch.complex128)
    for pos in itertools.product(*(range(len(a)) for a in axes)):
        k = torch.tensor([axes[a][p] for a, p in enumerate(pos)], dtype=F64)
        phase = torch.exp(-2j * math.pi * ((points / n_vec) @ k))  # (N,)
        xk = x.flatten(2).to(torch.complex128) @ phase  # (B, C_in)
        yk = xk @ wc[(slice(None), slice(None), *pos)]  # (B, C_out)
        c = 1.0 if k[-1] == 0 or 2 * k[-1] == grid[-1] else 2.0
        y += c * yk[:, :, None] * phase.conj()[None, None, :]
    return (y.real / math.prod(grid)).view(b, -1, *grid) if d else y.real


@pytest.mark.parametrize(("grid", "modes"), [((12,), (4,)), ((8, 6), (3, 4)), ((7, 8), (2, 5)), ((6, 4, 5), (2, 2, 2))])
def test_spectral_conv_is_the_explicit_dft_sum(grid, modes):
    conv = SpectralConv(2, 3, modes, generator=_gen(), dtype=F64)
    x = torch.randn(2, 2, *grid, generator=_gen(1), dtype=F64)
    want = _explicit(x, conv.weight.detach(), modes)
    for y in (spectral_conv_reference(x, conv.weight, modes), conv(x), spectral_conv_fast(x, conv.weight, modes)):
        torch.testing.assert_close(y, want, rtol=0, atol=1e-12)  # float64 round-off of O(N) sums


@pytest.mark.parametrize("fast", [True, False])
def test_frequencies_above_the_modes_map_to_zero(fast):
    n, modes = 16, (4, 3)
    j = torch.arange(n, dtype=F64) / n
    x = (torch.cos(2 * math.pi * 5 * j)[:, None] * torch.sin(2 * math.pi * 3 * j)[None, :]  # |k_1| = 5 >= 4
         + torch.cos(2 * math.pi * 7 * j)[None, :].expand(n, n))                           # k_2 = 7 >= 3
    conv = SpectralConv(1, 2, modes, generator=_gen(), dtype=F64, fast=fast)
    assert conv(x[None, None]).abs().max() < 1e-13  # round-off only
    low = torch.cos(2 * math.pi * 2 * j)[:, None] * torch.cos(2 * math.pi * 1 * j)[None, :]
    assert conv(low[None, None]).abs().max() > 1e-2  # a kept frequency does pass


@pytest.mark.parametrize("fast", [True, False])
def test_band_limited_input_gives_the_same_output_at_two_resolutions(fast):
    conv = SpectralConv(2, 2, (3, 3), generator=_gen(), dtype=F64, fast=fast)

    def field(n):
        t = torch.arange(n, dtype=F64) / n  # periodic grid: the same function sampled twice as finely
        u = torch.sin(2 * math.pi * t)[:, None] + torch.cos(2 * math.pi * 2 * t)[:, None] * torch.sin(4 * math.pi * t)
        return torch.stack([u, u.T ** 2])[None]

    coarse, fine = conv(field(12)), conv(field(24))
    torch.testing.assert_close(fine[..., ::2, ::2], coarse, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("grid", "modes"), [((16,), (6,)), ((10, 9), (3, 4)), ((4, 6), (4, 6)),
                                             ((6, 5, 8), (2, 3, 3))])
def test_fast_paths_equal_the_reference_with_gradients(grid, modes):
    conv = SpectralConv(3, 2, modes, generator=_gen(), dtype=F64)
    x = torch.randn(3, 3, *grid, generator=_gen(2), dtype=F64, requires_grad=True)
    cot = torch.randn(3, 2, *grid, generator=_gen(3), dtype=F64)
    outs = []
    for run in (lambda: spectral_conv_reference(x, conv.weight, modes), lambda: conv(x),
                lambda: spectral_conv_fast(x, conv.weight, modes)):  # reference, dense DFT, FFT + packed mixing
        y = run()
        gx, gw = torch.autograd.grad((y * cot).sum(), (x, conv.weight))
        outs.append((y, gx, gw))
    for y, gx, gw in outs[1:]:
        for got, want in zip((y, gx, gw), outs[0], strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)  # same map, float64 round-off


@pytest.mark.parametrize("fast", [True, False])
def test_gradcheck_spectral_conv(fast):
    conv = SpectralConv(2, 2, (2, 2), generator=_gen(), dtype=F64, fast=fast)
    x = torch.randn(1, 2, 5, 4, generator=_gen(1), dtype=F64, requires_grad=True)
    w = conv.weight.detach().clone().requires_grad_(True)
    fn = spectral_conv_reference if not fast else lambda x, w, m: spectral_conv_fast(x, w, m, None)
    assert torch.autograd.gradcheck(lambda x, w: fn(x, w, (2, 2)), (x, w))
    assert torch.autograd.gradcheck(lambda x: conv(x), (x,))


def _shape(grid=(16, 16), periodic=False, c_in=1, c_out=1):
    return OperatorShape(in_channels=c_in, out_channels=c_out, grid=grid, periodic=periodic)


def _build(kind, seed=0, shape=None, dtype=F64, **options):
    spec = OPERATORS[kind]
    return spec.factory(spec.config(**options), shape=shape or _shape(), generator=_gen(seed), dtype=dtype)


def test_fno_parameter_count_formula_and_any_grid():
    model = _build("fno", modes=(4, 5), width=8, layers=3, projection=16, shape=_shape(c_in=2, c_out=3))
    n = sum(p.numel() for p in model.parameters())
    assert n == fno_parameter_count(in_channels=2, out_channels=3, modes=(4, 5), width=8, layers=3, projection=16)
    # the benchmark's configuration: neuraloperator's n_modes=(8, 8), width 24 keeps the same frequencies
    assert fno_parameter_count(in_channels=1, out_channels=1, modes=(4, 5), width=24, layers=4,
                               projection=128) == 190_145
    for grid in ((16, 16), (32, 24), (6, 6)):  # zero-shot grids, also coarser than the modes
        a = torch.randn(2, 2, *grid, generator=_gen(1), dtype=F64)
        assert model(a).shape == (2, 3, *grid)
    for dim in (1, 3):
        m = _build("fno", modes=2, width=4, layers=1, projection=4, shape=_shape(grid=(8,) * dim))
        assert m(torch.zeros(1, 1, *(8,) * dim, dtype=F64)).shape == (1, 1, *(8,) * dim)


def test_fno_padding_crops_back_and_changes_the_map():
    plain = _build("fno", modes=3, width=4, layers=2, projection=4)
    padded = _build("fno", modes=3, width=4, layers=2, projection=4, padding=0.25)
    a = torch.randn(2, 1, 16, 16, generator=_gen(1), dtype=F64)
    assert padded(a).shape == (2, 1, 16, 16)
    assert not torch.allclose(plain(a), padded(a))


def test_build_is_deterministic_and_uses_no_global_rng():
    state = torch.random.get_rng_state()
    for kind, extra in (("fno", {}), ("tfno", {"rank": 0.2}), ("tfno", {"factorization": "cp", "rank": 3})):
        one, two, other = (_build(kind, seed=s, modes=3, width=4, layers=2, projection=4, **extra) for s in (0, 0, 1))
        for p, q in zip(one.parameters(), two.parameters(), strict=True):
            assert torch.equal(p, q)
        assert any(not torch.equal(p, r) for p, r in zip(one.parameters(), other.parameters(), strict=True))
        assert all(p.dtype == F64 for p in one.parameters())
    assert torch.equal(torch.random.get_rng_state(), state)


def test_forward_makes_no_cpu_tensor_on_another_device():
    for kind in ("fno", "tfno"):
        model = _build(kind, modes=3, width=4, layers=2, projection=4, padding=0.25, dtype=torch.float32).to("meta")
        out = model(torch.empty(2, 1, 12, 10, device="meta"))  # a CPU tensor in forward would fail to mix here
        assert out.device.type == "meta" and out.shape == (2, 1, 12, 10)


def test_full_rank_tucker_reproduces_a_dense_fno():
    dense = _build("fno", modes=(2, 3), width=4, layers=2, projection=5)
    tucker = _build("tfno", modes=(2, 3), width=4, layers=2, projection=5, rank=100)  # int rank >= every size
    state = {k: v for k, v in dense.state_dict().items() if not k.startswith("spectral")}
    tucker.load_state_dict(state, strict=False)
    with torch.no_grad():
        for conv_t, conv_d in zip(tucker.spectral, dense.spectral, strict=True):
            w = conv_t.factorised
            assert w.ranks == w.shape == (4, 4, 4, 3)
            for u in w.factors:
                u.copy_(torch.eye(u.shape[0], dtype=F64))
            w.core.copy_(conv_d.weight)
            assert torch.equal(conv_t.dense_weight(), conv_d.weight)  # exact: identity factors
    a = torch.randn(3, 1, 16, 16, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(tucker(a), dense(a), rtol=0, atol=1e-13)


def test_factorised_parameter_counts_and_init_scale():
    shape = (24, 24, 8, 5)
    ranks = tucker_ranks(shape, 0.1)
    assert tucker_count(shape, ranks) <= 0.1 * 2 * math.prod(shape) < tucker_count(shape, tuple(r + 1 for r in ranks))
    for factorization, rank, spectral in (("tucker", 0.1, lambda: tucker_count(shape, ranks)),
                                          ("cp", 0.05, lambda: cp_rank(shape, 0.05) * (2 + sum(shape)))):
        model = _build("tfno", modes=(4, 5), width=24, layers=2, projection=16, factorization=factorization, rank=rank)
        dense = fno_parameter_count(in_channels=1, out_channels=1, modes=(4, 5), width=24, layers=2, projection=16)
        assert sum(p.numel() for p in model.parameters()) == dense - 2 * (2 * math.prod(shape)) + 2 * spectral()
        w = torch.stack([c.dense_weight() for c in model.spectral])
        # FNO's per-part variance 1/(C_in + C_out); ~2e4 entries: the sample std is within a few per cent
        assert abs(w.std().item() / math.sqrt(1 / 48) - 1) < 0.1
    assert isinstance(_build("tfno", modes=2, width=4, layers=1, projection=4).spectral[0].factorised, TuckerWeight)


@pytest.mark.parametrize(("kind", "options", "match"), [
    ("fno", {"modes": (3,)}, "modes"), ("fno", {"modes": 0}, "modes"), ("fno", {"width": 0}, "width"),
    ("fno", {"padding": 2.0}, "padding"), ("tfno", {"rank": 0.0}, "rank"), ("tfno", {"rank": True}, "rank"),
    ("tfno", {"factorization": "tt"}, "factorization")])
def test_bad_options_are_named(kind, options, match):
    with pytest.raises(ValueError, match=match):
        _build(kind, **options)


def test_wrong_input_rank_is_named():
    with pytest.raises(ValueError, match="grid axes"):
        _build("fno", modes=2, width=4, layers=1, projection=4)(torch.zeros(1, 1, 8, dtype=F64))


def test_fno_is_a_plain_module():
    assert isinstance(_build("fno", modes=2, width=4, layers=1, projection=4), FNO)
