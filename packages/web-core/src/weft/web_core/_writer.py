"""The response byte writer: what a response's bytes go through on their way out.

web-core owns the writer so that responses never touch a transport directly;
web-runner builds one per connection and hands it to each request. The
writer holds the serialized head back until the first body bytes (or the end
of the message) so that a small response leaves in one ``transport.write``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from weft.http_parser import chunk_header, encode_last_chunk

if TYPE_CHECKING:
    from ._compression import ZLibCompressor

__all__ = ["StreamWriter", "WriterProtocol"]

_C = TypeVar("_C")

try:
    from mypy_extensions import mypyc_attr
except ImportError:
    # Not needed at run time (the "mypyc" extra, never required): mypyc reads the
    # decorator while compiling, where mypy brings mypy_extensions; both builds
    # run without it.
    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_C], _C]:
        return lambda cls: cls


# Up to this many bytes, the pieces of one write are joined into one buffer (one
# syscall); past it, copying the body would cost more than a second syscall.
_JOIN_LIMIT = 16 * 1024


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

    def _send(self, *parts: bytes) -> None:
        """Write ``parts`` (after a held head): joined when small, as they are when large.

        A small response leaves in one ``transport.write`` (one syscall); the
        bytes of a large body are never copied just to glue a head or chunk
        framing to them (``transport.writelines``).
        """
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        head = self._head
        if head:
            self._head = b""
            if self._clock is not None:
                self._head_sent_at = self._clock()
            if len(parts) == 1 and len(parts[0]) <= _JOIN_LIMIT:  # a small Response
                data = head + parts[0]
                self.output_size += len(data)
                transport.write(data)
                return
            parts = (head, *parts)
        size = sum(map(len, parts))
        self.output_size += size
        if len(parts) == 1:
            transport.write(parts[0])
        elif size <= _JOIN_LIMIT:
            transport.write(b"".join(parts))
        else:
            # Every part is non-empty here: a held head, chunk framing, a large chunk.
            # One call: uvloop sends them with one writev (no copy, one syscall where
            # a write per part made three); asyncio joins them.
            transport.writelines(parts)

    def _framed(self, chunk: bytes) -> tuple[bytes, ...]:
        """``chunk`` as it goes on the wire: as is, or as one chunk of a chunked body."""
        if not self._chunked:
            return (chunk,)
        if not chunk:
            return ()
        return (chunk_header(len(chunk)), chunk, b"\r\n")

    async def write(self, chunk: bytes) -> None:
        """Send body bytes, waiting for the transport to drain when it is full."""
        if self._eof:
            raise RuntimeError("Cannot write after the end of the message")
        if self._compress is not None and chunk:
            chunk = await self._compress.compress(chunk)
        if not chunk and not self._head:
            return
        self._send(*self._framed(chunk))
        await self._protocol.drain()

    async def send_headers(self) -> None:
        """Send a held head now (a streaming response that has not written yet)."""
        if self._head:
            self._send()
            await self._protocol.drain()

    async def write_eof(self, chunk: bytes = b"") -> None:
        """Send the last body bytes and end the message."""
        if self._eof:
            return
        if self._compress is not None:
            if chunk:
                chunk = await self._compress.compress(chunk)
            chunk += self._compress.flush()
        if self._chunked:
            self._send(*self._framed(chunk), encode_last_chunk())
        else:
            self._send(chunk)
        self._eof = True
        await self._protocol.drain()

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
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
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
