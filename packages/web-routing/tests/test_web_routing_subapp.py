"""Sub-applications under a prefix and on a domain: matching, apps chain, url_for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from multidict import CIMultiDict
from yarl import URL

from weft.web_exceptions import HTTPMethodNotAllowed, HTTPNotFound
from weft.web_routing import (
    AbstractRuleMatching,
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
    UrlDispatcher,
    UrlMappingMatchInfo,
)
from weft.web_routing._types import RequestLike, ResourceInfo


class App:
    """An opaque application: the router only uses ``.router``."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.router = UrlDispatcher()

    def __repr__(self) -> str:
        return f"<App {self.label}>"


def make_handler(label: str) -> Callable[[object], Awaitable[str]]:
    async def handler(request: object) -> str:
        return label

    handler.__name__ = f"handler_{label}"
    return handler


def label_of(info: UrlMappingMatchInfo) -> str:
    return info.handler.__name__.removeprefix("handler_")


@dataclass
class FakeRequest:
    method: str
    rel_url: URL
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)


def test_prefix_delegates_to_sub_router() -> None:
    """Paths under the prefix are matched by the sub-application's router."""
    root, api = App("root"), App("api")
    api.router.add_get("/users/{id}", make_handler("user"))
    api.router.add_get("/", make_handler("api-index"))
    root.router.add_get("/users/{id}", make_handler("root-user"))
    resource = root.router.add_prefixed_subapp("/api/", api)
    assert isinstance(resource, PrefixedSubAppResource)
    info = root.router.match("GET", "/api/users/7")
    assert label_of(info) == "user"
    assert info == {"id": "7"}
    assert label_of(root.router.match("GET", "/api/")) == "api-index"
    assert label_of(root.router.match("GET", "/users/7")) == "root-user"
    assert root.router.match("GET", "/apix/users/7").http_exception is not None


def test_apps_chain_outer_to_inner() -> None:
    """add_app by each level gives apps outermost first and current_app the innermost."""
    root, api = App("root"), App("api")
    api.router.add_get("/x", make_handler("x"))
    root.router.add_prefixed_subapp("/api", api)
    info = root.router.match("GET", "/api/x")
    assert list(info.apps) == [api]
    info.add_app(root)  # what the framework does after match()
    assert info.apps == (root, api)
    assert info.current_app is api


def test_bound_match_class_is_only_for_the_routers_own_routes() -> None:
    """A route through a sub-application comes back of the usual class, to add_app to."""
    root, api = App("root"), App("api")
    api.router.add_get("/x", make_handler("x"))
    root.router.add_get("/y", make_handler("y"))
    root.router.add_prefixed_subapp("/api", api)
    bound = UrlMappingMatchInfo.bound_to(root)
    own = root.router.match("GET", "/y", match_class=bound)
    assert type(own) is bound
    assert own.apps == (root,)
    assert own.current_app is root
    through = root.router.match("GET", "/api/x", match_class=bound)
    assert type(through) is not bound
    assert label_of(through) == "x"
    through.add_app(root)
    assert through.apps == (root, api)
    assert through.current_app is api


def test_404_and_405_inside_sub_app() -> None:
    """A miss under the prefix is the sub-application's 404/405, carrying the sub-app."""
    root, api = App("root"), App("api")
    api.router.add_get("/x", make_handler("x"))
    root.router.add_get("/{anything:.*}", make_handler("catch-all"))
    root.router.add_prefixed_subapp("/api", api)
    missing = root.router.match("GET", "/api/nope")
    assert isinstance(missing.http_exception, HTTPNotFound)
    assert missing.apps == (api,)
    wrong = root.router.match("POST", "/api/x")
    assert isinstance(wrong.http_exception, HTTPMethodNotAllowed)
    assert wrong.http_exception.allowed_methods == {"GET", "HEAD"}
    assert label_of(root.router.match("GET", "/other")) == "catch-all"


def test_longer_parent_prefix_wins() -> None:
    """A parent route under a longer literal prefix beats the sub-application."""
    root, api = App("root"), App("api")
    api.router.add_get("/special", make_handler("sub"))
    root.router.add_prefixed_subapp("/api", api)
    root.router.add_get("/api/special", make_handler("parent"))
    assert label_of(root.router.match("GET", "/api/special")) == "parent"


def test_order_with_dynamic_routes_in_same_bucket() -> None:
    """Under one prefix, routes registered before the sub-app win; later ones never match."""
    root, api = App("root"), App("api")
    api.router.add_get("/{x}/other", make_handler("sub"))
    for n in range(3):
        root.router.add_get(f"/api/{{v}}/r{n}", make_handler(f"parent{n}"))
    root.router.add_prefixed_subapp("/api", api)
    root.router.add_get("/api/{v}/late", make_handler("late"))
    assert label_of(root.router.match("GET", "/api/1/r2")) == "parent2"
    assert label_of(root.router.match("GET", "/api/1/other")) == "sub"
    assert root.router.match("GET", "/api/1/late").http_exception is not None


def test_url_for_and_canonical_include_prefix() -> None:
    """Resources of a sub-application build URLs with the prefix."""
    root, api = App("root"), App("api")
    api.router.add_get("/items/{id}", make_handler("item"), name="item")
    api.router.add_get("/about us", make_handler("about"), name="about")
    root.router.add_prefixed_subapp("/api v1", api)
    assert api.router["item"].url_for(id="a b") == URL("/api%20v1/items/a%20b")
    assert api.router["item"].canonical == "/api%20v1/items/{id}"
    assert str(api.router["about"].url_for()) == "/api%20v1/about%20us"
    assert label_of(root.router.match("GET", "/api%20v1/items/1")) == "item"


def test_nested_sub_apps() -> None:
    """A sub-application of a sub-application: both prefixes, three apps in the chain."""
    root, mid, leaf = App("root"), App("mid"), App("leaf")
    leaf.router.add_get("/x/{n}", make_handler("leaf"), name="x")
    mid.router.add_get("/m", make_handler("mid"))
    mid.router.add_prefixed_subapp("/b", leaf)
    root.router.add_prefixed_subapp("/a", mid)
    info = root.router.match("GET", "/a/b/x/1")
    assert label_of(info) == "leaf"
    assert info == {"n": "1"}
    info.add_app(root)
    assert info.apps == (root, mid, leaf)
    assert info.current_app is leaf
    assert label_of(root.router.match("GET", "/a/m")) == "mid"
    assert leaf.router["x"].url_for(n="2") == URL("/a/b/x/2")
    assert root.router.match("GET", "/a/b/nope").apps == (mid, leaf)
    assert root.router.match("GET", "/b/x/1").http_exception is not None


def test_sub_resource_introspection() -> None:
    """get_info, canonical, len/iter over the sub-routes, url_for refused, repr."""
    root, api = App("root"), App("api")
    route = api.router.add_post("/x", make_handler("x"))
    resource = root.router.add_prefixed_subapp("/api", api)
    assert resource.get_info() == {"app": api, "prefix": "/api"}
    assert resource.canonical == "/api"
    assert list(resource) == [route]
    assert len(resource) == 1
    assert list(root.router.routes()) == [route]
    assert repr(resource) == "<PrefixedSubAppResource /api -> <App api>>"
    with pytest.raises(RuntimeError, match="sub-application root"):
        resource.url_for()


def test_add_prefixed_subapp_validation() -> None:
    """Bad prefixes, frozen routers and self-nesting are refused."""
    root, api = App("root"), App("api")
    with pytest.raises(TypeError, match="Prefix must be str"):
        root.router.add_prefixed_subapp(1, api)  # type: ignore[arg-type]
    for prefix in ("", "/"):
        with pytest.raises(ValueError, match="Prefix cannot be empty"):
            root.router.add_prefixed_subapp(prefix, api)
    with pytest.raises(ValueError, match="own sub-application"):
        root.router.add_prefixed_subapp("/x", root)
    with pytest.raises(TypeError, match="UrlDispatcher"):
        root.router.add_prefixed_subapp("/x", object())  # type: ignore[arg-type]
    api.router.freeze()
    with pytest.raises(RuntimeError, match="frozen application"):
        root.router.add_prefixed_subapp("/api", api)
    other = App("other")
    root.router.freeze()
    with pytest.raises(RuntimeError, match="frozen router"):
        root.router.add_prefixed_subapp("/o", other)


def test_freeze_compiles_sub_router() -> None:
    """Freezing the parent router freezes the routers of its sub-applications."""
    root, api = App("root"), App("api")
    root.router.add_prefixed_subapp("/api", api)
    root.router.freeze()
    assert api.router.frozen


@pytest.mark.asyncio
async def test_resolve_request_through_sub_app() -> None:
    """resolve(request) goes through the sub-application as match() does."""
    root, api = App("root"), App("api")
    api.router.add_get("/x/{y}", make_handler("x"))
    root.router.add_prefixed_subapp("/api", api)
    resource = root.router.resources()
    assert len(resource) == 1
    info = await root.router.resolve(FakeRequest("GET", URL("/api/x/%C3%A9")))
    assert label_of(info) == "x"
    assert info == {"y": "é"}
    assert info.apps == (api,)
    missing = await root.router.resolve(FakeRequest("GET", URL("/api/z")))
    assert isinstance(missing.http_exception, HTTPNotFound)
    assert missing.apps == (api,)


def test_domain_validation() -> None:
    """Domain and MaskDomain validate and normalise as aiohttp."""
    assert Domain("Example.COM.").canonical == "example.com"
    assert Domain("example.com:80").canonical == "example.com"
    assert Domain("example.com:8080").canonical == "example.com:8080"
    assert MaskDomain("*.example.com").canonical == r"[^:]*\.example\.com(:.*)?"
    for bad, message in [
        ("", "cannot be empty"),
        ("http://example.com", "Scheme not supported"),
        ("exa_mple.com", "not valid"),
        ("-example.com", "not valid"),
        ("example.com/path", "not valid"),
    ]:
        with pytest.raises(ValueError, match=message):
            Domain(bad)
    with pytest.raises(TypeError, match="Domain must be str"):
        Domain(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not valid"):
        Domain("*.example.com")
    root = App("root")
    with pytest.raises(TypeError, match="Domain must be str"):
        root.router.add_domain(None, App("x"))  # type: ignore[arg-type]


def test_domain_matching_rules() -> None:
    """A domain matches its host with any port unless it names one; masks match subdomains."""
    plain = Domain("example.com")
    assert plain.match_host("example.com")
    assert plain.match_host("EXAMPLE.com:8080")
    assert not plain.match_host("www.example.com")
    assert not plain.match_host(None)
    ported = Domain("example.com:8080")
    assert ported.match_host("example.com:8080")
    assert not ported.match_host("example.com:9090")
    mask = MaskDomain("*.example.com")
    assert mask.match_host("a.example.com")
    assert mask.match_host("a.b.example.com:81")
    assert not mask.match_host("example.com")
    assert not mask.match_host("a.example.org")
    assert not mask.match_host("")
    masked_port = MaskDomain("*.example.com:81")
    assert masked_port.match_host("a.example.com:81")
    assert not masked_port.match_host("a.example.com")


def test_domain_sub_app_matches_on_host_first() -> None:
    """A domain sub-app is tried before any path, on the Host; its 404 is final."""
    root, site, wild = App("root"), App("site"), App("wild")
    root.router.add_get("/x", make_handler("root"))
    site.router.add_get("/x", make_handler("site"))
    wild.router.add_get("/x", make_handler("wild"))
    resource = root.router.add_domain("example.com", site)
    root.router.add_domain("*.example.org", wild)
    assert isinstance(resource, MatchedSubAppResource)
    assert resource.canonical == "example.com"
    assert resource.get_info() == {"app": site, "rule": resource.rule}
    assert repr(resource) == "<MatchedSubAppResource -> <App site>>"
    assert label_of(root.router.match("GET", "/x", host="example.com")) == "site"
    assert label_of(root.router.match("GET", "/x", host="a.example.org:8080")) == "wild"
    assert label_of(root.router.match("GET", "/x", host="other.net")) == "root"
    assert label_of(root.router.match("GET", "/x")) == "root"
    info = root.router.match("GET", "/y", host="example.com")
    assert isinstance(info.http_exception, HTTPNotFound)
    assert info.apps == (site,)
    wrong = root.router.match("POST", "/x", host="example.com")
    assert isinstance(wrong.http_exception, HTTPMethodNotAllowed)
    assert wrong.apps == (site,)


def test_domain_inside_prefixed_sub_app() -> None:
    """The Host reaches domain sub-apps of a prefixed sub-application."""
    root, api, tenant = App("root"), App("api"), App("tenant")
    tenant.router.add_get("/t", make_handler("tenant"), name="t")
    api.router.add_get("/t", make_handler("api"))
    api.router.add_domain("*.example.com", tenant)
    root.router.add_prefixed_subapp("/api", api)
    info = root.router.match("GET", "/api/t", host="acme.example.com")
    assert label_of(info) == "tenant"
    assert info.apps == (api, tenant)
    assert label_of(root.router.match("GET", "/api/t", host="localhost")) == "api"
    assert tenant.router["t"].url_for() == URL("/api/t")


@pytest.mark.asyncio
async def test_domain_resolve_uses_host_header() -> None:
    """resolve(request) matches domains on the Host header."""
    root, site = App("root"), App("site")
    site.router.add_get("/", make_handler("site"))
    root.router.add_get("/", make_handler("root"))
    root.router.add_domain("example.com", site)
    hit = await root.router.resolve(
        FakeRequest("GET", URL("/"), CIMultiDict(Host="example.com:8080"))
    )
    assert label_of(hit) == "site"
    assert hit.apps == (site,)
    assert label_of(await root.router.resolve(FakeRequest("GET", URL("/")))) == "root"


class TenantHeader(AbstractRuleMatching):
    """A custom rule that reads more than the Host: only resolve() can apply it."""

    async def match(self, request: RequestLike) -> bool:
        headers = getattr(request, "headers", {})
        return bool(headers.get("X-Tenant") == "acme")

    def get_info(self) -> ResourceInfo:
        return {"rule": "X-Tenant: acme"}

    @property
    def canonical(self) -> str:
        return "X-Tenant: acme"


def needs_resolve(app: App) -> bool:
    return app.router.needs_resolve  # a call: mypy does not narrow it between asserts


class LoggingDomain(Domain):
    """A Domain whose coroutine is overridden: it may look at more than the Host."""

    async def match(self, request: RequestLike) -> bool:
        return await super().match(request)


@pytest.mark.asyncio
async def test_needs_resolve_for_rules_beyond_the_host() -> None:
    """needs_resolve is False while match() gives resolve()'s answer, True once a
    rule (here or in a sub-application's router) needs the request."""
    root, tenant = App("root"), App("tenant")
    tenant.router.add_get("/", make_handler("tenant"))
    root.router.add_get("/", make_handler("root"))
    assert not needs_resolve(root)
    root.router.add_domain("example.com", App("site"))
    root.router.add_domain("*.example.org", App("masked"))
    assert not needs_resolve(root)  # Domain and MaskDomain only read the Host
    root.router.register_resource(MatchedSubAppResource(TenantHeader(), tenant))
    assert needs_resolve(root)
    request = FakeRequest("GET", URL("/"), CIMultiDict({"X-Tenant": "acme"}))
    assert label_of(await root.router.resolve(request)) == "tenant"
    assert label_of(root.router.match("GET", "/")) == "root"  # match() cannot await the rule

    outer = App("outer")
    outer.router.add_prefixed_subapp("/r", root)
    outer.router.freeze()
    assert outer.router.needs_resolve  # through the sub-application's router

    logged = App("logged")
    logged.router.register_resource(MatchedSubAppResource(LoggingDomain("a.com"), App("a")))
    assert logged.router.needs_resolve


def test_needs_resolve_when_resolve_is_overridden() -> None:
    """A router subclass that overrides resolve() is only asked through it."""

    class AuditingDispatcher(UrlDispatcher):
        async def resolve(self, request: RequestLike) -> UrlMappingMatchInfo:
            return await super().resolve(request)

    assert AuditingDispatcher().needs_resolve
    assert not UrlDispatcher().needs_resolve


def needs_host(app: App) -> bool:
    return app.router.needs_host  # a call: mypy does not narrow it between asserts


def test_needs_host_once_a_sub_application_is_mounted() -> None:
    """match() reads its host only once a sub-application is mounted: until then a
    framework may skip finding the request's Host (weft.web does)."""
    plain = App("plain")
    plain.router.add_get("/", make_handler("plain"))
    assert not needs_host(plain)
    assert label_of(plain.router.match("GET", "/")) == "plain"
    prefixed = App("prefixed")
    prefixed.router.add_prefixed_subapp("/sub", App("sub"))
    assert needs_host(prefixed)
    site = App("site")
    site.router.add_get("/", make_handler("site"))
    domain = App("domain")
    domain.router.add_get("/", make_handler("root"))
    domain.router.add_domain("example.com", site)
    assert needs_host(domain)
    hit = domain.router.match("GET", "/", host="example.com")
    assert label_of(hit) == "site"
    assert label_of(domain.router.match("GET", "/")) == "root"
