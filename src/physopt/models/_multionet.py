"""MultiONet: DeepONet with branch and trunk coupled at several layers (Zang & Koutsourelakis 2025,
"DGNO/DGenNO: a physics-aware neural operator ... based on deep, generative probabilistic modeling",
arXiv 2502.06250; the layer-wise sum follows the authors' public ``MultiONetBatch``).

Branch and trunk are MLPs of the same ``depth`` and ``width``; ``b^(l)(a)`` and ``t^(l)(x)`` are
their activations after hidden layer ``l``. A DeepONet takes the inner product of the last layer
only; MultiONet averages the inner products of the last ``K`` layers with learned weights:

    G(a)_c(x) = (1/K) Σ_{l = L-K+1}^{L} w_{l,c} <b^(l)_c(a), t^(l)_c(x)> + beta_c.

With one output channel this is the paper's network (its ``w_l`` scalars, bias ``beta``). Several
outputs split every summed layer as DeepXDE's ``split_both`` does: the ``width`` units are
``C_out`` groups of ``width / C_out`` and group ``c`` gives output ``c`` (so the family keeps one
definition; the authors' ``_X`` variant instead mixes a latent axis with a final linear layer).
Several input functions enter the branch together, their sensor values concatenated, as in
:class:`~physopt.models.DeepONet`. The weights ``w`` start at 1, not at the authors' 0: with
``w = 0`` every other parameter has zero gradient at the first step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ._deeponet import SensorOperator, TrunkFeatures, check_positive, seeded_mlp
from ._operator_spec import OperatorShape

__all__ = ["MultiONet", "MultiONetConfig", "build_multionet"]


@dataclass(frozen=True)
class MultiONetConfig:
    """``[model] kind = "multionet"``: branch and trunk of ``depth`` hidden layers of ``width`` units,
    the inner products of the last ``sum_layers`` averaged; trunk features as DeepONet's."""

    kind: str = "multionet"
    width: int = 128
    depth: int = 4
    sum_layers: int = 3
    activation: str = "tanh"
    trunk_features: str = "raw"
    features: int = 16
    fourier_scale: float = 1.0


class MultiONet(SensorOperator):
    """``G(a)_c(x) = (1/K) Σ_l w_{l,c} <b^(l)_c(a), t^(l)_c(x)> + β_c`` over the last ``K`` layers."""

    def __init__(self, *, shape: OperatorShape, width: int = 128, depth: int = 4, sum_layers: int = 3,
                 activation: str = "tanh", trunk_features: str = "raw", features: int = 16,
                 fourier_scale: float = 1.0, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> None:
        super().__init__(shape, dtype=dtype)
        check_positive("MultiONet", width=width, depth=depth, sum_layers=sum_layers)
        if depth < 2:
            raise ValueError(f"MultiONet depth must be >= 2 (layers whose products are summed), got {depth}")
        if sum_layers > depth:
            raise ValueError(f"MultiONet sum_layers must be <= depth = {depth}, got {sum_layers}")
        if width % shape.out_channels:
            raise ValueError(f"MultiONet width {width} must be a multiple of the {shape.out_channels} output channels "
                             "(each summed layer is split into one group per output)")
        self.depth, self.sum_layers = depth, sum_layers
        # MLP(depth - 1) has exactly `depth` Linear layers in -> width -> ... -> width; forward walks them.
        self.branch = seeded_mlp(in_dim=shape.in_channels * self.sensors, out_dim=width, width=width,
                                 depth=depth - 1, activation=activation, bounds=None, generator=generator, dtype=dtype)
        self.features = TrunkFeatures(dim=shape.dim, mode=trunk_features, periodic=shape.periodic, features=features,
                                      scale=fourier_scale, generator=generator, dtype=dtype)
        self.trunk = seeded_mlp(in_dim=self.features.out_dim, out_dim=width, width=width, depth=depth - 1,
                                activation=activation, bounds=self.features.bounds, generator=generator, dtype=dtype)
        self.weights = nn.Parameter(torch.ones(sum_layers, shape.out_channels, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(shape.out_channels, dtype=dtype))

    def forward(self, a: torch.Tensor, points: torch.Tensor | None = None) -> torch.Tensor:
        x = self.query(a, points)
        n_b, n_q, c = a.shape[0], x.shape[0], self.shape.out_channels
        hb = (a.reshape(n_b, -1) - self.branch.shift) * self.branch.scale
        ht = (self.features(x) - self.trunk.shift) * self.trunk.scale
        first = self.depth - self.sum_layers
        out = 0.0
        for i, (lb, lt) in enumerate(zip(self.branch.layers, self.trunk.layers, strict=True)):
            hb, ht = self.branch.act(lb(hb)), self.trunk.act(lt(ht))
            if i >= first:
                product = torch.einsum("bcg,qcg->bcq", hb.reshape(n_b, c, -1), ht.reshape(n_q, c, -1))
                out = out + self.weights[i - first][:, None] * product
        return self.layout(out / self.sum_layers + self.bias[:, None], points)


def build_multionet(options: MultiONetConfig, *, shape: OperatorShape, generator: torch.Generator,
                    dtype: torch.dtype) -> MultiONet:
    """The registry factory of ``kind = "multionet"``."""
    return MultiONet(shape=shape, width=options.width, depth=options.depth, sum_layers=options.sum_layers,
                     activation=options.activation, trunk_features=options.trunk_features, features=options.features,
                     fourier_scale=options.fourier_scale, generator=generator, dtype=dtype)
