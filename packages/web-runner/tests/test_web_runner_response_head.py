"""Over a real socket: a StreamResponse's head is on the wire at prepare(), and a
payload body's file is closed however the response ends (issue 13)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import BaseRequest, Response, StreamResponse

if TYPE_CHECKING:
    from conftest import Serve, Until

HOST = b"Host: x\r\n"
TIMEOUT = 10


def _open_fds_to(path: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the fd of the listing itself is gone
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.append(fd)
    return found


@pytest.mark.asyncio
async def test_a_client_reads_the_head_before_the_handler_writes(serve: Serve) -> None:
    """An SSE / long-poll client gets the whole head while the handler, past prepare(),
    waits; the body follows when the handler writes."""
    head_read = asyncio.Event()

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await head_read.wait()
        await response.write(b"data: 1\n\n")
        await response.write_eof()
        return response

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"GET /events HTTP/1.1\r\n" + HOST + b"\r\n")
    head = await asyncio.wait_for(connection.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/event-stream" in head
    head_read.set()
    rest = await asyncio.wait_for(connection.reader.readuntil(b"0\r\n\r\n"), TIMEOUT)
    assert rest == b"9\r\ndata: 1\n\n\r\n0\r\n\r\n"


@pytest.mark.asyncio
async def test_force_close_before_the_first_write_runs_the_handler_once(serve: Serve) -> None:
    """force_close() after prepare() and before writing: aiohttp's client gets a complete
    200 and does not retry, so the handler runs once (it ran twice when nothing was sent)."""
    calls: list[str] = []

    async def handler(request: BaseRequest) -> StreamResponse:
        calls.append(request.path)
        response = StreamResponse()
        await response.prepare(request)
        response.force_close()
        return response

    served = await serve(handler)
    async with aiohttp.ClientSession() as session, session.get(served.url("/once")) as answer:
        assert answer.status == 200
        assert await answer.read() == b""
    assert calls == ["/once"]


@pytest.mark.asyncio
async def test_an_error_after_prepare_keeps_the_200_head(serve: Serve) -> None:
    """An exception after prepare(): the client saw 200 (as with aiohttp), then the
    connection ends early, which aiohttp's client reports as a payload error."""

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"partial")
        raise RuntimeError("after prepare")

    served = await serve(handler)
    async with aiohttp.ClientSession() as session, session.get(served.url("/")) as answer:
        assert answer.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await answer.read()


@pytest.mark.asyncio
async def test_a_file_body_is_closed_when_the_client_vanishes(
    serve: Serve, tmp_path: Path, until: Until
) -> None:
    """Advisory row 34 for payloads: a client that resets the connection during a
    Response(body=open(...)) download leaves no descriptor of the file open."""
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    done = asyncio.Event()

    async def handler(request: BaseRequest) -> Response:
        response = Response(body=path.open("rb"))
        try:
            await response.prepare(request)
            await response.write_eof()
        except (ConnectionError, OSError):
            pass
        finally:
            done.set()
        return response

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"GET /big HTTP/1.1\r\n" + HOST + b"\r\n")
    await asyncio.wait_for(connection.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    await asyncio.wait_for(connection.reader.readexactly(65536), TIMEOUT)
    connection.abort()
    await asyncio.wait_for(done.wait(), TIMEOUT)
    # The close runs in the executor, unawaited: wait for it, not for a time.
    await until(lambda: _open_fds_to(path) == [])
