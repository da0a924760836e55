"""Load-ish tests on loopback, bounded: many connections, pipelining, shutdown under load."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from weft.web_core import BaseRequest, Response
from weft.web_runner import Server, ServerRunner, TCPSite

if TYPE_CHECKING:
    from conftest import Serve

TIMEOUT = 30.0  # a safety bound only


async def echo_path(request: BaseRequest) -> Response:
    return Response(text=request.path)


@pytest.mark.asyncio
async def test_200_concurrent_keepalive_connections() -> None:
    """200 connections at once, each doing 3 requests on its one connection."""
    runner = ServerRunner(Server(echo_path), shutdown_timeout=5.0)
    await runner.setup()
    # A backlog above the burst, so no SYN is dropped and retried a second later.
    await TCPSite(runner, "127.0.0.1", 0, backlog=512).start()
    port = runner.addresses[0][1]
    server = runner.server
    assert server is not None
    peak = 0

    async def one_client(n: int) -> list[bytes]:
        nonlocal peak
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        bodies = []
        try:
            for i in range(3):
                writer.write(b"GET /c%d/r%d HTTP/1.1\r\nHost: x\r\n\r\n" % (n, i))
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 ")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                bodies.append(await reader.readexactly(length))
                peak = max(peak, len(server.connections))
        finally:
            writer.close()
        return bodies

    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(one_client(n) for n in range(200))), TIMEOUT
        )
    finally:
        await runner.cleanup()
    assert results == [[b"/c%d/r%d" % (n, i) for i in range(3)] for n in range(200)]
    assert server.requests_count == 600
    assert peak > 1  # they really overlapped


@pytest.mark.asyncio
async def test_16_pipelined_requests_in_one_write(serve: Serve) -> None:
    """16 requests in a single write are answered in order on the one connection."""
    served = await serve(echo_path)
    connection = await served.connect()
    connection.send(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(16)))
    bodies = [(await connection.response()).body for _ in range(16)]
    assert bodies == [b"/p%d" % i for i in range(16)]


@pytest.mark.asyncio
async def test_pipelined_posts_with_bodies_in_one_write(serve: Serve) -> None:
    """16 pipelined POSTs (bodies read by the handler) in one write, answered in order."""

    async def echo_body(request: BaseRequest) -> Response:
        return Response(body=await request.read())

    served = await serve(echo_body)
    connection = await served.connect()
    connection.send(
        b"".join(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nbody-%02d" % (7, i)
            for i in range(16)
        )
    )
    bodies = [(await connection.response()).body for _ in range(16)]
    assert bodies == [b"body-%02d" % i for i in range(16)]


@pytest.mark.asyncio
async def test_shutdown_with_50_requests_in_flight_loses_none(serve: Serve) -> None:
    """50 requests in handlers when cleanup() starts: all 50 get their full response."""
    started = 0
    all_started = asyncio.Event()
    release = asyncio.Event()

    async def slow(request: BaseRequest) -> Response:
        nonlocal started
        started += 1
        if started == 50:
            all_started.set()
        await release.wait()
        return Response(text=f"done {request.path}")

    served = await serve(slow, shutdown_timeout=TIMEOUT)
    connections = [await served.connect() for _ in range(50)]
    for i, connection in enumerate(connections):
        connection.send(b"GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
    await asyncio.wait_for(all_started.wait(), TIMEOUT)

    idle = await served.connect()
    cleanup = asyncio.create_task(served.cleanup())
    assert await idle.read_to_eof() == b""  # the shutdown has begun ...
    assert not cleanup.done()  # ... and waits for the 50
    release.set()
    responses = [await connection.response() for connection in connections]
    assert [r.status for r in responses] == [200] * 50
    assert [r.body for r in responses] == [b"done /r%d" % i for i in range(50)]
    assert {r.headers["Connection"] for r in responses} == {"close"}
    for connection in connections:
        assert await connection.read_to_eof() == b""  # then closed ...
        await connection.close()  # ... and the client closes too, as told
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_pipelining_flood_is_bounded_and_answered() -> None:
    """A client that pipelines 30,000 requests without reading makes the server stop
    reading (its queue stays far below 30,000), and every request is answered in order."""
    count = 30_000
    peak = 0

    async def handler(request: BaseRequest) -> Response:
        nonlocal peak
        queued = len(request.protocol._queue)  # type: ignore[attr-defined]
        peak = max(peak, queued)
        await asyncio.sleep(0)  # a handler that awaits: reads could outpace it
        return Response(text="k")

    runner = ServerRunner(Server(handler), shutdown_timeout=5.0)
    await runner.setup()
    await TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        writer.write(
            request * (count - 1) + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        sender = asyncio.ensure_future(writer.drain())
        answers = await asyncio.wait_for(reader.read(), TIMEOUT)
        await sender
        writer.close()
    finally:
        await runner.cleanup()
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == count
    # Reading stops at 32 queued requests; one socket read (256 KiB: about 8,500 of
    # these 31-byte requests) may still land. Without the bound the peak is ~30,000.
    assert peak < 10_000
