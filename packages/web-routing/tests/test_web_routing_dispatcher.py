"""Registration: shortcuts, resources, names, views of the table, freezing, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from weft.web_routing import (
    DynamicResource,
    PlainResource,
    ResourceRoute,
    UrlDispatcher,
)


def make_handler() -> Callable[[object], Awaitable[None]]:
    async def handler(request: object) -> None:
        return None

    return handler


@pytest.mark.parametrize(
    ("shortcut", "method"),
    [
        ("add_post", "POST"),
        ("add_put", "PUT"),
        ("add_patch", "PATCH"),
        ("add_delete", "DELETE"),
        ("add_head", "HEAD"),
        ("add_options", "OPTIONS"),
        ("add_view", "*"),
    ],
)
def test_shortcuts_register_their_method(shortcut: str, method: str) -> None:
    """Each add_<method> shortcut registers a route with that method."""
    router = UrlDispatcher()
    route = getattr(router, shortcut)("/p", make_handler())
    assert isinstance(route, ResourceRoute)
    assert route.method == method
    assert [r.method for r in router.routes()] == [method]


def test_add_get_returns_get_route_and_adds_head() -> None:
    """add_get returns the GET route; HEAD is registered first on the same resource."""
    router = UrlDispatcher()
    route = router.add_get("/p", make_handler(), name="p")
    assert route.method == "GET"
    assert [r.method for r in router["p"]] == ["HEAD", "GET"]


def test_add_route_upper_cases_and_validates_method() -> None:
    """Methods are upper-cased; a method that is not an HTTP token is a ValueError."""
    router = UrlDispatcher()
    assert router.add_route("get", "/a", make_handler()).method == "GET"
    with pytest.raises(ValueError, match="is not allowed HTTP method"):
        router.add_route("BAD METHOD", "/b", make_handler())


def test_add_resource_kinds() -> None:
    """Paths with variables make DynamicResource, others PlainResource."""
    router = UrlDispatcher()
    assert isinstance(router.add_resource("/a"), PlainResource)
    assert isinstance(router.add_resource("/a/{b}"), DynamicResource)


def test_add_resource_requires_leading_slash() -> None:
    """A path must start with '/' (or be empty)."""
    with pytest.raises(ValueError, match="should be started with /"):
        UrlDispatcher().add_resource("a/b")


def test_consecutive_same_path_shares_a_resource() -> None:
    """add_get then add_post on the same path make one resource with both methods."""
    router = UrlDispatcher()
    router.add_get("/p", make_handler())
    router.add_post("/p", make_handler())
    assert len(router.resources()) == 1
    assert len(router.routes()) == 3


def test_duplicate_method_on_a_resource_is_an_error() -> None:
    """A method added twice to one resource (or after '*') raises RuntimeError."""
    router = UrlDispatcher()
    resource = router.add_resource("/p")
    resource.add_route("GET", make_handler())
    with pytest.raises(RuntimeError, match="method GET is already registered"):
        resource.add_route("GET", make_handler())
    resource.add_route("*", make_handler())
    with pytest.raises(RuntimeError, match=r"method \* is already registered"):
        resource.add_route("POST", make_handler())


@pytest.mark.parametrize(
    "path",
    ["/{a", "/a}", "/{1a}", "/{a-b}", "/{}"],
)
def test_bad_templates_are_rejected(path: str) -> None:
    """A malformed variable is a ValueError naming the path."""
    with pytest.raises(ValueError, match="Invalid path"):
        UrlDispatcher().add_resource(path)


def test_bad_regex_is_rejected() -> None:
    """A variable regex that does not compile is a ValueError with re's reason."""
    with pytest.raises(ValueError, match=r"Bad pattern '\(' .*missing \)"):
        UrlDispatcher().add_resource("/{a:(}")


def test_duplicate_variable_is_rejected() -> None:
    """A variable name used twice in one path is a ValueError."""
    with pytest.raises(ValueError, match="variable 'a' appears more than once"):
        UrlDispatcher().add_resource("/{a}/{a:\\d+}")


@pytest.mark.parametrize("name", ["a.b-c:d", "user", "_x", "api.v1.users"])
def test_good_route_names(name: str) -> None:
    """Names are identifiers joined by '.', ':' or '-'."""
    router = UrlDispatcher()
    router.add_get("/p", make_handler(), name=name)
    assert name in router


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a b", "sequence of python identifiers"),
        ("a..b", "sequence of python identifiers"),
        ("1a", "sequence of python identifiers"),
        ("class", "python keywords cannot be used"),
        ("a.def", "python keywords cannot be used"),
    ],
)
def test_bad_route_names(name: str, message: str) -> None:
    """Names with bad parts or keywords are a ValueError."""
    with pytest.raises(ValueError, match=message):
        UrlDispatcher().add_get("/p", make_handler(), name=name)


def test_duplicate_route_name() -> None:
    """Two resources with one name is a ValueError."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler(), name="n")
    with pytest.raises(ValueError, match="Duplicate 'n'"):
        router.add_get("/b", make_handler(), name="n")


def test_mapping_and_views() -> None:
    """The router maps names to resources; resources() and routes() list everything."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler(), name="a")
    router.add_post("/b/{x}", make_handler())
    router.add_put("/c", make_handler(), name="c")
    assert list(router) == ["a", "c"]
    assert len(router) == 2
    assert "a" in router
    assert "b" not in router
    assert router["c"].canonical == "/c"
    assert dict(router.named_resources()) == {"a": router["a"], "c": router["c"]}
    with pytest.raises(TypeError):
        router.named_resources()["z"] = router["a"]  # type: ignore[index]
    resources = router.resources()
    assert len(resources) == 3
    assert router["a"] in resources
    assert [r.canonical for r in resources] == ["/a", "/b/{x}", "/c"]
    routes = router.routes()
    assert len(routes) == 4
    assert [r.method for r in routes] == ["HEAD", "GET", "POST", "PUT"]
    assert next(iter(router["a"])) in routes


def test_frozen_router_rejects_changes() -> None:
    """After freeze(), every registration raises RuntimeError; matching still works."""
    router = UrlDispatcher()
    resource = router.add_resource("/a")
    resource.add_route("GET", make_handler())
    before = router.frozen
    router.freeze()
    assert (before, router.frozen) == (False, True)
    with pytest.raises(RuntimeError, match="frozen router"):
        router.add_get("/b", make_handler())
    with pytest.raises(RuntimeError, match="frozen router"):
        router.add_post("/a", make_handler())
    with pytest.raises(RuntimeError, match="frozen router"):
        router.add_resource("/c")
    with pytest.raises(RuntimeError, match="frozen"):
        resource.add_route("POST", make_handler())
    assert router.match("GET", "/a").http_exception is None


def test_register_resource_type_checked() -> None:
    """register_resource takes resources only."""
    with pytest.raises(TypeError, match="AbstractResource"):
        UrlDispatcher().register_resource(object())  # type: ignore[arg-type]


def test_handler_must_be_callable() -> None:
    """A handler that is not callable is a TypeError."""
    with pytest.raises(TypeError, match="async callable"):
        UrlDispatcher().add_get("/a", "not a handler")  # type: ignore[arg-type]


def test_expect_handler_must_be_a_coroutine_function() -> None:
    """expect_handler must be an async function."""

    def sync_expect(request: object) -> None:
        return None

    with pytest.raises(TypeError, match="Coroutine is expected"):
        UrlDispatcher().add_post("/a", make_handler(), expect_handler=sync_expect)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_sync_handler_is_deprecated_but_wrapped() -> None:
    """A plain function handler warns DeprecationWarning and is awaited through a wrapper."""

    def sync_handler(request: object) -> str:
        return "ok"

    router = UrlDispatcher()
    with pytest.warns(DeprecationWarning, match="Bare functions are deprecated"):
        router.add_get("/a", sync_handler, allow_head=False)  # type: ignore[arg-type]
    assert await router.match("GET", "/a").handler(object()) == "ok"


def test_unindex_and_reindex_after_prefix() -> None:
    """unindex_resource/add_prefix/index_resource moves a resource under a prefix."""
    router = UrlDispatcher()
    plain = router.add_resource("/a")
    plain.add_route("GET", make_handler())
    dynamic = router.add_resource("/b/{x}")
    dynamic.add_route("GET", make_handler())
    for resource in (plain, dynamic):
        router.unindex_resource(resource)
        resource.add_prefix("/api")
        router.index_resource(resource)
    assert router.match("GET", "/api/a").http_exception is None
    assert dict(router.match("GET", "/api/b/1")) == {"x": "1"}
    assert router.match("GET", "/a").http_exception is not None
    with pytest.raises(ValueError, match="prefix"):
        plain.add_prefix("api/")


def test_reprs() -> None:
    """Resources and routes have aiohttp's reprs."""
    router = UrlDispatcher()
    handler = make_handler()
    route = router.add_post("/u/{id}", handler, name="user")
    assert repr(router["user"]) == "<DynamicResource 'user'  /u/{id}>"
    assert (
        repr(route) == f"<ResourceRoute [POST] <DynamicResource 'user'  /u/{{id}}> -> {handler!r}"
    )
    plain = router.add_resource("/p")
    assert repr(plain) == "<PlainResource  /p>"
