"""MG-TFNO against its definition: patches with pooled context windows, stitching, reduction to a TFNO."""

import pytest
import torch
from torch.nn import functional as F

from physopt.models import OPERATORS, OperatorShape
from physopt.models._fno import FNO
from physopt.models._mgtfno import multigrid_patches, stitch_patches
from physopt.models._tfno import spectral_factorisation

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("grid", "patches", "margins"), [((12,), (3,), (1,)), ((16, 12), (2, 3), (2, 1)),
                                                          ((8, 4, 6), (2, 1, 3), (1, 1, 0))])
def test_level_zero_patches_stitch_back_to_the_input(grid, patches, margins):
    x = torch.randn(2, 3, *grid, generator=_gen(), dtype=F64)
    overlap = margins[0] / (grid[0] // patches[0])
    for periodic in (True, False):
        h = multigrid_patches(x, patches=patches, levels=1, overlap=overlap, periodic=periodic)
        level0 = h.view(h.shape[0], 3, 2, *h.shape[2:])[:, :, 0]
        assert torch.equal(stitch_patches(level0, batch=2, patches=patches, margins=margins), x)


@pytest.mark.parametrize("periodic", [True, False])
def test_context_levels_are_pooled_neighbourhoods(periodic):
    n, p, e, levels = 16, 2, 2, 2
    s, size = n // p, n // p + 2 * e
    x = torch.randn(1, 1, n, n, generator=_gen(1), dtype=F64)
    big = 3 * n  # pad far enough for the widest window, the way the data continues past the boundary
    padded = F.pad(x, (big,) * 4, mode="circular" if periodic else "replicate") if not periodic \
        else x.repeat(1, 1, 7, 7)[..., 3 * n - big:, 3 * n - big:]
    h = multigrid_patches(x, patches=(p, p), levels=levels, overlap=e / s, periodic=periodic)
    assert h.shape == (p * p, levels + 1, size, size)
    for lv in range(levels + 1):
        w = size * 2 ** lv
        left = (w - s) // 2
        for i in range(p):
            for j in range(p):
                r0, c0 = big + i * s - left, big + j * s - left
                window = padded[..., r0:r0 + w, c0:c0 + w]
                want = F.avg_pool2d(window, 2 ** lv) if lv else window
                torch.testing.assert_close(h[i * p + j, lv], want[0, 0], rtol=0, atol=1e-14)  # means of 4^l values


def _build(seed=0, grid=(16, 16), periodic=False, **options):
    spec = OPERATORS["mgtfno"]
    shape = OperatorShape(in_channels=1, out_channels=2, grid=grid, periodic=periodic)
    return spec.factory(spec.config(**options), shape=shape, generator=_gen(seed), dtype=F64)


def test_one_patch_without_context_is_the_tfno():
    mg = _build(modes=3, width=4, layers=2, projection=5, patches=1, levels=0, overlap=0.0, rank=0.5)
    tfno = FNO(in_channels=1, out_channels=2, modes=(3, 3), width=4, layers=2, projection=5, padding=0.0,
               periodic=False, generator=_gen(5), dtype=F64, spectral_weight=spectral_factorisation("tucker", 0.5))
    tfno.load_state_dict(mg.inner.state_dict())
    a = torch.randn(2, 1, 16, 16, generator=_gen(1), dtype=F64)
    torch.testing.assert_close(mg(a), tfno(a), rtol=0, atol=1e-14)  # same ops in the same order


def test_other_resolutions_parameter_count_and_bad_grids():
    mg = _build(modes=3, width=4, layers=2, projection=5, patches=2, levels=2, rank=0.5)
    inner = FNO(in_channels=(1 + 2) * 3, out_channels=2, modes=(3, 3), width=4, layers=2, projection=5,
                padding=0.0, periodic=False, generator=_gen(), dtype=F64, positional=False,
                spectral_weight=spectral_factorisation("tucker", 0.5))
    assert sum(p.numel() for p in mg.parameters()) == sum(p.numel() for p in inner.parameters())
    for grid in ((16, 16), (32, 32), (8, 24)):
        assert mg(torch.randn(1, 1, *grid, generator=_gen(1), dtype=F64)).shape == (1, 2, *grid)
    with pytest.raises(ValueError, match="divisible by the patches"):
        mg(torch.zeros(1, 1, 15, 16, dtype=F64))
    with pytest.raises(ValueError, match="patches"):
        _build(patches=3)
    with pytest.raises(ValueError, match="levels"):
        _build(levels=-1)
    with pytest.raises(ValueError, match="overlap"):
        _build(overlap=0.9)
    m1 = _build(grid=(32,), periodic=True, modes=4, width=4, layers=1, projection=4, patches=4, levels=1)
    assert m1(torch.randn(3, 1, 64, generator=_gen(2), dtype=F64)).shape == (3, 2, 64)


def test_mgtfno_forward_stays_on_the_input_device():
    mg = _build(modes=3, width=4, layers=1, projection=4).to(device="meta", dtype=torch.float32)
    assert mg(torch.empty(2, 1, 16, 16, device="meta")).device.type == "meta"
