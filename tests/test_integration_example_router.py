"""examples/router_with_parser.py: weft-http-parser + weft-web-routing, over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

EXAMPLE = "examples.router_with_parser"  # served by the `port` fixture (conftest.py)

Exchange = Callable[[int, bytes], Awaitable[bytes]]  # the `exchange` fixture


@pytest.mark.asyncio
async def test_plain_route(port: int, exchange: Exchange) -> None:
    """GET / is routed to the index function."""
    answer = await exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nrouter + parser\n")


@pytest.mark.asyncio
async def test_dynamic_route_with_query(port: int, exchange: Exchange) -> None:
    """A {id:\\d+} variable reaches the handler decoded; the query is separate."""
    answer = await exchange(port, b"GET /users/42?tab=a HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"Content-Type: application/json" in answer
    assert answer.endswith(b'{"id": 42, "query": "tab=a"}')


@pytest.mark.asyncio
async def test_encoded_tail_variable(port: int, exchange: Exchange) -> None:
    """A {path:.+} variable spans segments and is percent-decoded."""
    answer = await exchange(port, b"GET /files/a/b%20c%2Fd HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.endswith(b"file a/b c/d\n")


@pytest.mark.asyncio
async def test_404_and_405(port: int, exchange: Exchange) -> None:
    """Unknown paths are 404; a known path with another method is 405 with Allow."""
    missing = await exchange(port, b"GET /users/abc HTTP/1.1\r\nHost: x\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404 Not Found\r\n")
    wrong = await exchange(port, b"DELETE /users/1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert wrong.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"Allow: GET\r\n" in wrong


@pytest.mark.asyncio
async def test_pipelined_keep_alive(port: int, exchange: Exchange) -> None:
    """Two pipelined requests on one connection get two answers in order."""
    answer = await exchange(
        port,
        b"GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b'"id": 1') < answer.index(b'"id": 2')


@pytest.mark.asyncio
async def test_bad_request(port: int, exchange: Exchange) -> None:
    """A malformed request line is answered by the parser's typed error, then closed."""
    answer = await exchange(port, b"NOT A REQUEST\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
