"""Fully connected networks for PINNs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MLP"]

_ACTIVATIONS = {"tanh": nn.Tanh, "sin": None, "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus}


class _Sin(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


class MLP(nn.Module):
    """``in_dim → width × depth → out_dim`` with a smooth activation and Glorot-normal weights.

    Inputs are first mapped affinely from ``bounds`` (the domain's bounding box) to ``[-1, 1]``,
    so every problem presents well-scaled inputs to the first layer whatever its physical units.
    With ``out_scale`` the last layer's outputs are multiplied by it per output, so a solution
    of size 30 is an order-one target for the network (the scale is a fixed buffer, not trained).

    Args:
        in_dim / out_dim: input and output sizes.
        width / depth: hidden layer size and number of hidden layers.
        activation: ``"tanh"`` (default), ``"sin"``, ``"gelu"``, ``"silu"`` or ``"softplus"``.
        bounds: ``(lo, hi)`` per input, or ``None`` for no input scaling.
        out_scale: a positive factor per output, or ``None`` for none.
        generator: RNG for the initial weights (explicit, so runs are reproducible).
        dtype: parameter dtype.
    """

    def __init__(
        self,
        *,
        in_dim: int,
        out_dim: int,
        width: int = 20,
        depth: int = 8,
        activation: str = "tanh",
        bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        out_scale: Sequence[float] | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        for name, v in (("in_dim", in_dim), ("out_dim", out_dim), ("width", width), ("depth", depth)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"MLP {name} must be a positive int, got {v!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)}")
        sizes = [in_dim] + [width] * depth + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.act = _Sin() if activation == "sin" else _ACTIVATIONS[activation]()
        if bounds is None:
            lo, hi = [-1.0] * in_dim, [1.0] * in_dim
        else:
            lo, hi = list(bounds[0]), list(bounds[1])
            if len(lo) != in_dim or len(hi) != in_dim:
                raise ValueError(f"bounds must have {in_dim} entries each, got {bounds}")
        lo_t, hi_t = torch.tensor(lo, dtype=dtype), torch.tensor(hi, dtype=dtype)
        self.register_buffer("shift", (hi_t + lo_t) / 2)
        self.register_buffer("scale", 2 / (hi_t - lo_t))
        self.register_buffer("out_scale", None)  # a buffer only when given: checkpoints keep their keys
        if out_scale is not None:
            scales = [float(v) for v in out_scale]
            if len(scales) != out_dim or not all(0 < v < float("inf") for v in scales):
                raise ValueError(f"out_scale must be {out_dim} finite positive numbers, got {list(out_scale)}")
            self.register_buffer("out_scale", torch.tensor(scales, dtype=dtype))
        with torch.no_grad():
            for layer in self.layers:
                fan_in, fan_out = layer.weight.shape[1], layer.weight.shape[0]
                std = (2.0 / (fan_in + fan_out)) ** 0.5
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=dtype) * std)
                layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (x - self.shift) * self.scale
        for layer in self.layers[:-1]:
            h = self.act(layer(h))
        y = self.layers[-1](h)
        return y if self.out_scale is None else y * self.out_scale
