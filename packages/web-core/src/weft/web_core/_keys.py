"""Typed keys for the state mappings of applications, requests and responses.

``app[KEY]``, ``request[KEY]`` and ``response[KEY]`` are checked by mypy as
the key's type. The three kinds are separate classes, as in aiohttp, so a key
made for one mapping is not silently used with another.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Generic, TypeVar

__all__ = ["AppKey", "NotAppKeyWarning", "RequestKey", "ResponseKey"]

_T = TypeVar("_T")


class NotAppKeyWarning(UserWarning):
    """A key that is no AppKey (RequestKey, ResponseKey) was stored in an application
    (a request, a response); the typed key gives its value a type."""


# As ``import aiohttp.web`` does: the advice is for those who ask for warnings
# (-W, -X dev, a test runner's capture), not for every run of an app written with
# str keys. Appended, so that any filter set by the program comes first.
warnings.filterwarnings("ignore", category=NotAppKeyWarning, append=True)


def warn_untyped_key(
    seen: set[Any], key: object, kind: str, anchor: str, stacklevel: int = 3
) -> None:
    """aiohttp's advice, once per key, for a ``kind`` mapping given a key of another type.

    Called from a mapping's ``__setitem__`` (which does the cheap checks
    inline), so the warning points at the line that stored the key. A
    mypyc-compiled ``__setitem__`` has no Python frame: it passes 2.
    """
    seen.add(key)
    warnings.warn(
        f"It is recommended to use web.{kind} instances for keys.\n"
        f"https://docs.aiohttp.org/en/stable/web_advanced.html#{anchor}",
        category=NotAppKeyWarning,
        stacklevel=stacklevel,
    )


class _TypedKey(Generic[_T]):
    __slots__ = ("__orig_class__", "_name", "_t")

    def __init__(self, name: str, t: type[_T] | None = None) -> None:
        # Qualify the name with the defining module: a stable, readable repr.
        module = sys._getframe(1).f_globals.get("__name__", "")
        self._name = f"{module}.{name}" if module and module != "__main__" else name
        self._t = t

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _TypedKey):
            return self._name < other._name
        return True

    def __repr__(self) -> str:
        t: Any = self._t
        tname = "<<Unknown>>" if t is None else getattr(t, "__qualname__", repr(t))
        return f"<{type(self).__name__}({self._name}, type={tname})>"


class AppKey(_TypedKey[_T]):
    """A typed key for application state: ``app[KEY]`` is checked as ``_T``."""

    __slots__ = ()


class RequestKey(_TypedKey[_T]):
    """A typed key for per-request storage: ``request[KEY]``."""

    __slots__ = ()


class ResponseKey(_TypedKey[_T]):
    """A typed key for per-response storage: ``response[KEY]``."""

    __slots__ = ()
