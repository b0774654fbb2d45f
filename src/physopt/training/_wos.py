"""Walk-on-Spheres weak supervision: regression on Monte Carlo solution estimates (``--method wos``).

Single-instance version of the training signal of WoS-NO ("Operator learning using weak
supervision from Walk-on-Spheres", code neuraloperator/WoS-NO): instead of the PDE residual, the
interior loss is ``mean((u_θ(x_i) - û_i)²)`` where ``û_i`` is the Walk-on-Spheres estimate of the
solution at ``x_i`` (:func:`physopt.problems.walk_on_spheres`). No derivatives of the network are
taken at all, so a step costs one forward and one backward pass.

Decided here: the targets are computed when the points are drawn, inside :meth:`WosTargets.sample`
with the sampler's generator, so they are part of the batch, saved in checkpoints with it, and a
resumed run has the same targets; with ``sampler.resample_every > 0`` every new point set gets
fresh targets (WoS-NO's running average of estimates across epochs is not implemented: with a
fixed point set the targets are computed once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..problems import Condition, Points, Value, walk_on_spheres
from ..problems import value_at as _value

__all__ = ["WosTargets"]


@dataclass(frozen=True, eq=False)
class WosTargets(Condition):
    """Interior points with WoS targets for ``-Δu = source``, ``u = boundary`` on ∂Ω.

    ``distance`` is the problem domain's ``distance_to_boundary`` (held here, not read from the
    domain the sampler passes, which may be a Sobol stand-in).
    """

    distance: Callable[[torch.Tensor], torch.Tensor]
    source: Value
    boundary: Value
    walks: int = 100
    epsilon: float = 1e-4
    kind: str = "interior"

    def __post_init__(self) -> None:
        if isinstance(self.walks, bool) or not isinstance(self.walks, int) or self.walks < 2:
            raise ValueError(f"wos.walks must be an integer >= 2, got {self.walks!r}")
        if not 0 < self.epsilon < 1:
            raise ValueError(f"wos.epsilon must be in (0, 1), got {self.epsilon!r}")

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        x = domain.sample_interior(n, generator=generator, dtype=dtype)
        mean, stderr = walk_on_spheres(
            x, distance=self.distance, boundary=lambda y: _value(self.boundary, y),
            source=lambda y: _value(self.source, y), walks=self.walks, epsilon=self.epsilon, generator=generator,
        )
        return Points(x, {"values": mean[:, None], "stderr": stderr[:, None]})

    def residual(self, model, batch, params):  # type: ignore[override]
        return model(batch["x"])[:, :1] - batch["values"]
