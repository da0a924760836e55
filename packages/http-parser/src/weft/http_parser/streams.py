"""An asyncio body stream with flow control, for servers that want one.

The parser itself never touches asyncio; this module is the optional bridge.
The connection (the *owner*) feeds the ``BodyChunk`` data it gets from the
parser into a BodyStream and reports the end or a failure; the handler (the
*reader*) awaits ``read()``, ``readany()``, ``readline()`` and friends, with
the API of aiohttp's ``StreamReader``::

    owner:  feed_data(data)  feed_eof()  set_exception(exc)
    reader: read(n=-1)  readany()  readexactly(n)  readline()  readuntil(sep)
            readchunk()  read_nowait(n=-1)  iter_chunked(n)  iter_any()  iter_chunks()
            async for line in stream  at_eof()  is_eof()  exception()  wait_eof()

Flow control: when more than ``high_water`` bytes are buffered the stream
calls ``flow_control.pause_reading()`` (the owner stops reading its socket);
once the reader has drained the buffer to ``low_water`` bytes or fewer it
calls ``resume_reading()``. Each is called once per transition, never twice
in a row.

Bytes are kept as the ``bytes`` objects that were fed, in a deque, with an
offset into the first one: a reader that takes whole chunks gets the very
objects that were fed, and nothing is copied until a read has to cut or join.

Decoding a Content-Encoding: ``DecodingBodyStream(raw, decoder)`` is the
decoded view of ``raw`` (the stream of the body as sent), with the same
reader API. Nothing decodes ahead of the reader::

    socket -> parser -> raw BodyStream          (coded bytes; flow control as above)
    reader wants bytes and the decoded buffer is empty:
        decoder.pull(step)        -> up to ``step`` decoded bytes into the buffer
        b"" (needs input)         -> decoder.push(await raw.readany()), pull again
        raw at its end            -> decoder.flush() (400 if truncated), then EOF

So decoded bytes in memory never exceed one ``step`` (plus what the reader
itself keeps): a 1 KB body that inflates to 1 GB costs the reader one step
at a time, and while it reads nothing, the coded bytes wait in ``raw``,
whose high-water mark stops the socket. The owner can discard an unread
body by reading ``raw``, which decodes nothing. A decoding failure
(BadRequest 400, PayloadTooLarge 413 when the decoder has a cap) is raised
to the reader and by every later read.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from ._content_encoding import ContentDecoder
from ._errors import HttpParserError

__all__ = ["EMPTY_BODY", "BodyStream", "DecodingBodyStream", "FlowControl"]

_T = TypeVar("_T")

try:
    from mypy_extensions import mypyc_attr
except ImportError:
    # Not needed at run time: mypyc reads the decorator while compiling, where
    # mypy brings mypy_extensions; both builds run without it.
    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        return lambda cls: cls


class FlowControl(Protocol):
    """What a BodyStream needs from its owner to apply back-pressure."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


# Compiled (pyproject's compiled-modules); servers and tests subclass it.
@mypyc_attr(allow_interpreted_subclasses=True)
class BodyStream:
    """A request body that arrives over time; see the module docstring."""

    __slots__ = (
        "_buffer",
        "_eof",
        "_eof_callbacks",
        "_eof_waiter",
        "_exception",
        "_flow",
        "_high_water",
        "_low_water",
        "_offset",
        "_paused",
        "_size",
        "_total",
        "_waiter",
    )

    def __init__(
        self,
        flow_control: FlowControl | None = None,
        *,
        high_water: int = 65536,
        low_water: int | None = None,
    ) -> None:
        if high_water < 1:
            raise ValueError(f"high_water must be positive, not {high_water}")
        if low_water is None:
            low_water = high_water // 4
        if not 0 <= low_water <= high_water:
            raise ValueError(f"low_water must be in 0..high_water, not {low_water}")
        self._flow = flow_control
        self._high_water = high_water
        self._low_water = low_water
        self._buffer: deque[bytes] = deque()
        self._offset = 0  # bytes of _buffer[0] already read
        self._size = 0  # bytes buffered and not read
        self._total = 0
        self._eof = False
        self._exception: BaseException | None = None
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiter: asyncio.Future[None] | None = None
        self._eof_callbacks: list[Callable[[], object]] = []

    @classmethod
    def empty(cls) -> BodyStream:
        """The shared, already finished, empty stream (for requests without a body)."""
        return EMPTY_BODY

    def __repr__(self) -> str:
        state = "eof" if self._eof else "open"
        return f"<{type(self).__name__} {state} buffered={self._size} total={self._total}>"

    # -- the owner's side

    def feed_data(self, data: bytes) -> None:
        """Append ``data`` to the body; pause the owner above ``high_water`` buffered bytes."""
        if self._eof:
            raise RuntimeError("feed_data() after feed_eof()")
        if not data:
            return
        self._buffer.append(data)
        size = self._size = self._size + len(data)
        self._total += len(data)
        self._wake()
        if size > self._high_water and not self._paused and self._flow is not None:
            self._paused = True
            self._flow.pause_reading()

    def feed_eof(self) -> None:
        """The body is complete."""
        self._eof = True
        self._wake()
        waiter = self._eof_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        callbacks, self._eof_callbacks = self._eof_callbacks, []
        for callback in callbacks:
            callback()

    def set_exception(self, exc: BaseException) -> None:
        """Fail the body: every later read raises ``exc``."""
        self._exception = exc
        for waiter in (self._waiter, self._eof_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)

    def on_eof(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the body is complete (now, if it is)."""
        if self._eof:
            callback()
        else:
            self._eof_callbacks.append(callback)

    # -- state

    def exception(self) -> BaseException | None:
        """The exception set by the owner, if any."""
        return self._exception

    def is_eof(self) -> bool:
        """True once the owner has called feed_eof (bytes may still be buffered)."""
        return self._eof

    def at_eof(self) -> bool:
        """True when the body is complete and every byte has been read."""
        return self._eof and not self._size

    @property
    def total_bytes(self) -> int:
        """Bytes fed so far."""
        return self._total

    @property
    def buffered_bytes(self) -> int:
        """Bytes fed and not read yet."""
        return self._size

    # -- the reader's side

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (at least one unless at the end); ``n < 0``: the whole rest."""
        if n == 0:
            return b""
        if n < 0:
            parts = []
            while True:
                self._check()
                if self._size:
                    parts.append(self._take(-1))
                elif self._eof:
                    break
                else:
                    await self._wait("read")
            return parts[0] if len(parts) == 1 else b"".join(parts)
        while not self._size and not self._eof:
            self._check()
            await self._wait("read")
        self._check()
        return self._take(n) if self._size else b""

    async def readany(self) -> bytes:
        """Whatever is buffered, waiting for at least one byte; ``b""`` at the end."""
        while not self._size and not self._eof:
            self._check()
            await self._wait("readany")
        self._check()
        return self._take(-1) if self._size else b""

    async def readchunk(self) -> tuple[bytes, bool]:
        """``(data, False)`` like readany; ``(b"", False)`` at the end (aiohttp's API)."""
        return await self.readany(), False

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; asyncio.IncompleteReadError if the body ends first."""
        if n < 0:
            raise ValueError("readexactly() needs n >= 0")
        parts = []
        need = n
        while need:
            self._check()
            if self._size:
                part = self._take(need)
                parts.append(part)
                need -= len(part)
            elif self._eof:
                raise asyncio.IncompleteReadError(b"".join(parts), n)
            else:
                await self._wait("readexactly")
        return parts[0] if len(parts) == 1 else b"".join(parts)  # b"" for n == 0

    async def readline(self) -> bytes:
        """The next line, with its b"\\n"; the rest of the body if it has none."""
        return await self.readuntil(b"\n")

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Bytes up to and including ``separator``; the rest at the end.

        ValueError when more than ``high_water`` bytes come without one (the
        owner would be paused and the separator would never arrive).
        """
        if not separator:
            raise ValueError("separator must not be empty")
        # Each byte is searched once: a wake-up searches only the chunks fed
        # since the last one, after the last len(separator) - 1 bytes already
        # searched (a separator may straddle them). Joining and searching the
        # whole buffer each time cost O(n**2) for a line sent a byte at a
        # time. Only the reader takes bytes, and nothing is taken while this
        # loop waits, so the chunks already searched stay where they were.
        keep = len(separator) - 1
        buffer = self._buffer
        seen = 0  # chunks of the buffer searched
        scanned = 0  # bytes searched, counted from the read position
        tail = b""  # the last ``keep`` bytes searched
        while True:
            self._check()
            count = len(buffer)
            if count > seen:
                offset = self._offset
                if seen == 0 and count == 1:  # the common case: no copy
                    window = buffer[0]
                    index = _find(window, separator, offset)
                    found = index - offset
                    tail = window[max(offset, len(window) - keep) :] if keep else b""
                    added = len(window) - offset
                else:
                    parts = list(buffer) if seen == 0 else [buffer[i] for i in range(seen, count)]
                    if seen == 0 and offset:
                        parts[0] = parts[0][offset:]
                    window = tail + b"".join(parts)
                    index = _find(window, separator, 0)
                    found = scanned - len(tail) + index
                    added = len(window) - len(tail)
                    tail = window[-keep:] if keep else b""
                seen = count
                scanned += added
                if index >= 0:
                    return self._take(found + len(separator))
            if self._eof:
                return self._take(-1) if self._size else b""
            if self._size > self._high_water:
                raise ValueError(
                    f"no {separator!r} in {self._size} bytes, more than high_water="
                    f"{self._high_water}"
                )
            await self._wait("readuntil")

    def read_nowait(self, n: int = -1) -> bytes:
        """Up to ``n`` buffered bytes (all if ``n < 0``) without waiting."""
        self._check()
        if self._waiter is not None:
            raise RuntimeError("read_nowait() called while another coroutine is waiting")
        return self._take(n) if self._size and n else b""

    async def wait_eof(self) -> None:
        """Wait until the body is complete (without reading it)."""
        self._check()
        if self._eof:
            return
        waiter = self._eof_waiter
        if waiter is None:
            waiter = self._eof_waiter = asyncio.get_running_loop().create_future()
        # shield: one waiter cancelled must not cancel the future the others await
        await asyncio.shield(waiter)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Yield the body in pieces of at most ``n`` bytes."""
        if n < 1:
            raise ValueError("iter_chunked() needs n >= 1")
        return _Pieces(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives."""
        return _Pieces(self.readany)

    def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """Yield ``readchunk()`` results until the end."""
        return _Pieces(self._next_chunk)

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body line by line (``readline()``)."""
        return _Pieces(self.readline)

    async def _next_chunk(self) -> tuple[bytes, bool] | None:
        data, end_of_chunk = await self.readchunk()
        return (data, end_of_chunk) if data else None

    # -- internals

    def _check(self) -> None:
        if self._exception is not None:
            raise self._exception

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, name: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(
                f"{name}() called while another coroutine is already waiting for the body"
            )
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _take(self, n: int) -> bytes:
        """Remove and return up to ``n`` buffered bytes (all when ``n < 0``); needs some."""
        buffer = self._buffer
        offset = self._offset
        if n < 0 or n >= self._size:
            if len(buffer) == 1:
                chunk = buffer.popleft()
                data = chunk[offset:] if offset else chunk
            else:
                if offset:
                    buffer[0] = buffer[0][offset:]
                data = b"".join(buffer)
                buffer.clear()
            self._offset = 0
            self._size = 0
        else:
            parts = []
            need = n
            while need:
                chunk = buffer[0]
                avail = len(chunk) - offset
                if avail <= need:
                    parts.append(chunk[offset:] if offset else chunk)
                    buffer.popleft()
                    offset = 0
                    need -= avail
                else:
                    parts.append(chunk[offset : offset + need])
                    offset += need
                    need = 0
            self._offset = offset
            self._size -= n
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        if self._paused and self._size <= self._low_water:
            self._paused = False
            assert self._flow is not None
            self._flow.resume_reading()
        return data


class _Pieces(Generic[_T]):
    """The async iterator of ``iter_any()`` and its kin: what ``read()`` gives, until
    it gives nothing (b"" or None). A class, not an async generator: mypyc
    compiles this module and has no async generators."""

    __slots__ = ("_read",)

    def __init__(self, read: Callable[[], Awaitable[_T | None]]) -> None:
        self._read = read

    def __aiter__(self) -> _Pieces[_T]:
        return self

    async def __anext__(self) -> _T:
        piece = await self._read()
        if not piece:
            raise StopAsyncIteration
        return piece


def _find(window: bytes, separator: bytes, start: int) -> int:
    """``window.find(separator, start)``; apart so a test can count the bytes searched."""
    return window.find(separator, start)


class DecodingBodyStream(BodyStream):
    """The decoded view of ``raw``, decoded as the reader reads (see the module doc).

    ``decoder`` undoes the body's Content-Encoding; ``step`` bounds the
    decoded bytes made at a time (and, as ``high_water``, the line
    ``readuntil`` looks through). The owner feeds ``raw``, never this stream.
    """

    __slots__ = ("_decoder", "_pumping", "_raw", "_step")

    def __init__(self, raw: BodyStream, decoder: ContentDecoder, *, step: int = 65536) -> None:
        super().__init__(None, high_water=step)
        self._raw = raw
        self._decoder = decoder
        self._step = step
        self._pumping = False

    @property
    def raw(self) -> BodyStream:
        """The body as sent (coded)."""
        return self._raw

    async def wait_eof(self) -> None:
        """Wait until the coded body is complete (decoding nothing)."""
        self._check()
        await self._raw.wait_eof()

    async def _wait(self, name: str) -> None:
        # Instead of waiting for an owner, make the next decoded bytes (or the end).
        if self._pumping:
            raise RuntimeError(
                f"{name}() called while another coroutine is already waiting for the body"
            )
        self._pumping = True
        try:
            decoder = self._decoder
            while True:
                piece = decoder.pull(self._step)
                if piece:
                    self.feed_data(piece)
                    return
                data = await self._raw.readany()
                if not data:
                    decoder.flush()  # nothing more to give: raises if truncated
                    self.feed_eof()
                    return
                decoder.push(data)
        except HttpParserError as exc:
            self._exception = exc  # every later read raises it too
            raise
        finally:
            self._pumping = False


class _EmptyBodyStream(BodyStream):
    """A finished empty body, shared by every request without one."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self._eof = True

    def feed_data(self, data: bytes) -> None:
        raise RuntimeError("EMPTY_BODY is shared and finished: it takes no data")

    def feed_eof(self) -> None:
        """Already at the end: nothing to do."""

    def set_exception(self, exc: BaseException) -> None:
        """Ignored: the body is complete, so a later failure does not concern it."""

    def __repr__(self) -> str:
        return "<EMPTY_BODY>"


#: The finished empty body; ``BodyStream.empty()`` returns it.
EMPTY_BODY: BodyStream = _EmptyBodyStream()
