"""The hierarchy: names, inheritance, status codes, constructor arguments and defaults."""

from __future__ import annotations

import pickle
from http import HTTPStatus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

import weft.web_exceptions as we
from weft.web_exceptions import (
    STATUS_CODES,
    HTTPBadRequest,
    HTTPClientError,
    HTTPError,
    HTTPException,
    HTTPFound,
    HTTPInternalServerError,
    HTTPMethodNotAllowed,
    HTTPNoContent,
    HTTPNotFound,
    HTTPNotModified,
    HTTPOk,
    HTTPRequestEntityTooLarge,
    HTTPResetContent,
    HTTPUnavailableForLegalReasons,
)

# name -> (direct base, status code); -1 for the abstract bases.
EXPECTED: dict[str, tuple[str, int]] = {
    "HTTPException": ("Exception", -1),
    "HTTPError": ("HTTPException", -1),
    "HTTPRedirection": ("HTTPException", -1),
    "HTTPSuccessful": ("HTTPException", -1),
    "HTTPClientError": ("HTTPError", -1),
    "HTTPServerError": ("HTTPError", -1),
    "HTTPMove": ("HTTPRedirection", -1),
    "HTTPOk": ("HTTPSuccessful", 200),
    "HTTPCreated": ("HTTPSuccessful", 201),
    "HTTPAccepted": ("HTTPSuccessful", 202),
    "HTTPNonAuthoritativeInformation": ("HTTPSuccessful", 203),
    "HTTPNoContent": ("HTTPSuccessful", 204),
    "HTTPResetContent": ("HTTPSuccessful", 205),
    "HTTPPartialContent": ("HTTPSuccessful", 206),
    "HTTPMultipleChoices": ("HTTPMove", 300),
    "HTTPMovedPermanently": ("HTTPMove", 301),
    "HTTPFound": ("HTTPMove", 302),
    "HTTPSeeOther": ("HTTPMove", 303),
    "HTTPNotModified": ("HTTPRedirection", 304),
    "HTTPUseProxy": ("HTTPMove", 305),
    "HTTPTemporaryRedirect": ("HTTPMove", 307),
    "HTTPPermanentRedirect": ("HTTPMove", 308),
    "HTTPBadRequest": ("HTTPClientError", 400),
    "HTTPUnauthorized": ("HTTPClientError", 401),
    "HTTPPaymentRequired": ("HTTPClientError", 402),
    "HTTPForbidden": ("HTTPClientError", 403),
    "HTTPNotFound": ("HTTPClientError", 404),
    "HTTPMethodNotAllowed": ("HTTPClientError", 405),
    "HTTPNotAcceptable": ("HTTPClientError", 406),
    "HTTPProxyAuthenticationRequired": ("HTTPClientError", 407),
    "HTTPRequestTimeout": ("HTTPClientError", 408),
    "HTTPConflict": ("HTTPClientError", 409),
    "HTTPGone": ("HTTPClientError", 410),
    "HTTPLengthRequired": ("HTTPClientError", 411),
    "HTTPPreconditionFailed": ("HTTPClientError", 412),
    "HTTPRequestEntityTooLarge": ("HTTPClientError", 413),
    "HTTPRequestURITooLong": ("HTTPClientError", 414),
    "HTTPUnsupportedMediaType": ("HTTPClientError", 415),
    "HTTPRequestRangeNotSatisfiable": ("HTTPClientError", 416),
    "HTTPExpectationFailed": ("HTTPClientError", 417),
    "HTTPMisdirectedRequest": ("HTTPClientError", 421),
    "HTTPUnprocessableEntity": ("HTTPClientError", 422),
    "HTTPFailedDependency": ("HTTPClientError", 424),
    "HTTPUpgradeRequired": ("HTTPClientError", 426),
    "HTTPPreconditionRequired": ("HTTPClientError", 428),
    "HTTPTooManyRequests": ("HTTPClientError", 429),
    "HTTPRequestHeaderFieldsTooLarge": ("HTTPClientError", 431),
    "HTTPUnavailableForLegalReasons": ("HTTPClientError", 451),
    "HTTPInternalServerError": ("HTTPServerError", 500),
    "HTTPNotImplemented": ("HTTPServerError", 501),
    "HTTPBadGateway": ("HTTPServerError", 502),
    "HTTPServiceUnavailable": ("HTTPServerError", 503),
    "HTTPGatewayTimeout": ("HTTPServerError", 504),
    "HTTPVersionNotSupported": ("HTTPServerError", 505),
    "HTTPVariantAlsoNegotiates": ("HTTPServerError", 506),
    "HTTPInsufficientStorage": ("HTTPServerError", 507),
    "HTTPNotExtended": ("HTTPServerError", 510),
    "HTTPNetworkAuthenticationRequired": ("HTTPServerError", 511),
}

EMPTY_BODY = {204, 205, 304}


def make(cls: type[HTTPException]) -> HTTPException:
    """Build an instance of any concrete class with its required positional arguments."""
    if issubclass(cls, we.HTTPMove):
        return cls("/target")
    if cls is HTTPMethodNotAllowed:
        return HTTPMethodNotAllowed("GET", ["POST"])
    if cls is HTTPRequestEntityTooLarge:
        return HTTPRequestEntityTooLarge(10, 20)
    if cls is HTTPUnavailableForLegalReasons:
        return HTTPUnavailableForLegalReasons(None)
    return cls()


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_class_exists_with_base_and_status(name: str, expected: tuple[str, int]) -> None:
    """Every aiohttp.web exception name exists, with aiohttp's direct base and status code."""
    base, status = expected
    cls = getattr(we, name)
    assert cls.__bases__[0].__name__ == base
    assert len(cls.__bases__) == 1
    assert cls.status_code == status


def test_exceptions_are_not_responses() -> None:
    """HTTPException subclasses Exception only: its MRO is HTTPException, Exception, ..."""
    assert [c.__name__ for c in HTTPException.__mro__] == [
        "HTTPException",
        "Exception",
        "BaseException",
        "object",
    ]


@pytest.mark.parametrize("cls", [we.HTTPOk, we.HTTPFound, we.HTTPNotFound, we.HTTPBadGateway])
def test_never_prepared(cls: type[HTTPException]) -> None:
    """aiohttp 3's exceptions are responses, and middlewares written for them
    (aiohttp-session's) check ``prepared`` on a raised one before touching its
    headers: an exception is never sent itself, so it is never prepared."""
    exc = cls(location="/x") if issubclass(cls, we.HTTPMove) else cls()
    assert exc.prepared is False
    exc.headers["X-Late"] = "1"
    assert exc.prepared is False


def test_catch_by_category() -> None:
    """A 404 is caught as HTTPClientError, HTTPError, HTTPException and Exception."""
    with pytest.raises(HTTPClientError) as info:
        raise HTTPNotFound()
    assert isinstance(info.value, HTTPError)
    assert isinstance(info.value, Exception)


@pytest.mark.parametrize("cls", STATUS_CODES.values(), ids=lambda c: c.__name__)
def test_defaults_of_every_status(cls: type[HTTPException]) -> None:
    """Default reason is the standard phrase; default body "<status>: <reason>" as text/plain."""
    exc = make(cls)
    phrase = HTTPStatus(cls.status_code).phrase
    assert exc.status == exc.status_code == cls.status_code
    assert exc.reason == phrase
    assert str(exc) == phrase
    assert exc.args == (phrase,)
    assert bool(exc) is True
    assert isinstance(exc.headers, CIMultiDict)
    assert exc.empty_body is (cls.status_code in EMPTY_BODY)
    if cls.status_code in EMPTY_BODY:
        assert exc.body is None
        assert exc.text is None
        assert "Content-Type" not in exc.headers
    elif cls is HTTPRequestEntityTooLarge:
        assert exc.text == "Maximum request body size 10 exceeded."
    else:
        assert exc.text == f"{cls.status_code}: {phrase}"
        assert exc.body == exc.text.encode()
        assert exc.content_type == "text/plain"
        assert exc.charset == "utf-8"
        assert exc.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_custom_reason_in_default_text() -> None:
    """A custom reason replaces the phrase in .reason, str() and the default text."""
    exc = HTTPNotFound(reason="No such user")
    assert exc.reason == "No such user"
    assert str(exc) == "No such user"
    assert exc.text == "404: No such user"


@pytest.mark.parametrize(
    "reason", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00", "a\x01", "a\x7f"]
)
def test_reason_with_newline_is_rejected(reason: str) -> None:
    """A reason holding a control character (CR and LF: response splitting) raises ValueError."""
    with pytest.raises(ValueError, match="Reason cannot contain"):
        HTTPBadRequest(reason=reason)


def test_reason_with_htab_is_accepted() -> None:
    assert HTTPBadRequest(reason="Bad\tinput").reason == "Bad\tinput"


def test_text_and_content_type() -> None:
    """text with content_type sets that type plus charset=utf-8 and encodes the body."""
    exc = HTTPBadRequest(text="<p>é</p>", content_type="text/html")
    assert exc.headers["Content-Type"] == "text/html; charset=utf-8"
    assert exc.content_type == "text/html"
    assert exc.body == "<p>é</p>".encode()
    assert exc.text == "<p>é</p>"


def test_text_default_content_type() -> None:
    """text alone is sent as text/plain; charset=utf-8."""
    exc = HTTPInternalServerError(text="boom")
    assert exc.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert exc.body == b"boom"


def test_empty_text_is_kept() -> None:
    """text="" gives an empty body, not the default text."""
    exc = HTTPNotFound(text="")
    assert exc.body == b""
    assert exc.text == ""


def test_content_type_without_text_keeps_default_text() -> None:
    """content_type alone applies to the default "<status>: <reason>" body."""
    exc = HTTPNotFound(content_type="application/json")
    assert exc.headers["Content-Type"] == "application/json; charset=utf-8"
    assert exc.text == "404: Not Found"


def test_text_uses_charset_of_content_type_header() -> None:
    """text is encoded with the charset of a Content-Type given in headers."""
    exc = HTTPBadRequest(text="é", headers={"Content-Type": "text/plain; charset=latin-1"})
    assert exc.body == "é".encode("latin-1")
    assert exc.text == "é"
    assert exc.charset == "latin-1"


def test_headers_are_copied_and_case_insensitive() -> None:
    """headers accepts a mapping or pairs, is copied, and is a case-insensitive CIMultiDict."""
    given_headers = {"X-Thing": "1"}
    exc = HTTPNotFound(headers=given_headers)
    exc.headers["x-other"] = "2"
    assert given_headers == {"X-Thing": "1"}
    assert exc.headers["x-thing"] == "1"
    pairs = HTTPNotFound(headers=[("X-A", "1"), ("X-A", "2")])
    assert pairs.headers.getall("x-a") == ["1", "2"]


def test_body_and_text_together_are_rejected() -> None:
    """Passing both body and text raises ValueError."""
    with pytest.raises(ValueError, match="body and text"):
        HTTPNotFound(body=b"x", text="y")


def test_charset_in_content_type_is_rejected() -> None:
    """content_type must not carry a charset parameter."""
    with pytest.raises(ValueError, match="charset"):
        HTTPNotFound(text="x", content_type="text/plain; charset=utf-8")


def test_content_type_and_header_together_are_rejected() -> None:
    """content_type together with a Content-Type header raises ValueError."""
    with pytest.raises(ValueError, match="Content-Type"):
        HTTPNotFound(text="x", content_type="text/html", headers={"Content-Type": "text/plain"})


def test_non_str_text_is_rejected() -> None:
    """text must be a str."""
    with pytest.raises(TypeError, match="text"):
        HTTPNotFound(text=b"bytes")  # type: ignore[arg-type]


def test_body_argument_is_deprecated_but_works() -> None:
    """body= warns DeprecationWarning (as aiohttp 3) and is stored as bytes."""
    with pytest.warns(DeprecationWarning, match="body argument is deprecated"):
        exc = HTTPNotFound(body=bytearray(b"raw"))
    assert exc.body == b"raw"
    assert exc.content_type == "application/octet-stream"


def test_str_body_is_encoded_as_text_plain() -> None:
    """A str body is UTF-8 encoded and labelled text/plain; charset=utf-8."""
    with pytest.warns(DeprecationWarning, match="body argument"):
        exc = HTTPNotFound(body="é")
    assert exc.body == "é".encode()
    assert exc.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unsupported_body_type_is_rejected() -> None:
    """A body that is not bytes-like or str raises TypeError."""
    with (
        pytest.warns(DeprecationWarning, match="body argument"),
        pytest.raises(TypeError, match="body must be"),
    ):
        HTTPNotFound(body=42)


@pytest.mark.parametrize("cls", [HTTPNoContent, HTTPResetContent, HTTPNotModified])
def test_empty_body_statuses_ignore_text(cls: type[HTTPException]) -> None:
    """204/205/304 carry no body: text passed to them is ignored with a DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match="have no body"):
        exc = cls(text="ignored")
    assert exc.body is None
    assert exc.text is None
    with pytest.warns(DeprecationWarning, match="have no body"):
        exc.text = "again"
    assert exc.body is None


def test_empty_body_status_keeps_headers() -> None:
    """An empty-body status still carries its headers."""
    exc = HTTPNotModified(headers={"ETag": '"abc"'})
    assert exc.headers["ETag"] == '"abc"'
    assert exc.body is None


def test_text_setter_replaces_body() -> None:
    """Assigning .text re-encodes the body and keeps the content type."""
    exc = HTTPBadRequest(text="a", content_type="text/html")
    exc.text = "b"
    assert exc.body == b"b"
    assert exc.headers["Content-Type"] == "text/html; charset=utf-8"


def test_content_type_and_charset_setters() -> None:
    """Setting content_type keeps the charset; setting charset lowers it; None removes it."""
    exc = HTTPOk()
    exc.content_type = "application/json"
    assert exc.headers["Content-Type"] == "application/json; charset=utf-8"
    exc.charset = "UTF-16"
    assert exc.charset == "utf-16"
    exc.charset = None
    assert exc.headers["Content-Type"] == "application/json"


def test_charset_on_octet_stream_is_rejected() -> None:
    """Setting a charset before any content type raises RuntimeError, as in aiohttp."""
    exc = HTTPNoContent()
    with pytest.raises(RuntimeError, match="octet-stream"):
        exc.charset = "utf-8"


def test_base_class_can_be_raised() -> None:
    """The abstract bases can be instantiated, with status -1 and an empty reason."""
    exc = HTTPException()
    assert exc.status == -1
    assert exc.reason == ""


def test_repr_names_class_status_and_reason() -> None:
    """repr() shows the class, the status and the reason."""
    assert repr(HTTPNotFound()) == "<HTTPNotFound 404: Not Found>"


def test_pickle_round_trip() -> None:
    """An exception survives pickling with its status, headers, body, cookies and extras."""
    exc = HTTPFound("/next", headers={"X-A": "1"})
    exc.set_cookie("session", "abc", httponly=True, partitioned=True)
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is HTTPFound
    assert clone.args == exc.args
    assert clone.location == "/next"
    assert clone.headers == exc.headers
    assert clone.body == exc.body
    assert clone.cookies.header_values() == exc.cookies.header_values()


def test_http_exception_marker() -> None:
    """Classes carry __http_exception__ = True, so frameworks can duck-type them."""
    assert HTTPOk.__http_exception__ is True


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    """Any str given as text comes back from .text and is UTF-8 in .body."""
    exc = HTTPBadRequest(text=text)
    assert exc.text == text
    assert exc.body == text.encode("utf-8")


@given(st.sampled_from(sorted(STATUS_CODES)))
def test_body_present_unless_empty_status(status: int) -> None:
    """Each status has a body exactly when it is not an empty-body status."""
    exc = make(STATUS_CODES[status])
    assert (exc.body is None) is (status in EMPTY_BODY)
