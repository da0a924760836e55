"""Runners (what is served) and sites (where it is served).

A runner owns one Server and the lifecycle of what it serves; a site binds
that server to a listening socket. ``cleanup()`` is the graceful shutdown,
in this order (aiohttp 3.14's, with the differences marked):

1. Stop accepting: every site's listening socket closes. Connections
   already open stay.
2. Every connection is marked closing (``Server.pre_shutdown()``):

   * an idle one (no request being answered) closes at once; requests it
     has parsed but not started are not started. A kept-alive connection
     whose next request is on its way is idle: a client may retry a
     request that fails on a reused connection (RFC 9112 §9.3.1; nginx
     retries the next upstream), and aiohttp closes it too;
   * a fresh one (no request started yet) is not idle for its first second
     (``FIRST_REQUEST_GRACE`` in ``_connection.py``): its first request,
     already in the socket or arriving within that second, is answered with
     ``Connection: close``, as a busy one's below, and none after it. A
     client that just connected has written its request, or is about to,
     and no other process will serve it: the kernel gave the connection to
     this one (under gunicorn a reload's old worker gets nginx's fresh
     connections until it stops, and nginx does not retry a request whose
     fresh connection closed: 502). aiohttp answers such a request because
     its shutdown reaches the connections only after awaits in which the
     request is read; weft waits for it explicitly. A head that has begun
     to arrive is waited for as any head (``read_head_timeout``); a
     connection that sends nothing closes when the second ends, so it
     cannot hold the shutdown; all of it within ``shutdown_timeout``;
   * a busy one finishes the request in hand, whose body it goes on
     reading (aiohttp stops reading, so an upload in progress stalls);
     its answer says ``Connection: close`` unless the handler had sent its
     head already (aiohttp says nothing); then it half-closes and reads and
     discards what the client still sends until the client closes, at most
     ``lingering_time`` (aiohttp closes at once, and a request the client had
     pipelined turns that close into a reset that can destroy the answer);
   * no connection parses or starts another request, pipelined requests
     already buffered included; a connection accepted from now on is
     fresh, as above: its first request only.

   Under ``run_app`` (``handle_signals=True``) steps 1 and 2 run in the
   SIGINT/SIGTERM callback itself, so no request starts after the signal;
   ``cleanup()`` then repeats them, which changes nothing. Without a signal,
   ``cleanup()`` lets the loop run once first, as aiohttp does, so that a
   request that arrived just before is started and answered.
3. ``on_shutdown`` runs (``shutdown()``).
4. The wait: until every connection's task has ended (its handler returned
   and its answer went out) and every connection has closed, at most
   ``shutdown_timeout`` seconds. Each task's end wakes it, so it ends with
   the last one; nothing polls.
5. What still runs is cancelled, and the wait goes on until each cancelled
   handler has unwound (aiohttp does not wait for them), so no handler
   code runs after the next step starts. Every connection is closed.
6. ``on_cleanup`` runs and the cleanup contexts exit (``_cleanup_server()``).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from weft.web_core import Application

from ._graceful import install_signal_handlers, remove_signal_handlers
from ._server import Server, check_server_options

__all__ = [
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "NamedPipeSite",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
]


class BaseRunner(ABC):
    """Sets up a Server, registers sites, and tears everything down in order.

    Keyword arguments other than ``handle_signals`` and ``shutdown_timeout``
    go to the Server an AppRunner makes (timeouts, access log, limits: see
    Server).
    """

    def __init__(
        self, *, handle_signals: bool = False, shutdown_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        self._handle_signals = handle_signals
        self._shutdown_timeout = shutdown_timeout
        self._kwargs = kwargs
        self._server: Server | None = None
        self._sites: list[BaseSite] = []

    @property
    def server(self) -> Server | None:
        return self._server

    @property
    def sites(self) -> set[BaseSite]:
        return set(self._sites)

    @property
    def addresses(self) -> list[Any]:
        """The bound socket addresses of every started site."""
        found: list[Any] = []
        for site in self._sites:
            server = site._server
            if server is not None:
                found.extend(sock.getsockname() for sock in server.sockets)
        return found

    async def setup(self) -> None:
        """Prepare what is served (start-up callbacks run here)."""
        if self._handle_signals:
            install_signal_handlers(asyncio.get_running_loop(), self._stop_at_signal)
        self._server = await self._make_server()

    def _stop_at_signal(self) -> None:
        """Steps 1 and 2 at the signal itself (the rest follows in ``cleanup()``)."""
        for site in self._sites:
            if site._server is not None:
                site._server.close()
        if self._server is not None:
            self._server.pre_shutdown()

    async def cleanup(self) -> None:
        """The graceful shutdown: the numbered steps of the module docstring."""
        for site in list(self._sites):
            await site.stop()  # 1
        if self._server is not None:
            # Requests that arrived just before the sites stopped are started first.
            await asyncio.sleep(0)
            self._server.pre_shutdown()  # 2
            await self.shutdown()  # 3
            await self._server.shutdown(self._shutdown_timeout)  # 4, 5
        await self._cleanup_server()  # 6
        self._server = None
        if self._handle_signals:
            remove_signal_handlers(asyncio.get_running_loop())

    async def shutdown(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """Hook between closing idle connections and waiting for busy ones."""

    @abstractmethod
    async def _make_server(self) -> Server: ...

    @abstractmethod
    async def _cleanup_server(self) -> None: ...

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _unreg_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")
        self._sites.remove(site)

    def _check_site(self, site: BaseSite) -> None:
        if self._server is None:
            raise RuntimeError("Call runner.setup() before starting a site")


class ServerRunner(BaseRunner):
    """Runs a low-level Server (any handler, no Application)."""

    def __init__(self, web_server: Server, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._web_server = web_server

    async def _make_server(self) -> Server:
        return self._web_server

    async def _cleanup_server(self) -> None:
        pass


class AppRunner(BaseRunner):
    """Runs an Application: freezes it, runs its signals, serves its handler."""

    def __init__(self, app: Application, **kwargs: Any) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        super().__init__(**kwargs)
        check_server_options({**app.handler_args, **self._kwargs})
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    async def shutdown(self) -> None:
        await self._app.shutdown()

    async def _make_server(self) -> Server:
        # Start-up callbacks may still store state in the app; freeze after them.
        await self._app.startup()
        self._app.freeze()
        # The app's compiled request path, unless _handle or _make_request was replaced.
        handler, request_factory = self._app._request_entry()
        # As aiohttp: the app's handler_args configure its connections, over the
        # runner's keywords.
        kwargs = {**self._kwargs, **self._app.handler_args}
        kwargs.setdefault("debug", self._app._served_debug(asyncio.get_running_loop()))
        return Server(handler, request_factory=request_factory, **kwargs)

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()


def _url_host(host: str) -> str:
    """An IPv6 address in brackets, as in a URL (aiohttp's names are built by yarl)."""
    return f"[{host}]" if ":" in host else host


class BaseSite(ABC):
    """A listening socket for a runner's server.

    ``shutdown_timeout`` is deprecated, as in aiohttp: give it to the runner.
    When given, it warns (DeprecationWarning) and sets the runner's.
    """

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:  # as aiohttp: a site serves a runner that is set up
            raise RuntimeError("Call runner.setup() before making a site")
        if shutdown_timeout is not None:
            warnings.warn(
                "shutdown_timeout should be set on BaseRunner: "
                "AppRunner(app, shutdown_timeout=...) or run_app(app, shutdown_timeout=...)",
                DeprecationWarning,
                stacklevel=3,  # the caller of the site's class
            )
            runner._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._server: asyncio.Server | None = None

    @property
    @abstractmethod
    def name(self) -> str: ...

    async def start(self) -> None:
        self._runner._check_site(self)
        self._runner._reg_site(self)

    async def stop(self) -> None:
        """Stop accepting; open connections are left to the runner's shutdown."""
        self._runner._check_site(self)
        if self._server is not None:
            self._server.close()
        self._runner._unreg_site(self)

    def _protocol_factory(self) -> Server:
        server = self._runner.server
        assert server is not None
        return server


class TCPSite(BaseSite):
    """``host=None`` listens on every interface, IPv4 and IPv6."""

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        self._port = (8443 if ssl_context else 8080) if port is None else port
        self._bound_port: int | None = None
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def port(self) -> int:
        """The port listened on once started (the one the OS chose for ``port=0``).

        Before ``start()``, the port asked for.
        """
        return self._port if self._bound_port is None else self._bound_port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        host = "0.0.0.0" if not self._host else self._host
        return f"{scheme}://{_url_host(host)}:{self.port}"

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol_factory(),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        if self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]


class UnixSite(BaseSite):
    """Listens on a Unix domain socket at ``path``."""

    def __init__(
        self,
        runner: BaseRunner,
        path: str | Path,
        *,
        shutdown_timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = path

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://unix:{self._path}:"

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_unix_server(
            self._protocol_factory(), str(self._path), ssl=self._ssl_context, backlog=self._backlog
        )


class NamedPipeSite(BaseSite):
    """Serves on a Windows named pipe (``r"\\\\.\\pipe\\name"``); Windows' proactor loop only."""

    def __init__(
        self, runner: BaseRunner, path: str, *, shutdown_timeout: float | None = None
    ) -> None:
        loop = asyncio.get_event_loop()
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(loop, proactor):
            raise RuntimeError(
                "Named Pipes only available in proactor loop under windows: "
                "serve on a TCPSite or a UnixSite instead"
            )
        super().__init__(runner, shutdown_timeout=shutdown_timeout)
        self._path = path

    @property
    def name(self) -> str:
        return self._path

    async def start(self) -> None:  # pragma: no cover (Windows only)
        await super().start()
        loop = asyncio.get_running_loop()
        servers = await loop.start_serving_pipe(  # type: ignore[attr-defined]
            self._protocol_factory(), self._path
        )
        self._server = servers[0]


class SockSite(BaseSite):
    """Serves on a socket the caller already bound."""

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        shutdown_timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        scheme = "https" if ssl_context else "http"
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = f"{scheme}://{_url_host(host)}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol_factory(), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )
