"""The connection's outbox: a ``Response`` leaves when the loop turns.

Every ``Response`` the glue writes (its head and body) is kept here and
written when the loop turns, so the answers of one turn leave after that
turn's handlers, one after another:

* **One wake-up for many answers.** On loopback the server's ``write(2)``
  delivers the bytes at once and wakes the client's thread when it sleeps
  in ``epoll_wait``: on a VM that wake-up (an interrupt to the other core)
  cost 27 % of the server's CPU on bench_server's API scenario, once per
  answer, since the client had gone back to sleep during the next handler.
  Written back to back, the answers after the first find the client awake.
* **One write for a pipelined batch.** A client that pipelines sends several
  requests in one packet; the connection answers up to ``PIPELINE_BATCH`` of
  them in one loop turn (``_protocol``), and their answers leave in one
  ``transport.writelines`` (one ``writev``) instead of a ``write(2)`` each.

A handler that waits for anything (a database, a sleep) lets the loop turn,
which sends what was held before it. Past ``BATCH_BYTES`` held, the bytes go
at once (a large body is never copied into a batch).

States (the glue opens and closes a batch around its own ``prepare()`` and
``write_eof()`` of a ``Response``)::

    EMPTY   --write while open-->        HOLDING
    HOLDING --the loop turns (the server's Flusher),
              any other use of the transport,
              more than BATCH_BYTES bytes-->  EMPTY (flushed)

Nothing may overtake the held bytes: everything else that reaches the
transport goes through ``RequestHandler.transport``, which flushes first,
and so does every method of asyncio's ``Transport`` the outbox has besides
``write``, ``writelines``, ``is_closing``, ``is_reading``, the getters and
``get_extra_info``.

A response's writer (web-core's StreamWriter, which keeps a stream's writes
until the loop turns) reaches the connection through a ``WriterPort``: the
transport, or the outbox while a batch is open, without the flush of the
writer's own kept bytes that ``RequestHandler.transport`` makes for
everyone else (a handler's ``request.transport.close()``, say).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from ._protocol import RequestHandler

__all__ = ["BATCH_BYTES", "PIPELINE_BATCH", "Flusher", "Outbox", "WriterPort"]

#: Queued requests answered in a row before the connection lets the loop turn.
PIPELINE_BATCH: Final = 4

#: Bytes held at most; past them, what is held is written at once.
BATCH_BYTES: Final = 64 * 1024


class Flusher:
    """Lets the outboxes that hold bytes go when the loop turns: one ``call_soon``
    per turn for all of a server's connections, in the order they began to hold."""

    __slots__ = ("_due", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._due: list[Outbox] = []

    def due(self, outbox: Outbox) -> None:
        """``outbox`` began to hold bytes: flush it when the loop turns."""
        if not self._due:
            self.loop.call_soon(self._run)
        self._due.append(outbox)

    def _run(self) -> None:
        due, self._due = self._due, []
        for outbox in due:
            try:
                outbox.flush()
            except Exception as exc:  # one connection's failure must not hold the others
                self.loop.call_exception_handler(
                    {"message": "Error writing held answers", "exception": exc}
                )


class Outbox:
    """Holds the bytes of a connection's answers until the loop turns."""

    __slots__ = ("_flusher", "_parts", "_size", "_transport", "open")

    def __init__(self, transport: asyncio.Transport, flusher: Flusher) -> None:
        self._transport = transport
        self._flusher = flusher
        self._parts: list[bytes | bytearray | memoryview] = []
        self._size = 0
        #: True while the glue writes an answer that may join the batch.
        self.open = False

    @property
    def holding(self) -> bool:
        """Whether bytes wait to be written (or a batch is open)."""
        return self.open or self._size > 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if data:
            self._keep((data,), len(data))

    def writelines(self, parts: Iterable[bytes | bytearray | memoryview]) -> None:
        parts = tuple(parts)
        self._keep(parts, sum(map(len, parts)))

    def _keep(self, parts: tuple[bytes | bytearray | memoryview, ...], size: int) -> None:
        if not self._size:
            self._flusher.due(self)
        self._parts.extend(parts)
        self._size += size
        if self._size > BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is held, in one call."""
        if not self._size:
            return
        parts, self._parts, self._size = self._parts, [], 0
        transport = self._transport
        if transport.is_closing():
            return  # the connection is gone: as a write to it would, the bytes are lost
        if len(parts) == 1:
            transport.write(parts[0])
        else:
            transport.writelines(parts)

    def discard(self) -> None:
        """The connection is lost: nothing held can be written any more."""
        self._parts, self._size = [], 0

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    # The rest of asyncio's Transport, each once the held bytes are out of the
    # way. Spelled out rather than one __getattr__: a class with __getattr__
    # has every attribute looked up through it (write and is_closing too, on
    # every answer), and a method found that way is bound anew at each call.

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        self.flush()
        return self._transport.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self.flush()
        self._transport.abort()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self.flush()
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self.flush()
        self._transport.resume_reading()

    def get_write_buffer_size(self) -> int:
        self.flush()
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.flush()
        self._transport.set_write_buffer_limits(high, low)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)


class WriterPort:
    """The connection as a response's writer sees it (web-core's ``WriterProtocol``)."""

    __slots__ = ("_handler",)

    def __init__(self, handler: RequestHandler) -> None:
        self._handler = handler

    async def drain(self) -> None:
        """The handler's ``drain()``, when writing is paused (no coroutine of its otherwise)."""
        handler = self._handler
        if handler._writing_paused:
            await handler.drain()

    @property
    def transport(self) -> asyncio.Transport | None:
        handler = self._handler
        outbox = handler._outbox
        if outbox is not None and outbox.holding:
            if outbox.open:  # the glue writes a pipelined answer: it joins the batch
                return cast(asyncio.Transport, outbox)
            outbox.flush()  # nothing may overtake the answers held
        return handler._transport
