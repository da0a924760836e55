"""Matching: plain and dynamic paths, decoding, order, 404/405, match info."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from yarl import URL

from weft.web_exceptions import HTTPMethodNotAllowed, HTTPNotFound
from weft.web_routing import MatchInfoError, SystemRoute, UrlDispatcher, UrlMappingMatchInfo


def make_handler(label: str) -> Callable[[object], Awaitable[str]]:
    async def handler(request: object) -> str:
        return label

    handler.__name__ = f"handler_{label}"
    return handler


@dataclass
class FakeRequest:
    method: str
    rel_url: URL


def label_of(info: UrlMappingMatchInfo) -> str:
    return info.handler.__name__.removeprefix("handler_")


def test_plain_path_matches_exactly() -> None:
    """A plain path matches itself and nothing longer or shorter."""
    router = UrlDispatcher()
    router.add_get("/a/b", make_handler("ab"))
    assert label_of(router.match("GET", "/a/b")) == "ab"
    assert router.match("GET", "/a/b/c").http_exception is not None
    assert router.match("GET", "/a").http_exception is not None


def test_trailing_slash_is_significant() -> None:
    """'/a' and '/a/' are different paths."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler("no"))
    router.add_get("/a/", make_handler("yes"))
    assert label_of(router.match("GET", "/a")) == "no"
    assert label_of(router.match("GET", "/a/")) == "yes"
    assert isinstance(router.match("GET", "/a//"), MatchInfoError)


def test_dynamic_variable_is_one_segment() -> None:
    """'{name}' matches one non-empty segment and is returned in the match info."""
    router = UrlDispatcher()
    router.add_get("/users/{id}", make_handler("user"))
    info = router.match("GET", "/users/42")
    assert dict(info) == {"id": "42"}
    assert info.http_exception is None
    assert isinstance(router.match("GET", "/users/42/x").http_exception, HTTPNotFound)
    assert isinstance(router.match("GET", "/users/").http_exception, HTTPNotFound)


def test_regex_variable() -> None:
    """'{name:regex}' matches the regex, which may span segments and contain braces."""
    router = UrlDispatcher()
    router.add_get("/y/{year:\\d{4}}", make_handler("year"))
    router.add_get("/files/{tail:.*}", make_handler("tail"))
    assert dict(router.match("GET", "/y/2024")) == {"year": "2024"}
    assert router.match("GET", "/y/24").http_exception is not None
    assert dict(router.match("GET", "/files/a/b/c")) == {"tail": "a/b/c"}
    assert dict(router.match("GET", "/files/")) == {"tail": ""}


def test_variable_inside_segment() -> None:
    """Variables may share a segment with literal text."""
    router = UrlDispatcher()
    router.add_get("/js/app-{version}.min.js", make_handler("js"))
    assert dict(router.match("GET", "/js/app-1.2.min.js")) == {"version": "1.2"}


def test_values_are_percent_decoded() -> None:
    """Variable values are fully decoded, including %2F and %25."""
    router = UrlDispatcher()
    router.add_get("/v/{x}", make_handler("v"))
    assert dict(router.match("GET", "/v/a%20b")) == {"x": "a b"}
    assert dict(router.match("GET", "/v/a%2Fb")) == {"x": "a/b"}
    assert dict(router.match("GET", "/v/a%2fb")) == {"x": "a/b"}
    assert dict(router.match("GET", "/v/100%25")) == {"x": "100%"}
    assert dict(router.match("GET", "/v/caf%C3%A9")) == {"x": "caf\u00e9"}


def test_encoded_slash_is_not_a_separator() -> None:
    """%2F in a request path does not split segments."""
    router = UrlDispatcher()
    router.add_get("/a/b", make_handler("ab"))
    assert router.match("GET", "/a%2Fb").http_exception is not None


def test_literals_match_their_encoded_form() -> None:
    """A literal with spaces or non-ASCII matches the percent-encoded request path."""
    router = UrlDispatcher()
    router.add_get("/caf\u00e9", make_handler("plain"))
    router.add_get("/a b/{x}", make_handler("dyn"))
    router.add_get("/{x}/caf\u00e9", make_handler("dyn-last"))
    assert label_of(router.match("GET", "/caf%C3%A9")) == "plain"
    assert dict(router.match("GET", "/a%20b/1")) == {"x": "1"}
    assert label_of(router.match("GET", "/a/caf%C3%A9")) == "dyn-last"


def test_encoded_unreserved_chars_are_decoded_before_matching() -> None:
    """'/%61' is the same path as '/a'."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler("a"))
    assert label_of(router.match("GET", "/%61")) == "a"


def test_more_specific_prefix_wins_over_registration_order() -> None:
    """As aiohttp >= 3.10, '/users/me' beats an earlier '/users/{id}' and '/{any}'."""
    router = UrlDispatcher()
    router.add_get("/{any}", make_handler("any"))
    router.add_get("/users/{id}", make_handler("id"))
    router.add_get("/users/me", make_handler("me"))
    assert label_of(router.match("GET", "/users/me")) == "me"
    assert label_of(router.match("GET", "/users/7")) == "id"
    assert label_of(router.match("GET", "/users")) == "any"


def test_registration_order_decides_under_one_prefix() -> None:
    """Between overlapping resources filed under the same prefix, the first registered wins."""
    router = UrlDispatcher()
    router.add_get("/js/{name}.js", make_handler("js"))
    router.add_get("/js/{name}.min.js", make_handler("min"))
    assert label_of(router.match("GET", "/js/app.min.js")) == "js"
    other = UrlDispatcher()
    other.add_get("/js/{name}.min.js", make_handler("min"))
    other.add_get("/js/{name}.js", make_handler("js"))
    assert label_of(other.match("GET", "/js/app.min.js")) == "min"


def test_plain_and_dynamic_under_one_prefix_keep_order() -> None:
    """'/a/' (plain) and '/a/{x:.*}' share the prefix '/a': the first registered wins."""
    router = UrlDispatcher()
    router.add_get("/a/{x:.*}", make_handler("dyn"))
    router.add_get("/a/", make_handler("plain"))
    assert label_of(router.match("GET", "/a/")) == "dyn"
    other = UrlDispatcher()
    other.add_get("/a/", make_handler("plain"))
    other.add_get("/a/{x:.*}", make_handler("dyn"))
    assert label_of(other.match("GET", "/a/")) == "plain"


def test_method_miss_keeps_looking() -> None:
    """A resource matching the path but not the method does not stop the search."""
    router = UrlDispatcher()
    router.add_post("/items/{id}", make_handler("post"))
    router.add_get("/items/{name}", make_handler("get"))
    info = router.match("GET", "/items/1")
    assert label_of(info) == "get"
    assert dict(info) == {"name": "1"}


def test_405_lists_methods_of_every_matching_resource() -> None:
    """405 carries the methods of all resources whose path matched, in Allow."""
    router = UrlDispatcher()
    router.add_post("/items/{id}", make_handler("post"))
    router.add_get("/items/{name}", make_handler("get"))
    router.add_put("/items/1", make_handler("put"))
    router.add_delete("/other", make_handler("delete"))
    info = router.match("PATCH", "/items/1")
    exc = info.http_exception
    assert isinstance(info, MatchInfoError)
    assert isinstance(exc, HTTPMethodNotAllowed)
    assert exc.status == 405
    assert exc.allowed_methods == {"POST", "GET", "HEAD", "PUT"}
    assert exc.headers["Allow"] == "GET,HEAD,POST,PUT"
    assert exc.method == "PATCH"


def test_404_when_no_path_matches() -> None:
    """404 when no resource matches the path, whatever the method."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler("a"))
    info = router.match("GET", "/b")
    assert isinstance(info.http_exception, HTTPNotFound)
    assert repr(info) == "<MatchInfoError 404: Not Found>"
    assert dict(info) == {}


@pytest.mark.asyncio
async def test_error_handler_raises_the_exception() -> None:
    """A MatchInfoError's handler raises its http_exception; its route is a SystemRoute."""
    router = UrlDispatcher()
    info = router.match("GET", "/nothing")
    assert isinstance(info.route, SystemRoute)
    assert info.route.status == 404
    assert info.get_info() == {"http_exception": info.http_exception}
    with pytest.raises(HTTPNotFound):
        await info.handler(object())
    with pytest.raises(RuntimeError, match="url_for"):
        info.route.url_for()


def test_any_method_route() -> None:
    """Method '*' answers every method."""
    router = UrlDispatcher()
    router.add_route("*", "/any", make_handler("any"))
    for method in ("GET", "POST", "PROPFIND"):
        assert label_of(router.match(method, "/any")) == "any"


def test_add_get_also_answers_head_unless_disabled() -> None:
    """add_get registers HEAD too; allow_head=False does not."""
    router = UrlDispatcher()
    router.add_get("/a", make_handler("a"))
    router.add_get("/b", make_handler("b"), allow_head=False)
    assert label_of(router.match("HEAD", "/a")) == "a"
    assert isinstance(router.match("HEAD", "/b").http_exception, HTTPMethodNotAllowed)


def test_empty_path_is_root() -> None:
    """A resource registered with '' answers '/'."""
    router = UrlDispatcher()
    resource = router.add_resource("")
    resource.add_route("GET", make_handler("root"))
    assert label_of(router.match("GET", "/")) == "root"
    router.freeze()
    assert resource.canonical == "/"


def test_combined_bucket_matches_like_single_regexes() -> None:
    """Many templates under one prefix (compiled into one regex) keep order and values."""
    router = UrlDispatcher()
    for i in range(50):
        router.add_get(f"/api/{{a}}/n{i}/{{b}}", make_handler(f"n{i}"))
    router.add_get("/api/{a}/{c:\\d+}/{b}", make_handler("digits"))
    router.freeze()
    info = router.match("GET", "/api/x/n37/y")
    assert label_of(info) == "n37"
    assert dict(info) == {"a": "x", "b": "y"}
    assert dict(router.match("GET", "/api/x/12/y")) == {"a": "x", "c": "12", "b": "y"}
    assert router.match("GET", "/api/x/zz/y").http_exception is not None


def test_combined_bucket_method_miss_falls_through() -> None:
    """In a compiled bucket, a path match without the method moves on to the next template."""
    router = UrlDispatcher()
    router.add_post("/r/{a}", make_handler("post"))
    router.add_put("/r/{b}", make_handler("put"))
    router.add_get("/r/{c}", make_handler("get"))
    router.add_get("/r/{d}/x", make_handler("x"))
    router.freeze()
    info = router.match("GET", "/r/1")
    assert label_of(info) == "get"
    assert dict(info) == {"c": "1"}
    exc = router.match("DELETE", "/r/1").http_exception
    assert isinstance(exc, HTTPMethodNotAllowed)
    assert exc.allowed_methods == {"POST", "PUT", "GET", "HEAD"}


def test_custom_regex_with_groups_still_matches() -> None:
    """A regex with its own groups (not combinable) is tried on its own, in order."""
    router = UrlDispatcher()
    router.add_get("/g/{a:(x|y)+}", make_handler("groups"))
    router.add_get("/g/{b}", make_handler("plain1"))
    router.add_get("/g/{c}/1", make_handler("plain2"))
    router.add_get("/g/{d}/2", make_handler("plain3"))
    router.freeze()
    assert dict(router.match("GET", "/g/xyx")) == {"a": "xyx"}
    assert dict(router.match("GET", "/g/z")) == {"b": "z"}


@pytest.mark.asyncio
async def test_resolve_uses_request_method_and_raw_path() -> None:
    """resolve(request) matches request.method and request.rel_url.raw_path."""
    router = UrlDispatcher()
    router.add_get("/v/{x}", make_handler("v"))
    info = await router.resolve(FakeRequest("GET", URL("/v/a%2Fb?q=1")))
    assert dict(info) == {"x": "a/b"}
    miss = await router.resolve(FakeRequest("POST", URL("/v/1")))
    assert isinstance(miss.http_exception, HTTPMethodNotAllowed)


@pytest.mark.asyncio
async def test_resource_resolve_like_aiohttp() -> None:
    """resource.resolve(request) returns (match info or None, allowed methods)."""
    router = UrlDispatcher()
    resource = router.add_resource("/v/{x}")
    resource.add_route("POST", make_handler("p"))
    info, allowed = await resource.resolve(FakeRequest("GET", URL("/v/1")))
    assert info is None
    assert allowed == {"POST"}
    info, allowed = await resource.resolve(FakeRequest("POST", URL("/v/1")))
    assert info is not None
    assert dict(info) == {"x": "1"}
    assert await resource.resolve(FakeRequest("POST", URL("/w"))) == (None, set())


def test_match_info_api() -> None:
    """Match info exposes route, handler, get_info, apps and current_app like aiohttp."""
    router = UrlDispatcher()
    handler = make_handler("h")
    route = router.add_get("/u/{id}", handler, name="user")
    info = router.match("GET", "/u/1")
    assert info.route is route
    assert info.handler is handler
    assert info.get_info() == router["user"].get_info()
    apps_before = info.apps
    with pytest.raises(RuntimeError):
        _ = info.current_app
    app1, app2 = object(), object()
    info.add_app(app1)
    info.add_app(app2)
    assert (apps_before, info.apps) == ((), (app2, app1))
    assert info.current_app is app1
    info.current_app = app2
    assert info.current_app is app2
    info.freeze()
    with pytest.raises(RuntimeError, match="freeze"):
        info.add_app(object())
    assert repr(info).startswith("<MatchInfo {'id': '1'}: <ResourceRoute [GET]")


def test_bound_match_class_starts_added_and_frozen() -> None:
    """bound_to(app): a subclass whose instances are as after add_app(app) and freeze()."""
    app, other = object(), object()
    bound = UrlMappingMatchInfo.bound_to(app)
    assert issubclass(bound, UrlMappingMatchInfo)
    assert bound is not UrlMappingMatchInfo
    assert UrlMappingMatchInfo.bound_to(other) is not bound  # one class per application
    router = UrlDispatcher()
    handler = make_handler("h")
    router.add_get("/u/{id}", handler)
    router.add_get("/plain", handler)
    for path, variables in (("/u/7", {"id": "7"}), ("/plain", {})):
        info = router.match("GET", path, match_class=bound)
        assert type(info) is bound
        assert isinstance(info, UrlMappingMatchInfo)
        assert dict(info) == variables
        assert info.handler is handler
        assert info.apps == (app,)
        assert info.current_app is app
        with pytest.raises(RuntimeError, match="freeze"):
            info.add_app(other)
        info.current_app = other  # what a middleware of a sub-application does
        assert info.current_app is other
        assert repr(info).startswith(f"<MatchInfo {variables!r}: <ResourceRoute [GET]")
    # The class keeps its state; another instance starts afresh.
    assert router.match("GET", "/plain", match_class=bound).current_app is app
    # Without match_class, the usual class, with nothing added.
    plain = router.match("GET", "/plain")
    assert type(plain) is not bound
    assert plain.apps == ()


def test_bound_match_class_leaves_misses_alone() -> None:
    """A 404 or 405 is a MatchInfoError, never of the bound class: the caller adds its app."""
    app = object()
    bound = UrlMappingMatchInfo.bound_to(app)
    router = UrlDispatcher()
    router.add_get("/u/{id}", make_handler("h"))
    for method, path in (("GET", "/nope"), ("POST", "/u/1")):
        miss = router.match(method, path, match_class=bound)
        assert type(miss) is MatchInfoError
        assert miss.apps == ()
        miss.add_app(app)
        assert miss.current_app is app


@pytest.mark.asyncio
async def test_expect_handler_precedence() -> None:
    """expect_handler: the route's own, else the router's default, else a no-op."""

    async def own(request: object) -> str:
        return "own"

    async def default(request: object) -> str:
        return "default"

    router = UrlDispatcher(default_expect_handler=default)
    router.add_post("/own", make_handler("a"), expect_handler=own)
    router.add_post("/default", make_handler("b"))
    assert await router.match("POST", "/own").expect_handler(object()) == "own"
    assert await router.match("POST", "/default").expect_handler(object()) == "default"
    bare = UrlDispatcher()
    bare.add_post("/x", make_handler("c"))
    assert await bare.match("POST", "/x").expect_handler(object()) is None


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        # Whole-segment variables: the lookup compares segments, no regex.
        ("/users/{id}/posts/{post}", "/users/7/posts/x", {"id": "7", "post": "x"}),
        ("/users/{id}/posts/{post}", "/users/7/posts/", None),
        ("/users/{id}/posts/{post}", "/users//posts/x", None),
        ("/users/{id}/posts/{post}", "/users/7/post/x", None),
        ("/users/{id}/posts/{post}", "/users/7/posts/x/", None),
        ("/users/{id}", "/users/a%2Fb", {"id": "a/b"}),
        ("/users/{id}", "/users/{x}", None),  # braces are never in a default value
        ("/users/{id}", "/users/%7Bx", None),
        ("/users/{id}", "/users/x%7D", None),
        ("/users/{id}", "users/7", None),  # no leading '/'
        ("/{tenant}/info", "/acme/info", {"tenant": "acme"}),
        ("/{tenant}/info", "//info", None),
        ("/{tenant}/info", "acme/info", None),
        ("/{tenant}", "/", None),
        ("/a//{x}", "/a//1", {"x": "1"}),
        ("/a//{x}", "/a/1", None),
        # Variables that share a segment with text take the regex path.
        ("/files/{name}.json", "/files/a.json", {"name": "a"}),
        ("/files/{name}.json", "/files/{a}.json", None),
        ("/files/x{a}{b}", "/files/x12", {"a": "1", "b": "2"}),
    ],
)
def test_whole_segment_variables(template: str, path: str, expected: dict[str, str] | None) -> None:
    """Templates of whole-segment variables match like their regex would."""
    router = UrlDispatcher()
    router.add_get(template, make_handler("t"))
    router.add_get("/other/{id}", make_handler("other"))  # a second bucket beside it
    info = router.match("GET", path)
    if expected is None:
        assert isinstance(info.http_exception, HTTPNotFound), dict(info)
    else:
        assert info.http_exception is None
        assert dict(info) == expected
