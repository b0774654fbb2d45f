"""The Schur-complement preconditioner of method="newton": colouring, recovered J, exact S⁻¹."""

from __future__ import annotations

import torch

from physopt.constrained._schur import colored_jacobian, schur_preconditioner

D64 = torch.float64


def GEN() -> torch.Generator:  # noqa: N802 - a constant-like factory
    return torch.Generator().manual_seed(0)


def banded_jacobian(m: int = 40, n: int = 70, seed: int = 0) -> torch.Tensor:
    """A random ``m × n`` Jacobian with a band of width 3 plus a diagonal block (like ``[A, −I]``)."""
    g = torch.Generator().manual_seed(seed)
    j = torch.zeros(m, n, dtype=D64)
    for i in range(m):
        for k in range(max(0, i - 1), min(n, i + 2)):
            j[i, k] = torch.randn(1, generator=g, dtype=D64).item()
        j[i, n - m + i] = -1.0 - torch.rand(1, generator=g, dtype=D64).item()
    return j


def test_colouring_recovers_the_jacobian_exactly() -> None:
    j = banded_jacobian()
    m, n = j.shape
    pattern = colored_jacobian(lambda v: j @ v, m, n, torch.zeros(n, dtype=D64), GEN())
    # structurally orthogonal columns per colour: no row has two nonzeros of one colour
    for k in range(pattern.n_colors):
        cols = (pattern.color == k).nonzero().flatten()
        assert int((j[:, cols] != 0).sum(1).max()) <= 1
    # greedy colouring uses at most (max number of columns sharing a row with one column) + 1 colours
    # and at least the most nonzeros in a row
    nz = (j != 0).to(D64)
    conflicts = ((nz.T @ nz) > 0).sum(1) - 1
    assert int(nz.sum(1).max()) <= pattern.n_colors <= int(conflicts.max()) + 1
    values, dense = pattern.values(lambda v: j @ v, lambda w: w @ j, torch.zeros(n, dtype=D64))
    assert pattern.dense.numel() == 0 and dense.shape == (0, n)
    rebuilt = torch.zeros_like(j)
    rebuilt[pattern.rows, pattern.cols] = values
    assert torch.equal(rebuilt, j)


def test_preconditioner_applies_the_inverse_of_the_block_diagonal() -> None:
    j = banded_jacobian(m=100, n=150)  # m > block size: several blocks, coupled
    m, n = j.shape
    d = torch.linspace(0.01, 3.0, n, dtype=D64)
    pattern = colored_jacobian(lambda v: j @ v, m, n, d, GEN())
    apply = schur_preconditioner(pattern, pattern.values(lambda v: j @ v, lambda w: w @ j, d), d)
    assert apply is not None
    s = j @ torch.diag(1 / d) @ j.T
    v = torch.randn(n + m, generator=torch.Generator().manual_seed(3), dtype=D64)
    got = apply(v)
    torch.testing.assert_close(got[:n], v[:n] / d, rtol=1e-15, atol=0.0)  # one division
    # the factor is of S + 1e-12 max|S| I (the shift for rank-deficient J): against that matrix the
    # solve is exact to κ(S) eps ≈ 2e3 · 1e-16 (1e-10 leaves margin); against S itself the shift moves
    # the solution by ≈ 1e-12 κ(S) max|S| / λmax(S) ≈ 1e-8 (1e-7 allowed)
    shifted = s + 1e-12 * float(s.abs().max()) * torch.eye(m, dtype=D64)
    torch.testing.assert_close(got[n:], torch.linalg.solve(shifted, v[n:]), rtol=1e-10, atol=0.0)
    torch.testing.assert_close(got[n:], torch.linalg.solve(s, v[n:]), rtol=1e-7, atol=0.0)


def test_too_wide_a_band_is_refused(monkeypatch) -> None:
    import physopt.constrained._schur as schur

    j = banded_jacobian()
    m, n = j.shape
    d = torch.ones(n, dtype=D64)
    pattern = colored_jacobian(lambda v: j @ v, m, n, d, GEN())
    monkeypatch.setattr(schur, "_MAX_BAND_ENTRIES", 10)
    assert schur_preconditioner(pattern, pattern.values(lambda v: j @ v, lambda w: w @ j, d), d) is None


def test_dense_rows_are_kept_out_of_the_colouring() -> None:
    # a PDE-like band plus one row that touches every variable (an integral constraint f₂(x) ≤ ε)
    j = banded_jacobian(m=60, n=100)
    j[25] = torch.linspace(1.0, 2.0, 100, dtype=D64)
    m, n = j.shape
    d = torch.linspace(0.5, 2.0, n, dtype=D64)
    pattern = colored_jacobian(lambda v: j @ v, m, n, d, GEN())
    assert pattern.dense.tolist() == [25]
    assert pattern.n_colors <= 6  # the band alone, as without the dense row (a dense row would force n)
    values = pattern.values(lambda v: j @ v, lambda w: w @ j, d)
    torch.testing.assert_close(values[1][0], j[25], rtol=0.0, atol=0.0)
    apply = schur_preconditioner(pattern, values, d)
    assert apply is not None
    keep = [i for i in range(m) if i != 25]
    s = j[keep] @ torch.diag(1 / d) @ j[keep].T
    v = torch.randn(n + m, generator=torch.Generator().manual_seed(5), dtype=D64)
    got = apply(v)
    # the dense row: its own Schur entry gᵀ d⁻¹ g (coupling dropped); the rest as in the test above
    torch.testing.assert_close(got[n + 25], v[n + 25] / (j[25] ** 2 / d).sum(), rtol=1e-14, atol=0.0)
    torch.testing.assert_close(got[n:][keep], torch.linalg.solve(s, v[n:][keep]), rtol=1e-7, atol=0.0)
