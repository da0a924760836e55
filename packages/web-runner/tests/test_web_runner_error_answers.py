"""Error answers as aiohttp 3.14 gives them (issue 14): the 500 page, the log line, early 400s.

The 500 is aiohttp's ``handle_error``: an HTML page when the request accepts
``text/html``, text otherwise, the traceback in place of the message with
``debug=True``. The bodies are spelled out here; the integration suite
(tests/test_integration_error_answers.py) compares them with aiohttp's own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest

from weft.web_core import BaseRequest, Response, StreamResponse

if TYPE_CHECKING:
    from conftest import RawResponse, Serve, Served

TIMEOUT = 10.0
HOST = b"Host: x\r\n"
HTML_500 = (
    b"<html><head><title>500 Internal Server Error</title></head><body>\n"
    b"<h1>500 Internal Server Error</h1>\n"
    b"Server got itself in trouble\n"
    b"</body></html>\n"
)
TEXT_500 = b"500 Internal Server Error\n\nServer got itself in trouble"
BROWSER_ACCEPT = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLIENT_HELLO = bytes.fromhex("16030100f4010000f00303") + bytes(32)


async def fail(request: BaseRequest) -> StreamResponse:
    raise ValueError("the <b>cause</b> & more")


async def get(served: Served, accept: bytes | None) -> RawResponse:
    connection = await served.connect()
    field = b"Accept: " + accept + b"\r\n" if accept is not None else b""
    connection.send(b"GET / HTTP/1.1\r\n" + HOST + field + b"\r\n")
    response = await connection.response()
    assert await connection.read_to_eof() == b""
    return response


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", [b"text/html", BROWSER_ACCEPT, b"application/json, text/html"])
async def test_a_500_for_a_client_that_accepts_html_is_aiohttps_page(
    serve: Serve, accept: bytes
) -> None:
    response = await get(await serve(fail), accept)
    assert (response.status, response.reason) == (500, "Internal Server Error")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Connection"] == "close"
    assert response.body == HTML_500


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", [None, b"*/*", b"application/json", b"text/plain"])
async def test_a_500_for_any_other_client_is_aiohttps_text(
    serve: Serve, accept: bytes | None
) -> None:
    response = await get(await serve(fail), accept)
    assert response.status == 500
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.body == TEXT_500


@pytest.mark.asyncio
async def test_with_debug_the_page_shows_the_traceback_escaped(serve: Serve) -> None:
    body = (await get(await serve(fail, debug=True), b"text/html")).body.decode()
    head, _, rest = body.partition("<h2>Traceback:</h2>\n<pre>Traceback (most recent call last):\n")
    assert head == (
        "<html><head><title>500 Internal Server Error</title></head><body>\n"
        "<h1>500 Internal Server Error</h1>\n"
    )
    assert rest.endswith(
        "ValueError: the &lt;b&gt;cause&lt;/b&gt; &amp; more\n</pre>\n</body></html>\n"
    )
    assert "<b>" not in rest
    assert "Server got itself in trouble" not in body


@pytest.mark.asyncio
async def test_with_debug_the_text_is_the_traceback(serve: Serve) -> None:
    body = (await get(await serve(fail, debug=True), None)).body.decode()
    assert body.startswith("500 Internal Server Error\n\nTraceback (most recent call last):\n")
    assert body.endswith("ValueError: the <b>cause</b> & more\n")
    assert "Server got itself in trouble" not in body


@pytest.mark.asyncio
async def test_a_500_written_straight_to_the_socket_is_the_same_page(serve: Serve) -> None:
    """No request object (a request_factory that fails): the page goes out raw, the same."""

    def request_factory(*args: object) -> BaseRequest:
        raise RuntimeError("no request today")

    served = await serve(fail, request_factory=request_factory)
    response = await get(served, BROWSER_ACCEPT)
    assert response.status == 500
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.body == HTML_500
    assert (await get(served, None)).body == TEXT_500


@pytest.mark.asyncio
async def test_the_error_is_logged_with_aiohttps_line_and_its_traceback(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve(fail)
    with caplog.at_level(logging.DEBUG, logger="weft.server"):
        await get(served, None)
    records = [r for r in caplog.records if r.name == "weft.server"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("ERROR", "Error handling request from 127.0.0.1")
    ]
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)


@pytest.mark.asyncio
async def test_an_error_after_the_response_started_is_logged_with_the_same_line(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def half(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"part")
        raise ValueError("midway")

    served = await serve(half)
    connection = await served.connect()
    with caplog.at_level(logging.ERROR, logger="weft.server"):
        connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
        received = await connection.read_to_eof()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"500" not in received  # the head is out: the close is the only end
    records = [r for r in caplog.records if r.name == "weft.server"]
    assert [r.getMessage() for r in records] == ["Error handling request from 127.0.0.1"]
    assert records[0].exc_info is not None
    assert str(records[0].exc_info[1]) == "midway"


@pytest.mark.asyncio
async def test_a_handler_timeout_is_logged_as_aiohttp_logs_it_with_debug(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """504: aiohttp logs its ERROR line with no traceback, and the traceback at DEBUG
    only in debug mode."""

    async def timeout(request: BaseRequest) -> Response:
        raise TimeoutError("the backend did not answer")

    served = await serve(timeout, debug=True)
    with caplog.at_level(logging.DEBUG, logger="weft.server"):
        response = await get(served, b"text/html")
    assert (response.status, response.body) == (504, b"")
    records = [r for r in caplog.records if r.name == "weft.server"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("DEBUG", "Request handler timed out."),
        ("ERROR", "Error handling request from 127.0.0.1"),
    ]
    assert records[0].exc_info is not None
    assert str(records[0].exc_info[1]) == "the backend did not answer"
    assert records[1].exc_info is None


@pytest.mark.asyncio
async def test_a_parser_rejection_is_logged_at_debug_with_the_client_address(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve(fail)
    with caplog.at_level(logging.DEBUG, logger="weft.server"):
        assert (await served.exchange(b"GET / HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    messages = [r.getMessage() for r in caplog.records if r.name == "weft.server"]
    assert len(messages) == 1
    assert messages[0].startswith("Error handling request from 127.0.0.1: Bad request: ")
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []


# -- bytes that cannot start a request: 400 and EOF at once, nothing more sent


async def refused_at_once(served: Served, data: bytes) -> bytes:
    """Send ``data`` and nothing else (the socket stays open): what comes back until EOF."""
    connection = await served.connect()
    connection.send(data)
    received = await asyncio.wait_for(connection.reader.read(), TIMEOUT)
    await connection.close()
    return received


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data",
    [CLIENT_HELLO, b"\x16", b"\x00", b"\r\n\x16\x03\x01", b"GET\x01", b" GET", b"X" * 33],
    ids=["client-hello", "0x16", "nul", "after-empty-line", "ctl-in-method", "sp", "long"],
)
async def test_bytes_that_cannot_start_a_request_are_answered_400_and_closed(
    serve: Serve, data: bytes
) -> None:
    calls: list[BaseRequest] = []

    async def handler(request: BaseRequest) -> Response:
        calls.append(request)
        return Response()

    served = await serve(handler, read_head_timeout=None)
    received = await refused_at_once(served, data)
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close\r\n" in received
    assert calls == []


@pytest.mark.asyncio
async def test_a_client_hello_is_told_it_reached_a_plain_http_port(serve: Serve) -> None:
    received = await refused_at_once(await serve(fail), CLIENT_HELLO)
    assert b"TLS handshake bytes on a plain-HTTP port" in received


@pytest.mark.asyncio
async def test_the_start_of_a_request_still_waits_for_the_rest(serve: Serve) -> None:
    async def ok(request: BaseRequest) -> Response:
        return Response(text=request.method)

    served = await serve(ok)
    connection = await served.connect()
    connection.send(b"\r\nGE")
    await asyncio.sleep(0)  # the server may read the two pieces apart or together
    connection.send(b"T / HTTP/1.1\r\n" + HOST + b"\r\n")
    response = await connection.response()
    assert (response.status, response.body) == (200, b"GET")


# -- limits: 414 and 431 (aiohttp answers 400 to each; see the README)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /" + b"a" * 9000, 414),
        (b"GET / HTTP/1.1\r\n" + HOST + b"X: " + b"a" * 9000, 431),
        (b"GET / HTTP/1.1\r\n" + HOST + b"X" * 9000, 431),
        (b"GET / HTTP/1.1\r\n" + HOST + b"".join(b"X%d: 1\r\n" % i for i in range(129)), 431),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X%d: %s\r\n" % (i, b"a" * 8000) for i in range(9)),
            431,
        ),
    ],
    ids=["request-line", "field-value", "field-name", "field-count", "head-size"],
)
async def test_a_head_over_a_limit_is_refused_before_its_end_arrives(
    serve: Serve, data: bytes, status: int
) -> None:
    received = await refused_at_once(await serve(fail), data)
    assert received.startswith(b"HTTP/1.1 %d " % status)
