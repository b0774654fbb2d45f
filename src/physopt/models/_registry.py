"""Name → model kind registry: what ``[model] kind = "..."`` builds.

To add a model kind, write its module (the network and an options dataclass) and add one
:class:`ModelSpec` to :data:`MODELS`; the config layer reads the ``[model]`` table into the spec's
``config`` dataclass and calls its ``factory`` — no central function changes. A spec declares what
the rest of the pipeline needs to know about the kind: whether it acts on each point on its own
(``pointwise``: least-squares optimizers build Jacobians from point blocks, which is only valid
then) and which conditions a built model may satisfy by construction (``BuiltModel.exact``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..problems import Box, Periodic, Problem, SpaceTime, output_scales
from ._embedding import PeriodicEmbedding
from ._mlp import MLP
from ._physicsformer import PhysicsFormerConfig, physicsformer_for

__all__ = ["MODELS", "BuiltModel", "MLPConfig", "ModelSpec", "model_spec"]


@dataclass(frozen=True)
class MLPConfig:
    """``[model] kind = "mlp"``: ``depth`` hidden layers of ``width`` units (:class:`MLP`).

    ``periodic = true`` feeds the coordinates of the problem's :class:`~physopt.problems.Periodic`
    conditions through ``cos/sin(k 2π x / P)``, ``k = 1..harmonics`` (:class:`PeriodicEmbedding`),
    so those conditions hold exactly and leave the loss. ``scale_outputs = true`` multiplies each
    output by the size of the values the problem prescribes for it
    (:func:`physopt.problems.output_scales`: Dirichlet, initial and observed values)."""

    kind: str = "mlp"
    width: int = 20
    depth: int = 8
    activation: str = "tanh"
    periodic: bool = False
    harmonics: int = 1
    scale_outputs: bool = False


@dataclass(frozen=True)
class BuiltModel:
    """A freshly built network and the conditions it claims to meet by construction (the build
    checks each claim on probe points before dropping the condition from the loss)."""

    module: nn.Module
    exact: tuple[str, ...] = ()


ModelFactory = Callable[..., BuiltModel]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model kind.

    Attributes:
        factory: ``(options, *, problem, out_dim, generator, dtype) -> BuiltModel``; ``options`` is
            an instance of ``config``, ``out_dim`` the number of outputs wanted (a mixture of
            experts asks for its basis size), ``generator`` the CPU generator of the weights.
        config: the options dataclass of ``[model]`` (its ``kind`` field names the spec).
        pointwise: the model maps each input point on its own (MLPs; not operators on grids).
        summary: one line for listings.
    """

    factory: ModelFactory
    config: type
    summary: str
    pointwise: bool = True


def _periodic_axes(options: MLPConfig, problem: Problem) -> dict[str, tuple[int, float]]:
    """``{condition: (input axis, period)}`` of the problem's Periodic conditions."""
    found = {k: c for k, c in problem.conditions.items() if isinstance(c, Periodic)}
    if not found:
        raise ValueError(f"model.periodic = true needs a Periodic condition; {problem.name!r} has "
                         f"{', '.join(f'{k} ({type(c).__name__})' for k, c in problem.conditions.items())}")
    if not isinstance(options.harmonics, int) or options.harmonics < 1:
        raise ValueError(f"model.harmonics must be a positive int, got {options.harmonics!r}")
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    if not isinstance(space, Box):
        raise ValueError(f"model.periodic = true needs a box-shaped space, got {type(space).__name__}")
    return {k: (c.axis, space.hi[c.axis] - space.lo[c.axis]) for k, c in found.items()}


def build_mlp(options: MLPConfig, *, problem: Problem, out_dim: int, generator: torch.Generator,
              dtype: torch.dtype) -> BuiltModel:
    """An :class:`MLP` on the problem's inputs, behind a :class:`PeriodicEmbedding` if asked."""
    periodic = _periodic_axes(options, problem) if options.periodic else {}
    axes = sorted(set(periodic.values()))
    in_dim, bounds = problem.input_dim, problem.domain.bounds
    if periodic:
        k = options.harmonics
        in_dim = PeriodicEmbedding.features(in_dim=in_dim, axes=[a for a, _ in axes], harmonics=k)
        bounds = PeriodicEmbedding.feature_bounds(bounds, axes=[a for a, _ in axes], harmonics=k)
    out_scale = None
    if options.scale_outputs and out_dim == len(problem.output_names):  # (a mixture's basis is not the solution)
        # Its own stream: reading the scales must not shift the weights' random draws.
        probe = torch.Generator().manual_seed(0)
        out_scale = output_scales(problem, generator=probe, dtype=dtype)
    net: nn.Module = MLP(in_dim=in_dim, out_dim=out_dim, width=options.width, depth=options.depth,
                         activation=options.activation, bounds=bounds, out_scale=out_scale, generator=generator,
                         dtype=dtype)
    if periodic:
        net = PeriodicEmbedding(net, in_dim=problem.input_dim, axes=[a for a, _ in axes],
                                periods=[p for _, p in axes], harmonics=options.harmonics)
    return BuiltModel(net, exact=tuple(periodic))


def _build_physicsformer(options: PhysicsFormerConfig, **kwargs) -> BuiltModel:
    return BuiltModel(physicsformer_for(options, **kwargs))


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(build_mlp, MLPConfig, summary="fully connected network on the input points"),
    "physicsformer": ModelSpec(_build_physicsformer, PhysicsFormerConfig,
                               summary="encoder-decoder attention over each point's pseudo-sequence (PhysicsFormer)"),
}


def model_spec(kind: str) -> ModelSpec:
    """The registered :class:`ModelSpec` of ``kind`` (``ValueError`` naming the known kinds)."""
    try:
        return MODELS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model kind {kind!r}; choose from {', '.join(sorted(MODELS))}") from None
