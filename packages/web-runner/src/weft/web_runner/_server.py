"""Server: the low-level server, a protocol factory around one request handler.

Any ``async def handler(request) -> StreamResponse`` can be served; with an
Application, AppRunner passes the app's own handler and request factory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from weft.http_parser import RequestHead
from weft.http_parser.streams import BodyStream
from weft.web_core import BaseRequest, StreamResponse, StreamWriter
from weft.web_core._app import register_server_factory

from ._access_log import AbstractAccessLogger, AccessLogger, access_logger
from ._outbox import Flusher
from ._protocol import HANDLER_KEYWORDS, RequestCount, RequestHandler, check_handler_options

if TYPE_CHECKING:
    from .observer import ServerObserver

__all__ = ["Server", "check_server_options", "server_logger"]

server_logger = logging.getLogger("weft.server")

_RequestFactory = Callable[
    [
        RequestHead,
        BodyStream,
        RequestHandler,
        StreamWriter,
        "asyncio.Task[None] | None",
        asyncio.AbstractEventLoop,
    ],
    BaseRequest,
]

# The keyword arguments a Server hands to each RequestHandler (those it sets
# itself are not the caller's to give).
_HANDLER_KEYWORDS = HANDLER_KEYWORDS - {
    "handler_cancellation",
    "access_logger",
    "access_log_class",
    "access_log",
    "access_log_format",
    "logger",
}
_SERVER_KEYWORDS = frozenset(
    {
        "request_factory",
        "handler_cancellation",
        "loop",
        "logger",
        "access_log_class",
        "access_log",
        "access_log_format",
    }
)


def check_server_options(options: Mapping[str, Any]) -> None:
    """Refuse values a Server's connections cannot work with (``read_bufsize=0``).

    Called when a Server or an AppRunner is made, so a mistake shows there
    rather than at the first connection (or after the app's start-up).
    Keywords no Server takes are not refused here: see ``Server``.
    """
    check_handler_options(**_known(options))


def _known(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in _HANDLER_KEYWORDS or k in _SERVER_KEYWORDS}


class Server:
    """Creates one RequestHandler per connection and tracks them for shutdown.

    Keyword arguments not named here go to each connection's RequestHandler
    (see it): aiohttp's ``keepalive_timeout``, ``tcp_keepalive``,
    ``lingering_time``, ``max_line_size``, ``max_field_size``,
    ``max_headers``, ``read_bufsize``, ``auto_decompress`` (default True),
    ``timeout_ceil_threshold``, ``debug``, and weft's ``read_head_timeout``,
    ``read_body_timeout``, ``lingering_body_size``. Any other keyword is
    dropped with one warning on ``logger`` (aiohttp, too, serves without it);
    a value that cannot work (``read_bufsize=0``) is a ValueError here.

    Access log: ``access_log`` (a ``logging.Logger``, default ``weft.access``;
    None turns it off), ``access_log_class`` (an AbstractAccessLogger
    subclass, default AccessLogger) and ``access_log_format``.
    """

    def __init__(
        self,
        handler: Callable[[Any], Awaitable[StreamResponse]],
        *,
        request_factory: _RequestFactory | None = None,
        handler_cancellation: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        logger: logging.Logger = server_logger,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        access_log: logging.Logger | None = access_logger,
        access_log_format: str = AccessLogger.LOG_FORMAT,
        **kwargs: Any,
    ) -> None:
        if not issubclass(access_log_class, AbstractAccessLogger):
            raise TypeError(
                "access_log_class must be a subclass of weft.web_runner.AbstractAccessLogger, "
                f"got {access_log_class!r}"
            )
        unknown = kwargs.keys() - _HANDLER_KEYWORDS
        if unknown:
            # As aiohttp 3.14, which serves on without them (it retries each
            # connection with its custom keywords dropped, and logs it): code written
            # for another aiohttp version, or an Application's handler_args meant for
            # it, keeps working. Said once, not at every connection; and only the
            # unknown ones are dropped (aiohttp drops every custom keyword).
            logger.warning(
                "Ignoring keyword arguments the Server and its connections do not take: "
                "%s (misspelt? see the Server's documentation)",
                sorted(unknown),
            )
            kwargs = {k: v for k, v in kwargs.items() if k not in unknown}
        check_server_options(kwargs)
        self._loop = loop
        self.access_logger: AbstractAccessLogger | None = (
            access_log_class(access_log, access_log_format) if access_log is not None else None
        )
        self.request_handler = handler
        self.request_factory: _RequestFactory = request_factory or self._make_request
        if self.access_logger is not None and self.access_logger.wants_head_time:
            self.request_factory = _timing_head(self.request_factory)
        self.handler_cancellation = handler_cancellation
        self.logger = logger
        self._kwargs = kwargs
        self._connections: dict[RequestHandler, asyncio.Transport] = {}
        self._shutting_down = False
        self._all_closed: asyncio.Future[None] | None = None
        self._requests = RequestCount()
        # Told of the connections and of what they decide on their own
        # (weft.web_runner.observer); None, the default, costs each such place one
        # attribute check. Set by observe_server().
        self.observer: ServerObserver | None = None
        # The connections reported opened to the observer. Each is reported closed
        # once, when it is lost, though the shutdown forgets its connections
        # (_connections) before they are; one open before the observer came is not.
        self._reported: set[RequestHandler] = set()
        self._flusher: Flusher | None = None

    def flusher(self, loop: asyncio.AbstractEventLoop) -> Flusher:
        """The connections' Flusher on ``loop``: their answers leave when it turns (_outbox)."""
        flusher = self._flusher
        if flusher is None or flusher.loop is not loop:
            flusher = self._flusher = Flusher(loop)
        return flusher

    @property
    def connections(self) -> list[RequestHandler]:
        return list(self._connections)

    @property
    def requests_count(self) -> int:
        """The requests answered so far (as aiohttp's, writable)."""
        return self._requests.count

    @requests_count.setter
    def requests_count(self, count: int) -> None:
        self._requests.count = count

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        """``handler``'s connection opened (its protocol calls this)."""
        self._connections[handler] = transport
        if (observer := self.observer) is not None:
            self._reported.add(handler)
            observer.connection_opened()

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        """``handler``'s connection closed, with ``exc`` when it broke."""
        self._connections.pop(handler, None)
        if (observer := self.observer) is not None and handler in self._reported:
            self._reported.discard(handler)
            observer.connection_closed()
        waiter = self._all_closed
        if not self._connections and waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _observe(self, observer: ServerObserver) -> None:
        """Make ``observer`` the Server's (``observe_server`` does). When the Server had
        none, the connections open now count as reported opened (the caller reports
        them), so that each is reported closed when it goes."""
        if self.observer is None:
            self._reported.update(self._connections)
        self.observer = observer

    def _make_request(
        self,
        head: RequestHead,
        payload: BodyStream,
        protocol: RequestHandler,
        writer: StreamWriter,
        task: asyncio.Task[None] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> BaseRequest:
        return BaseRequest(head, payload, protocol, writer, task, loop)

    @property
    def shutting_down(self) -> bool:
        """True once ``pre_shutdown()`` ran: connections made from now on start nothing."""
        return self._shutting_down

    def pre_shutdown(self) -> None:
        """Mark every connection closing: idle ones close at once, busy ones after
        the request in hand (answered with ``Connection: close``); no connection
        starts another request. A fresh connection (no request yet, and this
        one included if made later) answers its first request if it comes at
        once (see the shutdown sequence in ``_runners.py``).
        """
        self._shutting_down = True
        for connection in list(self._connections):
            connection.close()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Wait for the requests in hand up to ``timeout`` seconds, then cancel the rest.

        Returns once every connection's task has ended, cancelled ones included
        (so nothing of a handler runs after this: the app's on_cleanup comes
        next), and every connection is closed. ``None`` waits as long as the
        requests take.
        """
        self.pre_shutdown()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        tasks = {
            task
            for connection in self._connections
            if (task := connection._task) is not None and not task.done()
        }
        pending: set[asyncio.Task[None]] = set()
        if tasks:
            # Woken by the tasks' ends: the last handler's end ends the wait.
            _, pending = await asyncio.wait(tasks, timeout=timeout)
        if not pending and self._connections:
            # Answers still flushing, and connections lingering after their last
            # answer until the client closes (it was told: Connection: close, FIN).
            self._all_closed = loop.create_future()
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            await asyncio.wait((self._all_closed,), timeout=remaining)
            self._all_closed = None
        for connection in list(self._connections):
            connection.force_close()  # closes lingering ones; cancels what still runs
        if pending:
            # A cancelled handler may still await while unwinding (closing its own
            # resources): it must have ended before the app's clean-up begins.
            await asyncio.wait(pending)
        self._connections.clear()

    def __call__(self) -> RequestHandler:
        loop = self._loop or asyncio.get_running_loop()
        return RequestHandler(
            self,
            loop=loop,
            handler_cancellation=self.handler_cancellation,
            access_logger=self.access_logger,
            **self._kwargs,
        )


def _timing_head(factory: _RequestFactory) -> _RequestFactory:
    """``factory``, with each request's writer timing its head on the loop's clock.

    The connection makes the writer just before it calls the factory, and
    reads its own start time just before that: the two clocks agree to within
    the writer's construction.
    """

    def make_request(
        head: RequestHead,
        payload: BodyStream,
        protocol: RequestHandler,
        writer: StreamWriter,
        task: asyncio.Task[None] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> BaseRequest:
        writer.time_head(loop.time)
        return factory(head, payload, protocol, writer, task, loop)

    return make_request


# Application.make_handler() (deprecated, aiohttp's) builds one of these.
register_server_factory(Server)
