"""FISMO: a literal transcription of its update rule, the reduction to Muon, the factor algebra,
scale invariance, resume, param groups, dtypes and bad hyperparameters."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch import nn

import physopt.optim as po
from physopt.optim import newton_schulz
from physopt.optim._fismo import fisher_factor_update, inverse_roots

SHAPES = [(12, 12), (8, 20), (20, 8), (4, 3, 2, 2)]  # square, wide, tall, conv (→ 4×12)


def _problem(seed: int = 0, steps: int = 8):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES]
    grads = [
        [torch.randn(*s, generator=g, dtype=torch.float64) for s in SHAPES] for _ in range(steps)
    ]
    return params, grads


def _run(opt_cls, params0, grads_seq, **kw):
    params = [nn.Parameter(p.clone()) for p in params0]
    opt = opt_cls(params, **kw)
    for grads in grads_seq:
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
    return [p.detach() for p in params], opt


def _factor_ref(factor, stat, decay, damping):
    d = factor.shape[0]
    s_hat = d * stat / torch.trace(stat)
    mixed = decay * factor + (1 - decay) * (
        s_hat + damping * torch.trace(factor) / d * torch.eye(d)
    )
    mixed = d * mixed / torch.trace(mixed)
    return (mixed + mixed.T) / 2


def _inv_pow(a, power):
    vals, vecs = torch.linalg.eigh(a)
    return vecs @ torch.diag(vals**power) @ vecs.T


def test_matches_transcribed_update_rule_float64():
    """Eight steps against the rule written out with eigh-based matrix powers (frequency 1)."""
    params0, grads = _problem()
    lr, beta, wd, gamma, mu = 0.02, 0.9, 0.1, 0.8, 0.05
    ref = []
    for w, gs in zip(params0, zip(*grads, strict=True), strict=True):
        w = w.clone()
        rows, cols = w.shape[0], w[0].numel()
        P, Q = torch.eye(rows, dtype=w.dtype), torch.eye(cols, dtype=w.dtype)
        m = torch.zeros(rows, cols, dtype=w.dtype)
        for g in gs:
            g = g.reshape(rows, cols)
            P = _factor_ref(P, g @ _inv_pow(Q, -1) @ g.T, gamma, mu)
            Q = _factor_ref(Q, g.T @ _inv_pow(P, -1) @ g, gamma, mu)
            gw = _inv_pow(P, -0.5) @ g @ _inv_pow(Q, -0.5)
            m = beta * m + (1 - beta) * gw
            u = (1 - beta) * gw + beta * m
            o = _inv_pow(P, -0.5) @ newton_schulz(u) @ _inv_pow(Q, -0.5)
            w = w * (1 - lr * wd) - lr * math.sqrt(max(1, rows / cols)) * o.reshape(w.shape)
        ref.append(w)
    ours, _ = _run(
        po.FISMO,
        params0,
        grads,
        lr=lr,
        momentum=beta,
        weight_decay=wd,
        factor_decay=gamma,
        damping=mu,
        ns_dtype=None,
    )
    for a, b in zip(ours, ref, strict=True):
        # 1e-10: same float64 maths, but eigh-based powers vs our cached inverse/roots and a
        # different association of products; O(1) quantities over 8 steps.
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_identity_factors_reproduce_muon_bit_for_bit(dtype):
    """Before the first refresh of the inverse roots — or with the factors switched off by
    max_precond_dim=0 — FISMO skips the identity maps and *is* Muon."""
    params0, grads = _problem()
    params0 = [p.to(dtype) for p in params0]
    grads = [[g.to(dtype) for g in gs] for gs in grads]
    muon, _ = _run(po.Muon, params0, grads, lr=0.03, weight_decay=0.1)
    never, _ = _run(
        po.FISMO, params0, grads, lr=0.03, weight_decay=0.1, precondition_frequency=10**9
    )
    off, opt = _run(po.FISMO, params0, grads, lr=0.03, weight_decay=0.1, max_precond_dim=0)
    for a, b, c in zip(muon, never, off, strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)
    assert all("left_factor" not in s for s in opt.state.values())
    # ... and with factors on and refreshed, it is not Muon (the preconditioner does something)
    fismo, _ = _run(po.FISMO, params0, grads, lr=0.03, weight_decay=0.1)
    assert min((a - b).norm().item() for a, b in zip(muon, fismo, strict=True)) > 1e-3


def test_first_refresh_happens_at_the_frequency():
    params0, grads = _problem(steps=5)
    _, opt = _run(po.FISMO, params0, grads[:4], precondition_frequency=5)
    assert all("left_root" not in s for s in opt.state.values())
    _, opt = _run(po.FISMO, params0, grads, precondition_frequency=5)
    assert all("left_root" in s and "right_root" in s for s in opt.state.values())


def test_factor_update_is_trace_normalised_symmetric_and_positive_definite():
    g = torch.Generator().manual_seed(1)
    factor = torch.eye(6, dtype=torch.float64)
    for _ in range(20):
        x = torch.randn(6, 2, generator=g, dtype=torch.float64)  # rank-2 statistic
        factor = fisher_factor_update(factor, x @ x.T, decay=0.9, damping=0.01)
    assert torch.trace(factor).item() == pytest.approx(6.0, rel=1e-12)  # trace kept = size
    assert torch.equal(factor, factor.T)
    # damping keeps every eigenvalue at least (1−γ)·μ·(size/trace of the mix) > 0
    assert torch.linalg.eigvalsh(factor).min().item() > 1e-4
    # a zero statistic (zero gradient) only adds the damping: identity stays identity
    eye = torch.eye(4, dtype=torch.float64)
    torch.testing.assert_close(
        fisher_factor_update(eye, torch.zeros(4, 4, dtype=torch.float64), decay=0.9, damping=0.1),
        eye,
        rtol=0,
        atol=1e-15,  # exact arithmetic up to one rounding of the trace rescale
    )


def test_inverse_roots_are_inverse_and_inverse_square_root():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(7, 7, generator=g, dtype=torch.float64)
    spd = a @ a.T + 0.1 * torch.eye(7, dtype=torch.float64)
    inv, root = inverse_roots(spd)
    eye = torch.eye(7, dtype=torch.float64)
    # 1e-10: cond(spd) ≈ 1e3, so eigh-based inverses carry ~1e-13 relative error.
    torch.testing.assert_close(inv @ spd, eye, rtol=0, atol=1e-10)
    torch.testing.assert_close(root @ root, inv, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(root, root.T, rtol=0, atol=1e-12)
    inv32, _ = inverse_roots(spd.float())
    assert inv32.dtype == torch.float32


def test_invariant_to_gradient_scale():
    """Muon's update ignores the gradient's scale; trace-normalising the factor statistics keeps
    that true for FISMO (the raw-statistic EMA would not)."""
    params0, grads = _problem()
    small = [[1e-4 * g for g in gs] for gs in grads]
    a, _ = _run(po.FISMO, params0, grads, ns_dtype=None)
    b, _ = _run(po.FISMO, params0, small, ns_dtype=None)
    for x, y in zip(a, b, strict=True):
        # 1e-9: the scale enters only through rounding of traces and norms (~1e-15 per step),
        # amplified through the inverse roots; a scale-dependent rule differs at O(1e-2).
        torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-9)


def test_state_dict_save_load_continue_is_bit_identical():
    params0, grads = _problem(steps=10)
    ref, _ = _run(po.FISMO, params0, grads, precondition_frequency=3)
    params = [nn.Parameter(p.clone()) for p in params0]
    opt = po.FISMO(params, precondition_frequency=3)
    for gs in grads[:4]:
        for p, g in zip(params, gs, strict=True):
            p.grad = g.clone()
        opt.step()
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    fresh = [nn.Parameter(p.detach().clone()) for p in params]
    opt2 = po.FISMO(fresh, precondition_frequency=3)
    opt2.load_state_dict(torch.load(buffer, weights_only=True))
    for gs in grads[4:]:
        for p, g in zip(fresh, gs, strict=True):
            p.grad = g.clone()
        opt2.step()
    for a, b in zip(fresh, ref, strict=True):
        assert torch.equal(a.detach(), b)


def test_param_groups_and_float32_state():
    torch.manual_seed(0)
    a, b = nn.Parameter(torch.randn(6, 5)), nn.Parameter(torch.randn(5, 6))
    bias = nn.Parameter(torch.randn(6))
    opt = po.FISMO(
        [
            {"params": [a]},
            {"params": [b], "damping": 0.5, "lr": 0.0},
            {"params": [bias], "algorithm": "adamw", "lr": 1e-3},
        ],
        lr=0.02,
    )
    b0 = b.detach().clone()
    for _ in range(3):
        (a.sum() + (b @ a).square().sum() + bias.sum()).backward()
        opt.step()
        opt.zero_grad()
    assert torch.equal(b.detach(), b0)  # lr 0 group untouched
    assert opt.param_groups[1]["damping"] == 0.5 and opt.param_groups[0]["damping"] == 1.0
    state = opt.state[a]
    assert a.dtype == torch.float32 and state["left_factor"].dtype == torch.float32
    assert all(torch.isfinite(t).all() for t in state.values() if torch.is_tensor(t))
    assert "exp_avg" in opt.state[bias]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("factor_decay", 1.0),
        ("factor_decay", -0.1),
        ("damping", 0.0),
        ("damping", float("nan")),
        ("precondition_frequency", 0),
        ("precondition_frequency", 2.5),
        ("max_precond_dim", -1),
        ("momentum", 1.0),
        ("ns_steps", -1),
        ("lr", -1.0),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(key, value):
    with pytest.raises(ValueError, match=key):
        po.FISMO([nn.Parameter(torch.randn(4, 4))], **{key: value})


def test_batched_path_equals_per_matrix_path_float64():
    """Stacking same-shape matrices for Newton–Schulz (batched=True) only changes the kernel."""
    params0, grads = _problem()
    params0, grads = params0 + params0[:1], [gs + gs[:1] for gs in grads]  # two 12×12 to stack
    a, _ = _run(po.FISMO, params0, grads, batched=True, ns_dtype=None)
    b, _ = _run(po.FISMO, params0, grads, batched=False, ns_dtype=None)
    for x, y in zip(a, b, strict=True):
        # 1e-12: baddbmm vs addmm may round differently in the last bit over 8 float64 steps.
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)


def test_channels_last_conv_kernel_keeps_its_momentum():
    """A channels-last kernel's momentum buffer is not a view of its (out, rest) matrix; the EMA
    must still accumulate (same trajectory as the contiguous kernel)."""
    g = torch.Generator().manual_seed(8)
    w0 = torch.randn(6, 3, 2, 2, generator=g, dtype=torch.float64)
    grads = [torch.randn(6, 3, 2, 2, generator=g, dtype=torch.float64) for _ in range(4)]
    out = []
    for fmt in (torch.contiguous_format, torch.channels_last):
        w = nn.Parameter(w0.clone().to(memory_format=fmt))
        opt = po.FISMO([w], ns_dtype=None)
        for grad in grads:
            w.grad = grad.clone().to(memory_format=fmt)
            opt.step()
        out.append(w.detach().contiguous())
    torch.testing.assert_close(out[1], out[0], rtol=1e-12, atol=1e-12)  # same float64 ops
