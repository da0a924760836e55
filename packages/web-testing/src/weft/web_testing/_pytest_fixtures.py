"""The async fixtures of weft's pytest plugin (registered by ``pytest_plugin`` when
pytest-asyncio is active)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    from weft.web_core import Application, BaseRequest, Request, StreamResponse

    from .test_utils import BaseTestServer, RawTestServer, TestClient, TestServer

__all__ = ["weft_client", "weft_raw_server", "weft_server", "weft_unused_port"]

_Request = TypeVar("_Request", bound="BaseRequest")


class WeftClient(Protocol):
    """``await weft_client(app_or_server, *, server_kwargs=None, **client_kwargs)``.

    Typed as pytest-aiohttp's ``aiohttp_client``: an Application or a
    TestServer gives a ``TestClient[Request, Application]``, another test
    server a ``TestClient`` of its request type with no Application.
    """

    @overload
    def __call__(
        self,
        app_or_server: Application | TestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Awaitable[TestClient[Request, Application]]: ...

    @overload
    def __call__(
        self,
        app_or_server: BaseTestServer[_Request],
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Awaitable[TestClient[_Request, None]]: ...


class WeftServer(Protocol):
    """``await weft_server(app, *, host="127.0.0.1", port=None, **runner_kwargs)``."""

    def __call__(
        self, app: Application, *, host: str = ..., port: int | None = ..., **kwargs: Any
    ) -> Awaitable[TestServer]: ...


class WeftRawServer(Protocol):
    """``await weft_raw_server(handler, *, host="127.0.0.1", port=None, **server_kwargs)``."""

    def __call__(
        self,
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        host: str = ...,
        port: int | None = ...,
        **kwargs: Any,
    ) -> Awaitable[RawTestServer]: ...


@pytest.fixture
def weft_unused_port() -> Callable[[], int]:
    """A function returning a port that is free on 127.0.0.1."""
    from .test_utils import unused_port

    return unused_port


@pytest_asyncio.fixture
async def weft_server() -> AsyncIterator[WeftServer]:
    """Start a TestServer for an Application: ``server = await weft_server(app)``.

    Every server started is closed (gracefully) after the test.
    """
    from .test_utils import TestServer

    servers: list[TestServer] = []

    async def start(
        app: Application, *, host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
    ) -> TestServer:
        server = TestServer(app, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield start
    while servers:
        await servers.pop().close()


@pytest_asyncio.fixture
async def weft_raw_server() -> AsyncIterator[WeftRawServer]:
    """Start a RawTestServer for a plain handler: ``server = await weft_raw_server(handler)``."""
    from .test_utils import RawTestServer

    servers: list[RawTestServer] = []

    async def start(
        handler: Callable[[BaseRequest], Awaitable[StreamResponse]],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> RawTestServer:
        server = RawTestServer(handler, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield start
    while servers:
        await servers.pop().close()


@pytest_asyncio.fixture
async def weft_client() -> AsyncIterator[WeftClient]:
    """A TestClient for an Application or a test server: ``client = await weft_client(app)``.

    An Application is served by a new TestServer (``server_kwargs`` go to
    it); other keyword arguments go to the TestClient's session. Every client,
    and its server, is closed after the test.
    """
    from weft.web_core import Application

    from .test_utils import BaseTestServer, TestClient, TestServer

    clients: list[TestClient[Any, Any]] = []

    async def start(
        app_or_server: Application | BaseTestServer[Any],
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient[Any, Any]:
        if isinstance(app_or_server, Application):
            server: BaseTestServer[Any] = TestServer(app_or_server, **(server_kwargs or {}))
        elif isinstance(app_or_server, BaseTestServer):
            server = app_or_server
        else:
            raise TypeError(
                "weft_client() takes an Application or a TestServer/RawTestServer, "
                f"not {type(app_or_server).__name__}"
            )
        client = TestClient(server, **kwargs)
        await client.start_server()
        clients.append(client)
        return client

    yield start
    while clients:
        await clients.pop().close()
