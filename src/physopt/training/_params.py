"""The named parameters residuals read: problem constants and the unknowns of an inverse problem.

:class:`Parameters` is the ``params`` mapping passed to every residual. Constants are tensors; each
unknown is a raw unconstrained :class:`torch.nn.Parameter` ρ mapped through its
:class:`~physopt.problems.Unknown` transform *on every read*, so ``params["nu"]`` is θ = T(ρ) with a
fresh autograd graph and gradients reach ρ. Optimizers train :meth:`raw`; reports read :meth:`snapshot`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

from ..problems import Unknown

__all__ = ["Parameters"]


class Parameters(Mapping[str, torch.Tensor]):
    """Constants and transformed unknowns under one ``Mapping[str, Tensor]``.

    Build it with :meth:`create` (from a problem's ``params`` and :attr:`Problem.unknowns`) or
    :meth:`wrap` (a plain mapping: its :class:`torch.nn.Parameter` values become ``identity``
    unknowns, so code that passed leaf parameters keeps working).
    """

    def __init__(self, constants: Mapping[str, torch.Tensor], unknowns: Mapping[str, Unknown],
                 raw: Mapping[str, torch.nn.Parameter]) -> None:
        if set(unknowns) != set(raw):
            raise ValueError(f"unknowns {sorted(unknowns)} and raw parameters {sorted(raw)} differ")
        clash = set(constants) & set(unknowns)
        if clash:
            raise ValueError(f"names used both as constants and unknowns: {sorted(clash)}")
        self.constants = dict(constants)
        self.unknowns = dict(unknowns)
        self._raw = dict(raw)

    @classmethod
    def create(cls, *, constants: Mapping[str, float], unknowns: Mapping[str, Unknown], dtype: torch.dtype,
               device: torch.device) -> Parameters:
        """Constants as tensors and each unknown's ρ₀ (``Unknown.raw_initial``) as a leaf parameter."""
        return cls(
            {k: torch.tensor(float(v), dtype=dtype, device=device) for k, v in constants.items()},
            unknowns,
            {k: torch.nn.Parameter(torch.tensor(u.raw_initial(), dtype=dtype, device=device))
             for k, u in unknowns.items()},
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
        return self.constants[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.constants
        yield from self._raw

    def __len__(self) -> int:
        return len(self.constants) + len(self._raw)

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
                           for k, p in self._raw.items()})
