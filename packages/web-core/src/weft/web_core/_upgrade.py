"""The protocol hand-off after ``101 Switching Protocols``: what web-core asks of a server.

A response that switches protocols (``WebSocketResponse``) writes its 101
head through the request's writer and then asks the connection to stop
parsing HTTP and hand every later byte to a *receiver*. web-core only states
what it needs (this module); web-runner's connection implements it.

The contract, for the connection:

1. ``switch_protocol(receiver)`` is called once, while the upgrade request
   is being answered, after the 101 head is written. The connection first
   feeds the bytes it already received after that request's head
   (``RequestParser.take_trailing_data()``) to ``receiver.data_received``,
   then every later read; it no longer parses HTTP.
2. From then on, no HTTP timer (keep-alive, head or body read timeouts,
   lingering close) may close the connection: the switched protocol owns
   its lifetime. ``pause_reading()`` / ``resume_reading()`` stay available
   for the receiver's flow control, and ``drain()`` (through the request's
   writer) for backpressure on sends.
3. A FIN from the peer is ``receiver.eof_received()`` and the connection
   then closes; the end of the connection is ``receiver.connection_lost(exc)``,
   called exactly once (at once if the connection is already gone).
4. When the handler returns, the connection closes.
5. A receiver may have a ``close_code`` (``int | None``; a WebSocketResponse's
   has, its ``close_code``): once the connection has ended and told the
   receiver, the connection may read it to report the close (web-runner tells
   its Server's observer).
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

__all__ = ["UpgradableProtocol", "UpgradeReceiver"]


class UpgradeReceiver(Protocol):
    """What takes over the bytes of a connection that switched protocols."""

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> None: ...

    def connection_lost(self, exc: BaseException | None) -> None: ...


@runtime_checkable
class UpgradableProtocol(Protocol):
    """A server connection that can switch protocols (web-runner's RequestHandler is one)."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    def switch_protocol(self, receiver: UpgradeReceiver) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...
