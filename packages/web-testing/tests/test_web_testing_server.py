"""TestServer, TestClient and the helpers of weft.web_testing.test_utils, as aiohttp.test_utils'."""

from __future__ import annotations

import asyncio
import socket
import unittest

import pytest

from weft.web_core import Application, Request, Response
from weft.web_runner import Server
from weft.web_testing.test_utils import (
    AioHTTPTestCase,
    TestClient,
    TestServer,
    get_unused_port_socket,
    loop_context,
    make_mocked_coro,
    unused_port,
)


def make_app() -> Application:
    async def path(request: Request) -> Response:
        return Response(text=request.raw_path)

    app = Application()
    app.router.add_get("/{tail:.*}", path)
    return app


def test_get_unused_port_socket_is_bound_to_a_free_port() -> None:
    """get_unused_port_socket(host): a TCP socket bound to a port the OS chose."""
    with get_unused_port_socket("127.0.0.1") as sock:
        host, port = sock.getsockname()
        assert (host, sock.type) == ("127.0.0.1", socket.SOCK_STREAM)
        assert port > 0


@pytest.mark.asyncio
async def test_a_server_on_a_given_port_and_host_name() -> None:
    """port= is used as given; a host name (not an address) is kept in the URLs."""
    port = unused_port()
    async with TestClient(TestServer(make_app(), host="localhost", port=port)) as client:
        assert client.port == port
        assert client.host == "127.0.0.1"  # the address the socket is bound to
        assert str(client.make_url("/x")) == f"http://localhost:{port}/x"
        assert await (await client.get("/x")).text() == "/x"


@pytest.mark.asyncio
async def test_skip_url_asserts_takes_the_path_as_written() -> None:
    """skip_url_asserts=True: make_url appends the path verbatim, even '//a' (a URL otherwise)."""
    async with TestServer(make_app(), skip_url_asserts=True) as server:
        assert server.make_url("//double/slash").path == "//double/slash"
    async with TestServer(make_app()) as server:
        with pytest.raises(ValueError, match="takes a path"):
            server.make_url("//double/slash")


@pytest.mark.asyncio
async def test_handler_is_the_low_level_server_once_started() -> None:
    """server.handler is the runner's Server; before start_server() it is an error."""
    server = TestServer(make_app())
    with pytest.raises(RuntimeError, match="not started"):
        server.handler  # noqa: B018 (the property raises)
    async with server:
        assert isinstance(server.handler, Server)


@pytest.mark.asyncio
async def test_test_client_is_async_only() -> None:
    """``with TestClient(...)`` is a TypeError pointing at ``async with``, as in aiohttp."""
    client = TestClient(TestServer(make_app()))
    with pytest.raises(TypeError, match="Use async with instead"), client:
        pass
    await client.close()


def test_aiohttp_test_case_without_get_application_says_so() -> None:
    """An AioHTTPTestCase that does not override get_application fails with aiohttp's hint."""

    class Forgetful(AioHTTPTestCase):
        async def test_nothing(self) -> None:
            raise AssertionError("the set-up should have failed first")

    result = unittest.TestResult()
    Forgetful("test_nothing").run(result)
    assert len(result.errors) == 1
    assert "Did you forget to define get_application()?" in result.errors[0][1]


def test_loop_context_sets_and_closes_its_loop() -> None:
    """loop_context: a current loop inside, closed after; closing it early is allowed."""
    with loop_context(fast=True) as loop:
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    assert loop.is_closed()
    with loop_context() as early:
        early.close()
    assert early.is_closed()


@pytest.mark.asyncio
async def test_make_mocked_coro_records_calls_and_returns_or_raises() -> None:
    """make_mocked_coro: an awaitable mock returning (or raising) what it was given."""
    mocked = make_mocked_coro(return_value=3)
    assert await mocked(1, key="v") == 3
    mocked.assert_called_once_with(1, key="v")

    failing = make_mocked_coro(raise_exception=KeyError("k"))
    with pytest.raises(KeyError):
        await failing()

    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    future.set_result("from the awaitable")
    # An awaitable return value is awaited (aiohttp's awaits it and returns None).
    assert await make_mocked_coro(return_value=future)() == "from the awaitable"
