"""Unknown fields of inverse problems: a coefficient a(x) learned with the solution, and its regulariser.

An :class:`UnknownField` is declared in ``Problem.trainable`` beside the unknown scalars. Residuals
read it as a function: ``params["a"](x)`` is a(x) of shape ``(n, 1)`` with a graph to the points, so
``ops.grad(params["a"](x), x)`` is ∇a. It is stored as a raw field ρ(x) (a second network or a
grid) mapped pointwise through a scalar :class:`~physopt.problems.Unknown` transform,

    a(x) = T(ρ₀ + ρ(x)),   ρ₀ = T⁻¹(initial),

so a positivity or box bound holds everywhere and training starts from the constant ``initial``
(the raw field starts at zero: the network's last layer, or the grid values).

Representations (each a frozen dataclass; the training layer builds the module):

- :class:`FieldNetwork`: an MLP of the field's inputs (``width``, ``depth``, ``activation``),
  smooth, any dimension;
- :class:`FieldGrid`: nodal values on a regular grid over the domain's bounding box with
  multilinear interpolation (piecewise linear: ∇a is piecewise constant, which suits TV).

An ill-posed field needs a regulariser: :class:`FieldRegularizer` is a condition whose mean squared
residual is ``weight · R(a)`` on interior points,

- ``h1``: R(a) = mean |∇a|² (the H¹ seminorm: smooth fields);
- ``tv``: R(a) = mean (|∇a|² + ε²)^{1/2} (total variation, smoothed at ε: piecewise-constant fields
  keep their jumps; Rudin, Osher & Fatemi 1992),

so it is one more penalty term of the loss (and of least-squares optimizers' residual vectors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from ._conditions import Condition
from ._points import Points
from ._unknowns import Unknown

__all__ = ["FIELD_PENALTIES", "FieldGrid", "FieldNetwork", "FieldRegularizer", "UnknownField"]


@dataclass(frozen=True)
class FieldNetwork:
    """The raw field ρ(x) as an MLP (``depth`` hidden layers of ``width`` units)."""

    width: int = 20
    depth: int = 3
    activation: str = "tanh"

    def __post_init__(self) -> None:
        for key in ("width", "depth"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"FieldNetwork.{key} must be a positive int, got {v!r}")


@dataclass(frozen=True)
class FieldGrid:
    """The raw field ρ(x) as nodal values on a regular grid of ``shape`` nodes per input."""

    shape: tuple[int, ...] = (33, 33)

    def __post_init__(self) -> None:
        if not self.shape or any(not isinstance(n, int) or isinstance(n, bool) or n < 2 for n in self.shape):
            raise ValueError(f"FieldGrid.shape must be ints >= 2 per input, got {self.shape!r}")


@dataclass(frozen=True)
class UnknownField:
    """An unknown coefficient field a(x) (``Problem.trainable`` value).

    Attributes:
        initial: the constant a starts from (inside the transform's bounds).
        transform / lower / upper: the pointwise parametrisation, as for :class:`Unknown`
            (``softplus`` with lower 0 keeps a diffusion coefficient positive).
        representation: :class:`FieldNetwork` (default) or :class:`FieldGrid`.
        inputs: the input columns a depends on (``None``: all; ``(0, 1)`` for a(x, y) of a
            space-time problem).
        lr: the field's own learning rate under first-order optimizers (``None``: the phase's).
        truth: the true field ``truth(x) -> (n,) | (n, 1)`` on points of all inputs, when known
            (reports give its relative L2 error on the reference points and plot it).
    """

    initial: float = 1.0
    transform: str = "softplus"
    lower: float | None = None
    upper: float | None = None
    representation: FieldNetwork | FieldGrid = field(default_factory=FieldNetwork)
    inputs: tuple[int, ...] | None = None
    lr: float | None = None
    truth: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.representation, FieldNetwork | FieldGrid):
            raise ValueError(f"UnknownField.representation must be a FieldNetwork or FieldGrid, "
                             f"got {type(self.representation).__name__}")
        if self.inputs is not None and (not self.inputs or len(set(self.inputs)) != len(self.inputs)
                                        or any(not isinstance(i, int) or i < 0 for i in self.inputs)):
            raise ValueError(f"UnknownField.inputs must be distinct column indices >= 0, got {self.inputs!r}")
        if self.truth is not None and not callable(self.truth):
            raise ValueError(f"UnknownField.truth must be a function of the points, got {type(self.truth).__name__}")
        self.pointwise  # validates transform, bounds, initial and lr  # noqa: B018

    @property
    def pointwise(self) -> Unknown:
        """The scalar parametrisation T applied at every point (validated like an :class:`Unknown`)."""
        return Unknown(self.initial, transform=self.transform, lower=self.lower, upper=self.upper, lr=self.lr)

    def columns(self, dim: int) -> tuple[int, ...]:
        """The input columns a reads, checked against a ``dim``-input problem."""
        cols = tuple(range(dim)) if self.inputs is None else self.inputs
        if max(cols) >= dim:
            raise ValueError(f"UnknownField.inputs {cols} out of range for a problem with {dim} inputs")
        if isinstance(self.representation, FieldGrid) and len(self.representation.shape) != len(cols):
            raise ValueError(f"FieldGrid.shape {self.representation.shape} has {len(self.representation.shape)} "
                             f"entries for a field of {len(cols)} inputs")
        return cols

    def describe(self) -> str:
        return self.pointwise.describe().replace("ρ", "ρ₀ + ρ(x)").replace("θ", "a(x)")


def _h1(g: torch.Tensor, eps: float) -> torch.Tensor:
    return g * math.sqrt(g.shape[1])  # mean over the (n, dim) entries of r² is mean |∇a|²


def _tv(g: torch.Tensor, eps: float) -> torch.Tensor:
    return (g.pow(2).sum(dim=1, keepdim=True) + eps * eps).pow(0.25)  # r² = (|∇a|² + ε²)^{1/2}


# Residual r(∇a, ε) with mean(r²) = R(a); adding a penalty is one entry here.
FIELD_PENALTIES: Mapping[str, Callable[[torch.Tensor, float], torch.Tensor]] = {"h1": _h1, "tv": _tv}


@dataclass(frozen=True)
class FieldRegularizer(Condition):
    """``weight · R(a)`` of the unknown field ``field`` as a penalty condition (see the module docstring).

    The residual is √weight · r(∇a) with mean(r²) = R(a) (:data:`FIELD_PENALTIES`), so its mean
    square is ``weight · R(a)``; ``eps`` smooths the total variation at ∇a = 0 (in the field's units per
    unit length); ``columns`` restricts ∇ to those inputs (``None``: all, e.g. ``(0, 1)`` for a
    field a(x, y) of a space-time problem).
    """

    field: str
    penalty: str = "h1"
    weight: float = 1e-4
    eps: float = 1e-2
    columns: tuple[int, ...] | None = None
    kind: str = "interior"

    def __post_init__(self) -> None:
        if self.penalty not in FIELD_PENALTIES:
            raise ValueError(f"unknown field penalty {self.penalty!r}; choose from {', '.join(FIELD_PENALTIES)}")
        for key in ("weight", "eps"):
            v = getattr(self, key)
            if not (isinstance(v, int | float) and 0 < v < math.inf):
                raise ValueError(f"FieldRegularizer.{key} must be a finite number > 0, got {v!r}")

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        return Points(domain.sample_interior(n, generator=generator, dtype=dtype))

    def residual(self, model, batch, params):  # type: ignore[override]
        if self.field not in params:
            raise ValueError(f"FieldRegularizer: no unknown field {self.field!r} among {sorted(params)}")
        x = batch["x"].detach().requires_grad_(True)
        a = params[self.field](x)
        (g,) = torch.autograd.grad(a.sum(), x, create_graph=True)
        g = g[:, list(self.columns)] if self.columns is not None else g
        return math.sqrt(self.weight) * FIELD_PENALTIES[self.penalty](g, self.eps)
