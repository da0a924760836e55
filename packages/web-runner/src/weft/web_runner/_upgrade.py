"""The connection's side of a protocol switch (web-core's ``UpgradableProtocol``).

``RequestHandler`` inherits ``UpgradeMixin``. After a handler answered an
upgrade request with 101 (``WebSocketResponse.prepare``) it calls
``switch_protocol(receiver)``: the HTTP parser has stopped after that request
(``RequestParser.switched``), the bytes it kept are fed to the receiver, and
from then on ``data_received`` forwards every read to it. The HTTP read timers
are cancelled and none is started again (``data_received`` returns before
them), the keep-alive timer only runs while no request is being answered,
and the connection closes when the handler returns (the 101 response is not
keep-alive). A FIN from the peer closes the connection; its end reaches the
receiver as ``connection_lost``.

When the handler declines the upgrade (answers anything but 101), the
parser resumes HTTP from the bytes that followed the request
(``resume_declined_upgrade``), so ``Upgrade: h2c`` or a WebSocket route that
refuses does not stall a keep-alive connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sized
from typing import TYPE_CHECKING

from weft.http_parser import RequestParser
from weft.web_core import UpgradeReceiver

__all__ = ["UpgradeMixin"]


class UpgradeMixin:
    """``switch_protocol`` for RequestHandler (the attributes below are RequestHandler's)."""

    # Empty, so that RequestHandler's __slots__ take effect. Hidden from mypy, which
    # would check the assignments below against it (they are RequestHandler's slots).
    if not TYPE_CHECKING:
        __slots__ = ()

    if TYPE_CHECKING:
        #: The protocol the connection switched to, or None while it speaks HTTP.
        _upgraded: UpgradeReceiver | None
        _parser: RequestParser
        _transport: asyncio.Transport | None
        _reading_paused: bool
        _client_eof: bool
        _closing: bool
        _queue: Sized

        def _cancel_read_timers(self) -> None: ...

        def data_received(self, data: bytes) -> None: ...

    def switch_protocol(self, receiver: UpgradeReceiver) -> None:
        """Hand every later byte of this connection to ``receiver`` (see the module doc)."""
        if self._upgraded is not None:
            raise RuntimeError("the connection already switched protocols")
        if not self._parser.switched or self._queue:
            raise RuntimeError(
                "switch_protocol() is only for the request being answered, and only when it "
                "asked to upgrade (Connection: upgrade and an Upgrade header, HTTP/1.1)"
            )
        self._upgraded = receiver
        self._cancel_read_timers()
        data = self._parser.take_trailing_data()
        transport = self._transport
        if transport is None or transport.is_closing():
            receiver.connection_lost(None)
            return
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        if data:
            receiver.data_received(data)

    def _upgraded_eof(self, receiver: UpgradeReceiver) -> bool:
        """A FIN after the switch: tell the receiver, then let the transport close."""
        self._client_eof = True
        receiver.eof_received()
        return False

    def resume_declined_upgrade(self) -> None:
        """After a non-101 answer to an upgrade request, parse what followed as HTTP again."""
        parser = self._parser
        if self._upgraded is None and parser.switched and not self._closing:
            data = parser.take_trailing_data()
            parser.resume_http()  # nothing left to parse in it: the bytes are fed below
            if data:
                self.data_received(data)
