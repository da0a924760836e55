"""File-object payloads: binary and text files, BytesIO, StringIO (aiohttp's).

A file is read in ``CHUNK_SIZE`` pieces in the loop's default executor (a
read may block on a slow disk), from the position it had when the payload
was made, so writing it twice sends the same bytes. Its size is the file's
``fstat`` size from that position: None for an object with no descriptor
(a socket file, a custom stream), and the response is then chunked.

``close()`` schedules the file's close in the executor and returns at once:
it runs from ``finally`` blocks while the task may be cancelled, and closing
a file on a network file system can block.
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import PurePath
from typing import IO, Any, Final

from ._payload import (
    CHUNK_SIZE,
    PAYLOAD_REGISTRY,
    Payload,
    PayloadWriter,
    StringPayload,
    text_encoding,
)

__all__ = [
    "BufferedReaderPayload",
    "BytesIOPayload",
    "IOBasePayload",
    "StringIOPayload",
    "TextIOPayload",
]

# Unawaited closes, kept alive until they finish.
_CLOSE_FUTURES: Final[set[asyncio.Future[None]]] = set()


def guess_filename(obj: object) -> str | None:
    """The base name of ``obj.name`` (aiohttp's; ``<stdin>``-like names are not files)."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name and name[0] != "<" and name[-1] != ">":
        return PurePath(name).name
    return None


class IOBasePayload(Payload):
    """A file object (``io.IOBase``) read in pieces off the event loop."""

    _value: IO[Any]
    _start: int | None = None
    _closed = False

    def __init__(
        self, value: IO[Any], disposition: str | None = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = guess_filename(value)
        super().__init__(value, *args, **kwargs)
        filename = self._filename
        if filename is not None and disposition is not None:  # noqa: SIM102 - mypy narrows
            if "Content-Disposition" not in self._headers:
                self.set_content_disposition(disposition, filename=filename)

    def _rewind(self) -> None:
        """Remember the start position the first time, go back to it afterwards."""
        try:
            if self._start is None:
                self._start = self._value.tell()
            else:
                self._value.seek(self._start)
        except (OSError, AttributeError, ValueError):
            self._consumed = True  # not seekable: it can be read once

    @property
    def size(self) -> int | None:
        try:
            if self._start is None:
                self._start = self._value.tell()
            return os.fstat(self._value.fileno()).st_size - self._start
        except (OSError, AttributeError, ValueError):
            return None

    def _encode(self, chunk: Any) -> bytes:
        return chunk  # type: ignore[no-any-return]

    def _first_read(self) -> tuple[int | None, bytes]:
        """In one executor job: rewind, the size, and the first piece."""
        self._rewind()
        size = self.size
        return size, self._encode(self._value.read(min(CHUNK_SIZE, size or CHUNK_SIZE)))

    def _read(self) -> bytes:
        return self._encode(self._value.read(CHUNK_SIZE))

    async def write(self, writer: PayloadWriter) -> None:
        loop = asyncio.get_running_loop()
        size, chunk = await loop.run_in_executor(None, self._first_read)
        written = 0
        while chunk:
            await writer.write(chunk)
            written += len(chunk)
            if size is not None and written >= size:
                return  # as aiohttp: a file that grew is sent as long as it was
            chunk = await loop.run_in_executor(None, self._read)

    def _read_all(self) -> bytes:
        self._rewind()
        return self._encode(self._value.read())

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_all().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._read_all)

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = self._consumed = True
        future = asyncio.get_running_loop().run_in_executor(None, self._value.close)
        _CLOSE_FUTURES.add(future)
        future.add_done_callback(_CLOSE_FUTURES.discard)


class BufferedReaderPayload(IOBasePayload):
    """A binary file opened for reading (``open(path, "rb")``)."""


class TextIOPayload(IOBasePayload):
    """A text file, encoded with ``encoding`` or the content type's charset (UTF-8)."""

    def __init__(
        self,
        value: IO[str],
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        encoding, content_type = text_encoding(encoding, content_type)
        super().__init__(value, *args, content_type=content_type, encoding=encoding, **kwargs)

    def _encode(self, chunk: Any) -> bytes:
        assert self._encoding is not None  # set by __init__
        return chunk.encode(self._encoding)  # type: ignore[no-any-return]


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``: in memory, so its size is known and closing it is free."""

    _value: io.BytesIO
    _autoclose = True

    def __init__(self, value: io.BytesIO, *args: Any, **kwargs: Any) -> None:
        super().__init__(value, *args, **kwargs)
        self._start = value.tell()
        with value.getbuffer() as buffer:  # released at once: the BytesIO stays resizable
            self._length = buffer.nbytes - self._start

    @property
    def size(self) -> int:
        return self._length

    async def write(self, writer: PayloadWriter) -> None:
        # No executor (nothing blocks), but a turn for the loop between pieces.
        self._rewind()
        first = True
        while chunk := self._value.read(CHUNK_SIZE):
            if not first:
                await asyncio.sleep(0)
            first = False
            await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._read_all()

    def _close(self) -> None:
        pass  # nothing to release; the caller may still read its BytesIO


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: read at once (it is in memory) and sent as a string."""

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


PAYLOAD_REGISTRY.register(StringIOPayload, io.StringIO)
PAYLOAD_REGISTRY.register(TextIOPayload, io.TextIOBase)
PAYLOAD_REGISTRY.register(BytesIOPayload, io.BytesIO)
PAYLOAD_REGISTRY.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
PAYLOAD_REGISTRY.register(IOBasePayload, io.IOBase)
