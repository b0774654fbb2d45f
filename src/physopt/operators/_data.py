"""The typed value every operator run trains on: input and output functions on one grid.

``OperatorData`` holds ``inputs`` ``(N, C_in, *grid)`` and ``outputs`` ``(N, C_out, *grid)`` on a
uniform grid of ``[0, 1]^d``; ``periodic`` says which grid convention the samples use (``x_i = i/n``
on a periodic domain, else ``x_i = i/(n - 1)`` with both ends), so a resolution-invariant model puts
the same coordinates on the same physical points at every resolution. Families (our own solvers)
and users' ``.npz`` files both produce it; every check of a user's arrays happens here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["OperatorData", "axis_coordinates", "load_npz"]


def axis_coordinates(n: int, *, periodic: bool) -> np.ndarray:
    """The ``n`` coordinates of one grid axis on ``[0, 1]``: ``i/n`` (periodic) or ``i/(n-1)``."""
    if not isinstance(n, int) or n < (1 if periodic else 2):
        raise ValueError(f"a grid axis needs at least {1 if periodic else 2} points, got {n!r}")
    return np.arange(n) / n if periodic else np.linspace(0.0, 1.0, n)


def _check_array(name: str, value: object) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(value).__name__}")
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {value.dtype}")
    if value.ndim < 3:
        raise ValueError(f"{name} must have shape (N, channels, *grid) with at least one grid axis, "
                         f"got shape {value.shape}")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        bad = np.argwhere(~np.isfinite(value))[0]
        raise ValueError(f"{name} has non-finite values (first at index {tuple(int(i) for i in bad)})")
    return value


@dataclass(frozen=True, eq=False)
class OperatorData:
    """Pairs of input and output functions sampled on one uniform grid of ``[0, 1]^d``.

    Attributes:
        inputs: ``(N, C_in, *grid)``, any numeric dtype (kept as given; cast when training).
        outputs: ``(N, C_out, *grid)`` on the same grid.
        periodic: the grid convention (see :func:`axis_coordinates`).
        name: where the data came from (a family name or a file), for reports.
        solve_time_s: our solver's seconds per instance at this resolution, when the data came
            from one (reports compare the model's inference time with it).
    """

    inputs: np.ndarray
    outputs: np.ndarray
    periodic: bool = False
    name: str = ""
    solve_time_s: float | None = None

    def __post_init__(self) -> None:
        x = _check_array("inputs", self.inputs)
        y = _check_array("outputs", self.outputs)
        if x.shape[0] != y.shape[0]:
            raise ValueError("inputs and outputs must hold the same number of samples, "
                             f"got {x.shape[0]} and {y.shape[0]}")
        if x.shape[0] == 0:
            raise ValueError("the data holds no samples")
        if x.shape[2:] != y.shape[2:]:
            raise ValueError(f"inputs and outputs must be on the same grid, got grids {x.shape[2:]} and {y.shape[2:]}")
        for n in x.shape[2:]:
            axis_coordinates(int(n), periodic=self.periodic)

    @property
    def n(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.outputs.shape[1])

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.inputs.shape[2:])

    @property
    def dim(self) -> int:
        return len(self.grid)

    def take(self, index: slice | np.ndarray) -> OperatorData:
        """The samples selected by ``index`` (same grid, convention and provenance)."""
        return OperatorData(self.inputs[index], self.outputs[index], self.periodic, self.name, self.solve_time_s)

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` that :func:`load_npz` reads back (atomically: a temporary file renamed)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        extra = {} if self.solve_time_s is None else {"solve_time_s": np.float64(self.solve_time_s)}
        np.savez(tmp, inputs=self.inputs, outputs=self.outputs, periodic=np.bool_(self.periodic), **extra)
        tmp.replace(path)
        return path


def load_npz(path: str | Path, *, name: str | None = None) -> OperatorData:
    """Read ``inputs`` / ``outputs`` (and optional ``periodic``, ``solve_time_s``) from an ``.npz``.

    A missing file, a missing array or arrays of the wrong shape raise ``ValueError`` naming the
    file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as err:  # not an npz, truncated, pickled objects: one clear line
        raise ValueError(f"cannot read {str(path)!r} as .npz: {err}") from err
    missing = [k for k in ("inputs", "outputs") if k not in arrays]
    if missing:
        has = ", ".join(sorted(arrays)) or "none"
        raise ValueError(f"{str(path)!r} lacks array(s) {', '.join(missing)}; it has {has}"
                         " (expected inputs (N, C_in, *grid) and outputs (N, C_out, *grid))")
    unknown = sorted(set(arrays) - {"inputs", "outputs", "periodic", "solve_time_s"})
    if unknown:
        raise ValueError(f"{str(path)!r} has unexpected array(s) {', '.join(unknown)}; "
                         "known: inputs, outputs, periodic, solve_time_s")
    periodic = bool(arrays["periodic"]) if "periodic" in arrays else False
    solve = float(arrays["solve_time_s"]) if "solve_time_s" in arrays else None
    try:
        return OperatorData(arrays["inputs"], arrays["outputs"], periodic, name or path.name, solve)
    except ValueError as err:
        raise ValueError(f"{str(path)!r}: {err}") from None
