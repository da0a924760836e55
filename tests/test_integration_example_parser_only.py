"""examples/parser_only_server.py: a server on weft-http-parser alone, over real sockets."""

from __future__ import annotations

import asyncio
import importlib.util
import pathlib
from collections.abc import AsyncIterator
from types import ModuleType

import pytest
import pytest_asyncio

EXAMPLE = pathlib.Path(__file__).parent.parent / "examples" / "parser_only_server.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parser_only_server", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load()


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    server: asyncio.Server = await example.serve(port=0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, half-close, and read everything the server answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.asyncio
async def test_get(port: int) -> None:
    """A GET is answered with 200 and a greeting naming the path."""
    answer = await exchange(port, b"GET /there HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nHello, /there")


@pytest.mark.asyncio
async def test_keep_alive_and_pipelining(port: int) -> None:
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
async def test_parser_errors_become_400_after_earlier_answers(port: int) -> None:
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
async def test_other_statuses_from_errors(port: int) -> None:
    """An HTTP/2 request line gets the 505 its error carries."""
    answer = await exchange(port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 505 HTTP Version Not Supported")
