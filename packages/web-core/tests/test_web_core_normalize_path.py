"""normalize_path_middleware: which requests it redirects, where to, and which it leaves alone.

Every expected Location below is what aiohttp 3.14's middleware answers for
the same routes and request (checked against it in
``test_redirects_match_aiohttp``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import make_mocked_request as make_aiohttp_request
from web_core_support import exchange, get

from weft.web_core import Application, Request, Response, normalize_path_middleware
from weft.web_exceptions import HTTPFound, HTTPNotFound
from weft.web_routing import UrlDispatcher, UrlMappingMatchInfo

Options = dict[str, Any]

_APPEND: Options = {}
_REMOVE: Options = {"append_slash": False, "remove_slash": True}
_NO_MERGE: Options = {"merge_slashes": False}
_MERGE_ONLY: Options = {"append_slash": False}

# (routes, request target, options, status, Location)
_CASES: list[tuple[list[str], str, Options, int, str | None]] = [
    (["/a/"], "/a", _APPEND, 308, "/a/"),
    (["/a/"], "/a?x=1&y", _APPEND, 308, "/a/?x=1&y"),
    (["/a/b"], "/a//b", _APPEND, 308, "/a/b"),
    (["/a/b/"], "/a//b", _APPEND, 308, "/a/b/"),
    (["/a/b/"], "/a///b?q=%C3%A9", _APPEND, 308, "/a/b/?q=%C3%A9"),
    (["/café/"], "/caf%C3%A9", _APPEND, 308, "/caf%C3%A9/"),
    (["/a"], "/a/", _REMOVE, 308, "/a"),
    (["/a/b"], "/a//b/", _REMOVE, 308, "/a/b"),
    (["/a/b"], "/a//b", _REMOVE, 308, "/a/b"),
    (["/a/"], "/a", _NO_MERGE, 308, "/a/"),
    (["/a//b/"], "/a//b", _NO_MERGE, 308, "/a//b/"),
    (["/a/b"], "/a//b", _MERGE_ONLY, 308, "/a/b"),
    # A leading "//" would make the Location protocol-relative (an open redirect).
    (["/evil.com/"], "//evil.com", _APPEND, 308, "/evil.com/"),
    (["/evil.com"], "//evil.com/", _REMOVE, 308, "/evil.com"),
    # Nothing to redirect to: the 404 stands.
    (["/a/"], "/b", _APPEND, 404, None),
    (["/a"], "/a/", _APPEND, 404, None),
    (["/a/"], "/a", _MERGE_ONLY, 404, None),
    (["/a/"], "/a", {"append_slash": False, "merge_slashes": False}, 404, None),
    # A route that matches is served as it is, slashes and all.
    (["/a", "/a/"], "/a", _APPEND, 200, None),
    (["/a//b"], "/a//b", _APPEND, 200, None),
]


async def _hello(request: Request) -> Response:
    return Response(text="hello")


def _app(routes: list[str], **options: Any) -> Application:
    app = Application(middlewares=[normalize_path_middleware(**options)])
    for path in routes:
        app.router.add_get(path, _hello)
    return app


@pytest.mark.asyncio
@pytest.mark.parametrize(("routes", "target", "options", "status", "location"), _CASES)
async def test_redirects(
    routes: list[str], target: str, options: Options, status: int, location: str | None
) -> None:
    """A path without a route redirects (308) to the first normalized form that has one."""
    ex = await exchange(_app(routes, **options), get(target))
    assert ex.parsed.status == status
    assert ex.parsed.headers.get("Location") == location
    if status == 200:
        assert ex.parsed.body == b"hello"


async def _aiohttp_outcome(
    routes: list[str], target: str, options: Options
) -> tuple[int, str | None]:
    async def hello(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(text="hello")

    app = aioweb.Application(middlewares=[aioweb.normalize_path_middleware(**options)])
    for path in routes:
        app.router.add_get(path, hello)
    app.freeze()
    request = make_aiohttp_request("GET", target, headers={"Host": "example.com"}, app=app)
    try:
        response = await app._handle(request)
    except aioweb.HTTPException as exc:
        return exc.status, exc.headers.get("Location")
    return response.status, response.headers.get("Location")


@pytest.mark.asyncio
@pytest.mark.parametrize(("routes", "target", "options", "status", "location"), _CASES)
async def test_redirects_match_aiohttp(
    routes: list[str], target: str, options: Options, status: int, location: str | None
) -> None:
    """The table above is aiohttp's behaviour, not only weft's."""
    assert await _aiohttp_outcome(routes, target, options) == (status, location)


@pytest.mark.asyncio
async def test_redirect_class() -> None:
    """redirect_class chooses the redirect's status (a temporary 302 here)."""
    app = Application(middlewares=[normalize_path_middleware(redirect_class=HTTPFound)])
    app.router.add_get("/a/", _hello)
    ex = await exchange(app, get("/a?x=1"))
    assert (ex.parsed.status, ex.parsed.headers["Location"]) == (302, "/a/?x=1")


def test_append_and_remove_slash_exclude_each_other() -> None:
    """Asking for both is a configuration error, reported when the middleware is made."""
    with pytest.raises(ValueError, match="Cannot both remove and append slash"):
        normalize_path_middleware(append_slash=True, remove_slash=True)


@pytest.mark.asyncio
async def test_redirect_keeps_the_method_and_needs_a_route_for_it() -> None:
    """The target must answer the request's method: a GET-only route is no target for a POST."""
    app = _app(["/a/"])
    post = await exchange(app, get("/a", method="POST"))
    assert (post.parsed.status, post.parsed.headers.get("Location")) == (404, None)
    app = Application(middlewares=[normalize_path_middleware()])
    app.router.add_post("/a/", _hello)
    post = await exchange(app, get("/a", method="POST"))
    assert (post.parsed.status, post.parsed.headers["Location"]) == (308, "/a/")


@pytest.mark.asyncio
async def test_method_not_allowed_is_normalized_too() -> None:
    """A 405 (the path exists for other methods) is also a routing miss worth normalizing."""
    app = Application(middlewares=[normalize_path_middleware()])
    app.router.add_get("/a", _hello)
    app.router.add_post("/a/", _hello)
    ex = await exchange(app, get("/a", method="POST"))
    assert (ex.parsed.status, ex.parsed.headers["Location"]) == (308, "/a/")


@pytest.mark.asyncio
async def test_handler_not_found_is_not_redirected() -> None:
    """Only routing misses are normalized: a handler's own 404 goes out as it is."""

    async def missing(request: Request) -> Response:
        raise HTTPNotFound(text="no such item")

    app = Application(middlewares=[normalize_path_middleware()])
    app.router.add_get("/item", missing)
    app.router.add_get("/item/", _hello)
    ex = await exchange(app, get("/item"))
    assert (ex.parsed.status, ex.parsed.body) == (404, b"no such item")


@pytest.mark.asyncio
async def test_sub_app_routes_are_redirect_targets() -> None:
    """On the root app it finds routes of a prefixed sub-app; on the sub-app, its own."""
    root = Application(middlewares=[normalize_path_middleware()])
    sub = Application()
    sub.router.add_get("/a/", _hello)
    root.add_subapp("/sub", sub)
    ex = await exchange(root, get("/sub/a"))
    assert (ex.parsed.status, ex.parsed.headers["Location"]) == (308, "/sub/a/")

    root = Application()
    sub = Application(middlewares=[normalize_path_middleware()])
    sub.router.add_get("/a/", _hello)
    root.add_subapp("/sub", sub)
    ex = await exchange(root, get("/sub//a/"))
    assert (ex.parsed.status, ex.parsed.headers["Location"]) == (308, "/sub/a/")


def _domain_app(domain: str, middlewares: list[Callable[..., Any]]) -> Application:
    root = Application(middlewares=middlewares)
    sub = Application()
    sub.router.add_get("/a/", _hello)
    root.add_domain(domain, sub)
    return root


@pytest.mark.asyncio
async def test_domain_sub_app_routes_are_redirect_targets() -> None:
    """A route of an add_domain sub-app is found with the request's Host, as aiohttp does."""
    root = _domain_app("api.example.com", [normalize_path_middleware()])
    raw = b"GET /a HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
    ex = await exchange(root, raw)
    assert (ex.parsed.status, ex.parsed.headers.get("Location")) == (308, "/a/")

    # Another Host does not reach that sub-app, so there is nothing to redirect to.
    root = _domain_app("api.example.com", [normalize_path_middleware()])
    ex = await exchange(root, get("/a"))
    assert (ex.parsed.status, ex.parsed.headers.get("Location")) == (404, None)


class _VersionRouter(UrlDispatcher):
    """Routes ``/v1/...`` to the unversioned routes: a router only resolve() can answer."""

    async def resolve(self, request: Any) -> UrlMappingMatchInfo:
        path = request.rel_url.raw_path
        if path.startswith("/v1/"):
            request = request.clone(rel_url=path[3:])
        return await super().resolve(request)


@pytest.mark.asyncio
async def test_custom_router_resolve_decides_redirect_targets() -> None:
    """With a router that overrides resolve(), the candidates are resolved through it."""
    app = Application(router=_VersionRouter(), middlewares=[normalize_path_middleware()])
    app.router.add_get("/a/", _hello)
    ex = await exchange(app, get("/v1/a?x=1"))
    assert (ex.parsed.status, ex.parsed.headers["Location"]) == (308, "/v1/a/?x=1")
    ex = await exchange(app, get("/v1/a/"))
    assert (ex.parsed.status, ex.parsed.body) == (200, b"hello")
