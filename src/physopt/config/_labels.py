"""Where a family's *training* outputs come from: ``data.labels`` (the family's solver, or Walk-on-Spheres).

``solver`` keeps the family's own outputs. ``wos`` is the training signal of WoS-NO ("Operator
learning using weak supervision from Walk-on-Spheres", neuraloperator/WoS-NO): every training output
is replaced, at each grid node inside the domain, by the mean of ``data.walks`` Walk-on-Spheres walks
(:func:`physopt.problems.walk_on_spheres`) for ``-Laplace u = f``, ``u = g`` — a cheap, unbiased,
noisy estimate: no solver, no mesh, no derivative of the network. Validation and test sets keep the
family's exact outputs (they measure the error; they are never trained on). The family declares
its instances as point functions (:attr:`physopt.operators.FamilySpec.instances`); a family
without them is refused.

Decided here: labels are drawn once, when the data is loaded (a fixed noisy training set; WoS-NO
redraws walks every epoch and averages them, which is not implemented), on the CPU in float64
from a generator seeded by ``(seed, instance)``, so a run and its resume see the same labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..operators import OperatorData, family_spec
from ..problems import walk_on_spheres
from ._schema import ConfigError

__all__ = ["LABELS", "LabelSource", "wos_labels"]

# The stopping shell: g is read within EPSILON of the boundary, an O(EPSILON |grad u|) bias, far below
# the Monte Carlo noise of a few walks; walk length grows only like log(1 / EPSILON).
EPSILON = 1e-4


def _instance_generator(seed: int, index: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, index, 0x5705]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & ((1 << 63) - 1))


def _torch_fn(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda y: torch.from_numpy(np.asarray(fn(y.cpu().numpy()), dtype=np.float64))


def wos_labels(data: OperatorData, *, family: str, options: object, seed: int, indices: range,
               walks: int) -> OperatorData:
    """``data`` (instances ``indices`` of ``family``) with outputs replaced by WoS estimates at the
    grid nodes inside the domain (0 outside); ``solve_time_s`` becomes the CPU seconds per instance
    of the walks."""
    spec = family_spec(family)
    if spec.instances is None:
        raise ConfigError(f"data.labels = 'wos' needs a family with point functions (distance, source, boundary); "
                          f"{family!r} has none (poisson-annulus has)")
    if isinstance(walks, bool) or not isinstance(walks, int) or walks < 2:
        raise ConfigError(f"data.walks must be an integer >= 2 (walks per grid node), got {walks!r}")
    if data.dim != 2 or data.out_channels != 1 or len(indices) != data.n:
        raise ConfigError(f"data.labels = 'wos' labels one scalar field per instance on a 2-D grid, got "
                          f"{data.out_channels} channel(s) on grid {data.grid} for {data.n} instances")
    axes = [np.linspace(0.0, 1.0, n) for n in data.grid]
    mesh = np.meshgrid(*axes, indexing="ij")
    nodes = np.stack([m.ravel() for m in mesh], axis=1)
    outputs = np.zeros(data.outputs.shape)
    start = time.process_time()
    for row, inst in enumerate(spec.instances(options, seed=seed, indices=indices)):
        inside = inst.mask(nodes)
        mean, _ = walk_on_spheres(torch.from_numpy(nodes[inside]), distance=_torch_fn(inst.distance),
                                  boundary=_torch_fn(inst.boundary), source=_torch_fn(inst.source), walks=walks,
                                  epsilon=EPSILON, generator=_instance_generator(seed, indices[row]))
        flat = np.zeros(len(nodes))
        flat[inside] = mean.numpy()
        outputs[row, 0] = flat.reshape(data.grid)
    seconds = (time.process_time() - start) / data.n
    return OperatorData(data.inputs, outputs, data.periodic, f"{data.name} (wos labels, {walks} walks)", seconds)


@dataclass(frozen=True)
class LabelSource:
    """One ``data.labels`` choice: ``relabel(data, *, family, options, seed, indices, walks)`` returns
    the training set with its new outputs; ``None`` keeps the family's."""

    summary: str
    relabel: Callable[..., OperatorData] | None


LABELS: dict[str, LabelSource] = {
    "solver": LabelSource("the family's own solver (exact or discretised)", None),
    "wos": LabelSource("Walk-on-Spheres estimates, data.walks walks per node (WoS-NO)", wos_labels),
}


def label_source(name: str) -> LabelSource:
    try:
        return LABELS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"data.labels must be one of {', '.join(LABELS)}, got {name!r}") from None
