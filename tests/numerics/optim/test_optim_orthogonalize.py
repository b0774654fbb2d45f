"""Newton–Schulz against the exact (SVD) polar factor: singular-value bands, stacks, dtypes."""

from __future__ import annotations

import pytest
import torch

from physopt.optim import (
    KELLER_COEFFS,
    POLAR_EXPRESS_COEFFS,
    gram_newton_schulz,
    newton_schulz,
    orthogonalize,
    svd_polar,
)


def _with_spectrum(m: int, n: int, sv: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A float64 m×n matrix with the given singular values and random singular vectors."""
    g = torch.Generator().manual_seed(seed)
    U, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    k = min(m, n)
    return U[:, :k] @ torch.diag(sv) @ V[:, :k].T


def _spectrum(kind: str, k: int) -> torch.Tensor:
    if kind == "well":
        return torch.linspace(0.5, 1.0, k, dtype=torch.float64)
    return torch.logspace(-4, 0, k, dtype=torch.float64)  # log-uniform in [1e-4, 1]


def _scalar_iteration(s: torch.Tensor, coeffs, steps: int) -> torch.Tensor:
    """What NS does to each singular value: the odd quintic applied ``steps`` times."""
    for k in range(steps):
        a, b, c = coeffs[min(k, len(coeffs) - 1)]
        s = a * s + b * s**3 + c * s**5
    return s


SHAPES = [(32, 32), (16, 64), (64, 16)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["well", "ill"])
@pytest.mark.parametrize("coeffs", [(KELLER_COEFFS,), POLAR_EXPRESS_COEFFS], ids=["keller", "pe"])
def test_ns_keeps_singular_vectors_and_maps_singular_values_by_the_polynomial(shape, kind, coeffs):
    m, n = shape
    sv = _spectrum(kind, min(m, n))
    G = _with_spectrum(m, n, sv)
    Q = newton_schulz(G, steps=5, coeffs=coeffs)
    U, S, Vh = torch.linalg.svd(G, full_matrices=False)
    expected = _scalar_iteration(S / G.norm(), coeffs, 5)
    # In the singular basis of G the output must be diagonal with the scalar-iterated values.
    # 1e-10: float64 round-off of 15 matmuls on O(1) entries (~1e-14 each), with ample margin.
    torch.testing.assert_close(U.T @ Q @ Vh.T, torch.diag(expected), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_keller_band_well_conditioned(shape, dtype):
    m, n = shape
    G = _with_spectrum(m, n, _spectrum("well", min(m, n)))
    s = torch.linalg.svdvals(newton_schulz(G.to(dtype)).double())
    # Measured band (5 Keller steps, spectrum in [0.5, 1]): [0.682, 1.045] in fp32/fp64 and
    # [0.679, 1.067] in bf16. Bounds: the known Keller oscillation band [0.68, 1.21] (its fixed
    # points), widened by 0.02 for bf16 rounding (8-bit mantissa, ~15 rounded products).
    slack = 0.02 if dtype == torch.bfloat16 else 0.0
    assert s.min() >= 0.68 - slack, s.min()
    assert s.max() <= 1.21 + slack, s.max()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_keller_band_ill_conditioned(shape, dtype):
    """Log-uniform spectrum in [1e-4, 1]: directions with σ ≥ 1e-2·σ_max reach the band; the
    smallest ones are amplified (slope 3.44 per step) but 5 steps cannot lift 1e-4 to ~1."""
    m, n = shape
    G = _with_spectrum(m, n, _spectrum("ill", min(m, n)))
    Q = newton_schulz(G.to(dtype)).double()
    U, S, Vh = torch.linalg.svd(G, full_matrices=False)
    d = torch.diagonal(U.T @ Q @ Vh.T)
    big = S >= 1e-2 * S.max()
    # Measured: [0.682, 1.134] fp32/fp64, [0.683, 1.134] bf16 for σ ≥ 1e-2·σ_max; same bounds as
    # the well-conditioned test (Keller band [0.68, 1.21], +0.02 for bf16 rounding).
    slack = 0.02 if dtype == torch.bfloat16 else 0.0
    assert d[big].min() >= 0.68 - slack and d[big].max() <= 1.21 + slack, (
        d[big].min(),
        d[big].max(),
    )
    # Smallest direction (σ = 1e-4): measured 0.024–0.032 (fp64), 0.0096–0.031 (bf16). Assert it
    # was amplified at least 10× its normalised input and never flipped sign.
    s_min_normalised = (S.min() / G.norm()).item()
    assert d.min() > 0
    if dtype != torch.bfloat16:  # bf16 rounding (4e-3 relative) swamps a 1e-5-sized entry
        assert d[-1] >= 10 * s_min_normalised


@pytest.mark.parametrize("shape", SHAPES)
def test_polar_express_band_is_tighter(shape):
    m, n = shape
    for kind in ("well", "ill"):
        G = _with_spectrum(m, n, _spectrum(kind, min(m, n)))
        Q = newton_schulz(G, steps=5, coeffs=POLAR_EXPRESS_COEFFS)
        U, S, Vh = torch.linalg.svd(G, full_matrices=False)
        d = torch.diagonal(U.T @ Q @ Vh.T)[S >= 1e-2 * S.max()]
        # Measured [0.859, 1.141]; Polar Express is designed for a band of about ±0.15 around 1.
        assert d.min() >= 0.85 and d.max() <= 1.15, (d.min(), d.max())


def test_many_steps_converge_to_svd_polar():
    """With convergent coefficients (classic cubic-like quintic a=15/8, b=-10/8, c=3/8) the
    iteration converges to the exact polar factor."""
    G = _with_spectrum(40, 24, torch.linspace(0.2, 1.0, 24, dtype=torch.float64))
    Q = newton_schulz(G, steps=40, coeffs=(15 / 8, -10 / 8, 3 / 8))
    # 1e-10: quadratically convergent once σ ≈ 1; 40 steps from σ ≥ 0.2/‖G‖_F ≈ 0.05 is plenty.
    torch.testing.assert_close(Q, svd_polar(G), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", [(6, 9), (9, 6), (7, 7)])
def test_stack_equals_loop_float64(shape):
    g = torch.Generator().manual_seed(1)
    S = torch.randn(2, 3, *shape, generator=g, dtype=torch.float64)
    stacked = newton_schulz(S)
    looped = torch.stack([torch.stack([newton_schulz(x) for x in row]) for row in S])
    # 1e-13: baddbmm and addmm may sum in a different order (float64 eps 2.2e-16 × O(10) terms).
    torch.testing.assert_close(stacked, looped, rtol=0, atol=1e-13)


def test_tall_is_transpose_of_wide():
    G = torch.randn(5, 11, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.equal(newton_schulz(G.T), newton_schulz(G).T)  # same ops on the same numbers


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtype_preserved_and_compute_dtype(dtype):
    G = torch.randn(8, 12, generator=torch.Generator().manual_seed(3)).to(dtype)
    assert newton_schulz(G).dtype == dtype
    assert newton_schulz(G, dtype=torch.float64).dtype == dtype
    # Computing in float64 then rounding to bf16 differs from computing in bf16 only by rounding.
    if dtype == torch.bfloat16:
        diff = (newton_schulz(G, dtype=torch.float64).double() - newton_schulz(G).double()).abs()
        assert diff.max() < 0.05  # bf16 ulp near 1 is 2^-7 ≈ 0.008; a few ulps of accumulated error


def test_zero_input_gives_zero_not_nan():
    out = newton_schulz(torch.zeros(2, 4, 3))
    assert torch.equal(out, torch.zeros(2, 4, 3))


def test_schedule_repeats_last_triple():
    G = torch.randn(6, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    a = newton_schulz(G, steps=7, coeffs=POLAR_EXPRESS_COEFFS)
    b = newton_schulz(
        G, steps=7, coeffs=list(POLAR_EXPRESS_COEFFS) + [POLAR_EXPRESS_COEFFS[-1]] * 2
    )
    assert torch.equal(a, b)


def test_bitwise_equal_to_torch_muon_kernel_in_bf16():
    ns = pytest.importorskip("torch.optim._muon")  # private torch module; skip if it moves
    kernel = getattr(ns, "_zeropower_via_newtonschulz", None)
    if kernel is None:
        pytest.skip("torch.optim._muon._zeropower_via_newtonschulz not present in this torch")
    g = torch.Generator().manual_seed(5)
    for shape in [(20, 20), (40, 20), (20, 40)]:
        G = torch.randn(*shape, generator=g, dtype=torch.float64)
        ours = newton_schulz(G, dtype=torch.bfloat16)
        assert torch.equal(ours, kernel(G, KELLER_COEFFS, 5, 1e-7).double())


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(steps=-1), ValueError),
        (dict(steps=100), ValueError),
        (dict(coeffs=(1.0, 2.0)), TypeError),
        (dict(coeffs=(1.0, float("nan"), 2.0)), ValueError),
    ],
)
def test_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        newton_schulz(torch.randn(3, 3), **kwargs)
    with pytest.raises(ValueError, match="shape"):
        newton_schulz(torch.randn(3))
    with pytest.raises(TypeError, match="complex"):
        newton_schulz(torch.randn(3, 3, dtype=torch.complex64))


# ---- Gram Newton–Schulz (fast path for rectangular matrices) ---------------------------------


@pytest.mark.parametrize("shape", [(16, 64), (64, 16), (2, 3, 12, 40), (20, 20)])
@pytest.mark.parametrize("restarts", [(), (3,), (2, 4)])
@pytest.mark.parametrize("coeffs", [KELLER_COEFFS, POLAR_EXPRESS_COEFFS], ids=["keller", "pe"])
def test_gram_equals_standard_in_float64(shape, restarts, coeffs):
    G = torch.randn(*shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    # Same polynomial map, different association of the products: in float64 the two agree to
    # round-off amplified by the iteration's slope (≤ 3.5⁵ for Keller, PE's first step ≈ 8):
    # observed ~2e-15; 1e-11 leaves room for the amplification.
    torch.testing.assert_close(
        gram_newton_schulz(G, coeffs=coeffs, restarts=restarts),
        newton_schulz(G, coeffs=coeffs),
        rtol=0,
        atol=1e-11,
    )


@pytest.mark.parametrize("kind", ["well", "ill"])
@pytest.mark.parametrize("coeffs", [KELLER_COEFFS, POLAR_EXPRESS_COEFFS], ids=["keller", "pe"])
def test_gram_band_in_bf16_matches_standard(kind, coeffs):
    """The fast path in bf16: singular values of the output (top directions, σ ≥ 1e-2·σ_max)
    stay close to the standard bf16 iteration's band, and Gram + Polar Express stays tighter
    than the standard Keller band (what torch.optim.Muon produces)."""
    m, n = 32, 128
    sv = _spectrum(kind, m)
    G = _with_spectrum(m, n, sv)
    keep = int((sv >= 1e-2 * sv.max()).sum())

    def band(out: torch.Tensor) -> tuple[float, float]:
        s = torch.linalg.svdvals(out.double())[:keep]
        return s.min().item(), s.max().item()

    std = band(newton_schulz(G.float(), coeffs=coeffs, dtype=torch.bfloat16))
    gram = band(gram_newton_schulz(G.float(), coeffs=coeffs, dtype=torch.bfloat16))
    # Measured over 32×128 … 256×1024 (restart at step 3): Keller loses ≤ 0.013 at the low end,
    # PE ≤ 0.044 (its steep first step, a = 8.2, amplifies bf16 rounding of R). Tolerances:
    # those maxima rounded up — about 2 (Keller) and 6 (PE) bf16 ulps near 1 (2^-7 ≈ 0.0078).
    tol = 0.015 if coeffs == KELLER_COEFFS else 0.05
    assert gram[0] >= std[0] - tol and gram[1] <= std[1] + tol, (std, gram)
    if coeffs != KELLER_COEFFS:
        keller = band(newton_schulz(G.float(), dtype=torch.bfloat16))

        def deviation(b: tuple[float, float]) -> float:  # max |σ − 1| over the band
            return max(1 - b[0], b[1] - 1)

        assert deviation(gram) < deviation(keller), (keller, gram)  # e.g. 0.14 vs 0.32


def test_orthogonalize_auto_picks_gram_only_for_elongated_matrices():
    g = torch.Generator().manual_seed(7)
    square = torch.randn(24, 24, generator=g)
    wide = torch.randn(12, 48, generator=g)
    out = orthogonalize(
        [square, wide],
        steps=5,
        coeffs=KELLER_COEFFS,
        eps=1e-7,
        ns_dtype=torch.bfloat16,
        batched=False,
        method="auto",
    )
    assert torch.equal(out[0], newton_schulz(square, dtype=torch.bfloat16))
    assert torch.equal(out[1], gram_newton_schulz(wide, dtype=torch.bfloat16))
    with pytest.raises(ValueError, match="method"):
        orthogonalize(
            [square],
            steps=5,
            coeffs=KELLER_COEFFS,
            eps=1e-7,
            ns_dtype=None,
            batched=False,
            method="fast",
        )
