"""Duals.lagrangian + Duals.update reproduce Duals.step bit for bit; lagrangian alone changes nothing."""

import torch

from physopt.constrained import Constraint, Duals, NuPI

D = torch.float64


def _duals() -> Duals:
    return Duals(
        {"h": Constraint("eq", multiplier="pointwise"),
         "g": Constraint("ineq", dual=NuPI(lr=0.3, kp=0.5), formulation="lagrangian")},
        formulation="alm",
    )


def test_lagrangian_then_update_equals_step() -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = _duals(), _duals()
    for _ in range(5):
        x = torch.randn(4, generator=gen, dtype=D, requires_grad=True)
        values = {"h": x[:3] - 0.2, "g": x[3:].sum() - 0.1}
        f = (x**2).sum()
        one = a.step(f, values)
        two = b.lagrangian(f, values)
        b.update(values)
        assert torch.equal(one, two)
        ga, = torch.autograd.grad(one, x, retain_graph=True)
        gb, = torch.autograd.grad(two, x)
        assert torch.equal(ga, gb)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["steps"] == sb["steps"] == 5
    for k in ("h", "g"):
        assert torch.equal(sa["constraints"][k]["multiplier"], sb["constraints"][k]["multiplier"])
        assert sa["constraints"][k]["penalty"] == sb["constraints"][k]["penalty"]


def test_lagrangian_holds_multipliers_fixed() -> None:
    duals = _duals()
    x = torch.tensor([0.5, -0.3, 0.1, 0.4], dtype=D)
    values = {"h": x[:3], "g": x[3:].sum()}
    duals.update(values)
    before = duals.state_dict()
    first = duals.lagrangian(torch.zeros((), dtype=D), values)
    second = duals.lagrangian(torch.zeros((), dtype=D), values)
    assert torch.equal(first, second)  # the same function at every evaluation
    after = duals.state_dict()
    assert after["steps"] == before["steps"] == 1
    for k in ("h", "g"):
        assert torch.equal(after["constraints"][k]["multiplier"], before["constraints"][k]["multiplier"])
    # The multipliers are not zero, so the Lagrangian really uses them: λ·h + ρ/2 h² with λ = ρh.
    lam = before["constraints"]["h"]["multiplier"]
    assert lam.abs().min() > 0
