"""The response byte writer: what a response's bytes go through on their way out.

web-core owns the writer so that responses never touch a transport directly;
web-runner builds one per request. The writer holds the serialized head back
until the first body bytes (or the end of the message) so that a small
response leaves in one ``transport.write``.

A stream's body writes (``write()``) are kept, by reference, until the loop
turns, more than ``HOLD_LIMIT`` bytes are kept, or the message ends, and then leave in
one call: a handler that writes chunks in a loop makes a few large
``writev`` calls instead of one per chunk, which on loopback costs the kernel
far less (docs/design.md, "A stream's writes leave together")::

    NOTHING KEPT --write()--> KEEPING (a call_soon(flush) is pending)
    KEEPING --write() past HOLD_LIMIT, flush(), send_headers(), sendfile(),
              write_eof(), the loop turning--> NOTHING KEPT (all sent, in order)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Final, Protocol

from weft.http_parser import chunk_header, encode_last_chunk

from ._compiled import mypyc_attr

if TYPE_CHECKING:
    from ._compression import ZLibCompressor

__all__ = ["StreamWriter", "WriterProtocol"]


# Up to this many bytes, the pieces of one write are joined into one buffer (one
# syscall); past it, copying the body would cost more than a second syscall.
_JOIN_LIMIT: Final = 16 * 1024

#: Body bytes a stream keeps at most before they are sent (see the module doc).
HOLD_LIMIT: Final = 512 * 1024


#: Chunk-size lines by size (a stream writes the same sizes again and again),
#: emptied when full.
_CHUNK_HEADERS: Final[dict[int, bytes]] = {}
_CHUNK_HEADERS_SIZE: Final = 64


def _chunk_header(size: int) -> bytes:
    header = _CHUNK_HEADERS.get(size)
    if header is None:
        header = chunk_header(size)
        if len(_CHUNK_HEADERS) >= _CHUNK_HEADERS_SIZE:
            _CHUNK_HEADERS.clear()
        _CHUNK_HEADERS[size] = header
    return header


def _total(parts: tuple[bytes, ...]) -> int:
    """The bytes in ``parts``.

    (A loop: compiled, it is native, where ``sum(map(len, parts))`` looks both
    builtins up by name and calls them generically, ~2.5k instructions a write.)
    """
    size = 0
    for part in parts:
        size += len(part)
    return size


class WriterProtocol(Protocol):
    """What the connection offers the writer."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""


@mypyc_attr(allow_interpreted_subclasses=True)
class StreamWriter:
    """Writes one response at a time to a connection."""

    __slots__ = (
        "_chunked",
        "_clock",
        "_compress",
        "_eof",
        "_head",
        "_head_sent_at",
        "_kept",
        "_kept_size",
        "_protocol",
        "_started_at",
        "output_size",
    )

    def __init__(self, protocol: WriterProtocol) -> None:
        self._protocol = protocol
        self._head = b""
        self._chunked = False
        self._eof = False
        self._compress: ZLibCompressor | None = None
        self._clock: Callable[[], float] | None = None
        self._kept: list[bytes] | None = None  # a stream's writes not sent yet
        self._kept_size = 0
        self.output_size = 0

    def time_head(self, clock: Callable[[], float]) -> None:
        """Read ``clock`` now and when the head goes to the transport (``head_time``).

        Off unless called: an access logger that reports the time until the
        head (web-runner's StructuredAccessLogger) has the server call it as
        each request begins; otherwise sending a head costs one ``is None``.
        """
        self._clock = clock
        self._started_at = clock()
        self._head_sent_at: float | None = None

    @property
    def head_time(self) -> float | None:
        """Seconds from ``time_head()`` until the head was handed to the transport.

        None when the head has not gone out (yet), or nothing asked for the time.
        """
        if self._clock is None or self._head_sent_at is None:
            return None
        return self._head_sent_at - self._started_at

    @property
    def chunked(self) -> bool:
        return self._chunked

    def enable_chunking(self) -> None:
        """Frame every later body write with chunked transfer coding (RFC 9112 §7.1)."""
        self._chunked = True

    def enable_compression(self, compressor: ZLibCompressor) -> None:
        """Compress every later body write (and flush the compressor at the end)."""
        self._compress = compressor

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport

    def buffer_headers(self, head: bytes) -> None:
        """Keep the serialized head until the first body write or the end of the message."""
        self._head = head

    def _open_transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        return transport

    def _take_head(self) -> bytes:
        """The held head, which is on its way out now (``b""`` once it went)."""
        head = self._head
        if head:
            self._head = b""
            if self._clock is not None:
                self._head_sent_at = self._clock()
        return head

    def _with_head(self, parts: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], int]:
        """``parts`` after the held head, and their size, counted in ``output_size``."""
        head = self._take_head()
        if head:
            parts = (head, *parts)
        size = _total(parts)
        self.output_size += size
        return parts, size

    def _send(self, parts: tuple[bytes, ...]) -> None:
        """Write what is kept, then ``parts`` (after a held head), in one call.

        (A tuple, not ``*parts``: compiled, a call with a star parameter is a
        Python call, this one a native one.)

        A small response leaves in one ``transport.write`` (one syscall); the
        bytes of a large body are never copied just to glue a head or chunk
        framing to them (``transport.writelines``).
        """
        transport = self._open_transport()
        if self._head and self._kept is None and len(parts) == 1 and len(parts[0]) <= _JOIN_LIMIT:
            # A small Response: its head and body in one buffer.
            data = self._take_head() + parts[0]
            self.output_size += len(data)
            transport.write(data)
            return
        parts, _ = self._with_head(parts)
        if self._kept is not None:  # then the head went with the first of them
            parts = (*self._take_kept(), *parts)
        self._write(transport, parts)

    def _take_kept(self) -> tuple[bytes, ...]:
        """What ``write()`` kept, which is on its way out now (nothing is kept after)."""
        kept = tuple(self._kept or ())
        self._kept = None
        self._kept_size = 0
        return kept

    @staticmethod
    def _write(transport: asyncio.Transport, parts: tuple[bytes, ...]) -> None:
        size = _total(parts)
        if not size:
            return
        if len(parts) == 1:
            transport.write(parts[0])
        elif size <= _JOIN_LIMIT:
            transport.write(b"".join(parts))
        else:
            # A held head, kept writes, chunk framing, large chunks: one call, which
            # uvloop sends with one writev (no copy, one syscall where a write per
            # part made one each); asyncio joins them.
            transport.writelines(parts)

    def _framed(self, chunk: bytes) -> tuple[bytes, ...]:
        """``chunk`` as it goes on the wire: as is, or as one chunk of a chunked body."""
        if not self._chunked:
            return (chunk,)
        if not chunk:
            return ()
        return (_chunk_header(len(chunk)), chunk, b"\r\n")

    async def write(self, chunk: bytes) -> None:
        """Send body bytes, waiting for the transport to drain when it is full.

        The bytes are kept until the loop turns (or more than ``HOLD_LIMIT``
        bytes are kept, or the message ends): see the module doc.
        """
        if self._eof:
            raise RuntimeError("Cannot write after the end of the message")
        if self._compress is not None and chunk:
            chunk = await self._compress.compress(chunk)
        if not chunk and not self._head:
            return
        self._keep(self._framed(chunk))
        await self._protocol.drain()

    def _keep(self, parts: tuple[bytes, ...]) -> None:
        """Keep ``parts`` (after a held head) until the loop turns (see the module doc)."""
        self._open_transport()  # a write to a closed connection fails here, as it did
        parts, size = self._with_head(parts)
        kept = self._kept
        if kept is None:
            kept = self._kept = []
            asyncio.get_running_loop().call_soon(self._flush_soon)
        kept.extend(parts)
        self._kept_size += size
        if self._kept_size > HOLD_LIMIT:
            self.flush()

    @property
    def keeping(self) -> bool:
        """Whether writes are kept, to be sent when the loop turns (see ``flush()``)."""
        return self._kept is not None

    def flush(self) -> None:
        """Send what ``write()`` kept, now."""
        if self._kept is not None:
            # Taken before the transport is checked: a closed one loses them.
            kept = self._take_kept()
            self._write(self._open_transport(), kept)

    def _flush_soon(self) -> None:
        # The loop turned. A connection gone meanwhile loses what was kept, as a
        # write to it would (flush() let it go); the handler's next write raises.
        with contextlib.suppress(ConnectionResetError):
            self.flush()

    def send_headers_soon(self) -> None:
        """Let a held head go with the stream's writes: when the loop turns at the latest.

        A stream's ``prepare()``: a client waiting for the head (an event stream)
        gets it as soon as the handler waits for anything, and a handler that
        writes at once sends the head with its first bytes.
        """
        if self._head:
            self._keep(())

    async def send_headers(self) -> None:
        """Send a held head (and what was kept) now."""
        if self._head or self._kept is not None:
            self._send(())
            await self._protocol.drain()

    async def write_eof(self, chunk: bytes = b"") -> None:
        """Send the last body bytes and end the message."""
        if self._eof:
            return
        if self._compress is not None:
            if chunk:
                chunk = await self._compress.compress(chunk)
            chunk += self._compress.flush()
        self.end(chunk)
        await self._protocol.drain()

    def end(self, chunk: bytes) -> None:
        """Send the last body bytes (already compressed, if compressing) and end the
        message, without waiting for the transport to drain (``write_eof()`` waits)."""
        if self._eof:
            return
        if self._chunked:
            self._send((*self._framed(chunk), encode_last_chunk()))
        else:
            self._send((chunk,))
        self._eof = True

    async def drain(self) -> None:
        await self._protocol.drain()

    async def sendfile(self, file: IO[Any], offset: int, count: int) -> int:
        """Send ``count`` bytes of ``file`` from ``offset`` with the loop's sendfile.

        The held head goes out first, then ``loop.sendfile`` (the kernel's
        ``sendfile(2)`` on a plain socket; asyncio's own read-and-write loop
        on TLS). NotImplementedError, before any body byte is sent, when this
        writer or its transport cannot: the caller then writes the file itself.
        Returns the number of bytes sent (fewer than ``count`` if the file shrank).
        """
        if self._eof:
            raise RuntimeError("Cannot write after the end of the message")
        if self._chunked or self._compress is not None:
            raise NotImplementedError("sendfile cannot frame or compress the body")
        transport = self._open_transport()
        await self.send_headers()
        if transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        try:
            sent = await asyncio.get_running_loop().sendfile(transport, file, offset, count)
        except NotImplementedError:
            raise
        except RuntimeError as exc:
            # "sendfile is not supported for transport ...": raised before any byte is sent.
            raise NotImplementedError(str(exc)) from exc
        self.output_size += sent
        return sent
