"""Application features through weft.web over a real connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from weft import web

ServeApp = Callable[[web.Application], Awaitable[str]]

COUNTER = web.AppKey("counter", list[int])


class Items(web.View):
    async def get(self) -> web.Response:
        return web.json_response({"method": "GET", "path": self.request.path})

    async def post(self) -> web.Response:
        return web.json_response({"method": "POST", "body": await self.request.text()})


@pytest.mark.asyncio
async def test_class_based_view(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A View answers the methods it defines and 405 with Allow for the others."""
    app = web.Application()
    app.router.add_view("/items", Items)
    url = await serve(app)
    async with client.get(url + "/items") as resp:
        assert await resp.json() == {"method": "GET", "path": "/items"}
    async with client.post(url + "/items", data="hi") as resp:
        assert await resp.json() == {"method": "POST", "body": "hi"}
    async with client.delete(url + "/items") as resp:
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) == {"GET", "POST"}


@pytest.mark.asyncio
async def test_middlewares_run_in_order_and_see_404(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """Middlewares wrap the handler in list order and can turn a 404 into a page."""
    calls: list[str] = []

    @web.middleware
    async def outer(
        request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        calls.append("outer")
        response = await handler(request)
        response.headers["X-Outer"] = "1"
        return response

    @web.middleware
    async def not_found_page(
        request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        calls.append("inner")
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.Response(status=404, text="custom not found")

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application(middlewares=[outer, not_found_page])
    app.router.add_get("/", hello)
    url = await serve(app)
    async with client.get(url + "/") as resp:
        assert await resp.text() == "hi"
        assert resp.headers["X-Outer"] == "1"
    async with client.get(url + "/missing") as resp:
        assert resp.status == 404
        assert await resp.text() == "custom not found"
        assert resp.headers["X-Outer"] == "1"
    assert calls == ["outer", "inner", "outer", "inner"]


@pytest.mark.asyncio
async def test_app_state_signals_and_cleanup_ctx(client: aiohttp.ClientSession) -> None:
    """Startup, cleanup context and cleanup run around serving; handlers see app state."""
    events: list[str] = []

    async def on_startup(app: web.Application) -> None:
        events.append("startup")
        app[COUNTER] = []

    async def resource(app: web.Application) -> AsyncIterator[None]:
        events.append("ctx enter")
        yield
        events.append("ctx exit")

    async def on_shutdown(app: web.Application) -> None:
        events.append("shutdown")

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    async def count(request: web.Request) -> web.Response:
        request.app[COUNTER].append(1)
        return web.Response(text=str(len(request.app[COUNTER])))

    app = web.Application()
    app.on_startup.append(on_startup)
    app.cleanup_ctx.append(resource)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    app.router.add_post("/count", count)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    for expected in ("1", "2"):
        async with client.post(f"http://{host}:{port}/count") as resp:
            assert await resp.text() == expected
    await runner.cleanup()
    assert events == ["ctx enter", "startup", "shutdown", "ctx exit", "cleanup"]
    with pytest.raises(RuntimeError, match="frozen"):
        app.router.add_get("/late", count)


@pytest.mark.asyncio
async def test_redirect_with_cookie(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A raised redirect carries the cookie it sets (a login pattern)."""

    async def login(request: web.Request) -> web.Response:
        exc = web.HTTPSeeOther(location="/home")
        exc.set_cookie("session", "abc123", httponly=True)
        raise exc

    app = web.Application()
    app.router.add_post("/login", login)
    url = await serve(app)
    async with client.post(url + "/login", allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "/home"
        assert "session=abc123" in resp.headers["Set-Cookie"]
        assert "HttpOnly" in resp.headers["Set-Cookie"]


@pytest.mark.asyncio
async def test_streamed_response(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A StreamResponse written in pieces arrives whole, chunked, with its cookie."""

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/plain"
        response.set_cookie("seen", "1")
        await response.prepare(request)
        for i in range(5):
            await response.write(f"part {i}\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/stream", stream)
    url = await serve(app)
    async with client.get(url + "/stream") as resp:
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert resp.cookies["seen"].value == "1"
        assert await resp.text() == "".join(f"part {i}\n" for i in range(5))


@pytest.mark.asyncio
async def test_plain_function_handler(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A plain function returning a Response is a valid handler (the seeds), with
    aiohttp 3's DeprecationWarning at registration."""

    def plain(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    app = web.Application()
    with pytest.warns(DeprecationWarning, match="Bare functions are deprecated"):
        app.router.add_get("/plain", plain)  # type: ignore[arg-type]
    url = await serve(app)
    async with client.get(url + "/plain") as resp:
        assert await resp.text() == "plain"


@pytest.mark.asyncio
async def test_head_request_has_no_body(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """HEAD on a GET route answers the GET's headers without a body."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    url = await serve(app)
    async with client.head(url + "/") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Length"] == "5"
        assert await resp.read() == b""


@pytest.mark.parametrize(
    ("options", "requested", "location"),
    [
        ({}, "/a?x=1", "/a/?x=1"),
        ({}, "/b//c", "/b/c"),
        ({"append_slash": False, "remove_slash": True}, "/b/c/?q", "/b/c?q"),
        ({}, "//a", "/a/"),
    ],
)
@pytest.mark.asyncio
async def test_normalize_path_middleware(
    serve: ServeApp,
    client: aiohttp.ClientSession,
    options: dict[str, bool],
    requested: str,
    location: str,
) -> None:
    """A path that resolves once normalized is redirected there, query kept."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    middleware = web.normalize_path_middleware(
        append_slash=options.get("append_slash", True),
        remove_slash=options.get("remove_slash", False),
    )
    app = web.Application(middlewares=[middleware])
    app.router.add_get("/a/", ok)
    app.router.add_get("/b/c", ok)
    url = await serve(app)
    async with client.get(url + requested, allow_redirects=False) as resp:
        assert resp.status == 308
        assert resp.headers["Location"] == location


@pytest.mark.asyncio
async def test_normalize_path_leaves_unknown_paths(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """A path that does not resolve either way stays a 404, no redirect."""
    app = web.Application(middlewares=[web.normalize_path_middleware()])
    url = await serve(app)
    async with client.get(url + "/nothing", allow_redirects=False) as resp:
        assert resp.status == 404


@pytest.mark.asyncio
async def test_handler_args_configure_connections(serve: ServeApp) -> None:
    """Application(handler_args=...) reaches the server's connections (a short head timeout)."""
    import asyncio

    app = web.Application(handler_args={"read_head_timeout": 0.2})
    url = await serve(app)
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")


@pytest.mark.asyncio
async def test_cookies_round_trip(serve: ServeApp) -> None:
    """A cookie set by one response comes back in request.cookies; del_cookie expires it."""

    async def login(request: web.Request) -> web.Response:
        response = web.Response(text="in")
        response.set_cookie("session", "s3cr3t", max_age=3600, samesite="Lax")
        return response

    async def whoami(request: web.Request) -> web.Response:
        return web.Response(text=request.cookies.get("session", "anonymous"))

    async def logout(request: web.Request) -> web.Response:
        response = web.Response(text="out")
        response.del_cookie("session")
        return response

    app = web.Application()
    app.router.add_post("/login", login)
    app.router.add_get("/me", whoami)
    app.router.add_post("/logout", logout)
    url = await serve(app)
    # unsafe=True: the client keeps cookies of an IP-address host (127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.post(url + "/login") as resp:
            assert "SameSite=Lax" in resp.headers["Set-Cookie"]
        async with client.get(url + "/me") as resp:
            assert await resp.text() == "s3cr3t"
        async with client.post(url + "/logout") as resp:
            assert "Max-Age=0" in resp.headers["Set-Cookie"]
        async with client.get(url + "/me") as resp:
            assert await resp.text() == "anonymous"
