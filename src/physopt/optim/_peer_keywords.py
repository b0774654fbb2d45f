"""Keyword names of a peer implementation, accepted beside ours (drop-in compatibility).

Code written for ``torch.optim.Muon`` or the SOAP authors' class should run unchanged on the
physopt class of the same name. A class decorated with :func:`peer_keywords` accepts the peer's
keyword names as well as its own: an :class:`Alias` is renamed (and its value translated to our
meaning) before the constructor runs; a :class:`Fixed` peer option that physopt does not provide
is accepted only at the value that means what physopt does, and refused otherwise. Giving an
alias *and* the name it stands for is ambiguous and raises ``ValueError`` naming both.

The constructor's own signature stays the one list of hyperparameters (param-group keys,
:func:`physopt.optim.build`'s options): ``inspect.signature`` sees through the wrapper.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Alias", "Fixed", "peer_keywords"]

T = TypeVar("T", bound=type)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Alias:
    """A peer keyword standing for our keyword ``name``; ``convert`` maps the peer's value to ours
    (and raises ``ValueError`` for a value the peer itself would refuse)."""

    name: str
    convert: Callable[[Any], Any] = _same


@dataclass(frozen=True)
class Fixed:
    """A peer option physopt does not provide: accepted only at ``value`` (what physopt does)."""

    value: Any
    why: str


def peer_keywords(peer: str, **table: Alias | Fixed) -> Callable[[T], T]:
    """Class decorator: let ``cls(params, **kwargs)`` also take ``peer``'s keyword names.

    The table is kept as ``cls.peer_keywords`` (documentation and tests read it).
    """

    def decorate(cls: T) -> T:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, params: Any, *args: Any, **kwargs: Any) -> None:
            init(self, params, *args, **_translate(cls.__name__, peer, table, kwargs))

        cls.__init__ = __init__  # type: ignore[misc]
        cls.peer_keywords = dict(table)  # type: ignore[attr-defined]
        return cls

    return decorate


def _translate(
    owner: str, peer: str, table: dict[str, Alias | Fixed], kwargs: dict[str, Any]
) -> dict[str, Any]:
    out = {k: v for k, v in kwargs.items() if k not in table}
    for key, entry in table.items():
        if key not in kwargs:
            continue
        value = kwargs[key]
        if isinstance(entry, Fixed):
            if value != entry.value:
                raise ValueError(
                    f"{owner}: {peer}'s option {key}={value!r} is not provided by physopt "
                    f"(only {key}={entry.value!r} is accepted: {entry.why})"
                )
            continue
        if entry.name in kwargs:
            raise ValueError(
                f"{owner}: both {key}= ({peer}'s name) and {entry.name}= were given; they are the "
                f"same option, give one"
            )
        out[entry.name] = entry.convert(value)
    return out
