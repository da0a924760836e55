"""examples/parser_only_server.py: a server on weft-http-parser alone, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

EXAMPLE = "examples.parser_only_server"  # served by the `port` fixture (conftest.py)

Exchange = Callable[[int, bytes], Awaitable[bytes]]  # the `exchange` fixture


@pytest.mark.asyncio
async def test_get(port: int, exchange: Exchange) -> None:
    """A GET is answered with 200 and a greeting naming the path."""
    answer = await exchange(port, b"GET /there HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nHello, /there")


@pytest.mark.asyncio
async def test_keep_alive_and_pipelining(port: int, exchange: Exchange) -> None:
    """Three pipelined requests in one write get three answers, in order."""
    requests = (
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    answer = await exchange(port, requests)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    first, second, third = (answer.index(s) for s in (b"Hello, /1", b"abc", b"Hello, /3"))
    assert first < second < third


@pytest.mark.asyncio
async def test_keep_alive_across_writes(port: int) -> None:
    """One connection serves a request, waits, then serves the next."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for path in (b"/a", b"/b"):
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert await reader.readexactly(len(b"Hello, /a")) == b"Hello, " + path
    writer.close()
    await writer.wait_closed()


@pytest.mark.asyncio
async def test_connection_close(port: int) -> None:
    """Connection: close is honoured: the server answers and closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    assert b"Connection: close" in answer
    writer.close()
    await writer.wait_closed()


@pytest.mark.asyncio
async def test_parser_errors_become_400_after_earlier_answers(
    port: int, exchange: Exchange
) -> None:
    """A good request then a smuggling attempt: 200, then 400, then close."""
    answer = await exchange(
        port,
        b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"HTTP/1.1 400 Bad Request" in answer
    assert answer.index(b"200 OK") < answer.index(b"400 Bad Request")


@pytest.mark.asyncio
async def test_other_statuses_from_errors(port: int, exchange: Exchange) -> None:
    """An HTTP/2 request line gets the 505 its error carries."""
    answer = await exchange(port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 505 HTTP Version Not Supported")
