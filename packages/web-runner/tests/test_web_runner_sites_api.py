"""aiohttp's API of sites and Server: a site's deprecated shutdown_timeout,
TCPSite.port, Server.connection_made / connection_lost, and keyword checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import aiohttp
import aiohttp.web
import pytest

from weft.web_core import Application, BaseRequest, Request, Response
from weft.web_runner import (
    AppRunner,
    BaseSite,
    NamedPipeSite,
    RequestHandler,
    Server,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
    run_app,
)

TIMEOUT = 10.0  # a safety bound only


def hanging_app(started: asyncio.Event, cancelled: asyncio.Event) -> Application:
    """An app whose only handler never returns on its own."""

    async def hang(request: Request) -> Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    app = Application()
    app.router.add_get("/", hang)
    return app


async def open_connection(
    kind: str, site: BaseSite, path: Path
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if kind == "unix":
        return await asyncio.open_unix_connection(str(path))
    assert isinstance(site, TCPSite | SockSite)
    port = int(site.name.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


def make_site(kind: str, runner: AppRunner, path: Path) -> BaseSite:
    """The site under test, with the deprecated shutdown_timeout (this line warns)."""
    if kind == "tcp":
        return TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.1)
    if kind == "unix":
        return UnixSite(runner, path, shutdown_timeout=0.1)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return SockSite(runner, sock, shutdown_timeout=0.1)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["tcp", "unix", "sock"])
async def test_site_shutdown_timeout_warns_and_is_honoured(kind: str, tmp_path: Path) -> None:
    """As aiohttp's: a site's shutdown_timeout is deprecated (DeprecationWarning, pointing
    at the caller) and becomes the runner's, so cleanup cancels a request that hangs
    after it rather than after the runner's 60 s (which would overrun the test's bound).
    """
    started, cancelled = asyncio.Event(), asyncio.Event()
    runner = AppRunner(hanging_app(started, cancelled))  # shutdown_timeout: 60 s
    await runner.setup()
    path = tmp_path / "weft.sock"
    with pytest.warns(
        DeprecationWarning, match="shutdown_timeout should be set on BaseRunner"
    ) as seen:
        site = make_site(kind, runner, path)
    assert [w.filename for w in seen] == [__file__]
    await site.start()
    if kind == "tcp":
        await TCPSite(runner, "127.0.0.1", 0).start()  # a second site changes nothing
    reader, writer = await open_connection(kind, site, path)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(started.wait(), TIMEOUT)
        await asyncio.wait_for(runner.cleanup(), TIMEOUT)
        assert cancelled.is_set()
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed, no answer
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_sites_without_shutdown_timeout_do_not_warn(tmp_path: Path) -> None:
    """Only a site given shutdown_timeout warns; the runner's own is the way."""
    runner = AppRunner(Application(), shutdown_timeout=1.0)
    await runner.setup()
    sock = socket.socket()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            TCPSite(runner, "127.0.0.1", 0)
            UnixSite(runner, tmp_path / "a.sock")
            SockSite(runner, sock)
    finally:
        sock.close()
        await runner.cleanup()


@pytest.mark.skipif(sys.platform == "win32", reason="the error is for other platforms")
def test_named_pipe_site_takes_shutdown_timeout() -> None:
    """NamedPipeSite has aiohttp's keyword too (and elsewhere than Windows still refuses)."""
    runner = AppRunner(Application())
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        with pytest.raises(RuntimeError, match="windows"):
            NamedPipeSite(runner, r"\\.\pipe\weft", shutdown_timeout=1.0)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.mark.asyncio
async def test_tcp_site_port(client: aiohttp.ClientSession) -> None:
    """TCPSite.port: the port asked for until started, then the one bound (port=0: the
    OS's choice), which is where the site answers and what its name says."""

    async def hello(request: Request) -> Response:
        return Response(text="hello")

    app = Application()
    app.router.add_get("/", hello)
    runner = AppRunner(app, shutdown_timeout=5.0)
    await runner.setup()
    try:
        assert TCPSite(runner).port == 8080
        assert TCPSite(runner, ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)).port == 8443
        site = TCPSite(runner, "127.0.0.1", 0)
        assert site.port == 0
        await site.start()
        port = site.port
        assert port != 0
        assert runner.addresses == [("127.0.0.1", port)]
        assert site.name == f"http://127.0.0.1:{port}"
        async with client.get(f"http://127.0.0.1:{port}/") as response:
            assert await response.text() == "hello"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_server_connection_made_and_lost_have_aiohttp_signatures() -> None:
    """Server.connection_made(handler, transport) and connection_lost(handler, exc), which a
    Server subclass can extend to watch connections."""
    events: list[tuple[str, RequestHandler, object]] = []
    lost = asyncio.Event()

    class Watching(Server):
        def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
            events.append(("made", handler, transport.get_extra_info("peername")))
            super().connection_made(handler, transport)

        def connection_lost(
            self, handler: RequestHandler, exc: BaseException | None = None
        ) -> None:
            events.append(("lost", handler, exc))
            super().connection_lost(handler, exc)
            lost.set()

    async def hello(request: BaseRequest) -> Response:
        return Response(text="hi")

    server = Watching(hello)
    runner = ServerRunner(server, shutdown_timeout=5.0)
    await runner.setup()
    await TCPSite(runner, "127.0.0.1", 0).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), TIMEOUT)).endswith(b"hi")
        client_address = writer.get_extra_info("sockname")
        writer.close()
        await asyncio.wait_for(lost.wait(), TIMEOUT)
        (made, handler, peer), (gone, same, exc) = events
        assert (made, gone) == ("made", "lost")
        assert same is handler
        assert peer == client_address
        assert exc is None
        assert server.connections == []
    finally:
        await runner.cleanup()


async def _connection_options(runner: aiohttp.web.AppRunner | AppRunner) -> dict[str, object]:
    """What the connection of one request was configured with, under either framework."""
    await runner.setup()
    try:
        site = (
            aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
            if isinstance(runner, aiohttp.web.AppRunner)
            else TCPSite(runner, "127.0.0.1", 0)
        )
        await site.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    finally:
        await runner.cleanup()
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer
    ka, line = answer.rpartition(b"\r\n\r\n")[2].decode().split()
    return {"keepalive_timeout": float(ka), "max_line_size": int(line)}


def _options_app(web: object, **handler_args: object) -> object:
    async def options(request: object) -> object:
        protocol = request.protocol  # type: ignore[attr-defined]
        text = f"{protocol.keepalive_timeout} {protocol.max_line_size}"
        return web.Response(text=text)  # type: ignore[attr-defined]

    app = web.Application(handler_args=handler_args or None)  # type: ignore[attr-defined]
    app.router.add_get("/", options)
    return app


@pytest.mark.asyncio
async def test_unknown_keywords_are_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A keyword no Server or RequestHandler takes, in the app's handler_args, the
    runner's or the Server's keywords: served anyway with one warning, as aiohttp
    3.14 does (its Server retries each connection without the custom keywords and
    logs "Failed to create request handler with custom kwargs"). aiohttp then drops
    every custom keyword (max_line_size too); weft drops the unknown ones only."""
    from weft.web_core import Application as WeftApplication

    async def hello(request: BaseRequest) -> Response:
        return Response()

    with caplog.at_level("WARNING", logger="weft.server"):
        Server(hello, keepalive_timout=5)
    assert [r.getMessage() for r in caplog.records] == [
        "Ignoring keyword arguments the Server and its connections do not take: "
        "['keepalive_timout'] (misspelt? see the Server's documentation)"
    ]
    caplog.clear()
    with caplog.at_level("WARNING", logger="weft.server"):
        weft = await _connection_options(
            AppRunner(
                _options_app(weft_web_module(), bogus=1),  # type: ignore[arg-type]
                max_line_size=100,
                other=2,
            )
        )
    assert len(caplog.records) == 1
    assert "['bogus', 'other']" in caplog.records[0].getMessage()
    aio = await _connection_options(
        aiohttp.web.AppRunner(
            _options_app(aiohttp.web, bogus=1),  # type: ignore[arg-type]
            max_line_size=100,
            other=2,
        )
    )
    assert weft == {"keepalive_timeout": 75.0, "max_line_size": 100}
    assert aio == {"keepalive_timeout": 3630.0, "max_line_size": 8190}  # all dropped
    assert isinstance(WeftApplication(handler_args={"bogus": 1}), WeftApplication)


@pytest.mark.asyncio
async def test_the_apps_handler_args_override_the_runners_keywords() -> None:
    """As aiohttp: AppRunner(app, keepalive_timeout=7) with the app's handler_args
    saying 5 serves with 5."""
    seen = {}
    for name, web in (("aiohttp", aiohttp.web), ("weft", weft_web_module())):
        app = _options_app(web, keepalive_timeout=5.0, max_line_size=500)
        seen[name] = await _connection_options(
            web.AppRunner(app, keepalive_timeout=7.0, max_line_size=600)  # type: ignore[attr-defined]
        )
    assert seen["weft"] == seen["aiohttp"] == {"keepalive_timeout": 5.0, "max_line_size": 500}


def test_bad_values_still_fail_when_the_runner_is_made() -> None:
    """A value that cannot work is a ValueError at once, wherever it is given."""
    with pytest.raises(ValueError, match="read_bufsize"):
        AppRunner(Application(handler_args={"read_bufsize": 0}))
    with pytest.raises(ValueError, match="read_bufsize"):
        AppRunner(Application(), read_bufsize=0, bogus=1)


def weft_web_module() -> object:
    """weft's names as aiohttp.web has them, for the side-by-side tests above."""
    import types

    return types.SimpleNamespace(
        Application=Application, Response=Response, AppRunner=AppRunner, TCPSite=TCPSite
    )


def _fetch_then_stop(port: int, results: list[bytes]) -> Callable[..., None]:
    """A ``print`` for run_app: make one request once it serves, then SIGINT ourselves."""

    async def go() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            results.append(await asyncio.wait_for(reader.read(), TIMEOUT))
            writer.close()
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    tasks: list[asyncio.Task[None]] = []

    def fake_print(*args: object) -> None:
        tasks.append(asyncio.get_running_loop().create_task(go()))

    return fake_print


def test_run_app_passes_aiohttp_connection_keywords() -> None:
    """run_app(app, tcp_keepalive=..., read_bufsize=..., auto_decompress=False,
    timeout_ceil_threshold=...) as with aiohttp: each reaches the connection."""

    async def report(request: Request) -> Response:
        sock = request.transport.get_extra_info("socket") if request.transport else None
        assert sock is not None
        keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        return Response(text=f"keepalive={bool(keepalive)}")

    app = Application()
    app.router.add_get("/", report)
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        results: list[bytes] = []
        run_app(
            app,
            sock=sock,
            print=_fetch_then_stop(sock.getsockname()[1], results),
            tcp_keepalive=False,
            read_bufsize=2**12,
            auto_decompress=False,
            timeout_ceil_threshold=1,
        )
    assert results[0].startswith(b"HTTP/1.1 200 ")
    assert results[0].endswith(b"keepalive=False")
