"""Response compression: ``ContentCoding``, Accept-Encoding negotiation and a zlib compressor.

``StreamResponse.enable_compression()`` picks a coding when the response is
prepared; a streamed body is compressed write by write through the writer's
compressor hook, a ``Response`` body is compressed whole. Compressing more
than ``max_sync_size`` bytes at once runs in an executor so that the event
loop is not blocked (aiohttp's ``zlib_executor_size``).
"""

from __future__ import annotations

import asyncio
import enum
import zlib
from collections.abc import Iterable
from concurrent.futures import Executor
from typing import Final

from multidict import MutableMultiMapping

__all__ = [
    "MAX_SYNC_CHUNK_SIZE",
    "ContentCoding",
    "ZLibCompressor",
    "accepted_codings",
    "add_vary",
    "coding_acceptable",
    "negotiate_coding",
]

#: Data longer than this is compressed in an executor (aiohttp's default).
MAX_SYNC_CHUNK_SIZE: Final = 4096


class ContentCoding(enum.Enum):
    """The content codings a response can be compressed with (aiohttp.web.ContentCoding)."""

    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"


# aiohttp's order of preference when the client weighs codings equally.
_PREFERENCE: Final = (ContentCoding.deflate, ContentCoding.gzip, ContentCoding.identity)


def accepted_codings(accept_encoding: str) -> dict[str, float]:
    """Accept-Encoding (RFC 9110 §12.5.3) as ``{coding: q}``, names lower-cased.

    A malformed weight counts as 1 (lenient, as most servers); ``q=0`` is kept
    so that callers can tell "refused" from "not mentioned".
    """
    result: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, eq, value = param.partition("=")
            if eq and key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 1.0
        result[name] = q
    return result


def coding_acceptable(coding: str, accepted: dict[str, float]) -> bool:
    """Whether ``coding`` has a non-zero weight, directly or through ``*``."""
    q = accepted.get(coding)
    if q is None:
        q = accepted.get("*", 0.0)
    return q > 0


def negotiate_coding(
    accept_encoding: str, available: Iterable[ContentCoding] = _PREFERENCE
) -> ContentCoding | None:
    """The coding to compress with, or None for none.

    The highest weight wins; on a tie, aiohttp's order (deflate, gzip). A coding
    refused with ``q=0`` is never chosen; ``*`` stands for any coding not named.
    """
    if not accept_encoding:
        return None
    accepted = accepted_codings(accept_encoding)
    best: ContentCoding | None = None
    best_q = 0.0
    for coding in available:
        if coding is ContentCoding.identity:
            continue
        q = accepted.get(coding.value)
        if q is None:
            q = accepted.get("*", 0.0)
        if q > best_q:
            best, best_q = coding, q
    if best is not None and accepted.get("identity", 0.0) > best_q:
        return None  # the client prefers the body as it is
    return best


def _wbits(coding: ContentCoding) -> int:
    # gzip: a gzip header and trailer; deflate: the zlib format (RFC 9110 §8.4.1.2).
    return 16 + zlib.MAX_WBITS if coding is ContentCoding.gzip else zlib.MAX_WBITS


class ZLibCompressor:
    """A gzip or deflate stream compressor; large pieces are compressed in an executor."""

    __slots__ = ("_compressor", "_executor", "_lock", "_max_sync_size")

    def __init__(
        self,
        coding: ContentCoding,
        *,
        strategy: int | None = None,
        level: int = zlib.Z_DEFAULT_COMPRESSION,
        max_sync_size: int | None = MAX_SYNC_CHUNK_SIZE,
        executor: Executor | None = None,
    ) -> None:
        if coding is ContentCoding.identity:
            raise ValueError("identity is not a compression: do not compress instead")
        self._compressor = zlib.compressobj(
            level,
            zlib.DEFLATED,
            _wbits(coding),
            8,
            zlib.Z_DEFAULT_STRATEGY if strategy is None else strategy,
        )
        self._max_sync_size = max_sync_size
        self._executor = executor
        self._lock: asyncio.Lock | None = None

    async def compress(self, data: bytes) -> bytes:
        """Compress a piece; the output may be empty (zlib keeps data until it has enough)."""
        big = self._max_sync_size is not None and len(data) > self._max_sync_size
        if not big and (self._lock is None or not self._lock.locked()):
            return self._compressor.compress(data)
        # One piece at a time: the compressor object is not safe to share between threads,
        # and the pieces must leave in the order they came.
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not big:
                return self._compressor.compress(data)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._compressor.compress, data)

    def flush(self) -> bytes:
        """The compressed stream's last bytes (call once, after the last piece)."""
        return self._compressor.flush()


def add_vary(headers: MutableMultiMapping[str], name: str = "Accept-Encoding") -> None:
    """Add ``name`` to the Vary header unless it (or ``*``) is already there."""
    current = headers.get("Vary")
    if current is None:
        headers["Vary"] = name
        return
    tokens = {token.strip().lower() for token in current.split(",")}
    if name.lower() not in tokens and "*" not in tokens:
        headers["Vary"] = f"{current}, {name}"
