"""Classes with extra arguments: redirects, 405, 413 and 451."""

from __future__ import annotations

import pytest
from yarl import URL

from weft.web_exceptions import (
    HTTPException,
    HTTPFound,
    HTTPMethodNotAllowed,
    HTTPMove,
    HTTPMovedPermanently,
    HTTPMultipleChoices,
    HTTPPermanentRedirect,
    HTTPRequestEntityTooLarge,
    HTTPSeeOther,
    HTTPTemporaryRedirect,
    HTTPUnavailableForLegalReasons,
    HTTPUseProxy,
)

REDIRECTS: list[type[HTTPMove]] = [
    HTTPMultipleChoices,
    HTTPMovedPermanently,
    HTTPFound,
    HTTPSeeOther,
    HTTPUseProxy,
    HTTPTemporaryRedirect,
    HTTPPermanentRedirect,
]


@pytest.mark.parametrize("cls", REDIRECTS, ids=lambda c: c.__name__)
def test_redirect_sets_location(cls: type[HTTPMove]) -> None:
    """Every redirect sends its location in the Location header and exposes .location."""
    exc = cls("/login?next=/a")
    assert exc.headers["Location"] == "/login?next=/a"
    assert exc.location == "/login?next=/a"
    assert exc.text == f"{cls.status_code}: {exc.reason}"


@pytest.mark.parametrize("location", ["", None])
def test_redirect_requires_location(location: str | None) -> None:
    """An empty location raises ValueError, as in aiohttp."""
    with pytest.raises(ValueError, match="need a location"):
        HTTPFound(location)  # type: ignore[arg-type]


def test_redirect_accepts_url_and_encodes() -> None:
    """A yarl.URL works as location; the header holds the encoded URL."""
    target = URL("https://example.com/a b")
    exc = HTTPFound(target)
    assert exc.location is target
    assert exc.headers["Location"] == "https://example.com/a%20b"


def test_redirect_location_cannot_inject_headers() -> None:
    """CR and LF in a location do not reach the Location header."""
    exc = HTTPSeeOther("/x\r\nSet-Cookie: evil=1")
    assert "\r" not in exc.headers["Location"]
    assert "\n" not in exc.headers["Location"]


def test_redirect_keyword_arguments() -> None:
    """Redirects take the same keyword arguments as every exception."""
    exc = HTTPFound("/x", headers={"X-A": "1"}, reason="Go", text="moved", content_type="text/html")
    assert exc.headers["X-A"] == "1"
    assert exc.reason == "Go"
    assert exc.text == "moved"
    assert exc.content_type == "text/html"


def test_method_not_allowed_allow_header() -> None:
    """405 sets Allow to the sorted, comma-joined methods and exposes method/allowed_methods."""
    exc = HTTPMethodNotAllowed("delete", ["PUT", "GET", "POST", "GET"])
    assert exc.headers["Allow"] == "GET,POST,PUT"
    assert exc.method == "DELETE"
    assert exc.allowed_methods == {"GET", "POST", "PUT"}
    assert exc.status == 405


def test_method_not_allowed_accepts_one_shot_iterable() -> None:
    """allowed_methods may be a generator: it is read once for both Allow and the set."""
    exc = HTTPMethodNotAllowed("GET", (m for m in ["POST", "PUT"]))
    assert exc.headers["Allow"] == "POST,PUT"
    assert exc.allowed_methods == {"POST", "PUT"}


def test_method_not_allowed_empty() -> None:
    """No allowed methods gives an empty Allow header."""
    exc = HTTPMethodNotAllowed("GET", [])
    assert exc.headers["Allow"] == ""
    assert exc.allowed_methods == set()


def test_request_entity_too_large_text() -> None:
    """413 has aiohttp's message and keeps both sizes."""
    exc = HTTPRequestEntityTooLarge(max_size=1024, actual_size=2048)
    assert exc.text == "Maximum request body size 1024 exceeded."
    assert exc.max_size == 1024
    assert exc.actual_size == 2048
    assert exc.status == 413


def test_request_entity_too_large_custom_text() -> None:
    """An explicit text replaces the 413 message."""
    exc = HTTPRequestEntityTooLarge(10, 20, text="too big")
    assert exc.text == "too big"


def test_request_entity_too_large_body_without_default_text() -> None:
    """A (deprecated) body given to 413 is used instead of the message, not rejected."""
    with pytest.warns(DeprecationWarning, match="body argument"):
        exc = HTTPRequestEntityTooLarge(10, body=b"raw")
    assert exc.body == b"raw"


def test_legal_reasons_link_header() -> None:
    """451 with a link sets Link: <url>; rel="blocked-by" and exposes .link as a URL."""
    exc = HTTPUnavailableForLegalReasons("https://authority.example/why")
    assert exc.link == URL("https://authority.example/why")
    assert exc.headers["Link"] == '<https://authority.example/why>; rel="blocked-by"'


def test_legal_reasons_without_link() -> None:
    """451 with link None has no Link header and .link None."""
    exc = HTTPUnavailableForLegalReasons(None)
    assert exc.link is None
    assert "Link" not in exc.headers


def test_special_classes_are_http_exceptions() -> None:
    """The classes with extra arguments are still HTTPException subclasses."""
    for cls in (HTTPMethodNotAllowed, HTTPRequestEntityTooLarge, HTTPUnavailableForLegalReasons):
        assert issubclass(cls, HTTPException)
