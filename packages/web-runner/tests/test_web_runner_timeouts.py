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
    from conftest import RawConnection, Serve

TIMEOUT = 10.0  # a safety bound only
HEAD = b"GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: trickle\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"


async def hello(request: BaseRequest) -> Response:
    return Response(text="hello")


async def trickle(connection: RawConnection, data: bytes, delay: float = 0.1) -> int:
    """Send ``data`` one byte per ``delay`` seconds; return how many bytes went out."""
    sent = 0
    with contextlib.suppress(ConnectionError):
        for i in range(len(data)):
            if connection.writer.is_closing() or connection.reader.at_eof():
                break
            connection.send(data[i : i + 1])
            await connection.writer.drain()
            sent += 1
            await asyncio.sleep(delay)
    return sent


@pytest.mark.asyncio
async def test_slowloris_head_is_cut_off_while_others_are_served(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A head sent one byte per 100 ms gets 408 and EOF; other clients are served meanwhile."""
    served = await serve(hello, read_head_timeout=0.5)
    slow = await served.connect()
    sender = asyncio.create_task(trickle(slow, HEAD))

    served_meanwhile = 0
    while not sender.done() and served_meanwhile < 50:
        async with client.get(served.url("/")) as response:
            assert response.status == 200
            assert await response.text() == "hello"
        served_meanwhile += 1
        await asyncio.sleep(0.02)

    answer = await slow.response()
    assert answer.status == 408
    assert answer.headers["Connection"] == "close"
    assert await slow.read_to_eof() == b""
    sent = await asyncio.wait_for(sender, TIMEOUT)
    assert sent < len(HEAD)  # cut off: the whole head never made it
    assert served_meanwhile > 0


@pytest.mark.asyncio
async def test_head_timeout_answers_pending_requests_first(serve: Serve) -> None:
    """A complete request before a stalled head is answered, then the 408, then EOF."""
    served = await serve(hello, read_head_timeout=0.3)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTT")
    first = await connection.response()
    assert first.status == 200
    connection.send(b"P/1.1\r\n")  # more of the head, then nothing
    second = await connection.response()
    assert second.status == 408
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_idle_keepalive_connection_is_not_a_slow_head(serve: Serve) -> None:
    """Between requests only keepalive_timeout counts: a quiet client may come back later."""
    served = await serve(hello, read_head_timeout=0.1, keepalive_timeout=5.0)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).status == 200
    await asyncio.sleep(0.4)  # longer than read_head_timeout, idle
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await connection.response()).status == 200


@pytest.mark.asyncio
async def test_head_timeout_can_be_disabled(serve: Serve) -> None:
    """read_head_timeout=None: a slow head is waited for (up to keepalive_timeout)."""
    served = await serve(hello, read_head_timeout=None)
    connection = await served.connect()
    head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    sent = await trickle(connection, head, delay=0.02)
    assert sent == len(head)
    assert (await connection.response()).status == 200


@pytest.mark.asyncio
async def test_stalled_body_fails_the_read_with_a_typed_error(serve: Serve) -> None:
    """A body that stops arriving makes request.content raise BodyReadTimeoutError."""
    errors: list[BaseException] = []

    async def reader(request: BaseRequest) -> Response:
        try:
            await request.read()
        except BodyReadTimeoutError as exc:
            errors.append(exc)
            raise
        return Response(text="read")

    served = await serve(reader, read_body_timeout=0.3)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    response = await connection.response()
    assert response.status == 408
    assert response.headers["Connection"] == "close"
    assert await connection.read_to_eof() == b""
    assert len(errors) == 1
    assert isinstance(errors[0], TimeoutError)  # asyncio.TimeoutError too


@pytest.mark.asyncio
async def test_stalled_body_the_handler_never_reads_closes(serve: Serve) -> None:
    """A handler that answers without reading: the stalled body ends the connection."""
    served = await serve(hello, read_body_timeout=0.3)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    response = await connection.response()
    assert response.status == 200
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_slow_but_steady_body_is_read_whole(serve: Serve) -> None:
    """The body timeout is between reads: a body that keeps coming is never cut."""

    async def echo_length(request: BaseRequest) -> Response:
        return Response(text=str(len(await request.read())))

    served = await serve(echo_length, read_body_timeout=0.5)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n")
    sent = await trickle(connection, b"x" * 12, delay=0.1)  # 1.2 s in all, > the timeout
    assert sent == 12
    response = await connection.response()
    assert response.status == 200
    assert response.body == b"12"


@pytest.mark.asyncio
async def test_body_timeout_does_not_count_while_the_handler_is_behind(serve: Serve) -> None:
    """Reading paused by flow control is not the client's stall."""
    size = 1024 * 1024

    async def slow_reader(request: BaseRequest) -> Response:
        await asyncio.sleep(0.6)  # the buffer fills, the server pauses reading
        return Response(text=str(len(await request.read())))

    served = await serve(slow_reader, read_body_timeout=0.3)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
    connection.send(b"y" * size)
    await connection.writer.drain()
    response = await connection.response()
    assert response.status == 200
    assert response.body == str(size).encode()
