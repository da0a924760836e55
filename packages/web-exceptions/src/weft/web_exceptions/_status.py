"""Lookup from a status code to its exception class."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from . import _exceptions
from ._base import HTTPException

__all__ = ["STATUS_CODES", "UnknownStatusError", "status_exception"]


def _concrete_classes() -> Iterator[type[HTTPException]]:
    for value in vars(_exceptions).values():
        if isinstance(value, type) and issubclass(value, HTTPException) and value.status_code > 0:
            yield value


STATUS_CODES: Mapping[int, type[HTTPException]] = MappingProxyType(
    {cls.status_code: cls for cls in sorted(_concrete_classes(), key=lambda c: c.status_code)}
)
"""Every status code that has an exception class, mapped to that class (read-only)."""


class UnknownStatusError(KeyError):
    """No exception class exists for the status code (a ``KeyError``, so a ``LookupError``)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status

    def __str__(self) -> str:
        return (
            f"no HTTP exception class for status {self.status!r}; "
            f"known statuses are in weft.web_exceptions.STATUS_CODES"
        )


def status_exception(status: int) -> type[HTTPException]:
    """Return the exception class for ``status`` (e.g. ``404`` -> ``HTTPNotFound``).

    Raises ``UnknownStatusError`` (a ``KeyError``) for a code without a class,
    such as 100, 418 or 599.
    """
    try:
        return STATUS_CODES[status]
    except (KeyError, TypeError):
        raise UnknownStatusError(status) from None
