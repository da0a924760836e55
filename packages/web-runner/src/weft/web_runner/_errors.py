"""Errors a handler meets when reading the body of its request.

::

    BodyReadTimeoutError(asyncio.TimeoutError)  the body stalled (read_body_timeout): 408
    RequestPayloadError(Exception)              the body was malformed (a bad chunk...):
                                                answered with the parser's status (400...)
    PayloadAccessError(Exception)               the body was read after the response was sent

The names and bases of the last two are aiohttp.web's.
"""

from __future__ import annotations

import asyncio

__all__ = ["BodyReadTimeoutError", "PayloadAccessError", "RequestPayloadError"]


class BodyReadTimeoutError(asyncio.TimeoutError):
    """The request body stalled longer than ``read_body_timeout``.

    Raised by reads of ``request.content`` (and ``read()``, ``post()``, ...).
    A handler that does not catch it answers 408 Request Timeout, and the
    connection closes.
    """


class RequestPayloadError(Exception):
    """The request body broke the HTTP framing (for instance a malformed chunk).

    ``status`` and ``reason`` are the parser's answer; the parser's error is
    ``__cause__``. A handler that does not catch it answers that status, and
    the connection closes.
    """

    def __init__(self, message: str, *, status: int = 400, reason: str = "Bad Request") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class PayloadAccessError(Exception):
    """The request body was read after the response was sent."""
