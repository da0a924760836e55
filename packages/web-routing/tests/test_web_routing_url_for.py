"""URL building: canonical paths, get_info, url_for quoting."""

from __future__ import annotations

import re

import pytest
from yarl import URL

from weft.web_routing import UrlDispatcher


async def handler(request: object) -> None:
    return None


def test_plain_canonical_and_url() -> None:
    """A plain resource's canonical is its path; url_for() quotes what must be quoted."""
    router = UrlDispatcher()
    router.add_get("/a b/caf\u00e9", handler, name="p")
    resource = router["p"]
    assert resource.canonical == "/a b/caf\u00e9"
    assert resource.get_info() == {"path": "/a b/caf\u00e9"}
    url = resource.url_for()
    assert isinstance(url, URL)
    assert url.raw_path == "/a%20b/caf%C3%A9"
    assert router.match("GET", url.raw_path).route.resource is resource


def test_dynamic_canonical_and_info() -> None:
    """A dynamic resource's canonical keeps variables and quotes literals."""
    router = UrlDispatcher()
    router.add_get("/a b/{id:\\d+}/{slug}", handler, name="d")
    resource = router["d"]
    assert resource.canonical == "/a%20b/{id}/{slug}"
    info = resource.get_info()
    assert info["formatter"] == "/a%20b/{id}/{slug}"
    assert isinstance(info["pattern"], re.Pattern)
    assert info["pattern"].fullmatch("/a b/1/x") is not None


def test_url_for_quotes_values() -> None:
    """Values are percent-encoded; '/' becomes %2F in a one-segment variable."""
    router = UrlDispatcher()
    router.add_get("/u/{name}", handler, name="u")
    url = router["u"].url_for(name="a b/c%d?e#f\u00e9")
    assert url.raw_path == "/u/a%20b%2Fc%25d%3Fe%23f%C3%A9"
    assert dict(router.match("GET", url.raw_path)) == {"name": "a b/c%d?e#f\u00e9"}


def test_url_for_keeps_slash_where_the_regex_spans_segments() -> None:
    """In '{tail:.*}' a '/' stays a '/' (as aiohttp)."""
    router = UrlDispatcher()
    router.add_get("/static/{tail:.*}", handler, name="s")
    assert router["s"].url_for(tail="css/site.css").raw_path == "/static/css/site.css"


def test_url_for_with_query() -> None:
    """url_for returns a yarl URL, so with_query works."""
    router = UrlDispatcher()
    router.add_get("/search/{kind}", handler, name="s")
    url = router["s"].url_for(kind="books").with_query(q="a b")
    assert str(url) == "/search/books?q=a+b"


def test_route_url_for_delegates_to_resource() -> None:
    """route.url_for builds the resource's URL."""
    router = UrlDispatcher()
    route = router.add_get("/r/{x}", handler)
    assert route.url_for(x="1") == URL("/r/1")
    assert route.name is None


def test_url_for_missing_value() -> None:
    """A missing variable is a KeyError naming it."""
    router = UrlDispatcher()
    router.add_get("/r/{x}/{y}", handler, name="r")
    with pytest.raises(KeyError, match="'y'"):
        router["r"].url_for(x="1")


def test_url_for_rejects_non_str() -> None:
    """Values must be str."""
    router = UrlDispatcher()
    router.add_get("/r/{x}", handler, name="r")
    with pytest.raises(TypeError, match="must be str"):
        router["r"].url_for(x=1)  # type: ignore[arg-type]


def test_literal_with_escape_is_kept() -> None:
    """Escapes written in a path stay as written, in URLs and in matching (aiohttp's rule).

    The literal is compared with the request's path-safe path, where every
    escape but ``%2F`` and ``%25`` is decoded: ``/a%20b`` is never matched,
    ``/p%25q`` and a lone ``%`` are, and every URL built routes back.
    """
    router = UrlDispatcher()
    router.add_get("/a%20b/{x}", handler, name="e")
    router.add_get("/100%/{x}", handler, name="pct")
    router.add_get("/p%25q/{x}", handler, name="p")
    assert router["e"].canonical == "/a%20b/{x}"
    assert router["pct"].canonical == "/100%/{x}"
    assert str(router["pct"].url_for(x="2")) == "/100%/2"
    assert str(router["p"].url_for(x="3")) == "/p%25q/3"
    assert router.match("GET", "/a%20b/1").http_exception is not None
    assert router.match("GET", "/100%25/2").http_exception is not None
    assert dict(router.match("GET", "/100%/2")) == {"x": "2"}
    assert dict(router.match("GET", "/p%25q/3")) == {"x": "3"}
