"""API conformance for every name in physopt.optim.available(): build, step, state, schedulers."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

import physopt.optim as po


def _pinn_mlp(seed: int = 0) -> nn.Module:
    """The PINN use-case: a small float64 tanh MLP 2 → 20 → 20 → 20 → 1."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 20),
        nn.Tanh(),
        nn.Linear(20, 20),
        nn.Tanh(),
        nn.Linear(20, 20),
        nn.Tanh(),
        nn.Linear(20, 1),
    ).double()


def _residuals(model: nn.Module) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    x = torch.rand(128, 2, generator=g, dtype=torch.float64) * 2 - 1
    target = torch.sin(2 * x[:, :1]) + x[:, 1:] ** 2  # smooth, learnable in a few steps
    return (model(x) - target).reshape(-1) / 128**0.5  # ||r||^2 is the mean square below


def _loss(model: nn.Module) -> torch.Tensor:
    return _residuals(model).square().sum()


# Learning rates that make every optimizer move the PINN MLP in a few steps.
LR = {"sgd": 0.1, "sgdp": 0.1, "lbfgs": 1.0, "ssbfgs": 1.0, "ssbroyden": 1.0}


# Optimizer classes whose closure returns the residual vector (spec ``needs_residuals``).
LEAST_SQUARES = tuple(po.spec(n).factory for n in po.available() if po.spec(n).needs_residuals)


def _lr(name: str) -> float:
    return LR.get(name, 1e-2)


def _run(
    model: nn.Module, opt: torch.optim.Optimizer, steps: int, closure: bool = False
) -> list[float]:
    """The PINN loop: ``loss.backward(); opt.step()`` (or ``opt.step(closure)`` for the
    quasi-Newton entries whose spec says ``needs_closure``)."""
    losses = []
    residuals = isinstance(opt, LEAST_SQUARES)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        if residuals:  # least-squares optimizers (ENGD): the closure returns the residual vector
            losses.append(float(opt.step(lambda: _residuals(model))))
            continue
        if closure:

            def evaluate() -> torch.Tensor:
                opt.zero_grad(set_to_none=True)
                loss = _loss(model)
                loss.backward()
                return loss

            losses.append(float(opt.step(evaluate)))
            continue
        loss = _loss(model)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# Names this package owns and tests fully; closure-based entries (quasi-Newton, another module)
# get the build/train/resume tests here and their own validation tests elsewhere.
STEP_NAMES = [n for n in po.available() if not po.spec(n).needs_closure]


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_public_names_resolve():
    for name in po.__all__:
        assert getattr(po, name) is not None
    assert {"muon", "adamp", "sgdp", "adam", "adamw", "sgd"} <= set(po.available())
    assert po.available() == sorted(po.available())


@pytest.mark.parametrize("name", po.available())
def test_every_name_trains_a_float64_pinn_mlp(name):
    model = _pinn_mlp()
    opt = po.build(name, model, lr=_lr(name))
    assert isinstance(opt, torch.optim.Optimizer)
    losses = _run(model, opt, 30, closure=po.spec(name).needs_closure)
    assert all(torch.isfinite(torch.tensor(losses)))
    # Each optimizer must reduce this smooth regression loss within 30 steps; 0.9 leaves room for
    # slow starters (sgd) while catching an optimizer that does not step at all.
    assert min(losses[1:]) < 0.9 * losses[0], losses
    assert all(p.dtype == torch.float64 for p in model.parameters())
    for state in opt.state.values():
        for key, value in state.items():
            # torch keeps Adam's "step" counter as a float32 tensor by design
            if key != "step" and torch.is_tensor(value) and value.is_floating_point():
                assert value.dtype == torch.float64


@pytest.mark.parametrize("name", po.available())
def test_save_load_continue_equals_uninterrupted(name):
    closure = po.spec(name).needs_closure
    ref_model = _pinn_mlp()
    ref_opt = po.build(name, ref_model, lr=_lr(name))
    _run(ref_model, ref_opt, 12, closure)

    model = _pinn_mlp()
    opt = po.build(name, model, lr=_lr(name))
    _run(model, opt, 5, closure)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    _run(model, opt, 3, closure)  # diverge the live objects: fails if loading did nothing

    fresh_model = _pinn_mlp(seed=123)
    fresh_model.load_state_dict(saved["model"])
    fresh_opt = po.build(name, fresh_model, lr=_lr(name))
    fresh_opt.load_state_dict(saved["opt"])
    _run(fresh_model, fresh_opt, 7, closure)
    assert torch.equal(_flat(fresh_model), _flat(ref_model))  # deterministic CPU ops: bitwise


@pytest.mark.parametrize("name", STEP_NAMES)
def test_lr_scheduler_and_zero_grad(name):
    model = _pinn_mlp()
    opt = po.build(
        name, model, lr=_lr(name), **({"adamw_lr": 1e-3} if po.spec(name).matrix else {})
    )
    initial = [g["lr"] for g in opt.param_groups]
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    _run(model, opt, 2)
    sched.step()
    _run(model, opt, 1)
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([lr / 4 for lr in initial])
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in po.available() if po.spec(n).matrix])
def test_matrix_build_makes_one_optimizer_with_tagged_groups(name):
    model = _pinn_mlp()
    opt = po.build(name, model, lr=0.02, adamw_lr=1e-3, adamw_weight_decay=0.01)
    algorithms = [g["algorithm"] for g in opt.param_groups]
    assert algorithms == [type(opt).algorithm, "adamw"]
    matrix_group, adamw_group = opt.param_groups
    # default edge_layers="adamw": the 20×2 input and 1×20 output weights go to AdamW
    assert [tuple(p.shape) for p in matrix_group["params"]] == [(20, 20), (20, 20)]
    assert len(adamw_group["params"]) == 6
    assert adamw_group["lr"] == 1e-3 and adamw_group["weight_decay"] == 0.01
    assert matrix_group["lr"] == 0.02
    every = po.build(name, model, lr=0.02, edge_layers="matrix")
    assert len(every.param_groups[0]["params"]) == 4


def test_split_rules():
    model = _pinn_mlp()
    split = po.split_parameters(model)
    assert split.matrix_names == ["2.weight", "4.weight"]
    assert "0.weight" in split.adamw_names and "6.weight" in split.adamw_names
    marked = po.split_parameters(model, adamw_params=["2.weight", model[4].weight])
    assert marked.matrix_names == []
    emb = nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 3))
    assert po.split_parameters(emb).matrix_names == ["2.weight"]  # embedding + edges → AdamW
    conv = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3), nn.Conv2d(8, 4, 3))
    assert po.split_parameters(conv).matrix_names == ["1.weight"]
    with pytest.raises(ValueError, match="no parameter named 'nope'"):
        po.split_parameters(model, adamw_params=["nope"])
    with pytest.raises(ValueError, match="edge_layers"):
        po.split_parameters(model, edge_layers="first")


# ---- bad input ------------------------------------------------------------------------------


def test_unknown_name_and_option():
    model = _pinn_mlp()
    with pytest.raises(ValueError, match="unknown optimizer 'mu0n'"):
        po.build("mu0n", model, lr=1e-2)
    with pytest.raises(TypeError, match="colour"):
        po.build("muon", model, lr=1e-2, colour="red")
    with pytest.raises(TypeError, match="colour"):
        po.build("adam", model, lr=1e-2, colour="red")


@pytest.mark.parametrize("name", STEP_NAMES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_bad_lr(name, bad):
    with pytest.raises(ValueError, match="lr"):
        po.build(name, _pinn_mlp(), lr=bad)


OWN_NAMES = [n for n in STEP_NAMES if n not in ("adam", "adamw", "sgd")]  # not torch's own


@pytest.mark.parametrize("name", OWN_NAMES)
def test_sparse_gradient_rejected(name):
    emb = nn.Embedding(6, 4, sparse=True).double()
    opt = po.build(
        name, [emb.weight], lr=1e-2, **({"edge_layers": "matrix"} if po.spec(name).matrix else {})
    )
    emb(torch.tensor([0, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        opt.step()


@pytest.mark.parametrize("name", OWN_NAMES)
def test_complex_parameter_rejected(name):
    p = nn.Parameter(torch.randn(4, 4, dtype=torch.complex128))
    with pytest.raises(TypeError, match="complex"):
        po.build(name, [p], lr=1e-2)


def test_matrix_optimizer_rejects_vector_in_matrix_group_and_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        po.Muon([nn.Parameter(torch.randn(5))])
    w = [nn.Parameter(torch.randn(4, 4))]
    with pytest.raises(ValueError, match="momentum"):
        po.Muon(w, momentum=float("nan"))
    with pytest.raises(ValueError, match="momentum"):
        po.Muon(w, momentum=1.0)
    with pytest.raises(ValueError, match="ns_steps"):
        po.Muon(w, ns_steps=-2)
    with pytest.raises(ValueError, match="adjust_lr"):
        po.Muon(w, adjust_lr="spectral")
    with pytest.raises(ValueError, match="algorithm"):
        po.Muon([{"params": w, "algorithm": "lion"}])
    with pytest.raises(ValueError, match="weight_decay"):
        po.AdamP(w, weight_decay=float("inf"))
    with pytest.raises(TypeError, match="betas"):
        po.AdamP(w, betas=0.9)


# ---- Muon specifics -------------------------------------------------------------------------


def test_batched_path_equals_reference_path_float64():
    ref_model, fast_model = _pinn_mlp(), _pinn_mlp()
    _run(ref_model, po.build("muon", ref_model, lr=0.02, batched=False, edge_layers="matrix"), 20)
    _run(fast_model, po.build("muon", fast_model, lr=0.02, batched=True, edge_layers="matrix"), 20)
    # 1e-12 relative: the stacked kernel (baddbmm) and the per-matrix one (addmm) may round
    # differently in the last bit; over 20 float64 steps that stays ~1e-14.
    a, b = _flat(fast_model), _flat(ref_model)
    assert ((a - b).norm() / b.norm()).item() <= 1e-12


def test_newton_schulz_is_actually_applied():
    """The first Muon step from zero momentum moves W by lr·ratio·NS(G): its singular values lie
    in the Newton–Schulz band, which a plain (normalised) gradient step would not satisfy."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(16, 24, dtype=torch.float64))
    before = w.detach().clone()
    opt = po.Muon([w], lr=0.1, momentum=0.0, nesterov=False)
    (w @ torch.randn(24, 5, dtype=torch.float64)).square().sum().backward()  # rank-5 gradient
    opt.step()
    s = torch.linalg.svdvals((before - w.detach()) / 0.1)
    # rank-5 gradient: 5 singular values in the Keller band [0.68, 1.21], the rest exactly ~0.
    assert s[:5].min() >= 0.68 and s[0] <= 1.21
    assert s[5:].max() < 1e-10  # NS maps the null space to 0 (float64 round-off)


def test_conv_kernel_is_flattened_to_out_by_rest():
    torch.manual_seed(0)
    kernel = nn.Parameter(torch.randn(6, 3, 3, 3, dtype=torch.float64))  # tall? 6 × 27 → wide
    flat = nn.Parameter(kernel.detach().reshape(6, 27).clone())
    grad = torch.randn(6, 3, 3, 3, dtype=torch.float64)
    kernel.grad, flat.grad = grad.clone(), grad.reshape(6, 27).clone()
    po.Muon([kernel], lr=0.1).step()
    po.Muon([flat], lr=0.1).step()
    assert torch.equal(kernel.detach().reshape(6, 27), flat.detach())
    # tall flattened kernel (out > in·kh·kw) gets the sqrt(out/rest) factor from the 2-D shape
    assert po.lr_ratio(64, 27, "original") == pytest.approx((64 / 27) ** 0.5)


@pytest.mark.parametrize("name", ["muon", "normuon", "namo", "namod", "root", "hybridauon"])
def test_gram_fast_path_follows_the_reference_trajectory_float64(name):
    """ns_method="gram"/"auto" is the same map as "standard" in exact arithmetic."""
    ref_model, fast_model = _pinn_mlp(), _pinn_mlp()
    kw = dict(edge_layers="matrix", ns_dtype=None)
    _run(ref_model, po.build(name, ref_model, lr=0.01, ns_method="standard", **kw), 15)
    _run(fast_model, po.build(name, fast_model, lr=0.01, ns_method="gram", **kw), 15)
    a, b = _flat(fast_model), _flat(ref_model)
    # 1e-9 relative: products associated differently (~1e-15 per step), amplified along a
    # 15-step trajectory; a wrong kernel would differ at O(1e-2).
    assert ((a - b).norm() / b.norm()).item() <= 1e-9
    with pytest.raises(ValueError, match="ns_method"):
        po.build(name, _pinn_mlp(), lr=0.01, ns_method="fast")


def test_batched_mixes_stacked_small_and_streamed_large_matrices():
    """A group with small matrices (stacked) and one above STACK_MAX_NUMEL (run alone) gives the
    same float64 result as the per-matrix reference path."""
    g = torch.Generator().manual_seed(0)
    shapes = [(20, 20), (20, 20), (130, 130), (8, 30)]
    assert 130 * 130 > po.STACK_MAX_NUMEL >= 20 * 20
    results = []
    for batched in (False, True):
        params = [nn.Parameter(torch.zeros(*s, dtype=torch.float64)) for s in shapes]
        opt = po.NorMuon(params, lr=0.1, ns_dtype=None, batched=batched)
        for _ in range(3):
            for p in params:
                p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64)
            opt.step()
        results.append(torch.cat([p.detach().flatten() for p in params]))
        g.manual_seed(0)
    # 1e-12: stacked baddbmm vs per-matrix addmm may round differently in the last bit.
    torch.testing.assert_close(results[1], results[0], rtol=1e-12, atol=1e-14)
