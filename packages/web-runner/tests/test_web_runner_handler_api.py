"""aiohttp's RequestHandler API: its keyword arguments (through AppRunner and Server) and
its public members (what a handler reaches as ``request.protocol``)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import ssl
from typing import TYPE_CHECKING, cast

import aiohttp
import pytest
import trustme

from weft.web_core import Application, BaseRequest, Request, Response
from weft.web_runner import AppRunner, RequestHandler, Server, ServerRunner, TCPSite

if TYPE_CHECKING:
    from conftest import Serve, Until, VirtualClock

TIMEOUT = 10.0  # a safety bound only
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def protocol_of(request: BaseRequest) -> RequestHandler:
    return cast(RequestHandler, request.protocol)


def app_with(handler: object, path: str = "/", method: str = "GET") -> Application:
    app = Application()
    app.router.add_route(method, path, handler)  # type: ignore[arg-type]
    return app


# -- keyword arguments


@pytest.mark.asyncio
@pytest.mark.parametrize(("options", "expected"), [({}, True), ({"tcp_keepalive": False}, False)])
async def test_tcp_keepalive_sets_so_keepalive(
    serve: Serve, options: dict[str, bool], expected: bool
) -> None:
    """tcp_keepalive (default True, as aiohttp's) sets SO_KEEPALIVE on the accepted socket."""

    async def report(request: Request) -> Response:
        assert request.transport is not None
        sock = request.transport.get_extra_info("socket")
        return Response(text=str(bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))))

    served = await serve(app_with(report), **options)
    connection = await served.connect()
    connection.send(GET)
    assert (await connection.response()).body == str(expected).encode()


@pytest.mark.asyncio
@pytest.mark.parametrize(("options", "paused"), [({}, False), ({"read_bufsize": 1024}, True)])
async def test_read_bufsize_bounds_the_unread_body(
    serve: Serve, until: Until, options: dict[str, int], paused: bool
) -> None:
    """read_bufsize: past that many unread body bytes the connection stops reading (the
    default, 64 KiB, holds a 4 KiB body); reading the body resumes it."""

    async def upload(request: Request) -> Response:
        transport = request.transport
        assert transport is not None
        await until(lambda: not transport.is_reading() or request.content.total_bytes == 4096)
        was_paused = not transport.is_reading()
        body = await request.read()
        return Response(text=f"{was_paused} {len(body)} {transport.is_reading()}")

    served = await serve(app_with(upload, method="POST"), **options)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + b"x" * 4096)
    assert (await connection.response()).body == f"{paused} 4096 True".encode()


def test_read_bufsize_must_be_positive() -> None:
    async def hello(request: BaseRequest) -> Response:
        return Response()

    with pytest.raises(ValueError, match="read_bufsize"):
        Server(hello, read_bufsize=0)
    with pytest.raises(ValueError, match="read_bufsize"):
        AppRunner(Application(), read_bufsize=-1)


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["runner", "handler_args"])
async def test_auto_decompress_false_hands_a_compressed_body_over_as_sent(
    serve: Serve, client: aiohttp.ClientSession, where: str
) -> None:
    """auto_decompress=False (on the runner or in the app's handler_args): a gzip
    request body reads compressed, as aiohttp."""

    async def echo(request: Request) -> Response:
        return Response(body=await request.read())

    sent = gzip.compress(b"hello " * 100)
    if where == "runner":
        served = await serve(app_with(echo, method="POST"), auto_decompress=False)
    else:
        app = Application(handler_args={"auto_decompress": False})
        app.router.add_post("/", echo)
        served = await serve(app)
    async with client.post(
        served.url(), data=sent, headers={"Content-Encoding": "gzip"}
    ) as response:
        assert await response.read() == sent


@pytest.mark.asyncio
async def test_timeout_ceil_threshold_is_accepted(serve: Serve) -> None:
    """timeout_ceil_threshold (aiohttp rounds WebSocket heartbeat deadlines) has no effect."""

    async def hello(request: Request) -> Response:
        return Response(text="hi")

    served = await serve(app_with(hello), timeout_ceil_threshold=1.5)
    connection = await served.connect()
    connection.send(GET)
    assert (await connection.response()).body == b"hi"


# -- public members


@pytest.mark.asyncio
async def test_connection_attributes(serve: Serve, until: Until) -> None:
    """peername, sockname, ssl_context, connected, writing_paused, debug and the limits."""
    seen: list[RequestHandler] = []

    async def look(request: Request) -> Response:
        protocol = protocol_of(request)
        seen.append(protocol)
        return Response(text=f"{protocol.connected} {protocol.writing_paused}")

    served = await serve(
        app_with(look), debug=True, max_line_size=1000, max_field_size=2000, max_headers=30
    )
    connection = await served.connect()
    connection.send(GET)
    assert (await connection.response()).body == b"True False"
    (protocol,) = seen
    assert protocol.peername == connection.writer.get_extra_info("sockname")
    assert protocol.sockname == ("127.0.0.1", served.port)
    assert protocol.ssl_context is None
    assert protocol.debug is True
    assert (protocol.max_line_size, protocol.max_field_size, protocol.max_headers) == (
        1000,
        2000,
        30,
    )
    assert protocol.logger is served.server.logger
    await connection.close()
    await until(lambda: not protocol.connected)
    assert protocol.peername is None
    assert protocol.sockname is None


@pytest.mark.asyncio
async def test_ssl_context_of_a_tls_connection() -> None:
    """ssl_context is the site's SSLContext on an HTTPS connection."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    seen: list[object] = []

    async def look(request: Request) -> Response:
        seen.append(protocol_of(request).ssl_context)
        return Response(text="ok")

    runner = AppRunner(app_with(look), shutdown_timeout=5.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"https://127.0.0.1:{site.port}/", ssl=client_context) as response,
        ):
            assert await response.text() == "ok"
    finally:
        await runner.cleanup()
    assert seen == [server_context]


@pytest.mark.asyncio
@pytest.mark.parametrize("access_log", [True, False])
async def test_access_log_attributes(serve: Serve, access_log: bool) -> None:
    """access_logger is the Server's AccessLogger and access_log its logging.Logger (None
    with access_log=None)."""
    seen: list[RequestHandler] = []

    async def look(request: Request) -> Response:
        seen.append(protocol_of(request))
        return Response()

    options = {} if access_log else {"access_log": None}
    served = await serve(app_with(look), **options)
    connection = await served.connect()
    connection.send(GET)
    await connection.response()
    (protocol,) = seen
    assert protocol.access_logger is served.server.access_logger
    if access_log:
        assert protocol.access_logger is not None
        assert protocol.access_log is logging.getLogger("weft.access")
    else:
        assert protocol.access_logger is None
        assert protocol.access_log is None


@pytest.mark.asyncio
async def test_a_handler_made_directly_takes_aiohttp_logging_keywords(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """RequestHandler(server, loop=..., logger=..., access_log=..., access_log_format=...)
    serves with its own loggers when a protocol factory makes it directly."""
    # caplog's handler takes the level of the last call: the lowest goes last.
    caplog.set_level(logging.ERROR, logger="direct.server")
    caplog.set_level(logging.INFO, logger="direct.access")

    async def handle(request: BaseRequest) -> Response:
        if request.path == "/fail":
            raise RuntimeError("boom")
        return Response(text="ok")

    server = Server(handle)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: RequestHandler(
            server,
            loop=loop,
            logger=logging.getLogger("direct.server"),
            access_log=logging.getLogger("direct.access"),
            access_log_format="%r %s",
            tcp_keepalive=False,
        ),
        "127.0.0.1",
        0,
    )
    try:
        port = listener.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), TIMEOUT)  # the 500 closes
        writer.close()
    finally:
        listener.close()
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"HTTP/1.1 500 " in data
    lines = [r.getMessage() for r in caplog.records if r.name == "direct.access"]
    assert lines == ["GET /ok HTTP/1.1 200", "GET /fail HTTP/1.1 500"]
    errors = [r for r in caplog.records if r.name == "direct.server"]
    assert errors
    assert errors[0].exc_info is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("debug", [True, False])
async def test_log_debug_log_exception_log_access(
    serve: Serve, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    """log_debug logs only with debug=True; log_exception always, with the traceback;
    log_access(request, response, start) writes an access line as aiohttp's."""
    # caplog's handler takes the level of the last call: the lowest goes last.
    caplog.set_level(logging.INFO, logger="weft.access")
    caplog.set_level(logging.DEBUG, logger="weft.server")

    async def logs(request: Request) -> Response:
        start = asyncio.get_running_loop().time()
        protocol = protocol_of(request)
        protocol.log_debug("debug %s", "line")
        try:
            raise ValueError("oops")
        except ValueError:
            protocol.log_exception("caught %s", "it")
        response = Response(text="ok")
        protocol.log_access(request, response, start)
        return response

    served = await serve(app_with(logs), debug=debug, access_log_format="%s %r")
    connection = await served.connect()
    connection.send(GET)
    assert (await connection.response()).body == b"ok"
    await served.cleanup()
    server_records = [r for r in caplog.records if r.name == "weft.server"]
    debug_lines = [r.getMessage() for r in server_records if r.levelno == logging.DEBUG]
    assert ("debug line" in debug_lines) is debug
    (caught,) = [r for r in server_records if r.getMessage() == "caught it"]
    assert caught.levelno == logging.ERROR
    assert caught.exc_info is not None
    access = [r.getMessage() for r in caplog.records if r.name == "weft.access"]
    assert access == ["200 GET / HTTP/1.1"] * 2  # log_access's, then the connection's own


@pytest.mark.asyncio
async def test_keep_alive_false_closes_after_the_response(serve: Serve) -> None:
    """keep_alive(False) in a handler: its response is the connection's last;
    keep_alive(True) after it undoes that."""

    async def handle(request: Request) -> Response:
        protocol = protocol_of(request)
        protocol.keep_alive(False)
        if "undo" in request.query:
            protocol.keep_alive(True)
        return Response(text="done")

    served = await serve(app_with(handle))
    connection = await served.connect()
    connection.send(b"GET /?undo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).body == b"done"
    connection.send(GET)  # still open after the undo
    assert (await connection.response()).body == b"done"
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_close_in_a_handler_drops_the_pipelined_requests(serve: Serve) -> None:
    """close() in a handler: the connection closes after its response; requests pipelined
    behind it are not answered (as aiohttp's)."""

    async def handle(request: Request) -> Response:
        if request.path == "/close":
            protocol_of(request).close()
        return Response(text=request.path)

    served = await serve(app_with(handle, "/{name}"))
    connection = await served.connect()
    connection.send(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert (await connection.response()).body == b"/a"
    assert (await connection.response()).body == b"/close"
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_close_and_shutdown_of_an_idle_connection(serve: Serve, until: Until) -> None:
    """close() and shutdown() close an idle keep-alive connection at once."""

    async def hello(request: Request) -> Response:
        return Response(text="hi")

    served = await serve(app_with(hello))
    for how in ("close", "shutdown"):
        connection = await served.connect()
        connection.send(GET)
        assert (await connection.response()).body == b"hi"
        (protocol,) = served.server.connections
        if how == "close":
            protocol.close()
        else:
            await asyncio.wait_for(protocol.shutdown(), TIMEOUT)
        assert await connection.read_to_eof() == b""
        await until(lambda: not served.server.connections)


@pytest.mark.asyncio
async def test_shutdown_lets_the_request_in_progress_finish(serve: Serve) -> None:
    """shutdown(timeout): the request being answered finishes and is answered, then the
    connection closes."""
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await release.wait()
        return Response(text="finished")

    served = await serve(app_with(slow))
    connection = await served.connect()
    connection.send(GET)
    await asyncio.wait_for(started.wait(), TIMEOUT)
    (protocol,) = served.server.connections
    shutting_down = asyncio.Event()

    async def shut() -> None:
        shutting_down.set()  # shutdown() runs on in this step, up to its wait
        await protocol.shutdown(timeout=TIMEOUT)

    shutdown = asyncio.ensure_future(shut())
    await asyncio.wait_for(shutting_down.wait(), TIMEOUT)
    release.set()
    assert (await connection.response()).body == b"finished"
    assert await connection.read_to_eof() == b""
    await asyncio.wait_for(shutdown, TIMEOUT)


@pytest.mark.asyncio
async def test_shutdown_cancels_a_handler_past_its_timeout(
    serve: Serve, clock: VirtualClock
) -> None:
    """shutdown(timeout): a handler still running after it is cancelled, the connection closed."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def hang(request: Request) -> Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    served = await serve(app_with(hang))
    connection = await served.connect()
    connection.send(GET)
    await asyncio.wait_for(started.wait(), TIMEOUT)
    (protocol,) = served.server.connections
    shutting_down = asyncio.Event()

    async def shut() -> None:
        shutting_down.set()  # shutdown() runs on in this step, up to its wait
        await protocol.shutdown(timeout=60.0)

    shutdown = asyncio.ensure_future(shut())
    await asyncio.wait_for(shutting_down.wait(), TIMEOUT)
    await clock.advance(55.0)
    assert not shutdown.done()  # still waiting within its timeout
    assert not cancelled.is_set()
    await clock.advance(10.0)
    await asyncio.wait_for(shutdown, TIMEOUT)
    assert await connection.read_to_eof() == b""
    await asyncio.wait_for(cancelled.wait(), TIMEOUT)


@pytest.mark.asyncio
async def test_shutdown_from_a_handler_of_the_same_connection_is_refused(serve: Serve) -> None:
    """A handler awaiting its own connection's shutdown() would wait for itself."""

    async def handle(request: Request) -> Response:
        try:
            await protocol_of(request).shutdown()
        except RuntimeError as exc:
            return Response(text=str(exc))
        return Response(text="no error")  # pragma: no cover

    served = await serve(app_with(handle))
    connection = await served.connect()
    connection.send(GET)
    assert b"call close() instead" in (await connection.response()).body


@pytest.mark.asyncio
async def test_resume_reading_takes_resume_parser() -> None:
    """resume_reading(resume_parser=False), aiohttp's form: reading resumes (weft's parser
    holds nothing back while paused, so the flag changes nothing)."""

    async def handle(request: BaseRequest) -> Response:
        protocol = protocol_of(request)
        transport = request.transport
        assert transport is not None
        protocol.pause_reading()
        paused = not transport.is_reading()
        protocol.resume_reading(resume_parser=False)
        return Response(text=f"{paused} {transport.is_reading()}")

    runner = ServerRunner(Server(handle), shutdown_timeout=5.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    finally:
        await runner.cleanup()
    assert data.endswith(b"True True")
