"""The Expect header (RFC 9110 §10.1.1) on the in-memory connection.

weft's default handler accepts ``100-continue`` as aiohttp's does, but sends
the interim "100 Continue" when the handler first asks for the body rather
than before the handler runs: a handler that answers without the body spares
the client from sending it. Any other expectation is a 417, as in aiohttp.
"""

from __future__ import annotations

import pytest
from web_core_support import FakeTransport, Parsed, exchange, parse_response

from weft.web_core import Application, Request, Response, StreamResponse, middleware
from weft.web_core._types import Handler
from weft.web_routing import UrlDispatcher

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _post(expect: str | None, body: bytes = b"hello", version: str = "1.1") -> bytes:
    lines = [f"POST /upload HTTP/{version}", "Host: example.com"]
    if expect is not None:
        lines.append(f"Expect: {expect}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "", ""])).encode("latin-1") + body


def _split(transport: FakeTransport) -> tuple[list[bytes], Parsed]:
    """The interim responses written before the final one, and the final one parsed."""
    interim = []
    data = transport.data
    while data.startswith(CONTINUE):
        interim.append(CONTINUE)
        data = data[len(CONTINUE) :]
    return interim, parse_response(data)


async def _echo(request: Request) -> Response:
    return Response(text=f"got {await request.text()}")


async def _refuse(request: Request) -> Response:
    return Response(status=403, text="uploads are closed")


def _app(handler: Handler = _echo) -> Application:
    app = Application()
    app.router.add_post("/upload", handler)
    return app


@pytest.mark.asyncio
@pytest.mark.parametrize("expect", ["100-continue", "100-Continue"])
async def test_continue_is_sent_before_the_body_is_read(expect: str) -> None:
    """The 100 goes out once, ahead of the final response, when the handler reads the body."""
    ex = await exchange(_app(), _post(expect))
    interim, final = _split(ex.transport)
    assert interim == [CONTINUE]
    assert ex.transport.writes[0] == CONTINUE
    assert (final.status, final.body) == (200, b"got hello")


@pytest.mark.asyncio
async def test_no_continue_when_the_handler_answers_without_the_body() -> None:
    """A handler that refuses the upload never asks for it, so no 100 is sent."""
    ex = await exchange(_app(_refuse), _post("100-continue"))
    interim, final = _split(ex.transport)
    assert interim == []
    assert (final.status, final.body) == (403, b"uploads are closed")


@pytest.mark.asyncio
async def test_release_does_not_ask_for_a_body_still_expected() -> None:
    """release() skips a body the client has not been asked to send."""

    async def release_first(request: Request) -> Response:
        await request.release()
        return Response(text="released")

    ex = await exchange(_app(release_first), _post("100-continue"))
    interim, final = _split(ex.transport)
    assert interim == []
    assert final.body == b"released"


@pytest.mark.asyncio
async def test_continue_only_for_a_request_with_a_body() -> None:
    """Without a body there is nothing to wait for: no 100, the handler runs."""
    ex = await exchange(_app(_echo), _post("100-continue", body=b""))
    interim, final = _split(ex.transport)
    assert interim == []
    assert (final.status, final.body) == (200, b"got ")


@pytest.mark.asyncio
async def test_unknown_expectation_is_417_before_handler_and_middlewares() -> None:
    """Another expectation is answered 417; neither middlewares nor the handler run (as aiohttp)."""
    log: list[str] = []

    @middleware
    async def record(request: Request, handler: Handler) -> StreamResponse:
        log.append("middleware")
        return await handler(request)

    async def handler(request: Request) -> Response:
        log.append("handler")
        return Response()

    app = Application(middlewares=[record])
    app.router.add_post("/upload", handler)
    ex = await exchange(app, _post("teapot"))
    assert (ex.parsed.status, ex.parsed.body) == (417, b"Unknown Expect: teapot")
    assert log == []


@pytest.mark.asyncio
async def test_empty_expect_is_ignored() -> None:
    """An empty Expect field asks for nothing: the request is served (aiohttp skips it too)."""
    ex = await exchange(_app(), _post(""))
    interim, final = _split(ex.transport)
    assert interim == []
    assert (final.status, final.body) == (200, b"got hello")


@pytest.mark.asyncio
@pytest.mark.parametrize("expect", ["100-continue", "teapot"])
async def test_http10_expect_is_ignored(expect: str) -> None:
    """HTTP/1.0 has no interim responses: Expect is ignored (RFC 9110 §10.1.1)."""
    ex = await exchange(_app(), _post(expect, version="1.0"))
    interim, final = _split(ex.transport)
    assert interim == []
    assert (final.version, final.status, final.body) == ("HTTP/1.0", 200, b"got hello")


async def _login_required(request: Request) -> Response | None:
    """aiohttp's pattern: refuse an upload early, else send the 100 through the writer."""
    if "Authorization" not in request.headers:
        return Response(status=401, text="log in first")
    await request.writer.write(CONTINUE)
    return None


@pytest.mark.asyncio
async def test_route_expect_handler_answers_instead_of_the_handler() -> None:
    """A route's expect_handler that returns a response ends the request with it."""
    app = Application()
    app.router.add_post("/upload", _echo, expect_handler=_login_required)
    ex = await exchange(app, _post("100-continue"))
    interim, final = _split(ex.transport)
    assert interim == []
    assert (final.status, final.body) == (401, b"log in first")


@pytest.mark.asyncio
async def test_route_expect_handler_that_accepts_lets_the_handler_run() -> None:
    """An expect_handler that writes the 100 itself (as aiohttp ones do) and returns None."""
    app = Application()
    app.router.add_post("/upload", _echo, expect_handler=_login_required)
    raw = _post("100-continue").replace(b"Host:", b"Authorization: Bearer t\r\nHost:")
    ex = await exchange(app, raw)
    interim, final = _split(ex.transport)
    assert interim == [CONTINUE]
    assert (final.status, final.body) == (200, b"got hello")


@pytest.mark.asyncio
async def test_a_routers_own_default_expect_handler_is_kept() -> None:
    """Application(router=...) keeps the default expect handler the router was given."""
    router = UrlDispatcher(default_expect_handler=_login_required)
    app = Application(router=router)
    app.router.add_post("/upload", _echo)
    ex = await exchange(app, _post("100-continue"))
    assert (ex.parsed.status, ex.parsed.body) == (401, b"log in first")
