"""The typed batch of one condition: per-point arrays apart from per-batch metadata."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Points"]


@dataclass(frozen=True, eq=False)
class Points(Mapping[str, torch.Tensor]):
    """What :meth:`Condition.sample` draws: the points ``x`` ``(n, dim)``, per-point ``fields``
    (each with ``n`` rows: boundary normals, paired periodic points, observed values, quadrature
    weights) and per-batch ``meta`` (not one row per point: SDGD's sampled dimensions).

    Reading it as a mapping (``batch["x"]``, ``batch["normal"]``) gives ``x`` and the fields only;
    metadata is read as ``batch.meta[...]``. :meth:`take` selects points (a prefix for a warm-up
    phase, a block for a Jacobian) and keeps the metadata whole, so slicing can never cut it.
    """

    x: torch.Tensor
    fields: Mapping[str, torch.Tensor] = field(default_factory=dict)
    meta: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.x, torch.Tensor) or self.x.ndim != 2:
            shape = tuple(self.x.shape) if isinstance(self.x, torch.Tensor) else type(self.x).__name__
            raise ValueError(f"Points.x must be a tensor of shape (n, dim), got {shape}")
        n = self.x.shape[0]
        for key, value in self.fields.items():
            if key == "x":
                raise ValueError("Points.fields cannot hold a key 'x' (the points themselves are Points.x)")
            if not isinstance(value, torch.Tensor) or value.ndim == 0 or value.shape[0] != n:
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ValueError(f"Points field {key!r} must have one row per point ({n}), got shape {shape}; "
                                 "per-batch values belong in Points.meta")
        clash = sorted(set(self.fields) & set(self.meta))
        if clash:
            raise ValueError(f"Points keys {clash} are both per-point fields and metadata")

    # ------------------------------------------------------------------ mapping of per-point arrays
    def __getitem__(self, key: str) -> torch.Tensor:
        if key == "x":
            return self.x
        if key in self.fields:
            return self.fields[key]
        hint = f" (it is metadata: batch.meta[{key!r}])" if key in self.meta else ""
        raise KeyError(f"{key!r} is not a per-point array of this batch{hint}")

    def __iter__(self) -> Iterator[str]:
        yield "x"
        yield from self.fields

    def __len__(self) -> int:
        return 1 + len(self.fields)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.x.shape[0])

    # ------------------------------------------------------------------ transforms
    def take(self, index: slice | torch.Tensor) -> Points:
        """The points selected by ``index`` (a slice or an index/boolean tensor), metadata whole."""
        return Points(self.x[index], {k: v[index] for k, v in self.fields.items()}, dict(self.meta))

    def prefix(self, n: int) -> Points:
        """The first ``n`` points (all of them if there are fewer)."""
        return self if n >= self.n else self.take(slice(0, n))

    def with_x(self, x: torch.Tensor) -> Points:
        """The same fields and metadata at other point coordinates (same count)."""
        return Points(x, dict(self.fields), dict(self.meta))

    def to(self, *, device: torch.device | None = None, dtype: torch.dtype | None = None) -> Points:
        """Floating arrays cast to ``dtype``; everything moved to ``device`` (integer metadata keeps its dtype)."""
        def move(t: torch.Tensor) -> torch.Tensor:
            return t.to(device=device, dtype=dtype if dtype is not None and t.is_floating_point() else None)

        return Points(move(self.x), {k: move(v) for k, v in self.fields.items()},
                      {k: move(v) for k, v in self.meta.items()})

    @staticmethod
    def cat(parts: list[Points]) -> Points:
        """Points of several draws one after another (metadata of the first)."""
        if not parts:
            raise ValueError("Points.cat needs at least one part")
        keys = list(parts[0].fields)
        return Points(torch.cat([p.x for p in parts]), {k: torch.cat([p.fields[k] for p in parts]) for k in keys},
                      dict(parts[0].meta))

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Plain tensors and dicts (what a checkpoint stores)."""
        return {"x": self.x, "fields": dict(self.fields), "meta": dict(self.meta)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Points:
        """Inverse of :meth:`state`; also reads the flat ``{"x": ..., key: ...}`` batches of
        checkpoints written before this type existed, where the only per-batch entry was SDGD's ``dims``."""
        if "fields" in state or "meta" in state:
            return cls(state["x"], dict(state.get("fields", {})), dict(state.get("meta", {})))
        rest = {k: v for k, v in state.items() if k != "x"}
        meta = {"dims": rest.pop("dims")} if "dims" in rest else {}
        return cls(state["x"], rest, meta)
