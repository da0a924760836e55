"""The ``@middleware`` marker for new-style middlewares."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["is_new_style", "middleware"]

_F = TypeVar("_F")


def middleware(f: _F) -> _F:
    """Mark ``async def m(request, handler)`` as a new-style middleware."""
    f.__middleware_version__ = 1  # type: ignore[attr-defined]
    return f


def is_new_style(m: Any) -> bool:
    return getattr(m, "__middleware_version__", None) == 1
