"""Route definitions: RouteTableDef decorators and standalone functions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from weft import web_routing
from weft.web_routing import RouteDef, RouteTableDef, StaticDef, UrlDispatcher, View


async def handler(request: object) -> None:
    return None


@dataclass
class FakeRequest:
    method: str


def test_table_decorators_record_and_return_handler() -> None:
    """Each decorator records a RouteDef and returns the handler unchanged."""
    routes = RouteTableDef()
    names = ["get", "post", "put", "patch", "delete", "head", "options", "view"]
    for index, name in enumerate(names):
        decorated = getattr(routes, name)(f"/{index}")(handler)
        assert decorated is handler
    decorated = routes.route("PROPFIND", "/dav")(handler)
    assert decorated is handler
    assert len(routes) == 9
    assert [d.method for d in routes if isinstance(d, RouteDef)] == [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*", "PROPFIND",
    ]  # fmt: skip
    assert routes[0] in routes
    assert routes[1:3] == list(routes)[1:3]
    assert repr(routes) == "<RouteTableDef count=9>"


def test_add_routes_from_table() -> None:
    """add_routes registers a table; GET also gets HEAD; kwargs like name pass through."""
    routes = RouteTableDef()

    @routes.get("/a", name="a")
    async def get_a(request: object) -> None:
        return None

    @routes.view("/v")
    class ItemView(View[FakeRequest]):
        pass

    routes.route("PROPFIND", "/dav")(handler)
    router = UrlDispatcher()
    registered = router.add_routes(routes)
    assert [r.method for r in registered] == ["GET", "*", "PROPFIND"]
    assert router["a"].canonical == "/a"
    assert router.match("HEAD", "/a").handler is get_a
    assert router.match("DELETE", "/v").handler is ItemView


def test_standalone_functions() -> None:
    """web.get/post/... build RouteDefs with aiohttp's reprs; add_routes registers them."""
    defs = [
        web_routing.get("/g", handler, allow_head=False),
        web_routing.post("/p", handler),
        web_routing.put("/u", handler),
        web_routing.patch("/pa", handler),
        web_routing.delete("/d", handler),
        web_routing.head("/h", handler),
        web_routing.options("/o", handler),
        web_routing.view("/v", handler),
        web_routing.route("PROPFIND", "/dav", handler, name="dav"),
    ]
    assert repr(defs[0]) == "<RouteDef GET /g -> 'handler', allow_head=False, name=None>"
    router = UrlDispatcher()
    registered = router.add_routes(defs)
    assert [r.method for r in registered] == [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*", "PROPFIND",
    ]  # fmt: skip
    assert "dav" in router


def test_static_def_registers_add_static() -> None:
    """A StaticDef registers through router.add_static and returns its GET and HEAD routes."""
    routes = RouteTableDef()
    routes.static("/static", Path("."), show_index=True)
    definition = routes[0]
    assert isinstance(definition, StaticDef)
    assert repr(definition) == "<StaticDef /static -> .? show_index=True>".replace("?", ",")
    assert web_routing.static("/s", "/tmp") == StaticDef("/s", "/tmp", {})
    router = UrlDispatcher()
    registered = router.add_routes(routes)
    assert sorted(r.method for r in registered) == ["GET", "HEAD"]
    assert router.match("GET", "/static/x").route is registered[0]
