"""The connection's side of a protocol switch (web-core's ``UpgradableProtocol``).

``RequestHandler`` inherits ``UpgradeHandling``. After a handler answered an
upgrade request with 101 (``WebSocketResponse.prepare``) it calls
``switch_protocol(receiver)``: the HTTP parser has stopped after that request
(``RequestParser.switched``, the core's ``UPGRADE_PENDING``), the bytes it
kept are fed to the receiver, and from then on ``data_received`` forwards
every read to it. The core is ``HANDED_OFF``: no HTTP deadline runs again,
the keep-alive deadline only runs while no request is being answered, and
the connection closes when the handler returns (the 101 response is not
keep-alive). A FIN from the peer closes the connection; its end reaches the
receiver as ``connection_lost``, and then the Server's observer (if any) as
``websocket_closed(code)``, once per connection, when the receiver has a
``close_code`` (a WebSocketResponse's: the peer's code, the code of the error
the WebSocket closed on, or 1006 when it ended without a close frame).

When the handler declines the upgrade (answers anything but 101), the
parser resumes HTTP from the bytes that followed the request
(``resume_declined_upgrade``), so ``Upgrade: h2c`` or a WebSocket route that
refuses does not stall a keep-alive connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weft.web_core import UpgradeReceiver

from ._compiled import mypyc_attr
from ._handler_api import HandlerApi

if TYPE_CHECKING:
    from ._server import Server

__all__ = ["UpgradeHandling"]


@mypyc_attr(allow_interpreted_subclasses=True)
class UpgradeHandling(HandlerApi):
    """``switch_protocol`` for RequestHandler."""

    __slots__ = ("_server", "_upgraded")

    #: The protocol the connection switched to, or None while it speaks HTTP.
    _upgraded: UpgradeReceiver | None
    _server: Server

    def data_received(self, data: bytes) -> None:
        raise NotImplementedError  # RequestHandler's

    def switch_protocol(self, receiver: UpgradeReceiver) -> None:
        """Hand every later byte of this connection to ``receiver`` (see the module doc)."""
        if self._upgraded is not None:
            raise RuntimeError("the connection already switched protocols")
        data, actions = self._core.hand_off()
        self._upgraded = receiver
        transport = self._transport
        if transport is None:  # lost already: connection_lost() has passed
            receiver.connection_lost(None)
            self._report_upgraded_close(receiver)
            return
        if transport.is_closing():
            # Its connection_lost() is on its way and reaches the receiver then:
            # telling it now too would tell it twice.
            return
        self._dispatch(actions)
        if data:
            receiver.data_received(data)

    def _report_upgraded_close(self, receiver: UpgradeReceiver) -> None:
        """The switched connection ended: tell the Server's observer its close code."""
        observer = self._server.observer
        if observer is not None:
            code = getattr(receiver, "close_code", None)
            if code is not None:  # a WebSocket's (another protocol may have none)
                observer.websocket_closed(code)

    def _upgraded_eof(self, receiver: UpgradeReceiver) -> bool:
        """A FIN after the switch: tell the receiver, then let the transport close."""
        self._core.eof_received()  # only noted: the upgraded protocol decides
        receiver.eof_received()
        return False

    def resume_declined_upgrade(self) -> None:
        """After a non-101 answer to an upgrade request, parse what followed as HTTP again."""
        if self._upgraded is None:
            data = self._core.resume_http()
            if data:
                self.data_received(data)
