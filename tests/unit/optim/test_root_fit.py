"""ROOT's shape-fitted Newton–Schulz coefficients (fit_shapes=True) against their definition."""

from __future__ import annotations

import torch

from physopt.optim import ROOT, fit_root_coeffs
from physopt.optim._newton_schulz import KELLER_COEFFS, newton_schulz
from physopt.optim._root_fit import ns_singular_error, shape_singular_values


def test_singular_value_error_equals_the_matrix_iteration_error():
    g = torch.randn(12, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u, _, vh = torch.linalg.svd(g, full_matrices=False)
    x = newton_schulz(g, coeffs=KELLER_COEFFS, steps=5, eps=0.0)
    matrix = torch.linalg.matrix_norm(x - u @ vh) ** 2 / 12
    sigma = torch.linalg.svdvals(g / torch.linalg.matrix_norm(g))
    # NS acts on singular values: the two errors agree to float64 rounding of 5 quintic steps.
    assert torch.allclose(matrix, ns_singular_error(KELLER_COEFFS, sigma, steps=5), rtol=1e-9, atol=1e-14)


def test_fitted_coefficients_beat_keller_on_held_out_matrices_of_the_shape():
    gen = torch.Generator().manual_seed(0)
    for m, n in ((64, 256), (50, 50)):
        c = fit_root_coeffs(m, n, generator=gen)
        held = shape_singular_values(m, n, samples=4, generator=gen)
        # Measured: 64×256 4.7e-2 -> 6e-9, 50×50 4.8e-2 -> 8.8e-3; a factor 3 is far below both.
        assert ns_singular_error(c, held, steps=5) < ns_singular_error(KELLER_COEFFS, held, steps=5) / 3


def test_root_fits_an_unknown_shape_once_and_keeps_it():
    w = torch.nn.Parameter(torch.randn(8, 32, generator=torch.Generator().manual_seed(1)))
    opt = ROOT([w], lr=1e-2, fit_shapes=True)
    for _ in range(2):
        w.grad = torch.randn_like(w)
        opt.step()
    table = opt.param_groups[0]["shape_coeffs"]
    assert (8, 32) in table and table[(8, 32)] != KELLER_COEFFS
    assert table[(8, 32)] == fit_root_coeffs(8, 32, samples=2, generator=torch.Generator().manual_seed(0))
    plain = ROOT([torch.nn.Parameter(torch.randn(8, 32))], lr=1e-2)
    assert (8, 32) not in plain.param_groups[0]["shape_coeffs"]
