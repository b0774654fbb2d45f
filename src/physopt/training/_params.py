"""The named parameters residuals read: problem constants and the unknowns of an inverse problem.

:class:`Parameters` is the ``params`` mapping passed to every residual. Constants are tensors; each
unknown is a raw unconstrained :class:`torch.nn.Parameter` ρ mapped through its
:class:`~physopt.problems.Unknown` transform *on every read*, so ``params["nu"]`` is θ = T(ρ) with a
fresh autograd graph and gradients reach ρ. Each unknown *field* is a module (:class:`FieldModule`):
``params["a"](x)`` is a(x). Optimizers train :meth:`raw` and :meth:`field_parameters`; reports read
:meth:`snapshot` (the scalars).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import torch

from ..problems import Unknown, UnknownField
from ._fields import FieldModule, build_field

__all__ = ["Parameters"]


class Parameters(Mapping[str, torch.Tensor]):
    """Constants and transformed unknowns under one ``Mapping[str, Tensor]``.

    Build it with :meth:`create` (from a problem's ``params`` and :attr:`Problem.unknowns`) or
    :meth:`wrap` (a plain mapping: its :class:`torch.nn.Parameter` values become ``identity``
    unknowns, so code that passed leaf parameters keeps working).
    """

    def __init__(self, constants: Mapping[str, torch.Tensor], unknowns: Mapping[str, Unknown],
                 raw: Mapping[str, torch.nn.Parameter], fields: Mapping[str, FieldModule] | None = None) -> None:
        if set(unknowns) != set(raw):
            raise ValueError(f"unknowns {sorted(unknowns)} and raw parameters {sorted(raw)} differ")
        fields = dict(fields or {})
        clash = (set(constants) & set(unknowns)) | (set(fields) & (set(constants) | set(unknowns)))
        if clash:
            raise ValueError(f"names used twice among constants, unknowns and fields: {sorted(clash)}")
        self.constants = dict(constants)
        self.unknowns = dict(unknowns)
        self._raw = dict(raw)
        self.fields = fields

    @classmethod
    def create(cls, *, constants: Mapping[str, float], unknowns: Mapping[str, Unknown], dtype: torch.dtype,
               device: torch.device, fields: Mapping[str, UnknownField] | None = None,
               bounds: tuple[Sequence[float], Sequence[float]] | None = None,
               generator: torch.Generator | None = None) -> Parameters:
        """Constants as tensors, each unknown's ρ₀ (``Unknown.raw_initial``) as a leaf parameter, and
        each field's module on the domain's bounding box ``bounds`` (weights drawn from ``generator``)."""
        if fields and (bounds is None or generator is None):
            raise ValueError("unknown fields need the domain's bounds and a generator for their weights")
        return cls(
            {k: torch.tensor(float(v), dtype=dtype, device=device) for k, v in constants.items()},
            unknowns,
            {k: torch.nn.Parameter(torch.tensor(u.raw_initial(), dtype=dtype, device=device))
             for k, u in unknowns.items()},
            {k: build_field(f, bounds=bounds, generator=generator, dtype=dtype, device=device)  # type: ignore[arg-type]
             for k, f in (fields or {}).items()},
        )

    @classmethod
    def wrap(cls, params: Mapping[str, torch.Tensor]) -> Parameters:
        if isinstance(params, Parameters):
            return params
        raw = {k: v for k, v in params.items() if isinstance(v, torch.nn.Parameter)}
        return cls({k: v for k, v in params.items() if k not in raw},
                   {k: Unknown(float(v.detach())) for k, v in raw.items()}, raw)

    def __getitem__(self, key: str) -> torch.Tensor:
        if key in self._raw:
            return self.unknowns[key].value(self._raw[key])
        if key in self.fields:
            return self.fields[key]  # type: ignore[return-value]  # a callable: params["a"](x)
        return self.constants[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.constants
        yield from self._raw
        yield from self.fields

    def __len__(self) -> int:
        return len(self.constants) + len(self._raw) + len(self.fields)

    def field_parameters(self) -> list[torch.nn.Parameter]:
        """The trained weights of every unknown field (network weights or grid values)."""
        return [p for f in self.fields.values() for p in f.parameters()]

    def raw(self) -> dict[str, torch.nn.Parameter]:
        """The trained leaf parameters ρ, by unknown name."""
        return dict(self._raw)

    def groups(self) -> tuple[list[torch.nn.Parameter], dict[float, list[torch.nn.Parameter]]]:
        """``(shared, own)``: raw parameters at the phase's rate, and those with their own ``lr``."""
        shared: list[torch.nn.Parameter] = []
        own: dict[float, list[torch.nn.Parameter]] = {}
        for k, p in self._raw.items():
            lr = self.unknowns[k].lr
            (shared if lr is None else own.setdefault(float(lr), [])).append(p)
        for f in self.fields.values():
            lr = f.spec.lr
            (shared if lr is None else own.setdefault(float(lr), [])).extend(f.parameters())
        return shared, own

    def snapshot(self) -> dict[str, float]:
        """The current value θ of every unknown, as floats (one host synchronisation)."""
        with torch.no_grad():
            return {k: float(self[k]) for k in self._raw}

    def to(self, device: torch.device) -> Parameters:
        """The same values on ``device`` (raw parameters stay leaves; a no-op on their own device)."""
        def move(v: torch.Tensor) -> torch.Tensor:
            return v if v.device == device else v.to(device)

        return Parameters({k: move(v) for k, v in self.constants.items()}, self.unknowns,
                          {k: p if p.device == device else torch.nn.Parameter(p.detach().to(device))
                           for k, p in self._raw.items()},
                          {k: f.to(device) for k, f in self.fields.items()})  # modules move in place
