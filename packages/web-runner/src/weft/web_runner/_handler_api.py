"""aiohttp's public RequestHandler members that are not the asyncio protocol itself.

``RequestHandler`` inherits ``HandlerApi`` through ``_upgrade.UpgradeHandling``
(one line of single inheritance: mypyc compiles the three modules, and no
mixins): what a handler, a middleware or a library reaches through
``request.protocol`` in aiohttp (the peer's and the socket's addresses, the
TLS context, the logging helpers) and the per-connection controls
``keep_alive()``, ``close()`` and ``shutdown()``.
None of it runs on the path of a request unless called.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from typing import Any

from weft.http_parser.streams import BodyStream
from weft.web_core import BaseRequest, StreamResponse

from ._access_log import AbstractAccessLogger
from ._compiled import mypyc_attr
from ._connection import Action, Connection

__all__ = ["HandlerApi"]


@mypyc_attr(allow_interpreted_subclasses=True)
class HandlerApi(asyncio.Protocol):
    """Public members of RequestHandler; the connection's state it reads is declared here."""

    __slots__ = (
        "_core",
        "_logging_enabled",
        "_loop",
        "_task",
        "_transport",
        "_writing_paused",
        "access_logger",
        "debug",
        "logger",
    )

    logger: logging.Logger
    debug: bool
    access_logger: AbstractAccessLogger | None
    _loop: asyncio.AbstractEventLoop
    _transport: asyncio.Transport | None
    _task: asyncio.Task[None] | None
    _writing_paused: bool
    _logging_enabled: bool
    _core: Connection[BodyStream]

    def _dispatch(self, actions: Sequence[Action[BodyStream]]) -> None:
        raise NotImplementedError  # RequestHandler's

    def force_close(self) -> None:
        raise NotImplementedError  # RequestHandler's

    # -- the connection

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return self._transport is not None

    @property
    def writing_paused(self) -> bool:
        """True while the transport's write buffer is over its high-water mark."""
        return self._writing_paused

    @property
    def peername(self) -> Any:
        """The peer's address (``(host, port)`` for TCP), None once closed."""
        transport = self._transport
        return None if transport is None else transport.get_extra_info("peername")

    @property
    def sockname(self) -> Any:
        """The local address of the connection's socket, None once closed."""
        transport = self._transport
        return None if transport is None else transport.get_extra_info("sockname")

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The SSLContext of a TLS connection; None for plain TCP or once closed."""
        transport = self._transport
        return None if transport is None else transport.get_extra_info("sslcontext")

    # -- logging, as aiohttp's

    def log_access(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log ``request`` with the access logger; ``time`` is ``loop.time()`` when it began.

        As aiohttp's: nothing happens while the access log is off or would drop
        the line.
        """
        if self._logging_enabled and self.access_logger is not None:
            self.access_logger.log(request, response, self._loop.time() - time)

    def log_debug(self, *args: Any, **kw: Any) -> None:
        """``logger.debug(...)``, only when the handler runs with ``debug=True``."""
        if self.debug:
            self.logger.debug(*args, **kw)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """``logger.exception(...)``."""
        self.logger.exception(*args, **kw)

    # -- ending the connection

    def keep_alive(self, val: bool) -> None:
        """``False``: the response in progress (or the next one, when idle) is the last.

        ``True`` undoes an earlier ``keep_alive(False)``; whether the connection
        is then kept alive is up to each response (``response.keep_alive``)
        and the client, as always.
        """
        self._core.keep_alive(val)

    def close(self) -> None:
        """Close the connection once the request being answered is answered.

        An idle connection closes now. Requests the client pipelined behind
        the one in progress are not answered (as aiohttp's ``close()``).
        """
        self._dispatch(self._core.close(self._loop.time()))

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """Close gracefully: let the request in progress finish within ``timeout`` seconds.

        Then the connection closes, and a handler still running is
        cancelled. ``None`` waits as long as the request takes. The runner's
        graceful shutdown does this for every connection; this is one.
        """
        task = self._task
        if task is not None and task is asyncio.current_task():
            raise RuntimeError(
                "shutdown() waits for the connection's requests: a handler of the same "
                "connection cannot await it; call close() instead"
            )
        self.close()
        if self._core.serving and task is not None and not task.done():
            await asyncio.wait((task,), timeout=timeout)
        self.force_close()
