"""Drop-in keyword compatibility: code written for torch.optim.Muon / adamp / the SOAP authors'
class runs unchanged on the physopt class of the same name."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

from physopt.optim import SGDP, SOAP, AdamP, Muon

STEPS = 8


def _matrices(dtype: torch.dtype) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(r, c, generator=g, dtype=dtype)) for r, c in ((6, 4), (4, 9), (5, 5))]


def _run(make: type, params: list[torch.nn.Parameter], **kw) -> torch.Tensor:
    opt = make(params, **kw)
    g = torch.Generator().manual_seed(1)
    targets = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params]
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        sum(((p - t) ** 3).square().sum() for p, t in zip(params, targets, strict=True)).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in params])


TORCH_KW = [
    dict(lr=0.02, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
         eps=1e-7, ns_steps=5, adjust_lr_fn=None),
    dict(lr=0.01, weight_decay=0.0, momentum=0.9, nesterov=False, ns_coefficients=(3.0, -3.2, 1.2),
         eps=1e-6, ns_steps=3, adjust_lr_fn="original"),
    dict(lr=3e-3, weight_decay=0.05, adjust_lr_fn="match_rms_adamw"),
]


@pytest.mark.skipif(not hasattr(torch.optim, "Muon"), reason="this torch has no torch.optim.Muon")
@pytest.mark.parametrize("kw", TORCH_KW)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_muon_takes_torch_keywords_and_follows_torch_trajectory(kw, dtype):
    # torch.optim.Muon always iterates in bfloat16; ours does too for float32 parameters
    # (ns_dtype="auto"), so float32 runs with *exactly* torch's keywords. For float64 our default
    # iterates in float64 (the PINN case), so the algorithms coincide only with ns_dtype=bfloat16.
    extra = {} if dtype == torch.float32 else {"ns_dtype": torch.bfloat16}
    ref = _run(torch.optim.Muon, _matrices(dtype), **kw)
    ours = _run(Muon, _matrices(dtype), **kw, **extra)
    start = torch.cat([p.detach().flatten() for p in _matrices(dtype)])
    assert (ref - start).norm() > 1e-3 * start.norm()  # the trajectory really moved
    # Same floating-point operations in the same order: observed difference exactly 0; the
    # round-off allowance (a few ulps of the parameter dtype) only lets a future torch reorder.
    torch.testing.assert_close(ours, ref, rtol=4 * torch.finfo(dtype).eps, atol=4 * torch.finfo(dtype).eps)


def test_muon_torch_names_mean_ours():
    p = [torch.nn.Parameter(torch.zeros(3, 4))]
    group = Muon(p, ns_coefficients=(3.0, -3.2, 1.2), eps=1e-5, adjust_lr_fn="match_rms_adamw").param_groups[0]
    assert group["ns_coeffs"] == (3.0, -3.2, 1.2) and group["ns_eps"] == 1e-5
    assert group["adjust_lr"] == "match_rms_adamw"
    assert Muon(p, adjust_lr_fn=None).param_groups[0]["adjust_lr"] == "original"  # torch: None is "original"
    assert not {"ns_coefficients", "eps", "adjust_lr_fn"} & set(group)  # group keys stay ours


@pytest.mark.parametrize(
    ("alias", "ours"), [("adjust_lr_fn", "adjust_lr"), ("ns_coefficients", "ns_coeffs"), ("eps", "ns_eps")]
)
def test_muon_refuses_a_torch_name_and_ours_together(alias, ours):
    p = [torch.nn.Parameter(torch.zeros(3, 4))]
    value = dict(adjust_lr_fn="original", adjust_lr="original", ns_coefficients=(3.4445, -4.775, 2.0315),
                 ns_coeffs=(3.4445, -4.775, 2.0315), eps=1e-7, ns_eps=1e-7)
    with pytest.raises(ValueError, match=f"{alias}=.*{ours}="):
        Muon(p, **{alias: value[alias], ours: value[ours]})


def test_muon_refuses_adjust_lr_fn_values_torch_refuses():
    with pytest.raises(ValueError, match="adjust_lr_fn.*'none'"):
        Muon([torch.nn.Parameter(torch.zeros(3, 4))], adjust_lr_fn="none")


@pytest.mark.skipif(not hasattr(torch.optim, "Muon"), reason="this torch has no torch.optim.Muon")
def test_every_torch_muon_keyword_is_accepted():
    torch_names = set(inspect.signature(torch.optim.Muon).parameters) - {"params"}
    ours = set(inspect.signature(Muon).parameters) | set(Muon.peer_keywords)
    assert torch_names <= ours, torch_names - ours


@pytest.mark.parametrize(("ours", "peer_name"), [(AdamP, "AdamP"), (SGDP, "SGDP")])
def test_adamp_package_keywords_are_ours(ours, peer_name):
    adamp = pytest.importorskip("adamp", reason="test extra: pip install --no-deps adamp")
    peer = set(inspect.signature(getattr(adamp, peer_name)).parameters) - {"params", "self"}
    assert peer <= set(inspect.signature(ours).parameters), peer - set(inspect.signature(ours).parameters)


def test_soap_takes_the_authors_extra_options_at_the_values_we_implement():
    p = [torch.nn.Parameter(torch.zeros(3, 4))]
    SOAP(p, merge_dims=False, normalize_grads=False, correct_bias=True, data_format="channels_first")
    for key, bad in (("merge_dims", True), ("normalize_grads", True), ("correct_bias", False),
                     ("data_format", "channels_last")):
        with pytest.raises(ValueError, match=f"{key}={bad!r} is not provided"):
            SOAP(p, **{key: bad})
    assert set(SOAP(p).param_groups[0]) - {"params"} == set(inspect.signature(SOAP).parameters) - {"params"}


def test_docs_keyword_compatibility_example_runs():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "optim.md").read_text()
    block = doc.split("### Keyword compatibility", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "docs/optim.md:keyword-compatibility", "exec"), {})  # noqa: S102 - the block asserts
