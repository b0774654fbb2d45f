"""ARO: transcription of the update rule, orthogonal rotations, the base rule at R = I, left-rotation
equivariance, the Muon special case, resume, param groups, dtypes and bad hyperparameters."""

from __future__ import annotations

import io
import math
from functools import partial

import pytest
import torch
from torch import nn

import physopt.optim as po
from physopt.optim._aro import (
    aro_direction,
    aro_rotation,
    qr_rotation,
    row_normalize,
    sinkhorn_normalize,
)

SHAPES = [(12, 12), (8, 20), (20, 8), (4, 3, 2, 2)]  # square, wide, tall, conv (→ 4×12)


def _problem(seed: int = 0, steps: int = 8, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(*s, generator=g, dtype=dtype) for s in SHAPES]
    grads = [[torch.randn(*s, generator=g, dtype=dtype) for s in SHAPES] for _ in range(steps)]
    return params, grads


def _run(params0, grads_seq, **kw):
    params = [nn.Parameter(p.clone()) for p in params0]
    opt = po.ARO(params, **kw)
    for grads in grads_seq:
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
    return [p.detach() for p in params], opt


def _sinkhorn_ref(x, iters=5):
    m, n = x.shape
    for _ in range(iters):
        x = torch.stack([r * math.sqrt(n) / r.norm() for r in x])
        x = torch.stack([c * math.sqrt(m) / c.norm() for c in x.T]).T
    return x


def _gram_schmidt(c):
    """Q of C = QR with positive diag(R), by classical Gram–Schmidt in float64 (C invertible)."""
    cols = []
    for j in range(c.shape[1]):
        v = c[:, j].clone()
        for q in cols:
            v = v - (q @ c[:, j]) * q
        cols.append(v / v.norm())
    return torch.stack(cols, dim=1)


def test_matches_transcribed_update_rule_float64():
    params0, grads = _problem()
    lr, beta, wd = 0.05, 0.9, 0.1
    ref = []
    for w, gs in zip(params0, zip(*grads, strict=True), strict=True):
        w = w.clone()
        rows, cols = w.shape[0], w[0].numel()
        tall = rows > cols  # ARO works on the wide orientation: rotation on the short side
        short = min(rows, cols)
        rot, m = torch.eye(short, dtype=w.dtype), torch.zeros(rows, cols, dtype=w.dtype)
        for g in gs:
            m = beta * m + (1 - beta) * g.reshape(rows, cols)
            x = m.T if tall else m
            rot = _gram_schmidt(x @ _sinkhorn_ref(rot.T @ x).T)
            d = rot @ _sinkhorn_ref(rot.T @ x)
            d = d.T if tall else d
            w = w * (1 - lr * wd) - lr / math.sqrt(cols) * d.reshape(w.shape)
        ref.append(w)
    ours, _ = _run(params0, grads, lr=lr, momentum=beta, weight_decay=wd)
    for a, b in zip(ours, ref, strict=True):
        # 1e-9: Gram–Schmidt vs Householder QR of a (well-conditioned, random) C agree to
        # ~cond(C)·1e-16 per step; 8 steps of O(1) quantities.
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_rotation_stays_orthogonal(dtype):
    params0, grads = _problem(steps=30, dtype=dtype)
    _, opt = _run(params0, grads)
    # float32 rotation: Householder QR is orthogonal to ~m·eps32 ≈ 1e-6 for m ≤ 20.
    tol = 1e-12 if dtype == torch.float64 else 5e-6
    for p in opt.param_groups[0]["params"]:
        rot = opt.state[p]["rotation"]
        short = min(p.shape[0], p[0].numel())  # the rotation acts on the shorter side
        assert rot.dtype == dtype and rot.shape == (short, short)
        torch.testing.assert_close(rot.T @ rot, torch.eye(short, dtype=dtype), rtol=0, atol=tol)


def test_qr_rotation_sign_convention_and_rank_deficient_input():
    g = torch.Generator().manual_seed(3)
    c = torch.randn(6, 6, generator=g, dtype=torch.float64)
    q = qr_rotation(c)
    r = q.T @ c
    assert (r.diagonal() >= 0).all()
    torch.testing.assert_close(q, _gram_schmidt(c), rtol=0, atol=1e-12)  # well-conditioned c
    low = torch.randn(6, 1, generator=g, dtype=torch.float64) @ torch.randn(
        1, 6, generator=g, dtype=torch.float64
    )
    q = qr_rotation(low)  # rank 1: still an orthogonal matrix
    torch.testing.assert_close(q.T @ q, torch.eye(6, dtype=torch.float64), rtol=0, atol=1e-12)


@pytest.mark.parametrize("base", ["sinkhorn", "row_norm", "sign"])
def test_identity_rotation_is_the_base_rule(base):
    """rotate=False (R ≡ I): the step is momentum followed by the base map, nothing else."""
    params0, grads = _problem()
    fns = {
        "sinkhorn": _sinkhorn_ref,
        "sign": torch.sign,
        "row_norm": lambda x: torch.stack([r * math.sqrt(x.shape[1]) / r.norm() for r in x]),
    }
    ref = []
    for w, gs in zip(params0, zip(*grads, strict=True), strict=True):
        w, m = w.clone(), torch.zeros_like(w)
        rows, cols = w.shape[0], w[0].numel()
        for g in gs:
            m = 0.95 * m + 0.05 * g
            x = m.reshape(rows, cols)
            d = fns[base](x.T).T if rows > cols else fns[base](x)  # wide orientation, as ARO
            w = w - 0.02 / math.sqrt(cols) * d.reshape(w.shape)
        ref.append(w)
    ours, opt = _run(params0, grads, base=base, rotate=False)
    assert all("rotation" not in s for s in opt.state.values())
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)  # same float64 ops, reordered


@pytest.mark.parametrize("base", ["sinkhorn", "row_norm"])
def test_left_rotation_equivariance(base):
    """Gradients V·G_t with the rotation started at V (V orthogonal) give updates V·ΔW_t: ARO
    sees only the rotation-invariant content of the row space (the paper's symmetry)."""
    g = torch.Generator().manual_seed(4)
    tol = 1.5e-8  # the float64 default null threshold
    fn = partial(sinkhorn_normalize if base == "sinkhorn" else row_normalize, tol=tol)
    v = qr_rotation(torch.randn(10, 10, generator=g, dtype=torch.float64))
    rot, rot_v = torch.eye(10, dtype=torch.float64), v.clone()
    m = torch.zeros(10, 16, dtype=torch.float64)
    for _ in range(6):
        m = 0.9 * m + 0.1 * torch.randn(10, 16, generator=g, dtype=torch.float64)
        rot, rot_v = aro_rotation(m, rot, fn), aro_rotation(v @ m, rot_v, fn)
        # 1e-10: exact identity; rounding of the QR and of Sinkhorn's norms only.
        torch.testing.assert_close(rot_v, v @ rot, rtol=0, atol=1e-10)
        torch.testing.assert_close(
            aro_direction(v @ m, rot_v, fn), v @ aro_direction(m, rot, fn), rtol=0, atol=1e-10
        )
    # plain sign descent / Sinkhorn *without* rotation is not equivariant: the check can fail
    assert (fn(v @ m) - v @ fn(m)).abs().max() > 1e-2


def test_row_norm_rotation_converges_to_muon_update():
    """With f = row normalisation, iterating the rotation on a fixed M is subspace iteration on
    M Mᵀ, and R f(Rᵀ M) → sqrt(n)·U Vᵀ: Muon's (exact polar) update, the special case."""
    g = torch.Generator().manual_seed(5)
    u, _ = torch.linalg.qr(torch.randn(8, 8, generator=g, dtype=torch.float64))
    vt, _ = torch.linalg.qr(torch.randn(24, 8, generator=g, dtype=torch.float64))
    m = u @ torch.diag(torch.linspace(3.0, 1.0, 8, dtype=torch.float64)) @ vt.T  # distinct σ
    rot = torch.eye(8, dtype=torch.float64)
    fn = partial(row_normalize, tol=1.5e-8)
    for _ in range(300):  # gap σ_{i+1}²/σ_i² ≥ 0.57 → 300 steps ≈ 1e-70 contraction
        rot = aro_rotation(m, rot, fn)
    torch.testing.assert_close(
        aro_direction(m, rot, fn), math.sqrt(24) * po.svd_polar(m), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("base", ["sinkhorn", "row_norm", "sign"])
def test_rank_deficient_momentum_gives_a_rank_deficient_update(base):
    """A rank-1 gradient: the rotated momentum has rows that are zero up to QR round-off. They
    must stay zero — the update lives in the gradient's row and column spaces — not be blown up
    to full-size noise by the base map's normalisation."""
    g = torch.Generator().manual_seed(7)
    a = torch.randn(10, 1, generator=g, dtype=torch.float64)
    b = torch.randn(1, 16, generator=g, dtype=torch.float64)
    w = nn.Parameter(torch.zeros(10, 16, dtype=torch.float64))
    opt = po.ARO([w], base=base, lr=1.0, adjust_lr="none")
    for _ in range(3):
        w.grad = a @ b
        opt.step()
    s = torch.linalg.svdvals(w.detach())
    assert s[1] < 1e-8 * s[0], s  # rank 1 up to round-off (relative 1e-8 ≫ 1e-16 noise)


def test_update_rms_matches_muon_units():
    """adjust_lr modes give ARO's update the RMS Muon has with the same mode."""
    w = nn.Parameter(torch.zeros(16, 32, dtype=torch.float64))
    w.grad = torch.randn(16, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    for mode, rms in (("original", 1 / math.sqrt(32)), ("match_rms_adamw", 0.2), ("none", 1.0)):
        with torch.no_grad():
            w.zero_()
        po.ARO([w], lr=1.0, adjust_lr=mode).step()
        # Sinkhorn ends column-normalised: entry RMS exactly 1 before scaling (1e-12 round-off)
        assert w.detach().square().mean().sqrt().item() == pytest.approx(rms, rel=1e-12)


def test_state_dict_save_load_continue_is_bit_identical():
    params0, grads = _problem(steps=10)
    ref, _ = _run(params0, grads)
    params = [nn.Parameter(p.clone()) for p in params0]
    opt = po.ARO(params)
    for gs in grads[:4]:
        for p, g in zip(params, gs, strict=True):
            p.grad = g.clone()
        opt.step()
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    fresh = [nn.Parameter(p.detach().clone()) for p in params]
    opt2 = po.ARO(fresh)
    opt2.load_state_dict(torch.load(buffer, weights_only=True))
    for gs in grads[4:]:
        for p, g in zip(fresh, gs, strict=True):
            p.grad = g.clone()
        opt2.step()
    for a, b in zip(fresh, ref, strict=True):
        assert torch.equal(a.detach(), b)


def test_param_groups_float32():
    torch.manual_seed(0)
    a, b = nn.Parameter(torch.randn(6, 5)), nn.Parameter(torch.randn(5, 6))
    bias = nn.Parameter(torch.randn(6))
    opt = po.ARO(
        [
            {"params": [a]},
            {"params": [b], "base": "sign", "rotate": False},
            {"params": [bias], "algorithm": "adamw", "lr": 1e-3},
        ],
        lr=0.02,
    )
    for _ in range(3):
        (a.sum() + (b @ a).square().sum() + bias.sum()).backward()
        opt.step()
        opt.zero_grad()
    assert opt.state[a]["rotation"].dtype == torch.float32
    assert "rotation" not in opt.state[b] and "exp_avg" in opt.state[bias]
    assert all(torch.isfinite(p).all() for p in (a, b, bias))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base", "adam"),
        ("sinkhorn_iters", 0),
        ("sinkhorn_iters", 1.5),
        ("null_tol", 0.0),
        ("null_tol", 2.0),
        ("momentum", 1.0),
        ("adjust_lr", "spectral"),
        ("weight_decay", -1.0),
        ("lr", float("inf")),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(key, value):
    with pytest.raises(ValueError, match=key):
        po.ARO([nn.Parameter(torch.randn(4, 4))], **{key: value})


def test_rotate_must_be_bool():
    with pytest.raises(TypeError, match="rotate"):
        po.ARO([nn.Parameter(torch.randn(4, 4))], rotate="yes")
