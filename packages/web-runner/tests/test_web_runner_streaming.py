"""Streaming responses out and large request bodies in, through flow control."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import BaseRequest, Response, StreamResponse
from weft.web_runner import RequestHandler

if TYPE_CHECKING:
    from conftest import Serve

TIMEOUT = 10.0
PARTS = [b"first,", b"second,", b"x" * 100_000, b"last"]


async def stream(request: BaseRequest) -> StreamResponse:
    response = StreamResponse()
    response.content_type = "text/plain"
    await response.prepare(request)
    for part in PARTS:
        await response.write(part)
    await response.write_eof()
    return response


@pytest.mark.asyncio
async def test_stream_response_arrives_chunked_and_whole(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A StreamResponse written in several parts arrives chunked and complete."""
    served = await serve(stream)
    async with client.get(served.url()) as response:
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.headers
        assert await response.read() == b"".join(PARTS)


@pytest.mark.asyncio
async def test_stream_response_chunk_framing(serve: Serve) -> None:
    """On the wire each write is one chunk, ended by the last chunk, and keep-alive holds."""
    served = await serve(stream)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
    first = await connection.response()
    assert first.body == b"".join(PARTS)
    assert first.raw.endswith(b"4\r\nlast\r\n0\r\n\r\n")
    assert b"6\r\nfirst,\r\n" in first.raw
    assert (await connection.response()).body == b"".join(PARTS)


@pytest.mark.asyncio
async def test_stream_response_with_length_is_not_chunked(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A StreamResponse with content_length set streams without chunked framing."""

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        response.content_length = 10
        await response.prepare(request)
        await response.write(b"01234")
        await response.write(b"56789")
        await response.write_eof()
        return response

    served = await serve(handler)
    async with client.get(served.url()) as response:
        assert response.headers["Content-Length"] == "10"
        assert "Transfer-Encoding" not in response.headers
        assert await response.read() == b"0123456789"


@pytest.mark.asyncio
async def test_http10_stream_ends_with_the_connection(serve: Serve) -> None:
    """An HTTP/1.0 stream without a length is not chunked: the close ends the body."""
    served = await serve(stream)
    data = await served.exchange(b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert b"Transfer-Encoding" not in head
    assert body == b"".join(PARTS)


@pytest.mark.asyncio
async def test_large_body_streams_through_flow_control(
    serve: Serve, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body of several MiB, read with iter_chunked, arrives intact; reading pauses meanwhile."""
    payload = os.urandom(6 * 1024 * 1024)
    paused = asyncio.Event()
    calls: list[str] = []
    pause, resume = RequestHandler.pause_reading, RequestHandler.resume_reading

    def pause_reading(self: RequestHandler) -> None:
        calls.append("pause")
        paused.set()
        pause(self)

    def resume_reading(self: RequestHandler) -> None:
        calls.append("resume")
        resume(self)

    monkeypatch.setattr(RequestHandler, "pause_reading", pause_reading)
    monkeypatch.setattr(RequestHandler, "resume_reading", resume_reading)

    async def handler(request: BaseRequest) -> Response:
        # Fall behind on purpose: the body piles up until the connection stops reading.
        await asyncio.wait_for(paused.wait(), TIMEOUT)
        digest = hashlib.sha256()
        size = chunks = 0
        async for chunk in request.content.iter_chunked(65536):
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
        return Response(text=f"{size} {chunks > 1} {digest.hexdigest()}")

    served = await serve(handler)
    async with client.post(served.url(), data=io.BytesIO(payload)) as response:
        assert response.status == 200
        text = await response.text()
    assert text == f"{len(payload)} True {hashlib.sha256(payload).hexdigest()}"
    assert "pause" in calls
    assert "resume" in calls


@pytest.mark.asyncio
async def test_chunked_request_body_is_read(serve: Serve) -> None:
    """A chunked request body from a raw client is reassembled for the handler."""

    async def handler(request: BaseRequest) -> Response:
        return Response(body=await request.read())

    served = await serve(handler)
    connection = await served.connect()
    connection.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    assert (await connection.response()).body == b"hello world"


@pytest.mark.asyncio
async def test_body_arriving_slowly_is_read_as_it_comes(serve: Serve) -> None:
    """The handler starts before the body is complete and reads parts as they arrive."""
    got_first = asyncio.Event()

    async def handler(request: BaseRequest) -> Response:
        first = await request.content.readexactly(3)
        got_first.set()
        rest = await request.content.read()
        return Response(body=first + b"|" + rest)

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
    await asyncio.wait_for(got_first.wait(), TIMEOUT)
    connection.send(b"def")
    assert (await connection.response()).body == b"abc|def"


@pytest.mark.asyncio
async def test_large_response_is_sent_whole(serve: Serve, client: aiohttp.ClientSession) -> None:
    """A response far larger than the socket buffers is written out completely (drain)."""
    blob = os.urandom(8 * 1024 * 1024)

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        for start in range(0, len(blob), 1 << 20):
            await response.write(blob[start : start + (1 << 20)])
        await response.write_eof()
        return response

    served = await serve(handler)
    async with client.get(served.url()) as response:
        assert await response.read() == blob
