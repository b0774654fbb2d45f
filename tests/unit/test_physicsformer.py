"""PhysicsFormer (model kind ``physicsformer``): the network against its definition, written out
token by token and head by head, and the registry entry."""

import math

import pytest
import torch

from physopt.config import ConfigError, build, resolve
from physopt.models import MODELS, PhysicsFormer


def _net(**kw) -> PhysicsFormer:
    options = dict(in_dim=3, out_dim=2, width=8, heads=2, layers=2, hidden=6, sequence=4, step=0.1, axis=2,
                   bounds=((0.0, -1.0, 0.0), (2.0, 1.0, 1.0)), generator=torch.Generator().manual_seed(3))
    return PhysicsFormer(**{**options, **kw})


def _wave(act, x):
    return act.w1 * torch.sin(x) + act.w2 * torch.cos(x)


def _attention(att, query, memory, heads):
    """softmax(Q Kᵀ / √d_h) V per head by explicit loops, then W_o (one point: (k, w) arrays)."""
    q, k, v = att.q(query), att.k(memory), att.v(memory)
    d = q.shape[1] // heads
    out = []
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        rows = []
        for i in range(q.shape[0]):
            s = torch.stack([q[i, cols] @ k[j, cols] / math.sqrt(d) for j in range(k.shape[0])])
            w = torch.exp(s - s.max()) / torch.exp(s - s.max()).sum()
            rows.append(sum(w[j] * v[j, cols] for j in range(k.shape[0])))
        out.append(torch.stack(rows))
    return att.o(torch.cat(out, dim=1))


def _block(b, g, memory, heads):
    a = _wave(b.act1, g)
    g = g + _attention(b.attention, a, memory if b.cross else a, heads)
    return g + b.ff2(_wave(b.act3, b.ff1(_wave(b.act2, g))))


def _definition(net: PhysicsFormer, z: torch.Tensor, *, step: float, k: int, heads: int) -> torch.Tensor:
    """The module docstring's formulas for one point ``z``."""
    lo, hi = torch.tensor([0.0, -1.0, 0.0], dtype=z.dtype), torch.tensor([2.0, 1.0, 1.0], dtype=z.dtype)
    tokens = torch.stack([z + j * step * torch.tensor([0.0, 0.0, 1.0], dtype=z.dtype) for j in range(k)])
    e = net.embed(2 * (tokens - lo) / (hi - lo) - 1)
    h = e
    for b in net.encoder:
        h = _block(b, h, None, heads)
    g = e
    for b in net.decoder:
        g = _block(b, g, h, heads)
    return net.head2(_wave(net.head_act, net.head1(g)))


def test_forward_matches_the_definition_token_by_token():
    net = _net()
    with torch.no_grad():
        for p in net.parameters():  # off the initial values (w1 = w2 = 1, zero biases) so every term counts
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel()), dtype=p.dtype))
    z = torch.tensor([[0.3, -0.2, 0.5], [1.7, 0.9, 0.05]], dtype=torch.float64)
    with torch.no_grad():
        seq = net.sequence_outputs(z)
        for i in range(len(z)):
            ref = _definition(net, z[i], step=0.1, k=4, heads=2)
            # float64 round-off of a few hundred operations: 1e-12 leaves 3 orders of margin
            assert torch.allclose(seq[i], ref, rtol=0, atol=1e-12)
        assert torch.allclose(net(z), seq[:, 0], rtol=0, atol=1e-12)  # forward is token 0


def test_pointwise_and_twice_differentiable():
    net = _net(layers=1)
    z = torch.rand(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        # Each point's prediction depends on that point alone (least-squares optimizers rely on it).
        assert torch.allclose(net(z)[2:3], net(z[2:3]), rtol=0, atol=1e-13)  # round-off only
    z.requires_grad_(True)
    # Autograd first and second derivatives (PDE residuals) agree with finite differences.
    assert torch.autograd.gradgradcheck(lambda x: net(x), (z,))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="heads must divide width"):
        _net(width=9)
    with pytest.raises(ValueError, match="axis must be an input index"):
        _net(axis=3)
    with pytest.raises(ValueError, match="step must be a finite number"):
        _net(step=0.0)
    with pytest.raises(ValueError, match="sequence must be a positive int"):
        _net(sequence=0)


def test_registered_model_kind_builds_for_time_dependent_and_steady_problems():
    assert "physicsformer" in MODELS
    cfg = resolve("burgers", overrides=["model.kind=physicsformer", "model.width=8", "model.hidden=8",
                                         "constraints=penalty"])
    net = build(cfg).model
    assert isinstance(net, PhysicsFormer) and net.offsets[1].tolist() == [0.0, 0.01]  # steps along t
    with pytest.raises(ConfigError, match="model.axis = 0"):  # steady: no time axis to guess
        build(resolve("kovasznay", overrides=["model.kind=physicsformer"]))
    net = build(resolve("kovasznay", overrides=["model.kind=physicsformer", "model.axis=0"])).model
    assert net.offsets[1].tolist() == [0.01, 0.0] and net(torch.zeros(4, 2, dtype=torch.float64)).shape == (4, 3)
