"""PhysicsFormer: an encoder–decoder attention network over a pseudo-sequence of each input point.

Barman, Chatterjee & Ray, "PhysicsFormer: An efficient and fast attention-based physics informed
neural network for solving incompressible Navier–Stokes equations" (arXiv 2601.03613, 2026), which
builds on PINNsFormer (Zhao, Ding & Prakash, ICLR 2024). Each query point ``z = (x, t)`` becomes the
pseudo-sequence

    z_j = z + j · Δ · e_a,   j = 0 .. k-1

(``a`` the time axis, ``Δ`` the step), embedded token by token, ``e_j = W z_j + b``. An encoder of
``layers`` blocks (self-attention, then a feed-forward net, each pre-activated and residual)

    h ← h + MHA(σ(h), σ(h), σ(h)),   h ← h + FF(σ(h))

feeds a decoder of ``layers`` blocks that starts again from the embedding and cross-attends to the
encoder's output, ``g ← g + MHA(σ(g), h, h)``, ``g ← g + FF(σ(g))``; a two-layer head maps each
token to the outputs. σ is PINNsFormer's wavelet ``w1 sin(·) + w2 cos(·)`` with learned ``w1, w2``.

The model returns the head of token 0 — the prediction at ``z`` itself — so it is a pointwise
function of ``z`` and every physopt loss, optimizer and autograd derivative applies unchanged; the
other tokens enter that prediction through attention. (The paper's dynamics-weighted loss over all
tokens is not implemented: physopt's condition weights apply instead.) Attention is written with
plain matrix products so second derivatives of the output (PDE residuals) work on every device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..problems import Problem, SpaceTime

__all__ = ["PhysicsFormer", "PhysicsFormerConfig", "physicsformer_for"]


@dataclass(frozen=True)
class PhysicsFormerConfig:
    """``[model] kind = "physicsformer"`` (:class:`PhysicsFormer`).

    ``sequence`` tokens ``k`` spaced ``step`` apart along input ``axis`` (``-1``: the time axis of a
    time-dependent problem; a steady problem must name one, e.g. ``axis = 0``); ``width`` the token
    size, ``heads`` attention heads, ``layers`` encoder and decoder blocks each, ``hidden`` the
    feed-forward size."""

    kind: str = "physicsformer"
    width: int = 32
    heads: int = 2
    layers: int = 1
    hidden: int = 64
    sequence: int = 5
    step: float = 1e-2
    axis: int = -1


def _linear(a: int, b: int, generator: torch.Generator | None, dtype: torch.dtype) -> nn.Linear:
    """A Glorot-normal linear layer with zero bias, drawn from ``generator`` (no global RNG)."""
    layer = nn.Linear(a, b, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=dtype) * math.sqrt(2 / (a + b)))
        layer.bias.zero_()
    return layer


class _Wavelet(nn.Module):
    """``w1 sin(x) + w2 cos(x)`` with learned scalars (PINNsFormer's activation)."""

    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.ones(1, dtype=dtype))
        self.w2 = nn.Parameter(torch.ones(1, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w1 * torch.sin(x) + self.w2 * torch.cos(x)


class _Attention(nn.Module):
    """Multi-head scaled dot-product attention ``softmax(Q Kᵀ / √d_h) V`` per head, then ``W_o``."""

    def __init__(self, width: int, heads: int, generator: torch.Generator | None, dtype: torch.dtype) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (_linear(width, width, generator, dtype) for _ in range(4))

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (n, k, w) -> (n, heads, k, w / heads)
        n, k, w = x.shape
        return x.reshape(n, k, self.heads, w // self.heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.q(query)), self._split(self.k(memory)), self._split(self.v(memory))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        return self.o((weights @ v).transpose(1, 2).reshape(query.shape))


class _Block(nn.Module):
    """``g ← g + MHA(σ(g), m, m)``, ``g ← g + FF(σ(g))`` (``m = σ(g)``: self-attention)."""

    def __init__(self, width: int, heads: int, hidden: int, *, cross: bool, generator: torch.Generator | None,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.cross = cross
        self.attention = _Attention(width, heads, generator, dtype)
        self.act1, self.act2, self.act3 = (_Wavelet(dtype) for _ in range(3))
        self.ff1, self.ff2 = _linear(width, hidden, generator, dtype), _linear(hidden, width, generator, dtype)

    def forward(self, g: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        a = self.act1(g)
        g = g + self.attention(a, memory if self.cross else a)
        return g + self.ff2(self.act3(self.ff1(self.act2(g))))


class PhysicsFormer(nn.Module):
    """The PhysicsFormer network: points ``(n, in_dim)`` → outputs ``(n, out_dim)`` (module docstring).

    Args:
        in_dim / out_dim: input and output sizes.
        width / heads / layers / hidden: token size, attention heads (dividing ``width``), encoder and
            decoder blocks each, feed-forward size.
        sequence / step / axis: ``k`` tokens ``z + j · step · e_axis`` (``axis`` in ``[0, in_dim)``).
        bounds: ``(lo, hi)`` per input: coordinates are mapped affinely to ``[-1, 1]`` (as in
            :class:`~physopt.models.MLP`), after the sequence is built in physical units.
        generator / dtype: RNG of the initial weights and parameter dtype.
    """

    def __init__(self, *, in_dim: int, out_dim: int, width: int = 32, heads: int = 2, layers: int = 1,
                 hidden: int = 64, sequence: int = 5, step: float = 1e-2, axis: int,
                 bounds: tuple[Sequence[float], Sequence[float]], generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        for name, v in (("in_dim", in_dim), ("out_dim", out_dim), ("width", width), ("heads", heads),
                        ("layers", layers), ("hidden", hidden), ("sequence", sequence)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"PhysicsFormer {name} must be a positive int, got {v!r}")
        if width % heads:
            raise ValueError(f"PhysicsFormer heads must divide width, got width={width}, heads={heads}")
        if not (isinstance(step, int | float) and 0 < step < float("inf")):
            raise ValueError(f"PhysicsFormer step must be a finite number > 0, got {step!r}")
        if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < in_dim:
            raise ValueError(f"PhysicsFormer axis must be an input index in [0, {in_dim}), got {axis!r}")
        lo, hi = (torch.tensor(list(b), dtype=dtype) for b in bounds)
        if lo.shape != (in_dim,) or hi.shape != (in_dim,):
            raise ValueError(f"bounds must have {in_dim} entries each, got {bounds}")
        self.register_buffer("shift", (hi + lo) / 2)
        self.register_buffer("scale", 2 / (hi - lo))
        offsets = torch.zeros(sequence, in_dim, dtype=dtype)
        offsets[:, axis] = step * torch.arange(sequence, dtype=dtype)
        self.register_buffer("offsets", offsets)  # (k, in_dim): token j sits at z + j·step·e_axis
        self.embed = _linear(in_dim, width, generator, dtype)
        self.encoder = nn.ModuleList(_Block(width, heads, hidden, cross=False, generator=generator, dtype=dtype)
                                     for _ in range(layers))
        self.decoder = nn.ModuleList(_Block(width, heads, hidden, cross=True, generator=generator, dtype=dtype)
                                     for _ in range(layers))
        self.head_act = _Wavelet(dtype)
        self.head1, self.head2 = _linear(width, hidden, generator, dtype), _linear(hidden, out_dim, generator, dtype)

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = ((x[:, None, :] + self.offsets) - self.shift) * self.scale  # (n, k, in_dim) in [-1, 1]
        e = self.embed(tokens)
        h = e
        for block in self.encoder:
            h = block(h)
        return e, h

    def _decode(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        for block in self.decoder:
            g = block(g, h)
        return self.head2(self.head_act(self.head1(g)))

    def sequence_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The head of every token, ``(n, k, out_dim)``; token 0 is :meth:`forward`."""
        e, h = self._encode(x)
        return self._decode(e, h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e, h = self._encode(x)
        # Decoder tokens only cross-attend (never to each other): token 0 needs only its own embedding.
        return self._decode(e[:, :1], h)[:, 0, :]


def physicsformer_for(options: PhysicsFormerConfig, *, problem: Problem, out_dim: int,
                      generator: torch.Generator, dtype: torch.dtype) -> PhysicsFormer:
    """A :class:`PhysicsFormer` on the problem's inputs (``axis = -1``: its time axis, the last input)."""
    axis = options.axis
    if axis == -1:
        if not isinstance(problem.domain, SpaceTime):
            raise ValueError(f"model kind physicsformer steps its pseudo-sequence along time; {problem.name!r} is "
                             f"steady: name an input axis, e.g. model.axis = 0 ({', '.join(problem.input_names)})")
        axis = problem.input_dim - 1
    net = PhysicsFormer(in_dim=problem.input_dim, out_dim=out_dim, width=options.width, heads=options.heads,
                        layers=options.layers, hidden=options.hidden, sequence=options.sequence, step=options.step,
                        axis=axis, bounds=problem.domain.bounds, generator=generator, dtype=dtype)
    return net
