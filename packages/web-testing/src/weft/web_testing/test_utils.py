"""Test utilities, as ``aiohttp.test_utils``: real servers on 127.0.0.1 and a client for them.

::

    from weft.web_testing.test_utils import TestClient, TestServer

    async def test_hello() -> None:
        async with TestClient(TestServer(make_app())) as client:
            resp = await client.get("/")
            assert resp.status == 200
            assert await resp.text() == "hi"

The client is weft's own small HTTP/1.1 client (weft-http-parser underneath),
so testing needs no third-party client. Its responses follow aiohttp's
``ClientResponse`` (``status``, ``reason``, ``headers``, ``cookies``,
``read()``, ``text()``, ``json()``, ``release()``, ``async with``);
cookies persist across a client's requests, connections are kept alive and
reused, redirects are followed (``allow_redirects=False`` to stop).
``ws_connect(path)`` opens a WebSocket with aiohttp's client API
(``ClientWebSocketResponse``: ``send_str``, ``receive``, ``close``, ...).

With pytest, the fixtures ``weft_client``, ``weft_server``,
``weft_raw_server`` and ``weft_unused_port`` (this package's pytest plugin)
do the set-up and tear-down.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import ipaddress
import os
import socket
import sys
import unittest
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, NoReturn, Self, TypeVar, cast, overload
from unittest import mock

from yarl import URL

from weft.web_core import Application, BaseRequest, Request, StreamResponse
from weft.web_core.test_utils import make_mocked_request
from weft.web_runner import AppRunner, BaseRunner, Server, ServerRunner, SockSite

from ._client import ClientSession
from ._cookies import CookieJar
from ._response import (
    ClientConnectionError,
    ClientError,
    ClientPayloadError,
    ClientResponse,
    ClientResponseError,
    ContentTypeError,
    RequestInfo,
    ServerDisconnectedError,
    TooManyRedirects,
    _HTTPMethods,
    _RequestContextManager,
)
from ._ws import ClientWebSocketResponse, WSConnectContext, WSServerHandshakeError
from ._ws import ws_connect as _ws_connect

__all__ = [
    # servers and the client
    "BaseTestServer",
    "TestServer",
    "RawTestServer",
    "TestClient",
    "AioHTTPTestCase",
    # the client's parts
    "ClientSession",
    "ClientResponse",
    "CookieJar",
    "RequestInfo",
    "ClientError",
    "ClientConnectionError",
    "ServerDisconnectedError",
    "ClientPayloadError",
    "ClientResponseError",
    "ContentTypeError",
    "TooManyRedirects",
    "ClientWebSocketResponse",
    "WSServerHandshakeError",
    # helpers
    "unused_port",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "setup_test_loop",
    "teardown_test_loop",
    "make_mocked_request",
    "make_mocked_coro",
]

Handler = Callable[[BaseRequest], Awaitable[StreamResponse]]

# As aiohttp's: the request type a test server's handlers get, and the
# Application a TestClient's server serves (None for a RawTestServer).
_Request = TypeVar("_Request", bound=BaseRequest)
_ApplicationNone = TypeVar("_ApplicationNone", Application, None)

REUSE_ADDRESS = os.name == "posix" and sys.platform != "cygwin"


def get_port_socket(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` (SO_REUSEADDR on POSIX)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    if REUSE_ADDRESS:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def get_unused_port_socket(
    host: str, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A TCP socket bound to a free port of ``host``."""
    return get_port_socket(host, 0, family)


def unused_port() -> int:
    """A port that is free on 127.0.0.1 now (another process may take it before you do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return cast(int, sock.getsockname()[1])


class BaseTestServer(ABC, Generic[_Request]):
    """A runner serving on a socket of ``host`` (127.0.0.1), a free port unless ``port``.

    Generic over the request type its handlers get (``TestServer`` is a
    ``BaseTestServer[Request]``, ``RawTestServer`` a
    ``BaseTestServer[BaseRequest]``), which a ``TestClient`` built on it carries.

    ``start_server(**kwargs)`` sets it up (the keyword arguments go to the
    runner, ``ssl=`` an SSLContext serves HTTPS); ``close()`` is the runner's
    graceful cleanup. ``async with`` does both. ``make_url(path)`` is the
    absolute URL of a path on it.
    """

    __test__ = False

    def __init__(
        self,
        *,
        scheme: str = "",
        loop: asyncio.AbstractEventLoop | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = False,
        socket_factory: Callable[[str, int, socket.AddressFamily], socket.socket] = get_port_socket,
        **kwargs: Any,
    ) -> None:
        self._loop = loop
        self.runner: BaseRunner | None = None
        self._root: URL | None = None
        self.host = host
        self.port = port
        self._closed = False
        self.scheme = scheme
        self.skip_url_asserts = skip_url_asserts
        self.socket_factory = socket_factory
        self._ssl: Any = None

    async def start_server(
        self, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
    ) -> None:
        """Set up the runner and start serving (again: does nothing)."""
        if self.runner:
            return
        self._loop = loop
        self._ssl = kwargs.pop("ssl", None)
        kwargs.setdefault("handler_cancellation", True)
        self.runner = await self._make_runner(**kwargs)
        await self.runner.setup()
        if not self.port:
            self.port = 0
        try:
            version = ipaddress.ip_address(self.host).version
        except ValueError:
            version = 4
        absolute_host = f"[{self.host}]" if version == 6 else self.host
        family = socket.AF_INET6 if version == 6 else socket.AF_INET
        sock = self.socket_factory(self.host, self.port, family)
        self.host, self.port = sock.getsockname()[:2]
        site = SockSite(self.runner, sock, ssl_context=self._ssl)
        await site.start()
        if not self.scheme:
            self.scheme = "https" if self._ssl else "http"
        self._root = URL(f"{self.scheme}://{absolute_host}:{self.port}")

    @abstractmethod
    async def _make_runner(self, **kwargs: Any) -> BaseRunner: ...

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` (a relative URL: ``/a?b=1``) on this server."""
        if self._root is None:
            raise RuntimeError("The server is not started: call start_server() first")
        url = URL(path)
        if self.skip_url_asserts:
            return URL(str(self._root) + str(path))
        if url.absolute:
            raise ValueError(f"make_url() takes a path such as '/a?b=1', not {str(url)!r}")
        return self._root.join(url)

    @property
    def started(self) -> bool:
        return self.runner is not None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handler(self) -> Server:
        """The low-level Server the runner serves."""
        runner = self.runner
        if runner is None or runner.server is None:
            raise RuntimeError("The server is not started: call start_server() first")
        return runner.server

    async def close(self) -> None:
        """Shut the server down (gracefully; idempotent)."""
        if self.started and not self.closed:
            assert self.runner is not None
            await self.runner.cleanup()
            self._root = None
            self.port = None
            self._closed = True

    def __enter__(self) -> NoReturn:
        raise TypeError("Use async with instead")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass  # pragma: no cover (__enter__ raises)

    async def __aenter__(self) -> Self:
        await self.start_server(loop=self._loop)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer[Request]):
    """Serves an Application through an AppRunner (its signals run as in production)."""

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer[BaseRequest]):
    """Serves a plain ``async def handler(request) -> StreamResponse`` (low-level Server)."""

    def __init__(
        self,
        handler: Handler,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, debug: bool = True, **kwargs: Any) -> ServerRunner:
        runner_kwargs = {
            k: kwargs.pop(k) for k in ("shutdown_timeout", "handle_signals") if k in kwargs
        }
        server = Server(self._handler, loop=self._loop, debug=debug, **kwargs)
        return ServerRunner(server, **runner_kwargs)


class TestClient(_HTTPMethods, Generic[_Request, _ApplicationNone]):
    """A client for one test server: paths instead of URLs, and everything closed at the end.

    Generic as aiohttp's: ``TestClient[Request, Application]`` for a
    ``TestServer``, ``TestClient[BaseRequest, None]`` for a ``RawTestServer``
    (the type checker infers them from the server).

    ``request(method, path, **kwargs)`` and ``get``/``post``/``put``/
    ``patch``/``delete``/``head``/``options`` take a path on the server and
    the keyword arguments of ClientSession's requests (``params``, ``data``,
    ``json``, ``headers``, ``cookies``, ``allow_redirects``, ``timeout``,
    ...); they return a response (``await``) or a context manager
    (``async with``) that releases it. Keyword arguments of the constructor
    go to the ClientSession (``headers``, ``cookies``, ``timeout``,
    ``raise_for_status``, ...). ``close()`` closes the responses, the
    session and the server.
    """

    __test__ = False

    @overload
    def __init__(
        self: TestClient[Request, Application],
        server: TestServer,
        *,
        cookie_jar: CookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self: TestClient[_Request, None],
        server: BaseTestServer[_Request],
        *,
        cookie_jar: CookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None: ...

    def __init__(
        self,
        server: BaseTestServer[Any],
        *,
        cookie_jar: CookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(server, BaseTestServer):
            raise TypeError(
                f"server must be TestServer instance, found type: {type(server)!r} "
                "(wrap an Application in TestServer(app))"
            )
        self._server = server
        self._loop = loop
        self._session = ClientSession(cookie_jar=cookie_jar, **kwargs)
        self._closed = False
        self._responses: list[ClientResponse] = []
        self._websockets: list[ClientWebSocketResponse] = []

    async def start_server(self) -> None:
        await self._server.start_server(loop=self._loop)

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int | None:
        return self._server.port

    @property
    def server(self) -> BaseTestServer[_Request]:
        return self._server

    @property
    def app(self) -> _ApplicationNone:
        """The served Application (None for a RawTestServer)."""
        app = getattr(self._server, "app", None)
        return cast(_ApplicationNone, app if isinstance(app, Application) else None)

    @property
    def session(self) -> ClientSession:
        """The underlying session (its requests take absolute URLs)."""
        return self._session

    def make_url(self, path: str | URL) -> URL:
        return self._server.make_url(path)

    async def _request(self, method: str, path: str | URL, **kwargs: Any) -> ClientResponse:
        response = await self._session.request(method, self.make_url(path), **kwargs)
        self._responses.append(response)
        return response

    def request(self, method: str, path: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Send ``method`` to ``path`` on the server."""
        return _RequestContextManager(self._request(method, path, **kwargs))

    def ws_connect(self, path: str | URL, **kwargs: Any) -> WSConnectContext:
        """Open a WebSocket to ``path`` (``await`` it or ``async with`` it).

        Keyword arguments as aiohttp's: ``protocols``, ``timeout``,
        ``receive_timeout``, ``autoclose``, ``autoping``, ``headers``,
        ``origin``, ``compress`` (0: no permessage-deflate), ``max_msg_size``.
        """
        return WSConnectContext(self._ws_connect(path, **kwargs))

    async def _ws_connect(self, path: str | URL, **kwargs: Any) -> ClientWebSocketResponse:
        ws = await _ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    async def close(self) -> None:
        """Close the responses, the session and the server (idempotent)."""
        if not self._closed:
            for response in self._responses:
                response.close()
            for ws in self._websockets:
                await ws.close()
            await self._session.close()
            await self._server.close()
            self._closed = True

    def __enter__(self) -> NoReturn:
        raise TypeError("Use async with instead")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass  # pragma: no cover (__enter__ raises)

    async def __aenter__(self) -> Self:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AioHTTPTestCase(unittest.IsolatedAsyncioTestCase):
    """A unittest base class, as aiohttp's: ``self.client``, ``self.server``, ``self.app``.

    Override ``async def get_application(self)`` to return the Application.
    """

    async def get_application(self) -> Application:
        """The Application under test: override this."""
        return self.get_app()

    def get_app(self) -> Application:
        """Obsolete: override get_application() instead."""
        raise RuntimeError("Did you forget to define get_application()?")

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.setUpAsync()

    async def setUpAsync(self) -> None:
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        self.client = await self.get_client(self.server)
        await self.client.start_server()

    async def asyncTearDown(self) -> None:
        await self.tearDownAsync()

    async def tearDownAsync(self) -> None:
        await self.client.close()

    async def get_server(self, app: Application) -> TestServer:
        """The TestServer for ``app``."""
        return TestServer(app, loop=self.loop)

    async def get_client(self, server: TestServer) -> TestClient[Request, Application]:
        """The TestClient for ``server``."""
        return TestClient(server, loop=self.loop)


@contextlib.contextmanager
def loop_context(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    fast: bool = False,
) -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop, set as current, closed on exit (outside pytest-asyncio)."""
    loop = setup_test_loop(loop_factory)
    try:
        yield loop
    finally:
        teardown_test_loop(loop, fast=fast)


def setup_test_loop(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
) -> asyncio.AbstractEventLoop:
    """Create an event loop and set it as current; pair with teardown_test_loop()."""
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    return loop


def teardown_test_loop(loop: asyncio.AbstractEventLoop, fast: bool = False) -> None:
    """Close a loop made by setup_test_loop (and collect garbage unless ``fast``)."""
    if not loop.is_closed():
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
    if not fast:
        gc.collect()
    asyncio.set_event_loop(None)


def make_mocked_coro(return_value: Any = None, raise_exception: BaseException | None = None) -> Any:
    """A ``mock.Mock`` wrapping a coroutine function that returns ``return_value``
    (or raises ``raise_exception``), as aiohttp's."""

    async def mock_coro(*args: Any, **kwargs: Any) -> Any:
        if raise_exception is not None:
            raise raise_exception
        if inspect.isawaitable(return_value):
            return await return_value
        return return_value

    return mock.Mock(wraps=mock_coro)
