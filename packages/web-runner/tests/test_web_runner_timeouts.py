"""Read timeouts against slow and hostile clients: slowloris heads, stalled bodies."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import BaseRequest, Response
from weft.web_runner import BodyReadTimeoutError

if TYPE_CHECKING:
    from conftest import Serve, ServerReads, Until, VirtualClock

TIMEOUT = 10.0  # a safety bound only
HEAD = b"GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: trickle\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"


async def hello(request: BaseRequest) -> Response:
    return Response(text="hello")


@pytest.mark.asyncio
async def test_slowloris_head_is_cut_off_while_others_are_served(
    serve: Serve, client: aiohttp.ClientSession, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """A head trickling in a byte every 10 s gets 408 and EOF once read_head_timeout has
    passed since its first byte; one that completes just before is answered; other
    clients are served meanwhile."""
    served = await serve(hello, read_head_timeout=60.0)
    slow, finishing = await served.connect(), await served.connect()
    for second in range(0, 60, 10):  # a byte every 10 s: each read well within the timeout
        read_before = server_reads.total
        for connection in (slow, finishing):
            connection.send(HEAD[second // 10 : second // 10 + 1])
        await server_reads.reach(read_before + 2)  # the head clocks start at these reads
        async with client.get(served.url("/")) as response:
            assert response.status == 200
            assert await response.text() == "hello"
        await clock.advance(10.0 if second < 50 else 5.0)
    finishing.send(HEAD[6:])  # 55 s after its first byte: in time
    assert (await finishing.response()).status == 200

    await clock.advance(10.0)  # 65 s after the first byte of the other
    answer = await slow.response()
    assert answer.status == 408
    assert answer.headers["Connection"] == "close"
    assert await slow.read_to_eof() == b""
    with contextlib.suppress(ConnectionError):  # cut off: the rest of the head is not read
        slow.send(HEAD[6:])
        await slow.writer.drain()
    assert served.server.requests_count == 7  # the six others and the one in time


@pytest.mark.asyncio
async def test_head_timeout_answers_pending_requests_first(
    serve: Serve, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """A complete request before a stalled head is answered, then the 408, then EOF."""
    served = await serve(hello, read_head_timeout=60.0)
    connection = await served.connect()
    sent = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTT"
    connection.send(sent)
    first = await connection.response()
    assert first.status == 200
    connection.send(b"P/1.1\r\n")  # more of the head, then nothing
    # The head clock starts with this read (see test_head_clock_starts_with_its_first_byte).
    await server_reads.reach(len(sent) + len(b"P/1.1\r\n"))
    await clock.advance(61.0)
    second = await connection.response()
    assert second.status == 408
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_head_clock_starts_with_its_first_byte(serve: Serve, clock: VirtualClock) -> None:
    """A head whose first bytes arrive in the read that completes the request before it
    and that never ends gets its 408 after read_head_timeout (README: the clock starts
    with the first read that carries the head's bytes), not a silent keep-alive close."""
    served = await serve(hello, read_head_timeout=20.0, keepalive_timeout=30.0)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTT")
    assert (await connection.response()).status == 200
    await clock.advance(21.0)  # the 408 goes out here ...
    await clock.advance(10.0)  # ... before keepalive_timeout would close the connection
    assert (await connection.response()).status == 408
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_idle_keepalive_connection_is_not_a_slow_head(
    serve: Serve, clock: VirtualClock
) -> None:
    """Between requests only keepalive_timeout counts: a quiet client may come back later."""
    served = await serve(hello, read_head_timeout=10.0, keepalive_timeout=60.0)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).status == 200
    await clock.advance(40.0)  # longer than read_head_timeout, idle
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).status == 200


@pytest.mark.asyncio
async def test_head_timeout_can_be_disabled(serve: Serve, clock: VirtualClock) -> None:
    """read_head_timeout=None: a slow head is waited for (up to keepalive_timeout)."""
    served = await serve(hello, read_head_timeout=None)
    connection = await served.connect()
    head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    for piece in (head[:5], head[5:20]):  # 50 s in all, past the default 20 s
        connection.send(piece)
        await connection.writer.drain()
        await clock.advance(25.0)
    connection.send(head[20:])
    assert (await connection.response()).status == 200


@pytest.mark.asyncio
async def test_stalled_body_fails_the_read_with_a_typed_error(
    serve: Serve, clock: VirtualClock
) -> None:
    """A body that stops arriving makes request.content raise BodyReadTimeoutError."""
    errors: list[BaseException] = []
    reading = asyncio.Event()

    async def reader(request: BaseRequest) -> Response:
        reading.set()
        try:
            await request.read()
        except BodyReadTimeoutError as exc:
            errors.append(exc)
            raise
        return Response(text="read")

    served = await serve(reader, read_body_timeout=60.0)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await asyncio.wait_for(reading.wait(), TIMEOUT)
    await clock.advance(55.0)
    assert errors == []  # not yet
    await clock.advance(10.0)
    response = await connection.response()
    assert response.status == 408
    assert response.headers["Connection"] == "close"
    assert await connection.read_to_eof() == b""
    assert len(errors) == 1
    assert isinstance(errors[0], TimeoutError)  # asyncio.TimeoutError too


@pytest.mark.asyncio
async def test_stalled_body_the_handler_never_reads_closes(
    serve: Serve, clock: VirtualClock
) -> None:
    """A handler that answers without reading: the stalled body ends the connection."""
    served = await serve(hello, read_body_timeout=60.0)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    response = await connection.response()
    assert response.status == 200
    await clock.advance(61.0)
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_slow_but_steady_body_is_read_whole(
    serve: Serve, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """The body timeout is between reads: a body that keeps coming is never cut."""

    async def echo_length(request: BaseRequest) -> Response:
        return Response(text=str(len(await request.read())))

    served = await serve(echo_length, read_body_timeout=60.0)
    connection = await served.connect()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n"
    connection.send(head)
    await server_reads.reach(len(head))
    for sent in range(1, 13):  # 600 s in all, ten times the timeout
        await clock.advance(50.0)
        connection.send(b"x")
        await server_reads.reach(len(head) + sent)  # each read restarts the body clock
    response = await connection.response()
    assert response.status == 200
    assert response.body == b"12"


@pytest.mark.asyncio
async def test_body_timeout_does_not_count_while_the_handler_is_behind(
    serve: Serve, clock: VirtualClock, until: Until
) -> None:
    """Reading paused by flow control is not the client's stall."""
    size = 1024 * 1024
    paused, release = asyncio.Event(), asyncio.Event()

    async def slow_reader(request: BaseRequest) -> Response:
        transport = request.transport
        assert transport is not None
        await until(lambda: not transport.is_reading())  # the buffer filled: reading paused
        paused.set()
        await release.wait()
        return Response(text=str(len(await request.read())))

    served = await serve(slow_reader, read_body_timeout=60.0)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
    connection.send(b"y" * size)
    await asyncio.wait_for(paused.wait(), TIMEOUT)
    await clock.advance(600.0)  # ten body timeouts with reading paused
    release.set()
    await asyncio.wait_for(connection.writer.drain(), TIMEOUT)
    response = await connection.response()
    assert response.status == 200
    assert response.body == str(size).encode()
