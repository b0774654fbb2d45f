"""dumps_toml writes only what tomllib reads back as the same value (property-style, seeded)."""

from __future__ import annotations

import enum
import math
import random
import tomllib
from typing import Any

import pytest

from physopt.config import ConfigError, RunConfig, dumps_toml, to_dict

# Characters a config string or key may hold: ASCII, quotes, backslashes, every control character
# TOML forbids raw (newline, tab, NUL, DEL, ...), non-ASCII letters, a non-BMP emoji, U+2028.
ALPHABET = (
    [chr(c) for c in range(0x20, 0x7F)]
    + ['"', "\\", "'", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1b", "\x7f"]
    + ["é", "ß", "Ω", "中", "😀", "\u2028", "\u00a0"]
)
FLOATS = [0.0, -0.0, 1.0, -2.5, 1e-300, 1e300, 5e-324, 0.1, 1 / 3, math.inf, -math.inf, math.nan]


def _text(rng: random.Random, short: bool = False) -> str:
    n = rng.choice([0, 1, 3]) if short else rng.randint(0, 12)
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def _key(rng: random.Random) -> str:
    return rng.choice(["kind", "lr", "a-b", "x_1", "", "a.b", "with space", "é", "1", "true", _text(rng)])


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice([True, False])
    if kind == 1:
        return rng.choice([0, -1, 7, 2**63 - 1, -(2**63)])
    if kind == 2:
        return rng.choice(FLOATS) if rng.random() < 0.5 else rng.uniform(-1e6, 1e6)
    return _text(rng)


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 0 and roll < 0.2:
        return _table(rng, depth - 1)
    if depth > 0 and roll < 0.3:
        return [_table(rng, depth - 1) for _ in range(rng.randint(0, 3))]  # a list of dicts
    if roll < 0.45:
        return [_scalar(rng) for _ in range(rng.randint(0, 4))]  # mixed types: TOML 1.0 allows
    return _scalar(rng)


def _table(rng: random.Random, depth: int) -> dict[str, Any]:
    return {_key(rng): _value(rng, depth) for _ in range(rng.randint(0, 4))}


def _config_like(rng: random.Random) -> dict[str, Any]:
    """Scalars, tables (some empty), tables holding dicts, as a written RunConfig has and more."""
    out = _table(rng, 2)
    for _ in range(rng.randint(0, 3)):
        out[_key(rng)] = _table(rng, 2)
    for name in ("weights", "problem_options"):  # the keys dumps_toml writes inline
        if rng.random() < 0.5:
            out[name] = _table(rng, 1)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality, with nan equal to nan and -0.0 told apart from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


SEEDS = range(300)


def test_random_config_like_dicts_round_trip():
    for seed in SEEDS:
        data = _config_like(random.Random(seed))
        text = dumps_toml(data)
        assert _same(tomllib.loads(text), data), f"seed {seed}:\n{text}"


def test_the_generator_reaches_the_hard_cases():
    # The property above can only fail on what the generator produces: check it produces them.
    texts = [dumps_toml(_config_like(random.Random(s))) for s in SEEDS]
    for needle in ("\\n", "\\\\", '\\"', "\\u0000", "\\u007F", "nan", "-inf", "😀", '"a.b"', '"" =', "[{", "= {}"):
        assert any(needle in t for t in texts), needle


def test_a_newline_in_a_string_round_trips():
    # The reported bug: a label with a newline wrote a file tomllib rejected.
    data = {"name": "two\nlines", "optim": {"options": {"note": 'say "hi"\\'}}, "empty": {}}
    assert tomllib.loads(dumps_toml(data)) == data


def test_the_default_run_config_round_trips():
    data = to_dict(RunConfig())
    assert tomllib.loads(dumps_toml(data)) == data


class _Level(enum.IntEnum):
    HIGH = 3


def test_int_and_float_subclasses_are_written_as_their_values():
    assert tomllib.loads(dumps_toml({"level": _Level.HIGH})) == {"level": 3}


@pytest.mark.parametrize("bad", [None, object(), {"x": {1: 2}}, "\ud800"])
def test_what_toml_cannot_hold_is_refused(bad):
    with pytest.raises(ConfigError):
        dumps_toml({"key": bad})
