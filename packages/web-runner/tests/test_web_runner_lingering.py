"""Lingering close (RFC 9112 §9.6): an early answer reaches a client that is still sending."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from weft.web_core import Application, BaseRequest, Request, Response

if TYPE_CHECKING:
    from conftest import RawConnection, Serve, Until, VirtualClock

TIMEOUT = 10.0  # a safety bound only
BIG = 4 * 1024 * 1024


async def hello(request: BaseRequest) -> Response:
    return Response(text="hello")


async def send_body(connection: RawConnection, size: int) -> None:
    """Write ``size`` bytes in 64 KiB pieces, each drained (raises if the server resets)."""
    piece = b"z" * 65536
    for _ in range(size // len(piece)):
        connection.send(piece)
        await asyncio.wait_for(connection.writer.drain(), TIMEOUT)


@pytest.mark.asyncio
async def test_early_413_reaches_a_client_still_sending_its_body(serve: Serve) -> None:
    """413 before the body is read: the client sends all of it, gets the 413 and a clean EOF."""

    async def upload(request: Request) -> Response:
        await request.read()  # 413 at once: Content-Length is over client_max_size
        return Response(text="stored")

    app = Application(client_max_size=1024)
    app.router.add_post("/upload", upload)
    served = await serve(app, lingering_time=5.0)
    connection = await served.connect()
    connection.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % BIG)
    response = await connection.response()
    assert response.status == 413
    # The server is still reading (and discarding): writing the whole body does not fail.
    await send_body(connection, BIG)
    connection.writer.write_eof()
    assert await connection.read_to_eof() == b""  # FIN, not a reset


@pytest.mark.asyncio
async def test_answer_without_reading_a_big_body_is_not_reset(serve: Serve) -> None:
    """A handler that ignores a body over the drain limit: answer, then a polite close."""

    async def ignore(request: BaseRequest) -> Response:
        return Response(text="not interested")

    served = await serve(ignore)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % BIG)
    sender = asyncio.create_task(send_body(connection, BIG))
    response = await connection.response()
    assert response.body == b"not interested"
    await sender  # every write went through
    connection.writer.write_eof()
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_parse_error_with_more_bytes_coming(serve: Serve) -> None:
    """After a 400 the server discards what the client goes on sending, then closes cleanly."""
    served = await serve(hello)
    connection = await served.connect()
    connection.send(b"GARBAGE\r\n\r\n")
    response = await connection.response()
    assert response.status == 400
    await send_body(connection, 1024 * 1024)
    connection.writer.write_eof()
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_lingering_is_bounded_by_lingering_time(
    serve: Serve, clock: VirtualClock, until: Until
) -> None:
    """A client that never closes is closed by the server after lingering_time."""
    served = await serve(hello, lingering_time=60.0)
    connection = await served.connect()
    connection.send(b"GARBAGE\r\n\r\n")
    response = await connection.response()
    assert response.status == 400
    assert await connection.read_to_eof() == b""  # the server's FIN: lingering starts
    await clock.advance(55.0)
    assert len(served.server.connections) == 1  # still reading what the client may send
    await clock.advance(10.0)
    await until(lambda: not served.server.connections)


@pytest.mark.asyncio
async def test_shutdown_closes_lingering_connections_at_once(serve: Serve) -> None:
    """A lingering connection is idle: cleanup() does not wait lingering_time for it."""
    served = await serve(hello, lingering_time=60.0, shutdown_timeout=30.0)
    connection = await served.connect()
    connection.send(b"GARBAGE\r\n\r\n")
    assert (await connection.response()).status == 400
    server = served.server
    assert len(server.connections) == 1  # lingering: the client has not closed
    await asyncio.wait_for(served.cleanup(), TIMEOUT)
    assert server.connections == []
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_malformed_chunk_answers_through_the_handler() -> None:
    """A bad chunk in a body being read raises RequestPayloadError in the handler;
    uncaught it answers 400 once (no second response) and the connection closes."""
    import asyncio

    from weft.web_core import Application, Response
    from weft.web_runner import AppRunner, RequestPayloadError, TCPSite

    seen: list[BaseException] = []

    async def upload(request: Request) -> Response:
        try:
            await request.read()
        except RequestPayloadError as exc:
            seen.append(exc)
            raise
        return Response(text="unreachable")

    app = Application()
    app.router.add_post("/", upload)
    runner = AppRunner(app)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n"
        )
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    finally:
        await runner.cleanup()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert len(seen) == 1
    assert seen[0].status == 400  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_body_read_after_response_raises_payload_access_error() -> None:
    """A task that reads the body after the response was sent gets PayloadAccessError."""
    import asyncio

    from weft.web_core import Application, Response
    from weft.web_runner import AppRunner, PayloadAccessError, TCPSite

    late: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
    answered = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def handler(request: Request) -> Response:
        async def read_later() -> None:
            await answered.wait()
            try:
                await request.content.read()
            except BaseException as exc:
                late.set_result(exc)

        tasks.append(asyncio.get_running_loop().create_task(read_later()))
        return Response(text="early")

    app = Application()
    app.router.add_post("/", handler)
    runner = AppRunner(app)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        await asyncio.wait_for(reader.readuntil(b"early"), 10)
        answered.set()
        assert isinstance(await asyncio.wait_for(late, 10), PayloadAccessError)
        writer.close()
    finally:
        await runner.cleanup()
