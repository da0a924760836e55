"""Error pages: parser rejections and failing handlers."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import Application, BaseRequest, Response, StreamResponse
from weft.web_exceptions import (
    HTTPBadRequest,
    HTTPException,
    HTTPForbidden,
    HTTPFound,
    HTTPNotFound,
    HTTPServiceUnavailable,
)

if TYPE_CHECKING:
    from conftest import RawResponse, Serve, Served

HOST = b"Host: x\r\n"

REJECTIONS = [
    pytest.param(b"HELLO WORLD\r\n\r\n", 400, id="garbage-request-line"),
    pytest.param(b"\x00\x01 / HTTP/1.1\r\n" + HOST + b"\r\n", 400, id="binary-method"),
    pytest.param(b"GET / HTTP/1.1\r\n" + HOST + b"Ba(d: v\r\n\r\n", 400, id="bad-header-name"),
    pytest.param(b"GET / HTTP/1.1\r\n" + HOST + b"No Colon\r\n\r\n", 400, id="header-no-colon"),
    pytest.param(b"GET / HTTP/1.1\nHost: x\n\n", 400, id="bare-lf"),
    pytest.param(b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n", 400, id="obs-fold"),
    pytest.param(
        b"POST / HTTP/1.1\r\n"
        + HOST
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        400,
        id="te-and-cl",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: abc\r\n\r\n", 400, id="bad-length"
    ),
    pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="no-host"),
    pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414, id="long-line"),
    pytest.param(
        b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        id="huge-header",
    ),
    pytest.param(
        b"GET / HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
        431,
        id="too-many-headers",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        501,
        id="unknown-coding",
    ),
    pytest.param(b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505, id="http2"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("data", "status"), REJECTIONS)
async def test_parser_rejection_answered_then_closed(
    serve: Serve, data: bytes, status: int
) -> None:
    """Each parser rejection is answered with its status and Connection: close, then EOF."""
    calls: list[BaseRequest] = []

    async def handler(request: BaseRequest) -> Response:
        calls.append(request)
        return Response(text="handled")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(data)
    response = await connection.response()
    assert response.status == status
    assert response.raw.startswith(b"HTTP/1.1 %d " % status)
    assert response.headers["Connection"] == "close"
    assert response.body.startswith(b"%d" % status)
    assert await connection.read_to_eof() == b""
    assert calls == []


@pytest.mark.asyncio
async def test_rejection_limits_follow_the_server_settings(serve: Serve) -> None:
    """max_line_size given to the Server is the limit the parser enforces (414)."""

    async def handler(request: BaseRequest) -> Response:
        return Response(text="ok")

    served = await serve(handler, max_line_size=100)
    assert (await served.exchange(b"GET /" + b"a" * 200 + b" HTTP/1.1\r\n" + HOST + b"\r\n"))[
        :12
    ] == b"HTTP/1.1 414"
    ok = await served.connect()
    ok.send(b"GET /short HTTP/1.1\r\n" + HOST + b"\r\n")
    assert (await ok.response()).status == 200


@pytest.mark.asyncio
async def test_max_head_size_bounds_the_field_section(serve: Serve) -> None:
    """The header section's total is capped at 64 KiB by default, as the option says."""

    async def handler(request: BaseRequest) -> Response:
        return Response(text=str(len(request.headers)))

    # Ten 8000-byte cookies: each field within max_field_size, 80 kB in all.
    fields = b"".join(b"Cookie-%d: %s\r\n" % (i, b"c" * 8000) for i in range(10))
    request = b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n"
    default = await serve(handler)
    assert (await default.exchange(request))[:12] == b"HTTP/1.1 431"
    raised = await serve(handler, max_head_size=2**17)
    answer = await raised.connect()
    answer.send(request)
    response = await answer.response()
    assert response.status == 200
    assert response.body == b"11"


async def _logged_500(
    served: Served, caplog: pytest.LogCaptureFixture, path: str = "/"
) -> tuple[RawResponse, list[str]]:
    """GET ``path`` gets a 500 that closes the connection: it, and the errors logged."""
    connection = await served.connect()
    with caplog.at_level(logging.ERROR, logger="weft.server"):
        connection.send(f"GET {path} HTTP/1.1\r\n".encode() + HOST + b"\r\n")
        response = await connection.response()
    assert response.status == 500
    assert b"Server got itself in trouble" in response.body
    assert await connection.read_to_eof() == b""
    return response, [str(record.exc_info[1]) for record in caplog.records if record.exc_info]


@pytest.mark.asyncio
async def test_handler_exception_gives_500_and_server_goes_on(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in the handler is a 500 that closes; a new connection is served."""

    async def handler(request: BaseRequest) -> Response:
        if request.path == "/boom":
            raise RuntimeError("boom")
        return Response(text="fine")

    served = await serve(handler)
    response, errors = await _logged_500(served, caplog, "/boom")
    assert b"RuntimeError" not in response.body  # no traceback unless debug
    assert response.headers["Connection"] == "close"
    assert "boom" in errors

    again = await served.connect()
    again.send(b"GET /fine HTTP/1.1\r\n" + HOST + b"\r\n")
    assert (await again.response()).body == b"fine"


@pytest.mark.asyncio
async def test_a_handler_timeout_is_504_and_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """A TimeoutError escaping the handler (a backend it waited on): 504, no body, closed,
    as aiohttp answers (tests/test_integration_handler_errors.py); logged as aiohttp logs
    it, one ERROR line without a traceback (with debug=True, see
    test_web_runner_error_answers.py)."""

    async def handler(request: BaseRequest) -> Response:
        raise TimeoutError("the backend did not answer")

    served = await serve(handler)
    connection = await served.connect()
    with caplog.at_level(logging.ERROR):
        connection.send(b"GET /slow HTTP/1.1\r\n" + HOST + b"\r\n")
        response = await connection.response()
    assert (response.status, response.reason, response.body) == (504, "Gateway Timeout", b"")
    assert response.headers["Connection"] == "close"
    errors = [r for r in caplog.records if r.name == "weft.server"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in errors] == [
        ("ERROR", "Error handling request from 127.0.0.1", None)
    ]


@pytest.mark.asyncio
async def test_debug_500_shows_the_traceback(serve: Serve) -> None:
    """With debug=True the 500 page carries the traceback."""

    async def handler(request: BaseRequest) -> Response:
        raise ValueError("the cause")

    served = await serve(handler, debug=True)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    response = await connection.response()
    assert response.status == 500
    assert b"ValueError: the cause" in response.body


@pytest.mark.asyncio
@pytest.mark.parametrize("loop_debug", [True, False])
async def test_an_app_without_debug_follows_its_loops_debug_mode(
    serve: Serve, loop_debug: bool
) -> None:
    """As aiohttp: Application() left without debug= is served in its loop's debug mode."""

    async def fail(request: BaseRequest) -> Response:
        raise ValueError("the cause")

    app = Application()
    app.router.add_get("/", fail)
    loop = asyncio.get_running_loop()
    was = loop.get_debug()
    loop.set_debug(loop_debug)
    try:
        served = await serve(app)
    finally:
        loop.set_debug(was)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    response = await connection.response()
    assert response.status == 500
    assert (b"ValueError: the cause" in response.body) is loop_debug


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (HTTPNotFound(), 404),
        (HTTPForbidden(text="nope"), 403),
        (HTTPBadRequest(reason="Bad thing"), 400),
        (HTTPServiceUnavailable(headers={"Retry-After": "3"}), 503),
        (HTTPFound("/elsewhere"), 302),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, HTTPException) else str(value),
)
async def test_http_exception_from_low_level_handler(
    serve: Serve, exc: HTTPException, status: int
) -> None:
    """A raised HTTPException becomes its status, headers and body, and keeps the connection."""

    async def handler(request: BaseRequest) -> Response:
        if request.path == "/raise":
            raise exc
        return Response(text="after")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(
        b"GET /raise HTTP/1.1\r\n" + HOST + b"\r\n" + b"GET /next HTTP/1.1\r\n" + HOST + b"\r\n"
    )
    response = await connection.response()
    assert response.status == status
    assert response.reason == exc.reason
    for name, value in exc.headers.items():
        assert response.headers[name] == value
    if exc.text is not None:
        assert response.body == exc.text.encode()
    assert (await connection.response()).body == b"after"


@pytest.mark.asyncio
async def test_http_exception_cookies_are_sent(client: aiohttp.ClientSession, serve: Serve) -> None:
    """Cookies set on a raised redirect reach the client (the login-redirect pattern)."""

    async def handler(request: BaseRequest) -> Response:
        exc = HTTPFound("/home")
        exc.set_cookie("session", "abc")
        raise exc

    served = await serve(handler)
    async with client.get(served.url("/login"), allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/home"
        assert response.cookies["session"].value == "abc"


@pytest.mark.asyncio
async def test_exception_after_response_started_closes(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception after body bytes went out closes the connection, with no second response."""

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"partial")
        raise RuntimeError("too late")

    served = await serve(handler)
    with caplog.at_level(logging.ERROR, logger="weft.server"):
        data = await served.exchange(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.count(b"HTTP/1.1") == 1
    assert data.endswith(b"7\r\npartial\r\n")  # the chunked body is cut short: no last chunk
    assert any(
        "too late" in str(record.exc_info[1]) for record in caplog.records if record.exc_info
    )


@pytest.mark.asyncio
async def test_exception_after_prepare_before_any_write_closes_after_the_head(
    serve: Serve,
) -> None:
    """A handler that fails after prepare() but before writing: its 200 head is already
    out (prepare() sends it, as aiohttp's), so the connection closes with the chunked
    body unfinished; no second response follows."""

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        raise RuntimeError("before the body")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    data = await connection.read_to_eof()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"\r\n\r\n")  # the head, and not a byte of body after it
    assert b"Transfer-Encoding: chunked" in data
    assert data.count(b"HTTP/1.1") == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/none", "Missing return statement on request handler"),
        ("/dict", "Web-handler should return a response instance, got {'a': 1}"),
    ],
)
async def test_handler_returning_no_response_gives_500_and_keeps_the_connection(
    serve: Serve, caplog: pytest.LogCaptureFixture, path: str, logged: str
) -> None:
    """As aiohttp (tests/test_integration_handler_errors.py): the mistake logged at
    ERROR, a plain 500, and the same connection answers the next request."""

    async def handler(request: BaseRequest) -> Response:
        if request.path == "/none":
            return None  # type: ignore[return-value]
        if request.path == "/dict":
            return {"a": 1}  # type: ignore[return-value]
        return Response(text="ok")

    served = await serve(handler)
    connection = await served.connect()
    with caplog.at_level(logging.DEBUG):
        connection.send(b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST + b"\r\n")
        response = await connection.response()
    assert (response.status, response.reason) == (500, "Internal Server Error")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Connection" not in response.headers
    assert response.body == b"500: Internal Server Error"
    errors = [r for r in caplog.records if r.name == "weft.server"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in errors] == [("ERROR", logged, None)]
    connection.send(b"GET /ok HTTP/1.1\r\n" + HOST + b"\r\n")
    assert (await connection.response()).body == b"ok"


@pytest.mark.asyncio
async def test_bad_chunk_in_unread_body_closes_after_the_response(serve: Serve) -> None:
    """A framing error inside a body the handler ignores: its response, then the close."""

    async def handler(request: BaseRequest) -> Response:
        return Response(text="answered")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    response = await connection.response()
    assert response.body == b"answered"
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_returned_http_exception_becomes_its_response(serve: Serve) -> None:
    """A low-level handler that returns (not raises) an HTTPException answers with it."""

    async def handler(request: BaseRequest) -> Response:
        return HTTPNotFound(text="not here")  # type: ignore[return-value]

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    response = await connection.response()
    assert (response.status, response.body) == (404, b"not here")


@pytest.mark.asyncio
async def test_failing_prepare_gives_500_and_is_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """A response that fails while being sent (say, an on_response_prepare callback
    raising) is a logged 500 that closes, never a silent disconnect."""

    class FailingResponse(Response):
        async def prepare(self, request: BaseRequest) -> None:
            raise RuntimeError("prepare failed")

    async def handler(request: BaseRequest) -> Response:
        return FailingResponse(text="never sent")

    served = await serve(handler)
    assert "prepare failed" in (await _logged_500(served, caplog))[1]


@pytest.mark.asyncio
async def test_failing_request_factory_gives_500(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """A custom request_factory that raises is a logged 500 that closes."""

    def request_factory(*args: object) -> BaseRequest:
        raise RuntimeError("no request today")

    async def handler(request: BaseRequest) -> Response:
        return Response(text="never reached")

    served = await serve(handler, request_factory=request_factory)
    assert "no request today" in (await _logged_500(served, caplog))[1]


@pytest.mark.asyncio
async def test_a_bug_in_the_connection_loop_is_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the connection's own code fail, the error is logged, not swallowed."""
    from weft.web_runner import Server
    from weft.web_runner._protocol import RequestHandler

    class BrokenLoop(RequestHandler):
        # A Python subclass: the compiled _serve calls its override too.
        async def _answer(self, *args: object) -> bool:
            raise RuntimeError("a bug in the loop")

    def make_broken(self: Server) -> RequestHandler:
        return BrokenLoop(self, loop=asyncio.get_running_loop(), access_logger=None)

    monkeypatch.setattr(Server, "__call__", make_broken)

    async def handler(request: BaseRequest) -> Response:
        return Response(text="never reached")

    served = await serve(handler)
    connection = await served.connect()
    with caplog.at_level(logging.ERROR, logger="weft.server"):
        connection.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
        assert await connection.read_to_eof() == b""
    assert any(
        record.exc_info and "a bug in the loop" in str(record.exc_info[1])
        for record in caplog.records
    )
