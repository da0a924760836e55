"""What a Server tells an observer about its connections: the hook for metrics.

Counting connections, protocol rejections and limit hits belongs where they
happen, in the connection protocol, and must cost nothing when nobody counts.
The contract, for the protocol to call (docs/design.md, "Observing the
server"): a Server holds ``observer: ServerObserver | None`` (None by
default), and each call site is ``if (o := server.observer) is not None:
o.request_rejected(431)``, one attribute check when nothing observes.

Once the Server has an observer (``observe_server()`` gives it one, the first
time an observer asks for that Server; the prometheus middleware asks at the
Server's first request, so what comes before it is not counted):

* connections: the Server reports each one opened (``connection_made``) and
  closed once (``connection_lost``), though its graceful shutdown forgets its
  connections before they are lost; those open when the observer came are
  reported opened to it at once;
* rejections the connection answers itself: the parser's 400, 413, 414, 431,
  501, 505, the 415 of an unknown coding, the head timeout's 408 (as the core
  queues them), and the body's, when a handler lets its error escape: the body
  timeout's 408 and a broken body's 400 or 413 (as the connection answers them);
* WebSocket closes: the connection reports one per WebSocket as it ends
  (``websocket_closed(code)``, the WebSocketResponse's ``close_code``), whoever
  closed it: the peer, the handler, the connection after the handler returned
  (1000), a protocol violation (1002, 1007, 1009), a lost connection (1006).
"""

from __future__ import annotations

from ._server import Server

__all__ = ["ServerObserver", "observe_server"]


class ServerObserver:
    """A no-op observer: subclass it and override what you count.

    Every method is called on the event loop's thread and must not block or
    raise: the connection that reports is in the middle of its work.
    """

    __slots__ = ()

    def connection_opened(self) -> None:
        """A connection was accepted."""

    def connection_closed(self) -> None:
        """A connection closed (cleanly or not)."""

    def request_rejected(self, status: int) -> None:
        """The protocol answered ``status`` itself, before or instead of the app.

        The parser's rejections (400, 413, 414, 431, 501, 505), the 415 of an
        unknown coding, the timeouts (408: the head's, the body's) and a broken
        body's status: what the app's middlewares never see, or see only as an
        exception.
        """

    def websocket_closed(self, code: int) -> None:
        """A WebSocket connection ended with ``code`` (RFC 6455 §7.4; 1006: no close
        frame): once per WebSocket, whoever closed it."""


class _FanOut(ServerObserver):
    """The Server's one observer, passing what its connections report on to every observer."""

    __slots__ = ("observers",)

    def __init__(self, observers: list[ServerObserver]) -> None:
        self.observers = observers

    def connection_opened(self) -> None:
        for each in self.observers:
            each.connection_opened()

    def connection_closed(self) -> None:
        for each in self.observers:
            each.connection_closed()

    def request_rejected(self, status: int) -> None:
        for each in self.observers:
            each.request_rejected(status)

    def websocket_closed(self, code: int) -> None:
        for each in self.observers:
            each.websocket_closed(code)


def observe_server(server: Server, observer: ServerObserver) -> bool:
    """Report ``server``'s connections to ``observer``; False if it already does.

    The connections already open are reported as opened at once, so a gauge of
    open connections is right from here on; each is reported closed once, when
    it goes. The Server's ``observer`` becomes one that passes every report on
    to each observer given here (an observer the Server had already is kept).
    """
    fan_out = server.observer
    if not isinstance(fan_out, _FanOut):
        fan_out = _FanOut([] if fan_out is None else [fan_out])
        server._observe(fan_out)
    if observer in fan_out.observers:
        return False
    fan_out.observers.append(observer)
    for _ in server._reported:
        observer.connection_opened()
    return True
