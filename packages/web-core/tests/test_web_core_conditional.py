"""Conditional requests: HTTP dates, entity tags, Range, and the request/response properties."""

from __future__ import annotations

import datetime

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from web_core_support import get, make_request

from weft.web_core import ETag, StreamResponse
from weft.web_core._conditional import (
    format_etag,
    format_http_date,
    parse_etag,
    parse_etag_list,
    parse_http_date,
    parse_range,
)

UTC = datetime.UTC
NOV_6_1994 = datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)

# -- HTTP dates


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime
        "  Sun, 06 Nov 1994 08:49:37 GMT  ",  # surrounding spaces
        "Sun, 06 Nov 1994 09:49:37 +0100",  # lenient: a numeric zone, applied
        "6 Nov 1994 08:49:37 GMT",  # lenient: no weekday
    ],
)
def test_http_date_forms(value: str) -> None:
    """The three RFC 9110 forms and aiohttp's lenient ones parse to the same aware UTC time."""
    assert parse_http_date(value) == NOV_6_1994


@pytest.mark.parametrize(
    "value",
    [None, "", "garbage", "1", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"],
)
def test_http_date_garbage_is_none(value: str | None) -> None:
    """An absent, malformed or impossible date is None, never an exception."""
    assert parse_http_date(value) is None


def test_rfc850_two_digit_year_is_not_far_future() -> None:
    """RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the past century."""
    this_year = datetime.datetime.now(UTC).year
    ahead = (this_year + 60) % 100
    parsed = parse_http_date(f"Monday, 01-Jan-{ahead:02d} 00:00:00 GMT")
    assert parsed is not None
    assert parsed.year == this_year + 60 - 100


def test_format_http_date_rounds_up() -> None:
    """Timestamps and datetimes format as IMF-fixdate, fractions rounded up (as aiohttp)."""
    assert format_http_date(NOV_6_1994.timestamp()) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_http_date(NOV_6_1994.timestamp() + 0.2) == "Sun, 06 Nov 1994 08:49:38 GMT"
    later = NOV_6_1994.replace(microsecond=1)
    assert format_http_date(later) == "Sun, 06 Nov 1994 08:49:38 GMT"


# -- entity tags


def test_etag_list_parsing() -> None:
    """If-Match lists: strong and weak tags, ``*``, and a stop at the first malformed member."""
    assert parse_etag_list('"a", W/"b" ,"c"') == (ETag("a"), ETag("b", is_weak=True), ETag("c"))
    assert parse_etag_list("*") == (ETag("*"),)
    assert parse_etag_list('"a", bogus, "c"') == (ETag("a"),)
    assert parse_etag_list("") is None
    assert parse_etag_list(None) is None


def test_single_etag_parsing() -> None:
    """An ETag header parses to one ETag; malformed is None."""
    assert parse_etag('W/"x"') == ETag("x", is_weak=True)
    assert parse_etag("*") == ETag("*")
    assert parse_etag("x") is None
    assert parse_etag(None) is None


def test_format_etag() -> None:
    """Strings are strong tags; ETag keeps its weakness; a quote in a value is refused."""
    assert format_etag("abc") == '"abc"'
    assert format_etag(ETag("abc", is_weak=True)) == 'W/"abc"'
    assert format_etag(ETag("*", is_weak=True)) == "*"
    with pytest.raises(ValueError, match="not a valid etag"):
        format_etag('a"b')


# -- Range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, slice(None, None, 1)),
        ("bytes=0-499", slice(0, 500, 1)),
        ("bytes=500-", slice(500, None, 1)),
        ("bytes=-500", slice(-500, None, 1)),
        ("BYTES=1-1", slice(1, 2, 1)),
    ],
)
def test_range_values(header: str | None, expected: slice) -> None:
    """Range headers become aiohttp's slices (end made exclusive)."""
    assert parse_range(header) == expected


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=-", "items=0-1", "bytes=0-1,3-4", ""])
def test_range_malformed_raises(header: str) -> None:
    """Another unit, several ranges, start after end, no numbers: ValueError as aiohttp."""
    with pytest.raises(ValueError, match=r"range|start"):
        parse_range(header)


# -- the request properties, beside aiohttp's own

PARITY_HEADERS = [
    {},
    {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"},
    {"If-Unmodified-Since": "Sunday, 06-Nov-94 08:49:37 GMT"},
    {"If-Range": "Sun Nov  6 08:49:37 1994"},
    {"If-Range": '"an-etag"'},
    {"If-Modified-Since": "not a date"},
    {"If-Match": '"a", W/"b"'},
    {"If-None-Match": "*"},
    {"If-None-Match": '"a", garbage'},
    {"Range": "bytes=10-20"},
    {"Range": "bytes=-5"},
]


@pytest.mark.asyncio
@pytest.mark.parametrize("headers", PARITY_HEADERS)
async def test_request_properties_match_aiohttp(headers: dict[str, str]) -> None:
    """if_modified_since, if_unmodified_since, if_range, if_match, if_none_match, http_range
    give what aiohttp's request gives for the same headers."""
    lines = [f"{name}: {value}" for name, value in headers.items()]
    ours, _ = make_request(get("/", *lines))
    theirs = make_mocked_request("GET", "/", headers=CIMultiDict(headers))
    for name in ("if_modified_since", "if_unmodified_since", "if_range"):
        assert getattr(ours, name) == getattr(theirs, name), name
    for name in ("if_match", "if_none_match"):
        ours_tags = getattr(ours, name)
        theirs_tags = getattr(theirs, name)
        if theirs_tags is None:
            assert ours_tags is None
        else:
            assert [(t.value, t.is_weak) for t in ours_tags] == [
                (t.value, t.is_weak) for t in theirs_tags
            ]
    assert ours.http_range == theirs.http_range


@pytest.mark.asyncio
async def test_request_malformed_range_raises() -> None:
    """request.http_range raises ValueError on a malformed header, as aiohttp's."""
    request, _ = make_request(get("/", "Range: bytes=9-3"))
    with pytest.raises(ValueError, match="start cannot be after end"):
        _ = request.http_range


@pytest.mark.asyncio
async def test_request_dates_are_aware_utc() -> None:
    """The conditional dates are timezone-aware UTC datetimes."""
    request, _ = make_request(get("/", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"))
    assert request.if_modified_since == NOV_6_1994
    assert request.if_modified_since is not None
    assert request.if_modified_since.tzinfo is UTC


# -- the response validators


def test_last_modified_setter_types() -> None:
    """last_modified takes a timestamp, a datetime, a string or None; other types are TypeError."""
    resp = StreamResponse()
    assert resp.last_modified is None
    resp.last_modified = NOV_6_1994.timestamp()
    assert resp.headers["Last-Modified"] == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert resp.last_modified == NOV_6_1994
    resp.last_modified = int(NOV_6_1994.timestamp())
    assert resp.last_modified == NOV_6_1994
    resp.last_modified = NOV_6_1994
    assert resp.last_modified == NOV_6_1994
    resp.last_modified = "Mon, 07 Nov 1994 08:49:37 GMT"
    assert resp.last_modified == NOV_6_1994 + datetime.timedelta(days=1)
    resp.last_modified = None
    assert "Last-Modified" not in resp.headers
    with pytest.raises(TypeError, match="last_modified"):
        resp.last_modified = [1]  # type: ignore[assignment]


def test_etag_setter_and_getter() -> None:
    """etag accepts str (strong), ETag (weak kept) and None; malformed headers read as None."""
    resp = StreamResponse()
    assert resp.etag is None
    resp.etag = "v1"
    assert resp.headers["ETag"] == '"v1"'
    assert resp.etag == ETag("v1")
    resp.etag = ETag("v2", is_weak=True)
    assert resp.headers["ETag"] == 'W/"v2"'
    assert resp.etag == ETag("v2", is_weak=True)
    resp.etag = "*"
    assert resp.headers["ETag"] == "*"
    resp.etag = None
    assert "ETag" not in resp.headers
    resp.headers["ETag"] = "unquoted"
    assert resp.etag is None
    with pytest.raises(ValueError, match="not a valid etag"):
        resp.etag = 'bad"value'
    with pytest.raises(ValueError, match="Unsupported etag type"):
        resp.etag = 42  # type: ignore[assignment]
