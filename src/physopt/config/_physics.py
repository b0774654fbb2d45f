"""The ``[physics]`` table of operator runs: PINO's physics loss, LordNet's data-free training, DGNO's weak form.

``physics.weight > 0`` adds a PDE term to the loss; ``physics.data = false`` drops the data term, so
no label is read and the output normalisation does not use the labels either (LordNet's data-free
training); ``physics.labelled = K`` keeps the labels of the first ``K`` training instances only (the
rest train on the PDE term alone: DGNO's "mostly without labels"). ``physics.form`` picks the PDE
term from :data:`PHYSICS_FORMS`: ``strong``, the family's discretised residual rows
(``FamilySpec.residual``, any family that declares one), or ``weak``, weak-form residuals against
random Wendland test functions for kinds with a latent code (``OperatorSpec.latent``: DGNO,
:class:`physopt.training.DGNOLoss`). Each form declares what it needs; nothing here knows a family
or a model kind by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..models import OperatorSpec
from ..operators import FAMILIES, OperatorData, family_options
from ..training import DGNOLoss, OperatorLoss, PhysicsOperatorLoss, WendlandTests
from ._schema import ConfigError

__all__ = ["PHYSICS_FORMS", "PhysicsConfig", "PhysicsForm", "labelled_rows", "operator_loss", "uses_labels"]


@dataclass(frozen=True)
class PhysicsConfig:
    """``weight``: the physics term's weight (0: no physics term); ``data``: keep the data term
    (false: physics only, data-free); ``labelled``: training instances that keep their label (-1: all;
    the first ``labelled`` of the training split); ``form``: ``strong`` or ``weak`` (:data:`PHYSICS_FORMS`).
    Strong form: ``norm`` ``relative`` (``‖R‖ / ‖b‖`` per sample), ``preconditioned`` (``‖P R‖ / ‖P b‖``)
    or ``msr`` (the mean squared residual row, LordNet's loss), see :mod:`physopt.training._physics_loss`.
    Weak form: ``tests`` test functions per step with radii in ``radius`` (:class:`physopt.training.WendlandTests`)."""

    weight: float = 0.0
    data: bool = True
    norm: str = "relative"
    form: str = "strong"
    labelled: int = -1
    tests: int = 200
    radius: list[float] = field(default_factory=lambda: [0.08, 0.25])


def uses_labels(physics: PhysicsConfig) -> bool:
    """Whether training reads the solver's outputs (the data term, and the output normalisation)."""
    return physics.data and physics.labelled != 0


def labelled_rows(physics: PhysicsConfig, n_train: int) -> int:
    """How many training rows (the first ones) keep their label; the others' outputs become NaN."""
    k = physics.labelled
    if isinstance(k, bool) or not isinstance(k, int) or k < -1:
        raise ConfigError(f"physics.labelled must be -1 (all) or a count >= 0, got {k!r}")
    if k > n_train:
        raise ConfigError(f"physics.labelled = {k} exceeds the {n_train} training instances")
    if k != -1 and not physics.data:
        raise ConfigError(f"physics.labelled = {k} with physics.data = false: a data-free run reads no label "
                          "(drop one of the two)")
    if k != -1 and physics.weight == 0:
        raise ConfigError(f"physics.labelled = {k} needs physics.weight > 0 (the unlabelled rows train on the "
                          "physics term alone)")
    return n_train if k == -1 else k


@dataclass(frozen=True)
class PhysicsForm:
    """One ``physics.form``: ``build(source=, options=, loss=, physics=, train=, seed=) -> OperatorLoss`` (the
    family's options resolved); ``latent``: it trains kinds with a latent code only (``OperatorSpec.latent``);
    ``families``: the families it knows the PDE of (``None``: any family that declares a residual)."""

    build: Callable[..., OperatorLoss]
    latent: bool
    families: tuple[str, ...] | None
    summary: str


def _strong(*, source: str, options: object, loss: str, physics: PhysicsConfig, train: OperatorData,
            seed: int) -> OperatorLoss:
    residual = FAMILIES[source].residual

    def bound(inputs: torch.Tensor, outputs: torch.Tensor):  # the family's options fixed
        return residual(options, inputs, outputs)

    made = PhysicsOperatorLoss(kind=loss, periodic=train.periodic, residual=bound, weight=physics.weight,
                               data=physics.data, norm=physics.norm)
    probe = torch.from_numpy(train.inputs[:1])  # a family whose options rule the residual out fails at build
    bound(probe, torch.zeros((1, *train.outputs.shape[1:]), dtype=probe.dtype))
    return made


def _weak(*, source: str, options: object, loss: str, physics: PhysicsConfig, train: OperatorData,
          seed: int) -> OperatorLoss:
    if loss != "l2":
        raise ValueError(f"the weak form's data term is the relative L2 error, got loss = {loss!r}")
    if len(physics.radius) != 2:
        raise ValueError(f"physics.radius must be [lo, hi], got {physics.radius!r}")
    tests = WendlandTests(resolution=train.grid[0], count=physics.tests, radius=tuple(physics.radius))
    return DGNOLoss(tests=tests, seed=seed, weak=physics.weight, data=1.0 if physics.data else 0.0)


PHYSICS_FORMS: dict[str, PhysicsForm] = {
    "strong": PhysicsForm(_strong, latent=False, families=None,
                          summary="the family's discretised residual rows on the output grid (PINO, LordNet)"),
    "weak": PhysicsForm(_weak, latent=True, families=("darcy",),
                        summary="Darcy weak-form residuals against random Wendland test functions, with the "
                        "latent code's field reconstruction and KL terms (DGNO)"),
}


def operator_loss(*, source: str, family: dict, loss: str, physics: PhysicsConfig, train: OperatorData,
                  model: OperatorSpec, seed: int) -> OperatorLoss:
    """The run's loss: the data loss alone, or with (or replaced by) the physics term of ``physics.form``."""
    if physics.weight == 0:
        if not physics.data:
            raise ConfigError("physics.data = false needs physics.weight > 0 (otherwise nothing is trained)")
        return OperatorLoss(kind=loss, periodic=train.periodic)
    form = PHYSICS_FORMS.get(physics.form)
    if form is None:
        raise ConfigError(f"unknown physics.form {physics.form!r}; choose from {', '.join(PHYSICS_FORMS)}")
    spec = FAMILIES.get(source)
    if spec is None:
        raise ConfigError(f"physics.weight > 0 needs a PDE family whose residual is known; {source!r} is not one "
                          "(physopt list families)")
    if form.families is None and spec.residual is None:
        raise ConfigError(f"family {source!r} declares no discretised residual: physics.weight must be 0")
    if form.families is not None and source not in form.families:
        raise ConfigError(f"physics.form = {physics.form!r} knows the PDE of {', '.join(form.families)}, not "
                          f"{source!r}")
    if form.latent and not model.latent:
        raise ConfigError(f"physics.form = {physics.form!r} trains a kind with a latent code (dgno); use "
                          "physics.form = 'strong' for this model")
    try:
        return form.build(source=source, options=family_options(source, family), loss=loss, physics=physics,
                          train=train, seed=seed)
    except ValueError as err:
        raise ConfigError(f"physics: {err}") from None
