"""Cookies: ResponseCookies.set_cookie / del_cookie and the Set-Cookie header values."""

from __future__ import annotations

import string
from http.cookies import CookieError, Morsel, SimpleCookie

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.web_exceptions import HTTPFound, ResponseCookies, cookie_headers

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def test_set_cookie_defaults() -> None:
    """A plain cookie gets Path=/ and nothing else."""
    jar = ResponseCookies()
    jar.set_cookie("name", "value")
    assert jar.header_values() == ["name=value; Path=/"]


def test_set_cookie_all_attributes() -> None:
    """Every attribute is written, flags without a value."""
    jar = ResponseCookies()
    jar.set_cookie(
        "sid",
        "abc",
        expires="Wed, 21 Oct 2065 07:28:00 GMT",
        domain="example.com",
        max_age=3600,
        path="/app",
        secure=True,
        httponly=True,
        samesite="Strict",
        partitioned=True,
    )
    assert jar.header_values() == [
        "sid=abc; Domain=example.com; expires=Wed, 21 Oct 2065 07:28:00 GMT; HttpOnly; "
        "Max-Age=3600; Partitioned; Path=/app; SameSite=Strict; Secure"
    ]


def test_set_cookie_version() -> None:
    """The legacy version attribute is still accepted, as in aiohttp."""
    jar = ResponseCookies()
    jar.set_cookie("a", "b", version="1")
    assert jar["a"]["version"] == "1"


def test_set_cookie_updates_existing() -> None:
    """Setting a cookie again updates its value and keeps attributes left as None."""
    jar = ResponseCookies()
    jar.set_cookie("a", "1", domain="example.com", secure=True, max_age=10)
    jar.set_cookie("a", "2")
    assert jar["a"].value == "2"
    assert jar["a"]["domain"] == "example.com"
    assert jar["a"]["secure"] is True
    assert jar["a"]["max-age"] == ""  # max_age=None drops it, as in aiohttp


def test_set_after_delete_drops_epoch_expiry() -> None:
    """Setting a deleted cookie again removes the epoch expiry del_cookie left."""
    jar = ResponseCookies()
    jar.del_cookie("a")
    jar.set_cookie("a", "back")
    assert jar.header_values() == ["a=back; Path=/"]


def test_del_cookie() -> None:
    """del_cookie sends an empty value that expired at the epoch with Max-Age=0."""
    jar = ResponseCookies()
    jar.set_cookie("a", "1", httponly=True)
    jar.del_cookie("a", domain="example.com", path="/p", secure=True, samesite="Lax")
    assert jar.header_values() == [
        f'a=""; Domain=example.com; expires={EPOCH}; Max-Age=0; Path=/p; SameSite=Lax; Secure'
    ]


def test_value_needing_quotes_is_quoted() -> None:
    """A value with spaces or ';' is quoted, so it cannot add attributes."""
    jar = ResponseCookies()
    jar.set_cookie("a", "x; Secure")
    assert jar.header_values() == ['a="x\\073 Secure"; Path=/']


def test_illegal_name_is_rejected() -> None:
    """A cookie name with a space or ';' raises CookieError."""
    jar = ResponseCookies()
    with pytest.raises(CookieError):
        jar.set_cookie("bad name", "v")


@pytest.mark.parametrize("name", ["Path", "SameSite", "partitioned"])
def test_attribute_name_as_cookie_name_is_rejected(name: str) -> None:
    """A cookie named like an attribute (Partitioned included) raises CookieError."""
    jar = ResponseCookies()
    with pytest.raises(CookieError, match="reserved"):
        jar.set_cookie(name, "v")


@pytest.mark.parametrize("attribute", ["domain", "path", "samesite", "expires"])
@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a; Secure", "a\x00"])
def test_unsafe_attribute_is_rejected(attribute: str, bad: str) -> None:
    """An attribute value with a control character or ';' raises ValueError."""
    jar = ResponseCookies()
    with pytest.raises(ValueError, match="control characters"):
        jar.set_cookie("a", "b", **{attribute: bad})  # type: ignore[arg-type]


def test_order_is_insertion_order() -> None:
    """Header values come out in the order the cookies were first set."""
    jar = ResponseCookies()
    jar.set_cookie("b", "1")
    jar.set_cookie("a", "2")
    assert [v.split("=")[0] for v in jar.header_values()] == ["b", "a"]


def test_jar_is_a_simple_cookie() -> None:
    """ResponseCookies is a SimpleCookie whose items are Morsels (aiohttp's cookies type)."""
    jar = ResponseCookies()
    jar["x"] = "1"
    assert isinstance(jar, SimpleCookie)
    assert isinstance(jar["x"], Morsel)


def test_load_keeps_partitioned_support() -> None:
    """Cookies loaded from a string accept the Partitioned flag too."""
    jar = ResponseCookies()
    jar.load("a=1; Path=/x")
    jar.set_cookie("a", "2", partitioned=True)
    assert jar.header_values() == ["a=2; Partitioned; Path=/"]


def test_plain_morsel_is_upgraded_and_keeps_attributes() -> None:
    """A plain Morsel stored directly keeps its attributes when set_cookie updates it."""
    plain: Morsel[str] = Morsel()
    plain.set("a", "1", "1")
    plain["domain"] = "example.com"
    jar = ResponseCookies()
    jar["a"] = plain
    jar.set_cookie("a", "2", partitioned=True)
    assert jar.header_values() == ["a=2; Domain=example.com; Partitioned; Path=/"]


def test_morsel_copy_keeps_partitioned() -> None:
    """Copying a morsel keeps the Partitioned flag."""
    jar = ResponseCookies()
    jar.set_cookie("a", "1", partitioned=True)
    assert "Partitioned" in jar["a"].copy().OutputString()


def test_cookie_headers_on_plain_simple_cookie() -> None:
    """cookie_headers works on any SimpleCookie."""
    plain = SimpleCookie()
    plain["k"] = "v"
    plain["k"]["httponly"] = True
    assert cookie_headers(plain) == ["k=v; HttpOnly"]


def test_exception_cookies() -> None:
    """An exception sets and deletes cookies through .set_cookie/.del_cookie into .cookies."""
    exc = HTTPFound("/home")
    exc.set_cookie("session", "token", httponly=True, samesite="Lax", max_age=60)
    exc.del_cookie("old")
    assert isinstance(exc.cookies, ResponseCookies)
    assert exc.cookies.header_values() == [
        "session=token; HttpOnly; Max-Age=60; Path=/; SameSite=Lax",
        f'old=""; expires={EPOCH}; Max-Age=0; Path=/',
    ]


def test_exception_without_cookies_has_empty_jar() -> None:
    """An exception that set no cookie has an empty jar."""
    assert HTTPFound("/").cookies.header_values() == []


RESERVED = {"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version"}
RESERVED |= {"samesite", "partitioned"}
# Legal cookie names, without "$" (load() reserves it) and without attribute names.
COOKIE_NAME = st.text(
    alphabet=string.ascii_letters + string.digits + "!#%&'*+-.^_`|~", min_size=1
).filter(lambda name: name.lower() not in RESERVED)


@given(name=COOKIE_NAME, value=st.text(alphabet=st.characters(codec="latin-1")))
def test_set_cookie_header_round_trips(name: str, value: str) -> None:
    """Any legal name and latin-1 value parse back from the Set-Cookie value unchanged."""
    jar = ResponseCookies()
    jar.set_cookie(name, value)
    (header,) = jar.header_values()
    assert "\r" not in header
    assert "\n" not in header
    parsed = SimpleCookie()
    parsed.load(header)
    assert parsed[name].value == value


@given(path=st.text())
def test_path_never_breaks_the_header(path: str) -> None:
    """Any path is either rejected with ValueError or written without CR, LF or extra ';'."""
    jar = ResponseCookies()
    try:
        jar.set_cookie("a", "b", path=path)
    except ValueError:
        return
    (header,) = jar.header_values()
    assert header.count(";") == (1 if path else 0)
    assert "\n" not in header
    assert "\r" not in header


def test_set_cookie_headers_without_and_with_cookies() -> None:
    """set_cookie_headers() is empty without cookies and lists each Set-Cookie value."""
    from weft.web_exceptions import HTTPFound

    exc = HTTPFound("/home")
    assert exc.set_cookie_headers() == []
    exc.set_cookie("session", "abc", httponly=True)
    values = exc.set_cookie_headers()
    assert len(values) == 1
    assert values[0].startswith("session=abc")
    assert "HttpOnly" in values[0]
