"""Server, runners and sites: what is served, and where."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import Application, BaseRequest, Request, Response
from weft.web_runner import AppRunner, Server, ServerRunner, SockSite, TCPSite, UnixSite

if TYPE_CHECKING:
    from conftest import Serve, Until

TIMEOUT = 10.0


async def echo(request: BaseRequest) -> Response:
    return Response(text=f"{type(request).__name__} {request.method} {request.path_qs}")


def make_app() -> Application:
    app = Application()

    async def hello(request: Request) -> Response:
        return Response(text=f"hello {request.match_info['name']}")

    app.router.add_get("/hello/{name}", hello)
    return app


@pytest.mark.asyncio
async def test_low_level_server_serves_a_plain_handler(client: aiohttp.ClientSession) -> None:
    """Server + ServerRunner + TCPSite serve a bare handler that gets a BaseRequest."""
    server = Server(echo)
    runner = ServerRunner(server)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with client.get(f"http://127.0.0.1:{port}/a?b=1") as response:
            assert response.status == 200
            assert await response.text() == "BaseRequest GET /a?b=1"
        assert server.requests_count == 1
    finally:
        await runner.cleanup()
    assert runner.server is None


@pytest.mark.asyncio
async def test_app_runner_serves_an_application(client: aiohttp.ClientSession) -> None:
    """AppRunner + TCPSite route requests through the Application."""
    app = make_app()
    runner = AppRunner(app)
    assert runner.app is app
    await runner.setup()
    await TCPSite(runner, "127.0.0.1", 0).start()
    try:
        port = runner.addresses[0][1]
        async with client.get(f"http://127.0.0.1:{port}/hello/weft") as response:
            assert response.status == 200
            assert await response.text() == "hello weft"
        async with client.get(f"http://127.0.0.1:{port}/missing") as response:
            assert response.status == 404
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_unix_site_serves_on_a_socket_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    """UnixSite listens on a Unix socket that aiohttp's UnixConnector reaches."""
    # Not tmp_path, named after this long test: under a deep base (nox's --envdir)
    # the path would pass AF_UNIX's 107 bytes.
    path = tmp_path_factory.mktemp("unix") / "weft.sock"
    runner = AppRunner(make_app())
    await runner.setup()
    site = UnixSite(runner, path)
    assert site.name == f"http://unix:{path}:"
    await site.start()
    try:
        assert runner.addresses == [str(path)]
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://localhost/hello/unix") as response,
        ):
            assert response.status == 200
            assert await response.text() == "hello unix"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_sock_site_serves_on_a_pre_bound_socket(client: aiohttp.ClientSession) -> None:
    """SockSite serves on a socket the caller bound, and is named after its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = AppRunner(make_app())
    await runner.setup()
    site = SockSite(runner, sock)
    assert site.name == f"http://127.0.0.1:{port}"
    await site.start()
    try:
        assert runner.addresses == [("127.0.0.1", port)]
        async with client.get(f"http://127.0.0.1:{port}/hello/sock") as response:
            assert await response.text() == "hello sock"
    finally:
        await runner.cleanup()
    assert sock.fileno() == -1  # the listening socket is closed with the site


@pytest.mark.asyncio
async def test_sock_site_names_a_unix_socket(tmp_path_factory: pytest.TempPathFactory) -> None:
    """SockSite on a bound AF_UNIX socket is named http://unix:PATH: and serves."""
    # Not tmp_path, named after this long test: under a deep base (nox's --envdir)
    # the path would pass AF_UNIX's 107 bytes.
    path = tmp_path_factory.mktemp("unix") / "pre.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    runner = AppRunner(make_app())
    await runner.setup()
    site = SockSite(runner, sock)
    assert site.name == f"http://unix:{path}:"
    await site.start()
    try:
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://localhost/hello/pre") as response,
        ):
            assert await response.text() == "hello pre"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_addresses_list_every_started_site() -> None:
    """runner.addresses holds one bound address per started site, and none after cleanup."""
    runner = AppRunner(make_app())
    await runner.setup()
    first = TCPSite(runner, "127.0.0.1", 0)
    second = TCPSite(runner, "127.0.0.1", 0)
    assert runner.addresses == []
    await first.start()
    await second.start()
    try:
        addresses = runner.addresses
        assert len(addresses) == 2
        assert all(host == "127.0.0.1" and port > 0 for host, port in addresses)
        assert addresses[0] != addresses[1]
        assert runner.sites == {first, second}
    finally:
        await runner.cleanup()
    assert runner.addresses == []
    assert runner.sites == set()


@pytest.mark.asyncio
async def test_tcp_site_name_shows_the_bound_port() -> None:
    """TCPSite.name is http://HOST:PORT, with the real port once port 0 is bound."""
    runner = AppRunner(make_app())
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    assert site.name == "http://127.0.0.1:0"
    await site.start()
    try:
        assert site.name == f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_tcp_site_name_defaults() -> None:
    """Without host TCPSite is named 0.0.0.0, port 8080 by default, IPv6 in brackets."""
    runner = AppRunner(Application())
    await runner.setup()
    assert TCPSite(runner).name == "http://0.0.0.0:8080"
    assert TCPSite(runner, "::1", 9000).name == "http://[::1]:9000"
    assert TCPSite(runner, "example.com", 81).name == "http://example.com:81"
    await runner.cleanup()


@pytest.mark.asyncio
async def test_making_a_site_before_setup_raises() -> None:
    """A site made before runner.setup() raises RuntimeError at once, as aiohttp's."""
    runner = AppRunner(Application())
    with socket.socket() as sock:
        for make in (
            lambda: TCPSite(runner, "127.0.0.1", 0),
            lambda: UnixSite(runner, "/nonexistent/sock"),
            lambda: SockSite(runner, sock),
        ):
            with pytest.raises(RuntimeError, match=r"Call runner.setup\(\) before making a site"):
                make()
    assert runner.sites == set()


@pytest.mark.asyncio
async def test_starting_a_site_after_cleanup_raises() -> None:
    """A site made while set up, started after runner.cleanup(): RuntimeError, nothing served."""
    runner = AppRunner(Application())
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await runner.cleanup()
    with pytest.raises(RuntimeError, match=r"setup\(\)"):
        await site.start()
    assert runner.sites == set()


@pytest.mark.asyncio
async def test_starting_a_site_twice_raises() -> None:
    """A site registered twice in its runner raises RuntimeError."""
    runner = AppRunner(Application())
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        with pytest.raises(RuntimeError, match="already registered"):
            await site.start()
    finally:
        await runner.cleanup()


def test_app_runner_rejects_a_non_application() -> None:
    """AppRunner(something that is not an Application) raises TypeError."""
    with pytest.raises(TypeError, match="Application instance"):
        AppRunner(object())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_stopped_site_stops_accepting() -> None:
    """After site.stop() new connections are refused."""
    runner = AppRunner(make_app())
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await site.stop()
    try:
        assert runner.sites == set()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_server_tracks_its_connections(serve: Serve, until: Until) -> None:
    """Server.connections holds each open connection and drops it once closed."""
    served = await serve(echo)
    assert served.server.connections == []
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    response = await connection.response()
    assert response.status == 200
    assert len(served.server.connections) == 1
    await connection.close()
    await until(lambda: not served.server.connections)  # seen on a later loop turn


@pytest.mark.asyncio
async def test_request_knows_its_connection(serve: Serve) -> None:
    """A low-level request carries the peer address, transport and loop of its connection."""
    seen: list[object] = []

    async def handler(request: BaseRequest) -> Response:
        seen.extend([request.remote, request.transport is not None, request.loop, request.task])
        return Response(text="ok")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).body == b"ok"
    remote, has_transport, loop, task = seen
    assert remote == "127.0.0.1"
    assert has_transport is True
    assert loop is asyncio.get_running_loop()
    assert isinstance(task, asyncio.Task)


@pytest.mark.asyncio
async def test_stopping_a_site_twice_raises() -> None:
    """Stopping a site that is no longer registered raises RuntimeError."""
    runner = AppRunner(Application())
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await site.stop()
    try:
        with pytest.raises(RuntimeError, match="not registered"):
            await site.stop()
    finally:
        await runner.cleanup()
