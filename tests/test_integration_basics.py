"""The foundation slice end to end: a real server on 127.0.0.1, real clients."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from weft import web

ServeApp = Callable[[web.Application], Awaitable[str]]
RawExchange = Callable[[str, bytes], Awaitable[bytes]]


def make_app() -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/")
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    @routes.get("/users/{name}")
    async def user(request: web.Request) -> web.Response:
        return web.Response(text=f"user {request.match_info['name']}")

    @routes.get("/items/{id:\\d+}")
    async def item(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"]), "q": request.query.get("q")})

    @routes.post("/echo")
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    @routes.put("/echo")
    async def echo_put(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    @routes.get("/login")
    async def login(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/home")

    @routes.get("/fail")
    async def fail(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app = web.Application()
    app.add_routes(routes)
    return app


@pytest.mark.asyncio
async def test_hello(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """GET / answers 200 with the handler's text."""
    url = await serve(make_app())
    async with client.get(url + "/") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await resp.text() == "Hello, world"


@pytest.mark.asyncio
async def test_variable_route(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A {name} variable reaches the handler percent-decoded."""
    url = await serve(make_app())
    async with client.get(url + "/users/J%C3%BCrgen") as resp:
        assert resp.status == 200
        assert await resp.text() == "user Jürgen"


@pytest.mark.asyncio
async def test_regex_route_and_query(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A {name:regex} route matches digits only and the query string is parsed."""
    url = await serve(make_app())
    async with client.get(url + "/items/42?q=x%20y") as resp:
        assert resp.status == 200
        assert await resp.json() == {"id": 42, "q": "x y"}
    async with client.get(url + "/items/abc") as resp:
        assert resp.status == 404


@pytest.mark.asyncio
async def test_not_found(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """An unknown path answers 404 with aiohttp's default text."""
    url = await serve(make_app())
    async with client.get(url + "/nowhere") as resp:
        assert resp.status == 404
        assert await resp.text() == "404: Not Found"


@pytest.mark.asyncio
async def test_method_not_allowed(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A known path with another method answers 405 with Allow listing the methods."""
    url = await serve(make_app())
    async with client.delete(url + "/echo") as resp:
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) == {"POST", "PUT"}


@pytest.mark.asyncio
async def test_raised_redirect(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A raised HTTPFound becomes a 302 with its Location."""
    url = await serve(make_app())
    async with client.get(url + "/login", allow_redirects=False) as resp:
        assert resp.status == 302
        assert resp.headers["Location"] == "/home"


@pytest.mark.asyncio
async def test_json_post_echo(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A JSON body posted is read, parsed and echoed back as JSON."""
    url = await serve(make_app())
    payload = {"name": "weft", "list": [1, 2, 3], "nested": {"ok": True}}
    async with client.post(url + "/echo", json=payload) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert await resp.json() == payload


@pytest.mark.asyncio
async def test_large_body_streams_through_flow_control(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """A body far above the stream's high-water mark arrives whole."""
    url = await serve(make_app())
    body = bytes(range(256)) * 3000  # 768 KB, under client_max_size
    async with client.put(url + "/echo", data=io.BytesIO(body)) as resp:
        assert resp.status == 200
        assert await resp.read() == body


@pytest.mark.asyncio
async def test_body_over_client_max_size(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A body over client_max_size answers 413."""
    url = await serve(make_app())
    async with client.put(url + "/echo", data=io.BytesIO(b"x" * (1024**2 + 1))) as resp:
        assert resp.status == 413


@pytest.mark.asyncio
async def test_handler_error_is_500(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """An exception in a handler answers 500 and the server keeps serving."""
    url = await serve(make_app())
    async with client.get(url + "/fail") as resp:
        assert resp.status == 500
    async with client.get(url + "/") as resp:
        assert resp.status == 200


@pytest.mark.asyncio
async def test_keep_alive_two_requests(serve: ServeApp) -> None:
    """Two requests on one connection are both answered, in order."""
    url = await serve(make_app())
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for name in ("ann", "bob"):
            writer.write(f"GET /users/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            assert await reader.readexactly(length) == f"user {name}".encode()
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_pipelined_requests_answered_in_order(serve: ServeApp, raw: RawExchange) -> None:
    """Pipelined requests in one write are answered in order, then the close is honoured."""
    url = await serve(make_app())
    data = (
        b"GET /users/a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /users/b HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /users/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answer = await raw(url, data)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.index(b"user a") < answer.index(b"user b") < answer.index(b"user c")


@pytest.mark.asyncio
async def test_http10_closes_by_default(serve: ServeApp, raw: RawExchange) -> None:
    """An HTTP/1.0 request without keep-alive gets its answer, then the connection closes."""
    url = await serve(make_app())
    answer = await raw(url, b"GET / HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200 OK\r\n")
    assert answer.endswith(b"Hello, world")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ],
)
@pytest.mark.asyncio
async def test_malformed_request_answered_and_closed(
    serve: ServeApp, raw: RawExchange, request_bytes: bytes, status: int
) -> None:
    """A malformed request is answered with the parser's status and the connection closed."""
    url = await serve(make_app())
    answer = await raw(url, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close\r\n" in answer


@pytest.mark.asyncio
async def test_bad_request_after_good_one(serve: ServeApp, raw: RawExchange) -> None:
    """A good request pipelined before a bad one is answered first, then the 400."""
    url = await serve(make_app())
    answer = await raw(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"HTTP/1.1 400 Bad Request\r\n" in answer
