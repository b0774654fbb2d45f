"""Jacobian sparsity from random column-class probes (``_sparsity``): exact pattern, few products."""

from __future__ import annotations

import torch

import physopt.constrained._sparsity as sparsity
from physopt.constrained._sparsity import probe_sparsity

D64 = torch.float64


def random_sparse(m: int, n: int, per_row: int, seed: int) -> torch.Tensor:
    """``m × n`` with ``per_row`` nonzeros per row at random columns; some rows sum to zero (a stencil
    ``(−1, 2, −1)``), which a probe with unit weights would miss."""
    g = torch.Generator().manual_seed(seed)
    j = torch.zeros(m, n, dtype=D64)
    for i in range(m):
        cols = torch.randperm(n, generator=g)[:per_row]
        j[i, cols] = torch.randn(per_row, generator=g, dtype=D64)
        if i % 7 == 0:
            j[i, cols[:3]] = torch.tensor([-1.0, 2.0, -1.0], dtype=D64)
    return j


def found_matrix(j: torch.Tensor, pattern: sparsity.SparsityPattern) -> torch.Tensor:
    out = torch.zeros_like(j, dtype=torch.bool)
    out[pattern.rows, pattern.cols] = True
    return out


def test_pattern_is_exact_with_far_fewer_products_than_rows() -> None:
    j = random_sparse(600, 900, 5, seed=0)
    pattern = probe_sparsity(lambda v: j @ v, 600, 900, torch.zeros(900, dtype=D64), torch.Generator().manual_seed(1))
    assert pattern is not None
    assert torch.equal(found_matrix(j, pattern), j != 0)
    assert pattern.dense.numel() == 0
    # rounds of 3·64 products; with 5 nonzeros a row is complete in a round with probability ~0.85,
    # so 600 rows need ~5 rounds (the bound 8 rounds = 1536 < 3·600 would fail for a row-by-row search)
    assert pattern.products <= 8 * 3 * 64


def test_small_n_uses_one_class_per_column() -> None:
    j = random_sparse(10, 12, 4, seed=2)
    pattern = probe_sparsity(lambda v: j @ v, 10, 12, torch.zeros(12, dtype=D64), torch.Generator().manual_seed(0))
    assert pattern is not None
    assert torch.equal(found_matrix(j, pattern), j != 0)
    assert pattern.products == 3 * 12  # one round: every class a single column


def test_dense_rows_are_reported_apart() -> None:
    j = random_sparse(200, 400, 4, seed=3)
    j[17] = torch.linspace(1.0, 2.0, 400, dtype=D64)
    pattern = probe_sparsity(lambda v: j @ v, 200, 400, torch.zeros(400, dtype=D64), torch.Generator().manual_seed(0))
    assert pattern is not None
    assert pattern.dense.tolist() == [17]
    expected = j != 0
    expected[17] = False
    assert torch.equal(found_matrix(j, pattern), expected)


def test_incomplete_rows_give_none(monkeypatch) -> None:
    # 30 nonzeros in 64 classes: a row has every entry alone in its class in one round with
    # probability ~e^(−30²/128) ≈ 1e-3, so one round cannot complete 100 rows
    monkeypatch.setattr(sparsity, "_MAX_ROUNDS", 1)
    j = random_sparse(100, 1000, 30, seed=4)
    assert probe_sparsity(lambda v: j @ v, 100, 1000, torch.zeros(1000, dtype=D64),
                          torch.Generator().manual_seed(0)) is None
