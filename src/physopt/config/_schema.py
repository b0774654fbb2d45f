"""Run configuration: frozen dataclasses mirroring what gets built, with TOML round trips.

Precedence (lowest first): field defaults < the problem's defaults (:data:`PROBLEM_DEFAULTS`) <
``--config FILE.toml`` < command-line flags (``--optimizer``, ``--steps``, ...) < ``--set key=value``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any

from ..models import MLPConfig, model_spec, operator_spec
from ._defaults import PROBLEM_DEFAULTS

__all__ = [
    "CausalConfig",
    "ConfigError",
    "DualsConfig",
    "GphmConfig",
    "InsrConfig",
    "MoEConfig",
    "ModelConfig",
    "OptimConfig",
    "PROBLEM_DEFAULTS",
    "RunConfig",
    "SamplerConfig",
    "SdgdConfig",
    "WosConfig",
    "apply_overrides",
    "dumps_toml",
    "from_dict",
    "merge",
    "to_dict",
]


class ConfigError(ValueError):
    """An invalid configuration value, key or file (the CLI exits with status 2)."""


# ``[model]`` is a tagged table: its ``kind`` (default "mlp") picks the registered model kind
# (:data:`physopt.models.MODELS`), whose options dataclass reads the other keys.
ModelOptions = Annotated[Any, "model options: the dataclass of physopt.models.MODELS[kind]"]
ModelConfig = MLPConfig  # the options of the default kind, under its earlier name
# ``[model]`` of a ``learn`` run: the same, over the neural-operator kinds (physopt.models.OPERATORS).
OperatorOptions = Annotated[Any, "operator model options: the dataclass of physopt.models.OPERATORS[kind]"]
# Tagged-table markers → (the registry lookup of a kind's spec, the kind when ``kind`` is absent).
DEFAULT_OPERATOR = "fno"
_TAGS: dict[Any, tuple[Any, str]] = {
    ModelOptions: (model_spec, "mlp"),
    OperatorOptions: (operator_spec, DEFAULT_OPERATOR),
}


@dataclass(frozen=True)
class SamplerConfig:
    """Points per condition (``sizes`` overrides the problem's defaults), resampling period
    (0 = a fixed set) and ``method`` for interior points: ``uniform``, ``sobol``, or the
    residual-based adaptive ``rad`` / ``rar`` (Wu et al. 2023): every ``resample_every`` steps
    ``candidates`` Sobol points are scored by the current PDE residual; ``rad`` redraws the interior
    points with density ∝ |r|^rad_k / mean(|r|^rad_k) + rad_c, ``rar`` adds the ``rar_add`` points
    of largest residual (RAR-G). ``shards`` splits the points into that many equal shards, each
    drawn from its own generator (docs/scaling.md); ``0`` means one per process of the launch, and a
    ``torchrun`` launch records the number it used, so a resume draws the same points."""

    sizes: dict[str, int] = field(default_factory=dict)
    resample_every: int = 0
    method: str = "uniform"
    candidates: int = 20000
    rad_k: float = 1.0
    rad_c: float = 1.0
    rar_add: int = 100
    shards: int = 0


@dataclass(frozen=True)
class OptimConfig:
    """Optimizer plan. ``name`` is one optimizer or a chain ``"first+second"``.

    The first optimizer runs ``switch_at`` steps with learning rate ``lr`` (and ``schedule``/
    ``decay``, ``options``), on only the first ``first_sizes[c]`` points of condition ``c`` where
    given; the second runs the remaining steps with ``then_lr`` and ``then_options`` on all
    points. A single name runs all steps (``first_sizes`` then applies throughout).
    ``switch_fraction`` > 0 also switches once that fraction of ``time_budget`` is spent (whichever
    comes first), so a chain under a short budget still reaches its second optimizer.
    ``switch_plateau`` > 0 also switches once the first optimizer's loss stops improving: its best
    logged loss over the last ``switch_plateau`` steps is not ``switch_drop`` (relative) below its
    best before them (:func:`physopt.training.on_plateau`; the loss is logged every ``log_every``).
    """

    name: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"
    decay: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    first_sizes: dict[str, int] = field(default_factory=dict)
    switch_at: int = 1000
    switch_fraction: float = 0.0
    switch_plateau: int = 0
    switch_drop: float = 0.1
    then_lr: float = 1.0
    then_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DualsConfig:
    """Constraint roles (``constraints = "lagrangian" | "alm"``): penalty ``ρ`` of the augmented
    Lagrangian and dual step ``η`` of the multipliers (0: η = ρ, the method of multipliers).

    The defaults suit one Adam step per dual update. Measured on Burgers (4x20 net, 300 Adam steps):
    η = ρ = 10 gives relative error 2.2, η = 0.01 gives 0.42 —
    ``physopt solve burgers --constraints alm --optimizer adam --steps 300 --set model.depth=4
    --set duals.penalty=10 --set duals.dual_lr=0`` (resp. ``=0.01``)."""

    penalty: float = 10.0
    dual_lr: float = 0.01
    # Per-condition overrides of ``penalty`` / ``dual_lr`` (``--set duals.penalties.bc=100``).
    penalties: dict[str, float] = field(default_factory=dict)
    dual_lrs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SdgdConfig:
    """SDGD (stochastic dimension gradient descent): ``dims`` > 0 estimates the PDE residual's
    Laplacian from that many dimensions sampled with the points (0 = the full Laplacian). See
    docs/methods.md and :mod:`physopt.training` ``SampledDims``."""

    dims: int = 0


@dataclass(frozen=True)
class WosConfig:
    """``method = "wos"``: Walk-on-Spheres regression targets with ``walks`` walks per interior
    point, stopping within ``epsilon`` of the boundary (see docs/methods.md)."""

    walks: int = 100
    epsilon: float = 1e-4


@dataclass(frozen=True)
class InsrConfig:
    """``method = "insr"`` (:func:`physopt.training.insr_solve`): ``steps`` time steps of ``scheme``
    (``euler`` or ``midpoint``), each ``iterations`` steps of ``[optim]``'s optimizer on ``points``
    points per condition; the initial state is fitted in ``initial_iterations``. ``periodic`` makes
    the spatial network exactly periodic along the problem's Periodic axes (``model.harmonics``
    frequencies, as ``model.periodic`` does for space-time networks; docs/methods.md)."""

    steps: int = 100
    scheme: str = "midpoint"
    iterations: int = 100
    initial_iterations: int = 2000
    points: int = 1000
    periodic: bool = False


@dataclass(frozen=True)
class GphmConfig:
    """``method = "gp-hm"`` (:mod:`physopt.gp`, Fang et al. 2024): a grid of ``points`` nodes per
    axis, ``components`` spectral-mixture components per axis with initial frequencies evenly on
    ``[0, max_frequency]`` cycles per unit length, ``envelope`` ``matern52`` (Student-t spectrum) or
    ``gaussian``, ``jitter`` on each kernel factor, the boundary likelihood weighted by
    ``boundary_weight``, Adam from ``lr`` decaying geometrically to ``final_lr`` over ``steps``;
    ``values`` ``adam`` (the paper: the grid values among Adam's parameters) or ``solve`` (the exact
    minimiser in the values before each step, :class:`physopt.gp.ValuesUpdate`)."""

    points: int = 200
    components: int = 30
    max_frequency: float = 20.0
    envelope: str = "matern52"
    jitter: float = 1e-6
    boundary_weight: float = 200.0
    lr: float = 1e-2
    final_lr: float = 1e-3
    values: str = "adam"


@dataclass(frozen=True)
class CausalConfig:
    """Causal weighting of the PDE residual over ``bins`` time bins (Wang et al. 2024):
    w_i = exp(-ε Σ_{k<i} L_k). ``epsilon`` 0 switches it off; a non-empty ``epsilons`` list is the
    annealing schedule, advanced when min w > ``threshold``; ``boundary`` also weights boundary
    residuals by their time bin (see docs/methods.md)."""

    epsilon: float = 0.0
    bins: int = 32
    epsilons: list[float] = field(default_factory=list)
    threshold: float = 0.99
    boundary: bool = True


@dataclass(frozen=True)
class MoEConfig:
    """``--constraints hard-moe`` (PI-HC-MoE, :class:`physopt.models.MixtureOfExperts`): ``experts``
    equal slabs along input ``axis``, ``basis`` network outputs, ``points`` PDE enforcement points per
    expert and the relative ``ridge`` of the expert solves. ``points ≤ basis`` makes the residual
    vanish at the points up to the ridge; more points give the least-squares solve of the paper.
    Nonlinear residuals use ``iterations`` Levenberg–Marquardt steps from relative ``damping``."""

    experts: int = 4
    basis: int = 20
    points: int = 16
    axis: int = 0
    ridge: float = 1e-8
    iterations: int = 8
    damping: float = 1e-3


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run.

    ``constraints`` is the role of every non-PDE condition: ``hard`` (exact through the problem's
    ansatz), ``penalty`` (weighted mean square; ``weights`` per condition, default 1), or
    ``lagrangian`` / ``alm`` (pointwise equality constraints with multipliers, see ``duals``).
    ``roles`` overrides it per condition (``roles = {ic = "hard", bc = "alm"}``, ``--set
    roles.bc=alm``); the PDE residual itself is always the objective (role ``penalty``).
    ``method`` is how the PDE itself enters the loss: ``pinn`` (mean-square strong-form residual);
    the seed methods add their own names (see :data:`physopt.config.METHODS`).
    ``device`` is where tensors live: ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (a device this
    machine lacks is a :class:`ConfigError`, never a silent fallback; see :class:`physopt.runtime.Runtime`).
    ``model`` is a tagged table: ``kind`` (default ``"mlp"``) picks the registered model kind
    (:data:`physopt.models.MODELS`) whose options dataclass reads the other keys.
    ``problem_options`` go to the problem's factory (``--set problem.dim=1000`` is short for
    ``--set problem_options.dim=1000``). ``time_budget`` 0 means no budget; it counts seconds on
    ``budget_clock``: ``wall`` (default) or ``cpu`` (process CPU time, fair when other jobs share the
    machine; with ``threads = 1`` the run's own compute time). ``threads`` is the
    number of CPU threads torch uses during the run; 0 (the default) means as many as there are idle
    cores when the run starts (:func:`physopt.runtime.idle_threads`; under ``torchrun`` an equal share
    per rank), and the count used is written back into the run's ``config.toml`` so a resume computes
    with it. Busy cores make more threads than idle cores much slower than their share explains
    (OpenMP barriers wait for descheduled threads: ``python benchmarks/threads_under_load.py``,
    docs/solve.md "Threads").
    """

    problem: str = "burgers"
    problem_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    dtype: str = "float64"
    device: str = "cpu"
    # Set by physopt.solve(Problem(...)): the run was built from an in-memory problem, which
    # load/resume need to be given again (a run directory cannot store its functions).
    in_memory: bool = False
    steps: int = 10000
    time_budget: float = 0.0
    budget_clock: str = "wall"
    constraints: str = "penalty"
    weights: dict[str, float] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    method: str = "pinn"
    log_every: int = 100
    eval_every: int = 500
    checkpoint_every: int = 1000
    threads: int = 0
    # Also write the logged scalars as TensorBoard events into <run dir>/tensorboard (optional
    # extra: pip install 'physopt[tensorboard]'); metrics.jsonl is written either way.
    tensorboard: bool = False
    model: ModelOptions = field(default_factory=MLPConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    duals: DualsConfig = field(default_factory=DualsConfig)
    moe: MoEConfig = field(default_factory=MoEConfig)
    causal: CausalConfig = field(default_factory=CausalConfig)
    sdgd: SdgdConfig = field(default_factory=SdgdConfig)
    wos: WosConfig = field(default_factory=WosConfig)
    insr: InsrConfig = field(default_factory=InsrConfig)
    gphm: GphmConfig = field(default_factory=GphmConfig)


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def _tagged(value: Any, key: str, marker: Any = ModelOptions) -> type:
    """The options dataclass of the tagged table ``value`` (``[model]``, by its ``kind``)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table, got {value!r}")
    lookup, default = _TAGS[marker]
    try:
        return lookup(value.get("kind", default)).config
    except ValueError as err:
        raise ConfigError(f"{key}.kind: {err}") from None


def _convert(value: Any, tp: Any, key: str) -> Any:
    if tp in _TAGS:
        return _from_dict(_tagged(value, key, tp), value, key + ".")
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):  # e.g. ``int | Sequence[int]``: the first form that fits
        options = typing.get_args(tp)
        exact = [t for t in options if t is type(value)]  # ``float | int`` keeps 1 an int and 0.5 a float
        for option in [*exact, *(t for t in options if t not in exact)]:
            try:
                return _convert(value, option, key)
            except ConfigError:
                continue
        forms = " or ".join(getattr(t, "__name__", str(t)) for t in options)
        raise ConfigError(f"{key}: expected {forms}, got {value!r}")
    if origin is collections.abc.Sequence:
        origin, tp = list, list[typing.get_args(tp)[0]]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return _from_dict(tp, value, key + ".")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (vt,) = typing.get_args(tp)
        return [_convert(v, vt, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        _, vt = typing.get_args(tp)
        return {k: _convert(v, vt, f"{key}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def _from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    unknown = set(data) - set(hints)
    if unknown:
        valid = ", ".join(prefix + k for k in hints)
        raise ConfigError(f"unknown config key(s) {', '.join(prefix + k for k in sorted(unknown))}; valid: {valid}")
    return cls(**{k: _convert(v, hints[k], prefix + k) for k, v in data.items()})


def from_dict(data: dict[str, Any]) -> RunConfig:
    """Validate and convert a nested dict (e.g. parsed TOML) into a :class:`RunConfig`."""
    return _from_dict(RunConfig, data)


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; tables merge key by key, everything else is replaced. A tagged table
    (one with a ``kind``, like ``[model]``) whose kind differs from the base's replaces it whole:
    options of one model kind mean nothing to another."""
    out = dict(base)
    for k, v in update.items():
        old = out.get(k)
        same_kind = isinstance(old, dict) and isinstance(v, dict) and v.get("kind", old.get("kind")) == old.get("kind")
        out[k] = merge(old, v) if same_kind else v  # type: ignore[arg-type]
    return out


def _field_type(path: list[str], data: dict[str, Any], root: type) -> Any:
    cls: Any = root
    node: Any = data
    for i, part in enumerate(path):
        if cls in _TAGS:
            cls = _tagged(node if isinstance(node, dict) else {}, ".".join(path[:i]), cls)
        node = node.get(part, {}) if isinstance(node, dict) else {}
        if dataclasses.is_dataclass(cls):
            hints = typing.get_type_hints(cls, include_extras=True)
            if part not in hints:
                raise ConfigError(f"unknown config key {'.'.join(path)!r}; valid here: {', '.join(hints)}")
            cls = hints[part]
        elif typing.get_origin(cls) is dict:
            cls = typing.get_args(cls)[1]
        else:
            raise ConfigError(f"config key {'.'.join(path[: i + 1])!r} is not a table")
    return cls


def _parse_value(text: str, tp: Any, key: str) -> Any:
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # a bare word: a string
    if tp is str and not isinstance(value, str):
        value = text
    if tp is float and isinstance(value, str):
        try:
            value = float(value)  # accepts forms TOML does not, e.g. "1e-3"
        except ValueError:
            pass
    return _convert(value, tp, key)


def apply_overrides(data: dict[str, Any], overrides: list[str], *, root: type = RunConfig,
                    aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """Apply ``--set key=value`` strings (dotted keys, values typed by the target field of ``root``).

    ``aliases`` maps a leading key to the table it stands for (``problem`` → ``problem_options``).
    ``*.kind`` keys apply first, whatever their place on the command line: a kind clears its table's
    other options, so ``--set model.width=8 --set model.kind=lsm`` must not drop the width given."""
    aliases = {"problem": "problem_options"} if aliases is None else aliases
    out = dict(data)
    is_kind = lambda item: item.split("=", 1)[0].strip().endswith(".kind")  # noqa: E731
    for item in sorted(overrides, key=lambda item: not is_kind(item)):  # stable: kinds first, else as given
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, text = item.split("=", 1)
        path = key.strip().split(".")
        if path[0] in aliases and len(path) > 1:
            path = [aliases[path[0]], *path[1:]]  # --set problem.dim=1000: a factory option
        value = _parse_value(text.strip(), _field_type(path, out, root), key)
        node = out
        for part in path[:-1]:
            node[part] = dict(node.get(part, {}))
            node = node[part]
        if path[-1] == "kind" and node.get("kind", value) != value:
            node.clear()  # another kind: the old kind's options do not apply (see merge)
        node[path[-1]] = value
    return out


# TOML basic-string escapes; every other non-printable character is written as a \u escape (four hex
# digits) or, past U+FFFF, a \U escape (eight): TOML rejects raw control characters, e.g. a newline.
_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _toml_char(c: str) -> str:
    if c in _TOML_ESCAPES:
        return _TOML_ESCAPES[c]
    if c.isprintable():
        return c
    if 0xD800 <= ord(c) <= 0xDFFF:
        raise ConfigError(f"cannot write a lone surrogate {c!r} to TOML")
    return f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))  # int(): an IntEnum's repr is not a TOML integer
    if isinstance(v, float):
        return repr(float(v))  # inf, -inf and nan are TOML spellings too; float(): numpy's repr is not
    if isinstance(v, str):
        return '"' + "".join(_toml_char(c) for c in v) + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ConfigError(f"cannot write {v!r} to TOML")


def _key(k: str) -> str:
    if not isinstance(k, str):
        raise ConfigError(f"cannot write the key {k!r} to TOML (keys are strings)")
    return k if k and set(k) <= _BARE_KEY else _toml_value(k)


def dumps_toml(data: dict[str, Any]) -> str:
    """Write a nested dict as TOML: scalars first, then one table per dataclass-like sub-dict."""
    inline = ("weights", "problem_options")
    lines = [f"{_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) or k in inline]
    for k, v in data.items():
        if isinstance(v, dict) and k not in inline:
            lines += ["", f"[{_key(k)}]"] + [f"{_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"
