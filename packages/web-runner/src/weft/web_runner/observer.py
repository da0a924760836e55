"""What a Server tells an observer about its connections: the hook for metrics.

Counting connections, protocol rejections and limit hits belongs where they
happen, in the connection protocol, and must cost nothing when nobody counts.
The contract, for the protocol to call (docs/design.md, "Observing the
server"): a Server holds ``observer: ServerObserver | None`` (None by
default), and each call site is ``if (o := server.observer) is not None:
o.request_rejected(431)``, one attribute check when nothing observes.

The protocol reports its rejections there (the parser's 400, 413, 414, 431,
501, 505, the 415 of an unknown coding, the head timeout's 408) once the
Server has an observer: ``observe_server()`` gives it one, the first time an
observer asks for that Server (the prometheus middleware asks at the
Server's first request, so a rejection before any request is not counted).
Connections are reported through the Server's public ``connection_made`` /
``connection_lost``, wrapped on the instance; WebSocket closes by the
prometheus middleware, which sees each WebSocket handler return.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

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

        The parser's rejections (400, 413, 414, 431, 501, 505) and the
        timeouts (408): what the app's middlewares never see.
        """

    def websocket_closed(self, code: int) -> None:
        """A WebSocket connection closed with ``code`` (RFC 6455 §7.4)."""


class _FanOut(ServerObserver):
    """The Server's one observer, passing what its connections report on to every observer."""

    __slots__ = ("_observers",)

    def __init__(self, observers: list[ServerObserver]) -> None:
        self._observers = observers

    def request_rejected(self, status: int) -> None:
        for each in self._observers:
            each.request_rejected(status)

    def websocket_closed(self, code: int) -> None:
        for each in self._observers:
            each.websocket_closed(code)


# Server -> its observers; weak so that a Server (in tests, one per app) is not kept.
_observed: weakref.WeakKeyDictionary[Server, tuple[list[ServerObserver], set[Any]]] = (
    weakref.WeakKeyDictionary()
)


def observe_server(server: Server, observer: ServerObserver) -> bool:
    """Report ``server``'s connections to ``observer``; False if it already does.

    The connections already open are reported as opened at once, so a gauge of open connections is
    right from here on. The Server's ``connection_made`` / ``connection_lost``
    are wrapped on the instance (its class is untouched).
    """
    tracked = _observed.get(server)
    if tracked is None:
        observers: list[ServerObserver] = []
        # The connections reported open: each is reported closed once, even when
        # the Server forgot it first (its shutdown drops them before they close).
        open_now: set[Any] = set(server.connections)
        made = server.connection_made
        lost = server.connection_lost

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            open_now.add(handler)
            for each in observers:
                each.connection_opened()

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            lost(handler, exc)
            if handler in open_now:
                open_now.discard(handler)
                for each in observers:
                    each.connection_closed()

        # Instance attributes shadow the methods; the connections call them by name.
        setattr(server, "connection_made", connection_made)  # noqa: B010
        setattr(server, "connection_lost", connection_lost)  # noqa: B010
        server.observer = _FanOut(observers)
        tracked = _observed[server] = (observers, open_now)
    observers, open_now = tracked
    if observer in observers:
        return False
    observers.append(observer)
    for _ in open_now:
        observer.connection_opened()
    return True
