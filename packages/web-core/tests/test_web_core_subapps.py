"""Sub-applications: nested middlewares, request.app, config_dict, domains and lifecycle.

aiohttp's rules, all on the in-memory connection: a request reached through
several applications runs the outermost app's middlewares first; each
middleware sees its own app as ``request.app``; ``request.config_dict`` looks
a key up from the innermost app outwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from aiohttp import helpers as aiohttp_helpers
from aiohttp import web as aioweb
from web_core_support import exchange, get

from weft.web_core import (
    AppKey,
    Application,
    ChainMapProxy,
    Request,
    Response,
    StreamResponse,
    json_response,
    middleware,
)
from weft.web_core._types import Handler
from weft.web_exceptions import HTTPNotFound

DB = AppKey("db", str)
LEVEL = AppKey("level", str)
ONLY_ROOT = AppKey("only_root", int)


def _recorder(name: str, log: list[str], names: dict[Application, str]) -> Any:
    """A middleware that logs its name and the app it sees as request.app, in and out."""

    @middleware
    async def record(request: Request, handler: Handler) -> StreamResponse:
        log.append(f"{name} in, app={names[request.app]}")
        try:
            return await handler(request)
        finally:
            log.append(f"{name} out, app={names[request.app]}")

    return record


def _answer(text: str) -> Handler:
    async def handler(request: Request) -> Response:
        return Response(text=text)

    return handler


def _nested(log: list[str]) -> tuple[Application, Application, Application]:
    """root (/) > api (/api) > v1 (/api/v1), each with middlewares that log."""
    root, api, v1 = Application(), Application(), Application()
    names = {root: "root", api: "api", v1: "v1"}
    root.middlewares.extend([_recorder("r1", log, names), _recorder("r2", log, names)])
    api.middlewares.append(_recorder("a1", log, names))
    v1.middlewares.append(_recorder("v1", log, names))

    async def item(request: Request) -> Response:
        log.append(f"handler, app={names[request.app]}")
        return Response(text=f"item {request.match_info['id']}")

    async def api_home(request: Request) -> Response:
        log.append(f"handler, app={names[request.app]}")
        return Response(text="api")

    v1.router.add_get("/items/{id}", item)
    api.router.add_get("/", api_home)
    api.add_subapp("/v1", v1)
    root.add_subapp("/api", api)
    return root, api, v1


@pytest.mark.asyncio
async def test_middlewares_of_nested_apps_run_outermost_first() -> None:
    """Root's middlewares wrap the sub-app's, which wrap the inner sub-app's, then the handler."""
    log: list[str] = []
    root, api, v1 = _nested(log)
    ex = await exchange(root, get("/api/v1/items/7"))
    assert (ex.parsed.status, ex.parsed.body) == (200, b"item 7")
    assert log == [
        "r1 in, app=root",
        "r2 in, app=root",
        "a1 in, app=api",
        "v1 in, app=v1",
        "handler, app=v1",
        "v1 out, app=v1",
        "a1 out, app=api",
        "r2 out, app=root",
        "r1 out, app=root",
    ]
    assert ex.request.match_info.apps == (root, api, v1)
    # Once the chain has run, request.app is the app the route belongs to again.
    assert ex.request.app is v1


@pytest.mark.asyncio
async def test_only_the_apps_a_request_went_through_run_middlewares() -> None:
    """A route of the middle app runs root's and its own middlewares, not the inner app's."""
    log: list[str] = []
    root, _, _ = _nested(log)
    ex = await exchange(root, get("/api/"))
    assert ex.parsed.body == b"api"
    assert [entry for entry in log if " in," in entry or "handler" in entry] == [
        "r1 in, app=root",
        "r2 in, app=root",
        "a1 in, app=api",
        "handler, app=api",
    ]


@pytest.mark.asyncio
async def test_nested_chain_is_reused_across_requests() -> None:
    """The same nested route answers the same way every time (the chain is cached per route)."""
    log: list[str] = []
    root, _, _ = _nested(log)
    for n in range(3):
        ex = await exchange(root, get(f"/api/v1/items/{n}"))
        assert ex.parsed.body == f"item {n}".encode()
    assert log.count("v1 in, app=v1") == 3
    assert len(root._chains) == 1


@pytest.mark.asyncio
async def test_not_found_under_a_prefix_runs_the_sub_apps_middlewares() -> None:
    """A 404 under a sub-app's prefix goes through that sub-app's middlewares (its error page)."""

    @middleware
    async def api_errors(request: Request, handler: Handler) -> StreamResponse:
        try:
            return await handler(request)
        except HTTPNotFound:
            return json_response({"error": "no such endpoint"}, status=404)

    root = Application()
    api = Application(middlewares=[api_errors])
    api.router.add_get("/ping", _answer("pong"))
    root.add_subapp("/api", api)
    inside = await exchange(root, get("/api/nothing"))
    assert (inside.parsed.status, inside.parsed.body) == (404, b'{"error": "no such endpoint"}')
    outside = await exchange(root, get("/nothing"))
    assert (outside.parsed.status, outside.parsed.body) == (404, b"404: Not Found")


@pytest.mark.asyncio
async def test_sub_app_middleware_alone_runs_for_its_routes() -> None:
    """Middlewares only on a sub-app still run for its routes (the root has none)."""
    log: list[str] = []
    root = Application()
    sub = Application()
    names = {root: "root", sub: "sub"}
    sub.middlewares.append(_recorder("s", log, names))
    sub.router.add_get("/x", _answer("x"))
    root.router.add_get("/", _answer("root"))
    root.add_subapp("/sub", sub)
    assert (await exchange(root, get("/"))).parsed.body == b"root"
    assert log == []
    assert (await exchange(root, get("/sub/x"))).parsed.body == b"x"
    assert log == ["s in, app=sub", "s out, app=sub"]


# -- config_dict


@pytest.mark.asyncio
async def test_config_dict_looks_up_from_the_innermost_app_outwards() -> None:
    """A handler in a nested sub-app reads its own keys first, then its parents'."""
    root, api, v1 = Application(), Application(), Application()
    root[DB] = "postgres://root"
    root[LEVEL] = "root"
    root[ONLY_ROOT] = 1
    api[LEVEL] = "api"
    v1[LEVEL] = "v1"
    seen: dict[str, Any] = {}

    async def handler(request: Request) -> Response:
        config = request.config_dict
        seen["config"] = config
        return json_response(
            {
                "db": config[DB],
                "level": config[LEVEL],
                "only_root": config.get(ONLY_ROOT),
                "missing": config.get("missing", "default"),
                "has_db": DB in config,
                "has_missing": "missing" in config,
            }
        )

    v1.router.add_get("/", handler)
    api.add_subapp("/v1", v1)
    root.add_subapp("/api", api)
    ex = await exchange(root, get("/api/v1/"))
    assert ex.parsed.status == 200
    assert ex.parsed.body == (
        b'{"db": "postgres://root", "level": "v1", "only_root": 1,'
        b' "missing": "default", "has_db": true, "has_missing": false}'
    )
    config = seen["config"]
    assert isinstance(config, ChainMapProxy)
    # Each key once, outermost app's first (as aiohttp orders them).
    assert list(config) == [DB, LEVEL, ONLY_ROOT]
    assert len(config) == 3
    assert dict(config.items()) == {DB: "postgres://root", LEVEL: "v1", ONLY_ROOT: 1}
    with pytest.raises(KeyError):
        config[AppKey("absent", str)]


@pytest.mark.asyncio
async def test_each_apps_middleware_sees_its_own_config_dict() -> None:
    """A parent's middleware reads the parent's chain (the middleware is the parent's, as in
    aiohttp); the sub-app's middleware and handler read theirs, whoever read first."""
    root, api = Application(), Application()
    root[LEVEL] = "root"
    api[LEVEL] = "api"
    seen: list[tuple[str, str]] = []

    def recording(where: str) -> Any:
        @middleware
        async def record(request: Request, handler: Handler) -> StreamResponse:
            seen.append((where, request.config_dict[LEVEL]))
            return await handler(request)

        return record

    async def handler(request: Request) -> Response:
        seen.append(("handler", request.config_dict[LEVEL]))
        return Response(text=request.config_dict[LEVEL])

    root.middlewares.append(recording("root middleware"))
    api.middlewares.append(recording("api middleware"))
    api.router.add_get("/", handler)
    root.add_subapp("/api", api)
    ex = await exchange(root, get("/api/"))
    assert ex.parsed.body == b"api"
    assert seen == [("root middleware", "root"), ("api middleware", "api"), ("handler", "api")]


@pytest.mark.asyncio
async def test_config_dict_of_apps_without_state() -> None:
    """Without state it is empty, yet truthy: apps are always true, as aiohttp's are."""
    root, sub = Application(), Application()
    seen: list[ChainMapProxy] = []

    async def handler(request: Request) -> Response:
        seen.append(request.config_dict)
        return Response()

    sub.router.add_get("/", handler)
    root.add_subapp("/sub", sub)
    await exchange(root, get("/sub/"))
    assert (len(seen[0]), list(seen[0]), bool(seen[0])) == (0, [], True)
    aiohttp_apps = [aioweb.Application(), aioweb.Application()]
    assert bool(aiohttp_helpers.ChainMapProxy(aiohttp_apps)) is True


_MAPS: list[list[Mapping[Any, int]]] = [
    [],
    [{}],
    [{}, {}],
    [{"a": 1}],
    [{"a": 1, "b": 2}, {"b": 3, "c": 4}],
    [{"z": 1}, {}, {"a": 2, "z": 3}],
]


@pytest.mark.parametrize("maps", _MAPS, ids=repr)
def test_chain_map_proxy_matches_aiohttp(maps: list[Mapping[Any, int]]) -> None:
    """Lookup, iteration order, len, truth and repr are aiohttp.helpers.ChainMapProxy's."""
    ours = ChainMapProxy(maps)
    theirs = aiohttp_helpers.ChainMapProxy(maps)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    assert bool(ours) == bool(theirs)
    assert repr(ours) == repr(theirs)
    for key in ("a", "b", "c", "z", "nope"):
        assert ours.get(key) == theirs.get(key)
        assert (key in ours) == (key in theirs)


def test_chain_map_proxy_cannot_be_subclassed() -> None:
    """As aiohttp's: config_dict's type is final, subclassing it is a TypeError."""
    with pytest.raises(TypeError, match="forbidden"):

        class Custom(ChainMapProxy):
            pass


# -- domains


@pytest.mark.asyncio
async def test_domain_sub_app_answers_for_its_host_only() -> None:
    """add_domain routes by Host (wildcards too); the root's middlewares wrap the sub-app's."""
    log: list[str] = []
    root, api = Application(), Application()
    names = {root: "root", api: "api"}
    root.middlewares.append(_recorder("r", log, names))
    api.middlewares.append(_recorder("a", log, names))

    async def api_home(request: Request) -> Response:
        return Response(text=f"api for {request.host}")

    api.router.add_get("/", api_home)
    root.router.add_get("/", _answer("www"))
    root.add_domain("*.api.example.com", api)

    ex = await exchange(root, b"GET / HTTP/1.1\r\nHost: eu.api.example.com\r\n\r\n")
    assert ex.parsed.body == b"api for eu.api.example.com"
    assert log == ["r in, app=root", "a in, app=api", "a out, app=api", "r out, app=root"]
    assert ex.request.match_info.apps == (root, api)

    log.clear()
    ex = await exchange(root, b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
    assert ex.parsed.body == b"www"
    assert log == ["r in, app=root", "r out, app=root"]


# -- adding sub-apps


def test_sub_app_is_pre_frozen_and_follows_the_parents_freeze() -> None:
    """add_subapp fixes the sub-app's routes at once; freezing the parent freezes it."""
    root, sub = Application(), Application()
    root.add_subapp("/sub", sub)
    assert sub.pre_frozen
    assert not sub.frozen
    with pytest.raises(RuntimeError):
        sub.router.add_get("/late", _answer("late"))
    sub[DB] = "still writable before the parent starts"
    root.freeze()
    assert sub.frozen


@pytest.mark.parametrize("method", ["add_subapp", "add_domain"])
def test_a_started_app_takes_no_sub_app(method: str) -> None:
    """Sub-apps are added before the parent freezes, and a frozen app is no sub-app."""
    root = Application()
    root.freeze()
    add = getattr(root, method)
    with pytest.raises(RuntimeError, match="Cannot add sub application to frozen application"):
        add("/sub" if method == "add_subapp" else "example.com", Application())

    parent, frozen = Application(), Application()
    frozen.freeze()
    add = getattr(parent, method)
    with pytest.raises(RuntimeError, match="Cannot add frozen application"):
        add("/sub" if method == "add_subapp" else "example.com", frozen)


def test_sub_app_must_be_an_application() -> None:
    """Anything but an Application is refused before the router is touched."""
    root = Application()
    with pytest.raises(TypeError, match=r"must be a web\.Application"):
        root.add_subapp("/sub", object())  # type: ignore[arg-type]
    assert list(root.router.resources()) == []


# -- lifecycle


@pytest.mark.asyncio
async def test_sub_app_signals_run_with_the_parents() -> None:
    """Start-up, shutdown and cleanup reach the sub-apps, in the order they were added."""
    log: list[str] = []

    def recorder(name: str) -> Any:
        async def callback(app: Application) -> None:
            log.append(f"{name}:{app[LEVEL]}")

        return callback

    async def resource(app: Application) -> AsyncIterator[None]:
        log.append(f"open:{app[LEVEL]}")
        yield
        log.append(f"close:{app[LEVEL]}")

    root, sub = Application(), Application()
    root[LEVEL], sub[LEVEL] = "root", "sub"
    for app in (root, sub):
        app.on_startup.append(recorder("start"))
        app.on_shutdown.append(recorder("shutdown"))
        app.on_cleanup.append(recorder("cleanup"))
    sub.cleanup_ctx.append(resource)
    root.add_subapp("/sub", sub)
    root.on_startup.append(recorder("late start"))

    await root.startup()
    root.freeze()
    await root.shutdown()
    await root.cleanup()
    assert log == [
        "start:root",
        "open:sub",
        "start:sub",
        "late start:root",
        "shutdown:root",
        "shutdown:sub",
        "cleanup:root",
        "close:sub",
        "cleanup:sub",
    ]
