# The app below is written against whichever ``web`` module it is given, typed
# Any, so its decorators are untyped to mypy; that is the point of the test.
# mypy: disable-error-code="untyped-decorator"
"""The same application code under ``aiohttp.web`` and ``weft.web``: same answers.

weft's promise is that an app written with ``from aiohttp import web`` runs
unchanged with ``from weft import web``.  ``build_app`` below is such an app,
written once against the module it is given (routes of every kind, a view,
middlewares, sub-applications, state, cookies, forms, streaming, static
files, redirects, errors).  Both servers run on loopback, the same requests
go to each, and everything a client can observe is compared: status, reason,
body and the headers that do not legitimately differ (``Date``, ``Server``).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import brotli
import pytest
import pytest_asyncio
from aiohttp import web as aiohttp_web

from tests.differential import under_both
from weft import web as weft_web

# Headers whose values are the server's own business.
IGNORED = {"Date", "Server", "Keep-Alive", "Connection"}


def build_app(web: Any, static_dir: Path) -> Any:
    """An aiohttp-style application, built with whichever ``web`` module is given."""
    hits = web.AppKey("hits", list)
    routes = web.RouteTableDef()

    @routes.get("/")
    async def index(request: Any) -> Any:
        return web.Response(text="hello")

    @routes.get("/users/{id}", name="user")
    async def user(request: Any) -> Any:
        return web.json_response(
            {"id": request.match_info["id"], "query": sorted(request.query.items())}
        )

    @routes.get(r"/num/{n:\d+}")
    async def number(request: Any) -> Any:
        return web.Response(text=str(int(request.match_info["n"]) * 2))

    @routes.get("/files/{name}.json")
    async def json_file(request: Any) -> Any:
        return web.json_response({"name": request.match_info["name"]})

    @routes.post("/echo")
    async def echo(request: Any) -> Any:
        body = await request.read()
        return web.Response(body=body, content_type=request.content_type)

    @routes.post("/form")
    async def form(request: Any) -> Any:
        data = await request.post()
        return web.json_response({key: data.getall(key) for key in sorted(set(data.keys()))})

    @routes.put("/json")
    async def put_json(request: Any) -> Any:
        payload = await request.json()
        return web.json_response({"got": payload, "type": request.content_type}, status=201)

    @routes.get("/redirect")
    async def redirect(request: Any) -> Any:
        raise web.HTTPFound(location=request.app.router["user"].url_for(id="a b"))

    @routes.get("/forbidden")
    async def forbidden(request: Any) -> Any:
        raise web.HTTPForbidden(text="not you", headers={"X-Why": "test"})

    @routes.get("/gone")
    async def gone(request: Any) -> Any:
        raise web.HTTPGone()

    @routes.get("/boom")
    async def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    @routes.get("/cookies")
    async def cookies(request: Any) -> Any:
        response = web.Response(text=request.cookies.get("a", "none"))
        response.set_cookie("b", "2", max_age=10, path="/", httponly=True)
        response.del_cookie("c")
        return response

    @routes.get("/stream")
    async def stream(request: Any) -> Any:
        response = web.StreamResponse(headers={"X-Stream": "1"})
        response.content_type = "text/plain"
        await response.prepare(request)
        for i in range(3):
            await response.write(b"chunk %d\n" % i)
        await response.write_eof()
        return response

    @routes.get("/request")
    async def describe(request: Any) -> Any:
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "raw_path": request.raw_path,
                "path_qs": request.path_qs,
                "query_string": request.query_string,
                "version": list(request.version),
                "keep_alive": request.keep_alive,
                "secure": request.secure,
                "scheme": request.scheme,
                "can_read_body": request.can_read_body,
                "has_body": request.body_exists,
                "header": request.headers.get("X-Test"),
                "match_info": dict(request.match_info),
                "content_length": request.content_length,
            }
        )

    @routes.get("/count")
    async def count(request: Any) -> Any:
        request.app[hits].append(1)
        return web.Response(text=str(len(request.app[hits])))

    @routes.get("/compressed")
    async def compressed(request: Any) -> Any:
        response = web.Response(text="squeeze me " * 100)
        response.enable_compression()
        return response

    @routes.get("/empty")
    async def empty(request: Any) -> Any:
        return web.Response(status=204)

    @routes.get("/big")
    async def big(request: Any) -> Any:
        return web.Response(body=bytes(range(256)) * 800)

    @routes.get("/many-cookies")
    async def many_cookies(request: Any) -> Any:
        response = web.json_response({"text": "caf\u00e9 \u2713"})
        response.set_cookie("x", "1")
        response.set_cookie("y", "two words", secure=True, samesite="Lax")
        return response

    @routes.post("/upload")
    async def upload(request: Any) -> Any:
        data = await request.post()
        field = data["file"]
        return web.json_response(
            {
                "name": data["name"],
                "filename": field.filename,
                "type": field.content_type,
                "size": len(field.file.read()),
            }
        )

    @routes.get("/not-allowed")
    async def not_allowed(request: Any) -> Any:
        raise web.HTTPMethodNotAllowed("GET", ["POST", "PUT"])

    @routes.get("/temporary")
    async def temporary(request: Any) -> Any:
        raise web.HTTPTemporaryRedirect("/elsewhere?x=1")

    @routes.get("/behind-proxy")
    async def behind_proxy(request: Any) -> Any:
        # What a proxy-aware middleware does with what X-Forwarded-* told it.
        public = request.clone(scheme="https", host="public.example", remote="203.0.113.5")
        return web.json_response(
            {
                "url": str(public.url),
                "secure": public.secure,
                "host": public.host,
                "remote": public.remote,
                "fields": [request.client_max_fields, public.client_max_fields],
                "post_methods": sorted(request.POST_METHODS),
            }
        )

    @routes.get("/chunked")
    async def chunked(request: Any) -> Any:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in (b"one ", b"two ", b"three"):
            await response.write(piece)
        await response.write_eof()
        return response

    @routes.get("/file")
    async def file(request: Any) -> Any:
        return web.FileResponse(static_dir / "hello.txt")

    @routes.get("/text")
    async def text(request: Any) -> Any:
        return web.Response(text="<p>hi</p>", content_type="text/html", charset="latin-1")

    @routes.post("/text-in")
    async def text_in(request: Any) -> Any:
        return web.json_response({"text": await request.text(), "charset": request.charset})

    @routes.get("/validators")
    async def validators(request: Any) -> Any:
        response = web.Response(text="v")
        response.etag = "v1"
        response.last_modified = 1_700_000_000
        response.headers.add("Link", "</a>; rel=preload")
        response.headers.add("Link", "</b>; rel=preload")
        return response

    @routes.route("*", "/any")
    async def any_method(request: Any) -> Any:
        return web.Response(text=request.method)

    @routes.head("/head-only")
    async def head_only(request: Any) -> Any:
        return web.Response(headers={"X-Head": "1"})

    @routes.get("/query")
    async def query(request: Any) -> Any:
        return web.json_response(
            {key: request.query.getall(key) for key in sorted(set(request.query.keys()))}
        )

    @routes.get("/bad")
    async def bad(request: Any) -> Any:
        raise web.HTTPBadRequest(text="bad input", content_type="text/plain")

    @routes.get("/teapot")
    async def teapot(request: Any) -> Any:
        return web.Response(status=418, text="short and stout")

    @routes.get("/chunked-10")
    async def chunked_http10(request: Any) -> Any:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"body")
        return response

    @routes.get("/sized")
    async def sized(request: Any) -> Any:
        response = web.StreamResponse()
        response.content_length = 5
        response.content_type = "application/x-thing"
        await response.prepare(request)
        await response.write(b"12345")
        return response

    @routes.get("/unauthorized")
    async def unauthorized(request: Any) -> Any:
        raise web.HTTPUnauthorized(
            headers={"WWW-Authenticate": 'Basic realm="test"'}, reason="Who Are You"
        )

    @routes.get("/no-content")
    async def no_content(request: Any) -> Any:
        raise web.HTTPNoContent()

    @routes.get("/not-modified")
    async def not_modified(request: Any) -> Any:
        raise web.HTTPNotModified()

    @routes.get("/cookie-attrs")
    async def cookie_attrs(request: Any) -> Any:
        response = web.Response(text="ok")
        response.set_cookie(
            "session",
            "a b;c",
            domain="example.com",
            path="/app",
            max_age=3600,
            secure=True,
            httponly=True,
            samesite="Strict",
        )
        response.set_cookie("plain", "v")
        return response

    @routes.view("/view")
    class Things(web.View):  # type: ignore[misc]
        async def get(self) -> Any:
            return web.Response(text="view get")

        async def post(self) -> Any:
            return web.Response(text="view post " + await self.request.text())

    @web.middleware
    async def tag(request: Any, handler: Any) -> Any:
        response = await handler(request)
        response.headers["X-Tag"] = request.path
        return response

    @web.middleware
    async def errors_as_json(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.json_response({"error": "not found", "path": request.path}, status=404)

    async def sub_handler(request: Any) -> Any:
        return web.json_response(
            {
                "y": request.match_info["y"],
                "url": str(request.app.router["subx"].url_for(y="z")),
                "path": request.path,
            }
        )

    sub = web.Application()
    sub.router.add_get("/x/{y}", sub_handler, name="subx")

    app = web.Application(middlewares=[tag, errors_as_json], client_max_fields=4)
    app[hits] = []
    app.add_routes(routes)
    app.router.add_static("/static", static_dir)
    app.add_subapp("/sub", sub)
    return app


# (method, path, headers, body): each is sent to both servers in this order.
# A list body is sent chunked, one chunk per item.
Request = tuple[str, str, dict[str, str], bytes | list[bytes] | None]
REQUESTS: list[Request] = [
    ("GET", "/", {}, None),
    ("HEAD", "/", {}, None),
    ("POST", "/", {}, None),  # 405 with Allow
    ("GET", "/users/42?b=2&a=1&a=3", {}, None),
    ("GET", "/users/caf%C3%A9%2Fx", {}, None),
    ("GET", "/users/", {}, None),  # 404, turned into JSON by the middleware
    ("GET", "/num/21", {}, None),
    ("GET", "/num/abc", {}, None),
    ("GET", "/files/report.json", {}, None),
    ("POST", "/echo", {"Content-Type": "application/octet-stream"}, b"\x00\x01binary"),
    ("POST", "/form", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1&b=x+y&a=2"),
    ("PUT", "/json", {"Content-Type": "application/json"}, b'{"k": [1, 2]}'),
    ("GET", "/redirect", {}, None),
    ("GET", "/forbidden", {}, None),
    ("GET", "/gone", {}, None),
    ("GET", "/boom", {}, None),
    ("GET", "/cookies", {"Cookie": "a=1; c=3"}, None),
    ("GET", "/cookies", {}, None),
    ("GET", "/stream", {}, None),
    ("GET", "/request?x=1&y=%20", {"X-Test": "yes"}, None),
    ("GET", "/count", {}, None),
    ("GET", "/count", {}, None),
    ("GET", "/view", {}, None),
    ("POST", "/view", {}, b"body"),
    ("DELETE", "/view", {}, None),
    ("GET", "/static/hello.txt", {}, None),
    ("HEAD", "/static/hello.txt", {}, None),
    ("GET", "/static/missing.txt", {}, None),
    ("GET", "/static/../secret.txt", {}, None),
    ("GET", "/static/hello.txt", {"Range": "bytes=0-4"}, None),
    ("GET", "/static/hello.txt", {"Range": "bytes=100-"}, None),
    ("GET", "/sub/x/7", {}, None),
    ("GET", "/sub/nope", {}, None),
    ("GET", "/compressed", {"Accept-Encoding": "gzip"}, None),
    ("GET", "/compressed", {"Accept-Encoding": "identity"}, None),
    ("GET", "/empty", {}, None),
    ("GET", "/big", {}, None),
    ("GET", "/many-cookies", {}, None),
    (
        "POST",
        "/upload",
        {"Content-Type": "multipart/form-data; boundary=b0und"},
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="name"\r\n\r\n'
        b"report\r\n"
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="file"; filename="r.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"a,b\n1,2\n\r\n"
        b"--b0und--\r\n",
    ),
    ("GET", "/not-allowed", {}, None),
    ("GET", "/temporary", {}, None),
    ("GET", "/behind-proxy", {}, None),
    ("GET", "/chunked", {}, None),
    ("POST", "/form", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1&b=2&c=3&d=4"),
    ("POST", "/form", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1&b=2&c=3&d=4&e"),
    ("GET", "/file", {}, None),
    ("GET", "/file", {"If-None-Match": "*"}, None),
    ("GET", "/file", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, None),
    ("GET", "/file", {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, None),
    ("GET", "/text", {}, None),
    (
        "POST",
        "/text-in",
        {"Content-Type": "text/plain; charset=latin-1"},
        "caf\u00e9".encode("latin-1"),
    ),
    ("GET", "/users/a+b%20c?q=a+b&r=%2B", {}, None),
    ("GET", "/validators", {}, None),
    ("PATCH", "/any", {}, None),
    ("GET", "/any", {}, None),
    ("HEAD", "/head-only", {}, None),
    ("GET", "/head-only", {}, None),
    ("GET", "/query?a=&b&a=2&c=%26", {}, None),
    ("GET", "/bad", {}, None),
    ("GET", "/teapot", {}, None),
    ("GET", "/static/hello.txt", {"Accept-Encoding": "gzip"}, None),
    ("GET", "/sized", {}, None),
    ("GET", "/unauthorized", {}, None),
    ("GET", "/no-content", {}, None),
    ("GET", "/not-modified", {}, None),
    ("GET", "/cookie-attrs", {}, None),
    ("GET", "/static/hello.txt", {"Range": "bytes=0-1,3-4"}, None),
    ("GET", "/static/hello.txt", {"Range": "bytes=-3"}, None),
    ("GET", "/static/hello.txt", {"Range": "items=0-1"}, None),
    ("HEAD", "/users/1", {}, None),
    ("OPTIONS", "/users/1", {}, None),
    ("POST", "/echo", {"Content-Type": "text/plain"}, [b"sent ", b"in ", b"chunks"]),
    (
        "POST",
        "/form",
        {"Content-Type": "multipart/form-data; boundary=XyZ"},
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n'
        b"first\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n'
        b"second\r\n"
        b"--XyZ--\r\n",
    ),
]

# Where weft answers differently on purpose (each documented in a package
# README): only the status must agree.
# Headers weft adds on purpose: negotiated compression says
# ``Vary: Accept-Encoding`` (RFC 9110 §12.5.5; aiohttp does not).
EXTRA_HEADERS: dict[tuple[str, str], set[str]] = {
    ("GET", "/compressed"): {"Vary"},
    ("GET", "/compressed-str"): {"Vary"},
}

KNOWN_DIFFERENCES: set[tuple[str, str]] = {
    # aiohttp 3.10+ finds a missing file only while preparing its FileResponse
    # and sends an empty, chunked application/octet-stream 404 that middlewares
    # never see; weft raises HTTPNotFound from the handler, so a middleware can
    # answer it (here: the JSON 404 of errors_as_json), as for any other 404.
    ("GET", "/static/missing.txt"),
}

Answer = tuple[int, str, dict[str, str], bytes]


def _range_failure(answer: Answer) -> tuple[int, str, str | None, bytes]:
    """What is compared of a 416: aiohttp's empty 416 is chunked and typed
    application/octet-stream (its StreamResponse defaults); weft's has
    Content-Length: 0 and no Content-Type (there is no content to type)."""
    status, reason, headers, body = answer
    return status, reason, headers.get("Content-Range"), body


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _ask_all(base: str, requests: list[Request]) -> list[Answer]:
    # A fresh client per server, no cookie jar: each request stands alone.
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    ) as client:
        return [await _ask(client, base, request) for request in requests]


async def _ask(client: aiohttp.ClientSession, base: str, request: Request) -> Answer:
    method, path, headers, body = request
    data = _chunks(body) if isinstance(body, list) else body
    async with client.request(
        method, base + path, headers=headers, data=data, allow_redirects=False
    ) as response:
        data = await response.read()
        kept = {
            name: ", ".join(sorted(response.headers.getall(name)))
            for name in set(response.headers.keys())
            if name not in IGNORED
        }
        return response.status, response.reason or "", kept, data


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    """The app's static folder (a file and its gzip sibling), beside a file outside it."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "hello.txt").write_text("hello, static\n")
    (static / "hello.txt.gz").write_bytes(gzip.compress(b"hello, static\n", mtime=0))
    (tmp_path / "secret.txt").write_text("secret\n")
    return static


@pytest_asyncio.fixture
async def answers(static_dir: Path) -> AsyncIterator[dict[str, list[Answer]]]:
    yield await under_both(
        lambda web: build_app(web, static_dir), lambda base: _ask_all(base, REQUESTS)
    )


def _comparable(answer: Answer) -> Answer:
    status, reason, headers, body = answer
    headers = dict(headers)
    if body and headers.get("Content-Type", "").startswith("application/json"):
        body = json.dumps(json.loads(body), sort_keys=True).encode()  # key order is not API
        headers.pop("Content-Length", None)  # the separators may differ
    # Static files: validators are computed from the same file, formats may differ.
    for name in ("ETag", "Last-Modified", "Accept-Ranges"):
        headers.pop(name, None)
    return status, reason, headers, body


def _differences(requests: list[Request], answers: dict[str, list[Answer]]) -> list[str]:
    """The requests whose answers differ beyond what KNOWN_DIFFERENCES, the 416
    rule and EXTRA_HEADERS allow, each with both answers."""
    differences = []
    for (method, path, _, _), theirs, ours in zip(
        requests, answers["aiohttp"], answers["weft"], strict=True
    ):
        if (method, path) in KNOWN_DIFFERENCES:
            same = theirs[0] == ours[0]
        elif theirs[0] == ours[0] == 416:
            same = _range_failure(theirs) == _range_failure(ours)
        else:
            extra = EXTRA_HEADERS.get((method, path), set())
            kept = {name: value for name, value in ours[2].items() if name not in extra}
            same = _comparable(theirs) == _comparable((ours[0], ours[1], kept, ours[3]))
        if not same:
            differences.append(
                f"{method} {path}:\n  aiohttp {_comparable(theirs)}\n  weft    {_comparable(ours)}"
            )
    return differences


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_same_app_same_answers(answers: dict[str, list[Answer]]) -> None:
    """Request by request, weft answers exactly what aiohttp answers."""
    differences = _differences(REQUESTS, answers)
    assert not differences, "\n".join(differences)


# Raw requests, for what a client library hides: versions, connection
# handling, pipelining, request-target forms, chunked uploads.
RAW: list[bytes] = [
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /count HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    b"GET /users/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"HEAD /users/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET http://x/users/4?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
    b"Connection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"GET /request HTTP/1.1\r\nHost: x\r\nx-test: one\r\nX-Test: two\r\nConnection: close\r\n\r\n",
    b"GET /stream HTTP/1.0\r\n\r\n",
    b"GET /chunked-10 HTTP/1.0\r\n\r\n",
    b"GET /chunked-10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


async def _raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def _without_server_headers(raw: bytes) -> bytes:
    return b"\r\n".join(
        line for line in raw.split(b"\r\n") if not line.lower().startswith((b"date:", b"server:"))
    )


@pytest.mark.asyncio
async def test_same_app_same_raw_answers(static_dir: Path) -> None:
    """Byte for byte (but Date and Server), weft answers raw requests as aiohttp does."""

    async def talk(base: str) -> list[bytes]:
        return [_without_server_headers(await _raw(base, data)) for data in RAW]

    results = await under_both(lambda web: build_app(web, static_dir), talk)
    differences = [
        f"{data!r}:\n  aiohttp {theirs!r}\n  weft    {ours!r}"
        for data, theirs, ours in zip(RAW, results["aiohttp"], results["weft"], strict=True)
        if theirs != ours
    ]
    assert not differences, "\n".join(differences)


def build_normalizing_app(web: Any) -> Any:
    """An app behind ``normalize_path_middleware`` (slashes merged, appended)."""

    async def page(request: Any) -> Any:
        return web.Response(text=f"page {request.path} {request.query_string}")

    app = web.Application(middlewares=[web.normalize_path_middleware()])
    app.router.add_get("/docs/", page)
    app.router.add_get("/docs/{name}", page)
    app.router.add_get("/api/items", page)
    return app


NORMALIZING: list[Request] = [
    ("GET", "/docs", {}, None),  # redirected to /docs/
    ("GET", "/docs?x=1", {}, None),  # the query kept
    ("GET", "//docs//intro", {}, None),  # slashes merged
    ("GET", "/api/items/", {}, None),  # no route with or without: 404
    ("GET", "/api//items", {}, None),
    ("GET", "/docs/intro", {}, None),
    ("POST", "/docs", {}, None),
]


@pytest.mark.asyncio
async def test_normalize_path_middleware_same_answers() -> None:
    """normalize_path_middleware redirects exactly where aiohttp's does."""
    answers = await under_both(build_normalizing_app, lambda base: _ask_all(base, NORMALIZING))
    differences = _differences(NORMALIZING, answers)
    assert not differences, "\n".join(differences)


def build_ws_app(web: Any) -> Any:
    """A WebSocket endpoint written against aiohttp's WebSocketResponse API."""

    async def socket(request: Any) -> Any:
        ws = web.WebSocketResponse(protocols=("chat", "v2"))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                if msg.data == "close":
                    await ws.close(code=4000, message=b"bye")
                elif msg.data == "json":
                    await ws.send_json({"a": [1, 2]})
                else:
                    await ws.send_str("echo:" + msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        return ws

    app = web.Application()
    app.router.add_get("/ws", socket)
    return app


async def _ws_session(base: str, compress: int) -> list[object]:
    """What a client sees of one conversation: handshake, messages, close."""
    seen: list[object] = []
    async with aiohttp.ClientSession() as client:
        async with client.get(base + "/ws") as plain:  # not an upgrade
            seen.append(("plain GET", plain.status))  # the error's wording is not API
        async with client.ws_connect(base + "/ws", protocols=("v2",), compress=compress) as ws:
            seen.append(("protocol", ws.protocol, ws.compress))
            response = ws._response
            seen.append(
                {
                    # Connection's tokens are case-insensitive: weft sends RFC 6455's
                    # "Upgrade", aiohttp "upgrade".
                    name: (response.headers.get(name) or "").lower()
                    for name in ("Upgrade", "Connection", "Sec-WebSocket-Protocol")
                }
            )
            seen.append(response.headers.get("Sec-WebSocket-Extensions"))
            for text in ("hi", "json", "\u00e9t\u00e9"):
                await ws.send_str(text)
                msg = await ws.receive()
                seen.append((msg.type, msg.data))
            await ws.send_bytes(b"\x00\x01\x02")
            msg = await ws.receive()
            seen.append((msg.type, msg.data))
            await ws.send_str("close")
            msg = await ws.receive()
            seen.append((msg.type, msg.data, msg.extra))
            seen.append(("close code", ws.close_code))
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("compress", [0, 15])
async def test_websocket_same_conversation(compress: int) -> None:
    """The same WebSocket conversation, message for message, under both."""
    results = await under_both(build_ws_app, lambda base: _ws_session(base, compress))
    assert results["weft"] == results["aiohttp"]


# -- Issue 13: response bodies (payloads), the head at prepare(), chunked coding
# asked late, Content-Type / charset / cookie values.


def build_body_app(web: Any, static_dir: Path, prepared: asyncio.Event | None = None) -> Any:
    """Handlers whose bodies are payloads, and StreamResponses that do odd things after
    prepare(); ``prepared`` (when given) is awaited by /held after its prepare()."""
    import aiohttp as aiohttp_top

    from weft import web_core

    multipart_writer = (
        aiohttp_top.MultipartWriter if web is aiohttp_web else web_core.MultipartWriter
    )
    routes = web.RouteTableDef()

    async def agen() -> AsyncIterator[bytes]:
        for piece in (b"one ", b"two ", b"three"):
            yield piece

    bodies: dict[str, Callable[[], Any]] = {
        "str": lambda: "caf\u00e9",
        "memoryview": lambda: memoryview(b"view"),
        "bytesio": lambda: io.BytesIO(b"in memory"),
        "stringio": lambda: io.StringIO("caf\u00e9 io"),
        "binary-file": lambda: (static_dir / "hello.txt").open("rb"),
        "text-file": lambda: (static_dir / "hello.txt").open(encoding="utf-8"),
        "async-generator": agen,
    }

    @routes.get("/body/{kind}")
    async def body(request: Any) -> Any:
        return web.Response(body=bodies[request.match_info["kind"]]())

    @routes.get("/body-typed")
    async def body_typed(request: Any) -> Any:
        return web.Response(body=io.BytesIO(b"<p>x</p>"), content_type="text/html")

    @routes.get("/multipart")
    async def multipart(request: Any) -> Any:
        writer = multipart_writer("mixed", boundary="b0und")
        writer.append("text part")
        writer.append_json({"a": 1})
        writer.append((static_dir / "hello.txt").open("rb"))
        return web.Response(body=writer)

    @routes.get("/multipart-streamed")
    async def multipart_streamed(request: Any) -> Any:
        writer = multipart_writer("mixed", boundary="b0und")
        writer.append(agen())
        return web.Response(body=writer)

    @routes.post("/proxy-part")
    async def proxy_part(request: Any) -> Any:
        reader = await request.multipart()
        part = await reader.next()
        return web.Response(body=part)

    @routes.get("/compressed-str")
    async def compressed_str(request: Any) -> Any:
        response = web.Response(body="squeeze me " * 50)
        response.enable_compression()
        return response

    @routes.get("/chunked-late")
    async def chunked_late(request: Any) -> Any:
        response = web.StreamResponse()
        await response.prepare(request)
        response.enable_chunked_encoding()  # as aiohttp-sse does
        await response.write(b"late")
        await response.write_eof()
        return response

    @routes.get("/prepared-then-closed")
    async def prepared_then_closed(request: Any) -> Any:
        response = web.StreamResponse()
        await response.prepare(request)
        response.force_close()
        return response

    @routes.get("/prepared-then-error")
    async def prepared_then_error(request: Any) -> Any:
        response = web.StreamResponse()
        await response.prepare(request)
        raise RuntimeError("after prepare")

    @routes.get("/held")
    async def held(request: Any) -> Any:
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        assert prepared is not None
        await prepared.wait()  # the client has read the head by now
        await response.write(b"data: 1\n\n")
        return response

    @routes.get("/charset")
    async def charset(request: Any) -> Any:
        response = web.Response(text="x")
        response.charset = "KOI8-R"
        return response

    @routes.get("/charset-params")
    async def charset_params(request: Any) -> Any:
        response = web.Response(body=b"x", headers={"Content-Type": "text/html; level=1"})
        response.charset = "UTF-8"
        return response

    @routes.get("/content-type-invalid")
    async def content_type_invalid(request: Any) -> Any:
        response = web.Response(body=b"x")
        response.content_type = "not a type"
        return web.Response(text=f"{response.content_type}|{response.charset}")

    @routes.get("/cookie-version")
    async def cookie_version(request: Any) -> Any:
        response = web.Response(text="x")
        response.set_cookie("a", "b", version=1)
        return response

    @routes.get("/etags")
    async def etags(request: Any) -> Any:
        seen = []
        for value in ["abc", "a b", 'a"b', "*", "\u00e9", "", "W/x", "\t", 1]:
            response = web.Response()
            try:
                response.etag = value
                seen.append(response.headers["ETag"])
            except ValueError:
                seen.append("ValueError")
        return web.json_response(seen)

    app = web.Application()
    app.add_routes(routes)
    return app


BODY_REQUESTS: list[Request] = [
    *(
        ("GET", f"/body/{kind}", {}, None)
        for kind in (
            "str",
            "memoryview",
            "bytesio",
            "stringio",
            "binary-file",
            "text-file",
            "async-generator",
        )
    ),
    ("HEAD", "/body/bytesio", {}, None),  # (aiohttp leaves a HEAD's file open: not compared)
    ("GET", "/body-typed", {}, None),
    ("GET", "/multipart", {}, None),
    ("GET", "/multipart-streamed", {}, None),
    (
        "POST",
        "/proxy-part",
        {"Content-Type": "multipart/form-data; boundary=XyZ"},
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="up"; filename="r.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"a,b\n1,2\n\r\n"
        b"--XyZ--\r\n",
    ),
    ("GET", "/compressed-str", {"Accept-Encoding": "gzip"}, None),
    ("GET", "/chunked-late", {}, None),
    ("GET", "/charset", {}, None),
    ("GET", "/charset-params", {}, None),
    ("GET", "/content-type-invalid", {}, None),
    ("GET", "/cookie-version", {}, None),
    ("GET", "/etags", {}, None),
]


@pytest.mark.asyncio
async def test_bodies_same_answers(static_dir: Path) -> None:
    """Payload bodies, late chunking and Content-Type / cookie values: aiohttp's answers."""
    answers = await under_both(
        lambda web: build_body_app(web, static_dir), lambda base: _ask_all(base, BODY_REQUESTS)
    )
    differences = _differences(BODY_REQUESTS, answers)
    assert not differences, "\n".join(differences)


BODY_RAW: list[bytes] = [
    # The byte order of the head too: a payload's headers come first (aiohttp copies them
    # when the body is set).
    b"GET /body/str HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /body/binary-file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /body/async-generator HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /body/async-generator HTTP/1.0\r\n\r\n",
    b"GET /chunked-late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    # force_close() after prepare() and before any write: the head, the last chunk, the
    # close (weft sent nothing at all before; aiohttp's client then retried the request).
    b"GET /prepared-then-closed HTTP/1.1\r\nHost: x\r\n\r\n",
    # An error after prepare(): the 200 head is out, the connection closes (no 500).
    b"GET /prepared-then-error HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /charset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


@pytest.mark.asyncio
async def test_bodies_same_raw_answers(static_dir: Path) -> None:
    """Byte for byte (but Date and Server), the same heads and bodies as aiohttp."""

    async def talk(base: str) -> list[bytes]:
        return [_without_server_headers(await _raw(base, data)) for data in BODY_RAW]

    results = await under_both(lambda web: build_body_app(web, static_dir), talk)
    differences = [
        f"{data!r}:\n  aiohttp {theirs!r}\n  weft    {ours!r}"
        for data, theirs, ours in zip(BODY_RAW, results["aiohttp"], results["weft"], strict=True)
        if theirs != ours
    ]
    assert not differences, "\n".join(differences)


@pytest.mark.asyncio
async def test_the_head_arrives_at_prepareunder_both(static_dir: Path) -> None:
    """A client reads a StreamResponse's whole head while the handler, past prepare(),
    has written nothing (an SSE / long-poll client), under both frameworks alike."""

    async def talk(base: str, prepared: asyncio.Event) -> bytes:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(b"GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            prepared.set()
            rest = await asyncio.wait_for(reader.read(), 5)
            return _without_server_headers(head + rest)
        finally:
            writer.close()

    seen = {}
    for name, web in (("aiohttp", aiohttp_web), ("weft", weft_web)):
        prepared = asyncio.Event()
        runner = web.AppRunner(build_body_app(web, static_dir, prepared))
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            seen[name] = await talk(f"http://{host}:{port}", prepared)
        finally:
            await runner.cleanup()
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"].endswith(b"data: 1\n\n\r\n0\r\n\r\n")


def build_decoding_app(web: Any, auto_decompress: bool) -> Any:
    """Handlers that show what they read of a request body sent with a Content-Encoding."""

    async def echo(request: Any) -> Any:
        body = await request.read()
        return web.json_response(
            {
                "body": body.decode("latin-1"),
                "encoding": request.headers.get("Content-Encoding"),
                "content_length": request.content_length,
            }
        )

    async def ignore(request: Any) -> Any:
        return web.Response(text="not read")

    app = web.Application(
        client_max_size=1 << 20, handler_args={"auto_decompress": auto_decompress}
    )
    app.router.add_post("/echo", echo)
    app.router.add_post("/ignore", ignore)
    return app


def _zeros_gzip(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(c.compress(bytes(1 << 20)) for _ in range(size >> 20)) + c.flush()


_PLAIN = b"decoded by the server " * 50
DECODING_REQUESTS: list[tuple[str, bytes]] = [
    ("gzip", gzip.compress(_PLAIN)),
    ("deflate", zlib.compress(_PLAIN)),
    ("br", brotli.compress(_PLAIN)),
    ("GZIP", gzip.compress(_PLAIN)),
    ("identity", _PLAIN),
    # Corrupt or truncated gzip is not compared: weft answers 400 (the web-runner
    # README), aiohttp 3.14 handed this corrupt one to the handler as an empty body.
    ("gzip", _zeros_gzip(4 << 20)),  # inflates past client_max_size: 413
]


@pytest.mark.asyncio
@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_decoded_request_bodies_same_answers(auto_decompress: bool) -> None:
    """auto_decompress (default True): the handler reads the decoded body and sees the
    headers as sent; a bomb past client_max_size 413; an unread
    compressed body leaves the connection usable; False: the body as sent. (The error
    pages' texts are each framework's own: only their status is compared.)"""

    async def talk(base: str) -> list[tuple[int, bytes]]:
        seen: list[tuple[int, bytes]] = []
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            for encoding, coded in DECODING_REQUESTS:
                async with client.post(
                    base + "/echo", data=coded, headers={"Content-Encoding": encoding}
                ) as response:
                    body = await response.read()
                    seen.append((response.status, body if response.status == 200 else b""))
        for path in ("/ignore", "/echo"):  # an unread body, then the next request
            data = gzip.compress(_PLAIN)
            raw = await _raw(
                base,
                b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\n\r\n%s"
                % (path.encode(), len(data), data)
                + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            seen.append((raw.count(b"HTTP/1.1 "), raw.split(b"\r\n", 1)[0]))
        return seen

    answers = await under_both(lambda web: build_decoding_app(web, auto_decompress), talk)
    assert answers["weft"] == answers["aiohttp"]
