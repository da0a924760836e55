"""request.cookies: each Cookie pair judged alone, so one bad pair never costs the others."""

from __future__ import annotations

import logging

import pytest
from aiohttp._cookie_helpers import parse_cookie_header as aiohttp_parse
from hypothesis import given
from hypothesis import strategies as st
from web_core_support import get, make_request

from weft.web_core._request_cookies import parse_cookie_header


def aiohttp_cookies(header: str) -> dict[str, str]:
    """What aiohttp 3.14's request.cookies maps the header to."""
    return {name: morsel.value for name, morsel in aiohttp_parse(header)}


# Headers on which weft gives aiohttp's answer.
AS_AIOHTTP = [
    ("a=1", {"a": "1"}),
    ("a=1;b=2", {"a": "1", "b": "2"}),
    (" a = 1 ; b=2 ", {"a": "1", "b": "2"}),
    ('a="x;y"; b=2', {"a": "x;y", "b": "2"}),  # a quoted ";" belongs to the value
    ('a="q\\"z"; c=3', {"a": 'q"z', "c": "3"}),
    ('a="\\073"', {"a": ";"}),  # http.cookies' octal escape, as set_cookie quotes
    ("flag; a=1", {"flag": "", "a": "1"}),
    ("a=; b=2", {"a": "", "b": "2"}),
    ("=x; a=1", {"a": "1"}),
    ("a=1;;b=2", {"a": "1", "b": "2"}),
    ("a=b=c", {"a": "b=c"}),
    ("path=/; secure=1; a=2", {"path": "/", "secure": "1", "a": "2"}),  # no attributes here
    ('a="unclosed; b=2', {"a": '"unclosed', "b": "2"}),
    ("a=1; a=2", {"a": "2"}),
    ("é=1; b=2", {"b": "2"}),
    ("a=é", {"a": "é"}),
    ("[x]=1; {y}=2", {"[x]": "1", "{y}": "2"}),
    ("$Version=1; a=1", {"$Version": "1", "a": "1"}),
    (
        "expires=Wed, 09 Jun 2021 10:18:14 GMT; b=2",
        {"expires": "Wed, 09 Jun 2021 10:18:14 GMT", "b": "2"},
    ),
    ("", {}),
    (" ; ", {}),
]

# Malformed headers read differently on purpose (web-core README, "Differences"):
# aiohttp's tokenizer splits a pair at blanks and commas, inventing cookies
# ("bad name=2" gives bad="" and name="2"); weft skips the bad pair whole and
# splits only at ";", the one separator RFC 6265 §4.2.1 has.
DIFFERENT = [
    ("a=1; bad name=2; good=3", {"a": "1", "good": "3"}),
    ("a=1 2; b=3", {"a": "1 2", "b": "3"}),
    ("a=1, b=2", {"a": "1, b=2"}),
]


@pytest.mark.parametrize(("header", "expected"), AS_AIOHTTP)
def test_as_aiohttp(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected
    assert aiohttp_cookies(header) == expected


@pytest.mark.parametrize(("header", "expected"), DIFFERENT)
def test_documented_differences(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected
    assert aiohttp_cookies(header) != expected


@pytest.mark.asyncio
async def test_a_bad_pair_keeps_the_others() -> None:
    """A cookie planted with an invalid name does not log the user out of the rest."""
    request, _ = make_request(get("/", "Cookie: session=s3cret; bad name=x; theme=dark"))
    assert dict(request.cookies) == {"session": "s3cret", "theme": "dark"}


@pytest.mark.asyncio
async def test_many_bad_names_log_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """500 invalid names are one DEBUG record per request, naming the count and the first."""
    header = "; ".join(f"bad name{i}=x" for i in range(500)) + "; ok=1"
    request, _ = make_request(get("/", f"Cookie: {header}"))
    with caplog.at_level(logging.DEBUG, logger="weft.web"):
        assert dict(request.cookies) == {"ok": "1"}
        assert dict(request.cookies) == {"ok": "1"}  # cached: no second parse, no second line
    records = [r for r in caplog.records if r.name == "weft.web"]
    assert len(records) == 1
    assert "500" in records[0].getMessage()
    assert "'bad name0'" in records[0].getMessage()


_NAME_CHARS = (
    "!#$%&'()*+-./0123456789:<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
)
# RFC 6265 §4.2.1 cookie-octet: no CTL, blank, DQUOTE, comma, semicolon or backslash.
_VALUE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
names = st.text(_NAME_CHARS, min_size=1, max_size=12)
values = st.text(_VALUE_CHARS, max_size=16)
bad_names = st.builds(lambda a, b: f"{a} {b}", names, names) | st.text("éü€", min_size=1)


@given(st.lists(st.tuples(names, values), max_size=6))
def test_well_formed_headers_read_as_aiohttp_reads_them(pairs: list[tuple[str, str]]) -> None:
    header = "; ".join(f"{name}={value}" for name, value in pairs)
    assert parse_cookie_header(header) == aiohttp_cookies(header) == dict(pairs)


@given(
    st.lists(
        st.tuples(names, values).map(lambda p: (True, *p))
        | st.tuples(bad_names, values).map(lambda p: (False, *p)),
        max_size=8,
    )
)
def test_bad_pairs_anywhere_never_cost_a_good_one(pairs: list[tuple[bool, str, str]]) -> None:
    header = "; ".join(f"{name}={value}" for _, name, value in pairs)
    good = {name: value for ok, name, value in pairs if ok}
    assert parse_cookie_header(header) == good


@given(st.text())
def test_any_text_parses_without_error(header: str) -> None:
    cookies = parse_cookie_header(header)
    assert all(name and ";" not in name and "=" not in name for name in cookies)
