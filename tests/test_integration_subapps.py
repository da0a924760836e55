"""Sub-applications, domains and Expect: 100-continue over a real connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from weft import web
from weft.web_routing import AbstractRuleMatching, MatchedSubAppResource, RequestLike, ResourceInfo

ServeApp = Callable[[web.Application], Awaitable[str]]
NAME = web.AppKey("name", str)


def _tagging(tag: str, log: list[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def tagging(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        log.append(f"{tag}:{request.app[NAME]}")
        response = await handler(request)
        response.headers.add("X-Through", tag)
        return response

    return tagging


def _apps(log: list[str]) -> web.Application:
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response(
            {"app": request.app[NAME], "path": request.path, **request.match_info}
        )

    admin = web.Application(middlewares=[_tagging("admin", log)])
    admin[NAME] = "admin"
    admin.router.add_get("/users/{id}", whoami, name="user")
    root = web.Application(middlewares=[_tagging("root", log)])
    root[NAME] = "root"
    root.router.add_get("/", whoami)
    root.add_subapp("/admin", admin)
    api = web.Application()
    api[NAME] = "api"
    api.router.add_get("/", whoami)
    root.add_domain("api.example.com", api)
    return root


@pytest.mark.asyncio
async def test_subapp_prefix_and_middleware_order(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """A sub-app answers under its prefix; parent middlewares wrap the sub-app's,
    and each middleware sees its own app as request.app."""
    log: list[str] = []
    url = await serve(_apps(log))
    async with client.get(url + "/admin/users/7") as resp:
        assert await resp.json() == {"app": "admin", "path": "/admin/users/7", "id": "7"}
        assert resp.headers.getall("X-Through") == ["admin", "root"]
    assert log == ["root:root", "admin:admin"]
    async with client.get(url + "/admin/nothing") as resp:
        assert resp.status == 404
    # The 404 raised inside the sub-app's prefix passes through both apps' middlewares.
    assert log == ["root:root", "admin:admin"] * 2


@pytest.mark.asyncio
async def test_domain_subapp(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A domain sub-app answers for its Host only."""
    url = await serve(_apps([]))
    async with client.get(url + "/", headers={"Host": "api.example.com"}) as resp:
        assert (await resp.json())["app"] == "api"
    async with client.get(url + "/") as resp:
        assert (await resp.json())["app"] == "root"


class _TenantRule(AbstractRuleMatching):
    """A rule on a request header: a coroutine that match() cannot run."""

    async def match(self, request: RequestLike) -> bool:
        return bool(request.headers.get("X-Tenant") == "acme")  # type: ignore[attr-defined]

    def get_info(self) -> ResourceInfo:
        return {"rule": "X-Tenant: acme"}

    @property
    def canonical(self) -> str:
        return "X-Tenant: acme"


@pytest.mark.asyncio
async def test_custom_rule_subapp(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A sub-app behind a custom rule answers when the rule says so (the app
    routes with await resolve(request), as aiohttp does)."""
    root = _apps([])

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"app": request.app[NAME]})

    tenant = web.Application()
    tenant[NAME] = "tenant"
    tenant.router.add_get("/", whoami)
    tenant.freeze()  # add_domain would freeze it with root; a hand-made resource cannot
    root.router.register_resource(MatchedSubAppResource(_TenantRule(), tenant))
    url = await serve(root)
    async with client.get(url + "/", headers={"X-Tenant": "acme"}) as resp:
        assert await resp.json() == {"app": "tenant"}
    async with client.get(url + "/") as resp:
        assert (await resp.json())["app"] == "root"


@pytest.mark.asyncio
async def test_router_subclass_resolve_is_used(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """Application(router=...) with resolve() overridden: every request goes through it."""
    seen: list[str] = []

    class AuditingDispatcher(web.UrlDispatcher):
        async def resolve(self, request: RequestLike) -> web.UrlMappingMatchInfo:
            seen.append(request.rel_url.path)
            return await super().resolve(request)

    async def user(request: web.Request) -> web.Response:
        return web.Response(text=request.match_info["id"])

    app = web.Application(router=AuditingDispatcher())
    app.router.add_get("/users/{id}", user)
    url = await serve(app)
    async with client.get(url + "/users/7") as resp:
        assert await resp.text() == "7"
    async with client.get(url + "/nope") as resp:
        assert resp.status == 404
    assert seen == ["/users/7", "/nope"]


@pytest.mark.asyncio
async def test_url_for_through_subapp() -> None:
    """url_for on a sub-app's named route includes the prefix."""
    root = _apps([])
    admin = next(app for app in root._subapps if app[NAME] == "admin")
    assert str(admin.router["user"].url_for(id="42")) == "/admin/users/42"


@pytest.mark.asyncio
async def test_subapp_lifecycle_follows_parent(client: aiohttp.ClientSession) -> None:
    """A sub-app's startup and cleanup signals run with its parent's."""
    events: list[str] = []

    async def started(app: web.Application) -> None:
        events.append("sub startup")

    async def cleaned(app: web.Application) -> None:
        events.append("sub cleanup")

    sub = web.Application()
    sub.on_startup.append(started)
    sub.on_cleanup.append(cleaned)
    root = web.Application()
    root.add_subapp("/sub", sub)
    runner = web.AppRunner(root)
    await runner.setup()
    assert events == ["sub startup"]
    await runner.cleanup()
    assert events == ["sub startup", "sub cleanup"]
    with pytest.raises(RuntimeError, match="frozen"):
        root.add_subapp("/late", web.Application())


@pytest.mark.asyncio
async def test_expect_100_continue(serve: ServeApp) -> None:
    """Expect: 100-continue gets an interim 100 before the client sends the body."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    url = await serve(app)
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert await reader.readexactly(5) == b"hello"
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_unknown_expectation_is_417(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """An expectation other than 100-continue answers 417."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", ok)
    url = await serve(app)
    async with client.post(url + "/", data=b"x", headers={"Expect": "teapot"}) as resp:
        assert resp.status == 417


@pytest.mark.asyncio
async def test_route_expect_handler_can_refuse(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """A per-route expect_handler (seed API) can refuse the upload with its own response."""

    async def refuse(request: web.Request) -> web.Response | None:
        if int(request.headers.get("Content-Length", "0")) > 10:
            return web.Response(status=413, text="too big for this route")
        return None

    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application()
    app.router.add_post("/upload", upload, expect_handler=refuse)
    url = await serve(app)
    async with client.post(
        url + "/upload", data=b"x" * 100, headers={"Expect": "100-continue"}
    ) as resp:
        assert resp.status == 413
        assert await resp.text() == "too big for this route"


@pytest.mark.asyncio
async def test_expect_continue_not_sent_when_body_unused(serve: ServeApp) -> None:
    """A handler that answers without reading the body sends no 100 and closes after."""

    async def quick(request: web.Request) -> web.Response:
        return web.Response(status=401, text="login first")

    app = web.Application()
    app.router.add_post("/upload", quick)
    url = await serve(app)
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
        assert b"Connection: close\r\n" in head
        assert await asyncio.wait_for(reader.read(), 15) == b"login first"
    finally:
        writer.close()
