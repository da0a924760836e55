"""Payloads: what a response body (or a multipart part) can be besides bytes.

aiohttp's ``aiohttp.payload`` model, names and behaviour: a ``Payload`` holds
a value, the headers it implies (Content-Type, sometimes Content-Disposition),
its ``size`` when it can know it (a response's Content-Length; None means
chunked), and writes itself to anything with ``async write(bytes)`` in
bounded pieces. ``get_payload(obj)`` picks the class from a registry.

This module holds the base, the registry and the in-memory and async-iterable
kinds; file objects are in ``_payload_io``, ``MultipartWriter`` and the
``BodyPartReader`` proxy in ``_multipart_writer``. Each registers itself on
import (web_core's ``__init__`` imports them all).

Invariant: ``write()`` never holds more than one piece of the body; each
``await writer.write(piece)`` is where backpressure applies. ``close()``
never awaits anything slow (it may run while the task is being cancelled).
"""

from __future__ import annotations

import enum
import json
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from itertools import chain
from typing import Any, Final, Protocol, TypeVar

from multidict import CIMultiDict

from weft.http_parser.streams import BodyStream

from ._content_disposition import content_disposition_header
from ._helpers import parse_content_type

__all__ = [
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BytesPayload",
    "JsonBytesPayload",
    "JsonPayload",
    "Order",
    "Payload",
    "PayloadLookupError",
    "PayloadRegistry",
    "PayloadWriter",
    "StringPayload",
    "get_payload",
    "payload_type",
]

#: aiohttp's DEFAULT_CHUNK_SIZE: the most a file payload reads at once.
CHUNK_SIZE: Final = 2**18

_P = TypeVar("_P", bound="type[Payload]")


class PayloadWriter(Protocol):
    """Where a payload writes: a StreamWriter, a prepared response, a test collector."""

    async def write(self, data: bytes) -> Any: ...


class PayloadLookupError(LookupError):
    """No payload class is registered for the object (aiohttp's ``payload.LookupError``)."""


class Order(enum.StrEnum):
    """Where a registered payload class is tried (aiohttp's)."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


class PayloadRegistry:
    """Object type -> Payload class: exact types first, then ``isinstance`` in order."""

    __slots__ = ("_first", "_last", "_lookup", "_normal")

    def __init__(self) -> None:
        self._first: list[tuple[type[Payload], Any]] = []
        self._normal: list[tuple[type[Payload], Any]] = []
        self._last: list[tuple[type[Payload], Any]] = []
        self._lookup: dict[type, type[Payload]] = {}

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        for factory, types in self._first:
            if isinstance(data, types):
                return factory(data, *args, **kwargs)
        factory_for_type = self._lookup.get(type(data))
        if factory_for_type is not None:
            return factory_for_type(data, *args, **kwargs)
        if isinstance(data, Payload):
            return data
        for factory, types in chain(self._normal, self._last):
            if isinstance(data, types):
                return factory(data, *args, **kwargs)
        raise PayloadLookupError(f"No payload for {type(data).__name__}")

    def register(self, factory: type[Payload], types: Any, *, order: Order = Order.normal) -> None:
        if order is Order.try_first:
            self._first.append((factory, types))
        elif order is Order.normal:
            self._normal.append((factory, types))
            for one in types if isinstance(types, Iterable) else (types,):
                self._lookup[one] = factory
        elif order is Order.try_last:
            self._last.append((factory, types))
        else:
            raise ValueError(f"Unsupported order {order!r}")


PAYLOAD_REGISTRY: Final = PayloadRegistry()


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """The payload for ``data`` (a Payload is returned as it is)."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


class payload_type:
    """``@payload_type(SomeType)`` registers a Payload class for ``SomeType``."""

    def __init__(self, type: Any, *, order: Order = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: _P) -> _P:
        PAYLOAD_REGISTRY.register(factory, self.type, order=self.order)
        return factory


_UNSET: Final[Any] = object()


class Payload(ABC):
    """A body with its headers; subclasses say how it is written and decoded."""

    _default_content_type: str = "application/octet-stream"
    _size: int | None = None
    _consumed = False
    # True when close() has nothing to release (no file descriptor).
    _autoclose = False

    def __init__(
        self,
        value: Any,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content_type: str | None = _UNSET,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        if content_type is not _UNSET and content_type is not None:
            self._headers["Content-Type"] = content_type
        elif filename is not None:
            guessed = mimetypes.guess_type(filename)[0]
            self._headers["Content-Type"] = guessed or self._default_content_type
        else:
            self._headers["Content-Type"] = self._default_content_type
        if headers:
            self._headers.update(headers)

    @property
    def size(self) -> int | None:
        """The bytes ``write()`` sends, None when unknown (then a response is chunked)."""
        return self._size

    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def content_type(self) -> str:
        return self._headers["Content-Type"]

    @property
    def consumed(self) -> bool:
        """Whether the payload can no longer be written again (read once, or closed)."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when close() has nothing to release."""
        return self._autoclose

    @property
    def _binary_headers(self) -> bytes:
        """The headers as a multipart part's head (CR, LF and NUL refused: injection)."""
        lines = []
        for name, value in self._headers.items():
            for text in (name, value):
                if "\r" in text or "\n" in text or "\x00" in text:
                    raise ValueError(f"Newline or NUL in a header is not allowed: {text!r}")
            lines.append(f"{name}: {value}\r\n")
        return "".join(lines).encode("utf-8") + b"\r\n"

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        """Set Content-Disposition (a non-ASCII ``name``/``filename``: RFC 8187 ``*`` form)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @abstractmethod
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text (a file payload reads the file: blocking)."""

    @abstractmethod
    async def write(self, writer: PayloadWriter) -> None:
        """Write the body to ``writer`` in bounded pieces."""

    async def write_with_length(self, writer: PayloadWriter, content_length: int | None) -> None:
        """Write at most ``content_length`` bytes (aiohttp 3.12's API); all when None."""
        if content_length is None:
            await self.write(writer)
        else:
            await self.write(_Truncating(writer, content_length))

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body as bytes."""
        actual = self._encoding or encoding
        return self.decode(actual, errors).encode(actual)

    def _close(self) -> None:  # noqa: B027 - a hook: most payloads hold nothing
        """Release what the payload holds, without blocking (aiohttp's sync close)."""

    async def close(self) -> None:
        """Release what the payload holds; never waits for slow work."""
        self._close()


class _Truncating:
    """A writer that passes on only the first ``limit`` bytes."""

    def __init__(self, writer: PayloadWriter, limit: int) -> None:
        self._writer = writer
        self._left = limit

    async def write(self, data: bytes) -> None:
        if self._left > 0:
            piece = data[: self._left]
            self._left -= len(piece)
            await self._writer.write(piece)


class BytesPayload(Payload):
    """bytes, bytearray or memoryview: in memory, written at once."""

    _autoclose = True

    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._size = value.nbytes if isinstance(value, memoryview) else len(value)

    @property
    def value(self) -> bytes | bytearray | memoryview:
        """The bytes themselves (a response sends them with its head in one write)."""
        return self._value  # type: ignore[no-any-return]

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return bytes(self._value)

    async def write(self, writer: PayloadWriter) -> None:
        await writer.write(self._value)


def text_encoding(encoding: str | None, content_type: str | None) -> tuple[str, str]:
    """(encoding, content type) of text: either one given decides the other, else UTF-8."""
    if encoding is None:
        if content_type is None:
            return "utf-8", "text/plain; charset=utf-8"
        return parse_content_type(content_type)[1].get("charset") or "utf-8", content_type
    return encoding, f"text/plain; charset={encoding}" if content_type is None else content_type


class StringPayload(BytesPayload):
    """A str, encoded with ``encoding``, else the content type's charset, else UTF-8."""

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        encoding, content_type = text_encoding(encoding, content_type)
        super().__init__(
            value.encode(encoding), *args, encoding=encoding, content_type=content_type, **kwargs
        )


class JsonPayload(BytesPayload):
    """``dumps(value)`` encoded, as application/json."""

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding),
            *args,
            content_type=content_type,
            encoding=encoding,
            **kwargs,
        )


class JsonBytesPayload(BytesPayload):
    """``dumps(value)`` for an encoder that returns bytes (orjson), as application/json."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), *args, content_type=content_type, **kwargs)


class AsyncIterablePayload(Payload):
    """An async iterable of bytes: size unknown, so a response sends it chunked.

    It can be iterated once; ``as_bytes()`` reads it whole and keeps the pieces
    so that a later ``write()`` or ``decode()`` can replay them.
    """

    _autoclose = True
    _cached: list[bytes] | None = None

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                "value argument must support collections.abc.AsyncIterable interface, "
                f"got {type(value)!r}"
            )
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._iter: AsyncIterator[bytes] | None = value.__aiter__()

    async def write(self, writer: PayloadWriter) -> None:
        if self._cached is not None:
            for chunk in self._cached:
                await writer.write(chunk)
            return
        iterator, self._iter = self._iter, None
        if iterator is None:
            return
        # Advancing the iterator cannot be undone: a second write sends nothing.
        self._consumed = True
        async for chunk in iterator:
            await writer.write(chunk)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._cached is None:
            raise TypeError("Unable to decode - content not cached. Call as_bytes() first.")
        return b"".join(self._cached).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self._cached is None:
            iterator, self._iter = self._iter, None
            self._cached = [] if iterator is None else [chunk async for chunk in iterator]
        return b"".join(self._cached)


class BodyStreamPayload(AsyncIterablePayload):
    """A request's body stream (``request.content``), proxied as it arrives."""

    def __init__(self, value: BodyStream, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.iter_any(), *args, **kwargs)


PAYLOAD_REGISTRY.register(BytesPayload, (bytes, bytearray, memoryview))
PAYLOAD_REGISTRY.register(StringPayload, str)
PAYLOAD_REGISTRY.register(BodyStreamPayload, BodyStream)
# Last, so that a more specific async iterable (a BodyPartReader) is claimed first.
PAYLOAD_REGISTRY.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)
