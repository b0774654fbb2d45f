"""SDGD: stochastic dimension gradient descent for PDE operators that are sums over dimensions.

Hu, Shukla, Karniadakis & Kawaguchi (2024), "Tackling the curse of dimensionality with
physics-informed neural networks", Neural Networks 176, 106369 (arXiv 2307.12306). For a residual
``Σ_{i=1}^d ∂²u/∂x_i² + N(u) - g`` each step samples ``k`` of the ``d`` dimensions without
replacement and uses

    Δ̂u = (d / k) Σ_{i ∈ I} ∂²u/∂x_i²,   I ⊂ {1..d}, |I| = k,   E[Δ̂u] = Δu,

so only ``k`` second derivatives are built and backpropagated: memory and backward cost per step
grow with ``k``, not ``d``. The loss ``mean((Δ̂u + N(u) - g)²)`` is the paper's simple (slightly
biased) version; the two-sample unbiased product of STDE's Eq. 25 is not implemented.

How the sampled dimensions reach the residual (decided here): :class:`SampledDims` wraps the
problem's interior :class:`~physopt.problems.Residual`. Its ``sample`` draws the points *and* the
dimensions from the sampler's generator, so both live in the batch (the points and ``meta["dims"]``
of its :class:`~physopt.problems.Points`), are saved in the checkpoint with it, and a resumed run
draws the same dimensions; a closure-based optimizer that evaluates the loss several times per step
sees the same dimensions each time. Its
``residual`` passes them to the residual function in the ``params`` mapping under
:data:`physopt.problems.ops.SAMPLED_DIMS`; residuals opt in with
``laplacian(u, x, dims=params.get(SAMPLED_DIMS))``. A residual that never reads the key would
silently compute the full operator, so that raises ``ValueError`` instead. Dimensions are redrawn
whenever points are (``sampler.resample_every``); the SDGD paper draws both every step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch

from ..problems import Points, Residual
from ..problems.ops import SAMPLED_DIMS

__all__ = ["SampledDims", "sample_dims"]


def sample_dims(total: int, k: int, *, generator: torch.Generator) -> torch.Tensor:
    """``k`` distinct positions out of ``range(total)``, uniformly at random, as an int64 tensor."""
    if not isinstance(k, int) or not 1 <= k <= total:
        raise ValueError(f"SDGD needs 1 <= dims <= {total} (the operator's dimensions), got {k!r}")
    return torch.randperm(total, generator=generator, device=generator.device)[:k]


class _Tracked(Mapping[str, torch.Tensor]):
    """``params`` plus the sampled dimensions, recording whether the residual read them."""

    def __init__(self, params: Mapping[str, torch.Tensor], dims: torch.Tensor) -> None:
        self._data = {**params, SAMPLED_DIMS: dims}
        self.read = False

    def __getitem__(self, key: str) -> torch.Tensor:
        if key == SAMPLED_DIMS:
            self.read = True
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class SampledDims(Residual):
    """The residual ``fn`` with its dimension sum estimated from ``k`` of ``total`` dimensions.

    ``total`` is the number of summed dimensions (the spatial dimension of the domain).
    """

    k: int = 1
    total: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.total, int) or self.total < 1:
            raise ValueError(f"SampledDims needs total >= 1 dimensions, got {self.total!r}")
        if not isinstance(self.k, int) or not 1 <= self.k <= self.total:
            raise ValueError(f"SDGD needs 1 <= dims <= {self.total} (the operator's dimensions), got {self.k!r}")

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        batch = super().sample(domain, n, generator=generator, dtype=dtype)
        return Points(batch.x, dict(batch.fields),
                      {**batch.meta, "dims": sample_dims(self.total, self.k, generator=generator)})

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(True)
        tracked = _Tracked(params, batch.meta["dims"])
        r = self.fn(x, model(x), tracked)
        if not tracked.read:
            raise ValueError(
                f"sdgd.dims = {self.k} but the residual never read params[{SAMPLED_DIMS!r}]; write its Laplacian as "
                f"laplacian(u, x, dims=params.get({SAMPLED_DIMS!r})) or run without sdgd.dims"
            )
        return r[:, None] if r.ndim == 1 else r
