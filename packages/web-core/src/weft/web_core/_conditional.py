"""Conditional-request helpers: entity tags, HTTP dates and the Range header.

``ETag`` is aiohttp.helpers' ``ETag(value, is_weak=False)``; the parsing
functions back ``BaseRequest.if_match`` / ``if_none_match`` /
``if_modified_since`` / ``if_unmodified_since`` / ``if_range`` / ``http_range``
and ``StreamResponse.etag`` / ``last_modified`` (RFC 9110 §8.8, §13, §14).
"""

from __future__ import annotations

import datetime
import math
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_tz
from typing import Final

__all__ = [
    "ETAG_ANY",
    "ETag",
    "format_etag",
    "format_http_date",
    "parse_etag",
    "parse_etag_list",
    "parse_http_date",
    "parse_range",
    "validate_etag_value",
]

#: ``If-Match: *`` / ``If-None-Match: *`` — any current representation.
ETAG_ANY: Final = "*"


@dataclass(frozen=True, slots=True)
class ETag:
    """An entity tag (RFC 9110 §8.8.3): its opaque value and whether it is weak."""

    value: str
    is_weak: bool = False


# RFC 9110 §8.8.3: etagc = "!" / %x23-7E / obs-text
_ETAGC: Final = r"[!\x23-\x7E\x80-\xff]+"
_ETAGC_RE: Final = re.compile(_ETAGC)
_QUOTED_ETAG: Final = rf'(W/)?"({_ETAGC})"'
_QUOTED_ETAG_RE: Final = re.compile(_QUOTED_ETAG)
# One entity tag of a list, then a comma or the end; anything else stops the list.
_LIST_QUOTED_ETAG_RE: Final = re.compile(rf"({_QUOTED_ETAG})(?:\s*,\s*|$)|(.)")


def validate_etag_value(value: str) -> None:
    """Raise ValueError unless ``value`` may go between an entity tag's quotes."""
    if value != ETAG_ANY and not _ETAGC_RE.fullmatch(value):
        raise ValueError(f"Value {value!r} is not a valid etag. Maybe it contains '\"'?")


def format_etag(value: ETag | str) -> str:
    """The ETag header value: ``"v"``, ``W/"v"`` or ``*``."""
    if isinstance(value, str):
        value = ETag(value)
    # As aiohttp: an ETag whose value is not a str is refused like any other type.
    given: object = value  # typed ETag | str, but callers are not all typed
    if not isinstance(given, ETag) or not isinstance(given.value, str):
        raise ValueError(f"Unsupported etag type: {type(value)}. etag must be str, ETag or None")
    if value.value == ETAG_ANY:
        return ETAG_ANY
    validate_etag_value(value.value)
    return f'W/"{value.value}"' if value.is_weak else f'"{value.value}"'


def parse_etag(header: str | None) -> ETag | None:
    """One entity tag (an ETag response header); None when absent or malformed."""
    if not header:
        return None
    if header == ETAG_ANY:
        return ETag(ETAG_ANY)
    match = _QUOTED_ETAG_RE.fullmatch(header)
    if match is None:
        return None
    return ETag(value=match.group(2), is_weak=bool(match.group(1)))


def parse_etag_list(header: str | None) -> tuple[ETag, ...] | None:
    """An If-Match / If-None-Match list; None when the header is absent or empty.

    As aiohttp: ``*`` alone is ``(ETag("*"),)``; parsing stops at the first
    malformed member, keeping the tags before it.
    """
    if not header:
        return None
    if header == ETAG_ANY:
        return (ETag(ETAG_ANY),)
    tags: list[ETag] = []
    for match in _LIST_QUOTED_ETAG_RE.finditer(header):
        is_weak, value, garbage = match.group(2, 3, 4)
        if garbage:
            break
        tags.append(ETag(value=value, is_weak=bool(is_weak)))
    return tuple(tags)


# -- HTTP dates (RFC 9110 §5.6.7)

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_TIME: Final = r"(\d\d):(\d\d):(\d\d)"
# IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE: Final = re.compile(
    rf"[A-Za-z]{{3}}, (\d\d) ([A-Za-z]{{3}}) (\d{{4}}) {_TIME} GMT", re.ASCII
)
# obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850: Final = re.compile(
    rf"[A-Za-z]{{6,9}}, (\d\d)-([A-Za-z]{{3}})-(\d\d) {_TIME} GMT", re.ASCII
)
# obsolete asctime: Sun Nov  6 08:49:37 1994
_ASCTIME: Final = re.compile(
    rf"[A-Za-z]{{3}} ([A-Za-z]{{3}}) ([ \d]\d) {_TIME} (\d{{4}})", re.ASCII
)
_UTC: Final = datetime.UTC


def _build(year: int, month: str, day: str, hh: str, mm: str, ss: str) -> datetime.datetime | None:
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return datetime.datetime(year, number, int(day), int(hh), int(mm), int(ss), tzinfo=_UTC)
    except ValueError:  # 31 Feb, 25:00:00, ...
        return None


def _rfc850_year(two_digits: int) -> int:
    """RFC 9110 §5.6.7: a year more than 50 years ahead is in the past century."""
    this_year = datetime.datetime.now(_UTC).year
    year = this_year - this_year % 100 + two_digits
    if year > this_year + 50:
        year -= 100
    return year


def parse_http_date(value: str | None) -> datetime.datetime | None:
    """An HTTP-date as an aware UTC datetime; None when absent or not a date.

    The three forms of RFC 9110 §5.6.7 (IMF-fixdate and the obsolete RFC 850
    and asctime forms) are parsed exactly; other RFC 5322 dates that aiohttp
    accepts (a numeric zone, no weekday) are parsed leniently, with the zone
    applied.
    """
    if not value:
        return None
    value = value.strip()
    if match := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hh, mm, ss = match.groups()
        return _build(int(year), month, day, hh, mm, ss)
    if match := _RFC850.fullmatch(value):
        day, month, year, hh, mm, ss = match.groups()
        return _build(_rfc850_year(int(year)), month, day, hh, mm, ss)
    if match := _ASCTIME.fullmatch(value):
        month, day, hh, mm, ss, year = match.groups()
        return _build(int(year), month, day.strip(), hh, mm, ss)
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        moment = datetime.datetime(*parsed[:6], tzinfo=_UTC)
    except ValueError:
        return None
    offset = parsed[9] or 0
    try:
        return moment - datetime.timedelta(seconds=offset)
    except OverflowError:
        return None


def format_http_date(value: float | datetime.datetime) -> str:
    """An IMF-fixdate, rounding up to the next whole second as aiohttp does.

    Rounding up keeps ``Last-Modified`` at or after the real modification
    time, so an ``If-Modified-Since`` echoing it is never mistaken for older.
    """
    if isinstance(value, datetime.datetime):
        if value.microsecond:
            value = value.replace(microsecond=0) + datetime.timedelta(seconds=1)
        return time.strftime("%a, %d %b %Y %H:%M:%S GMT", value.utctimetuple())
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(math.ceil(value)))


# -- Range (RFC 9110 §14.2), aiohttp's single-range reading

_RANGE_RE: Final = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII | re.IGNORECASE)


def parse_range(header: str | None) -> slice:
    """The Range header as aiohttp's ``request.http_range``: a slice with step 1.

    ``bytes=0-499`` → ``slice(0, 500, 1)``; ``bytes=500-`` → ``slice(500, None, 1)``;
    ``bytes=-500`` (the last 500 bytes) → ``slice(-500, None, 1)``; no header →
    ``slice(None, None, 1)``. Anything else — another unit, several ranges,
    start after end — raises ValueError, as aiohttp does.
    """
    if header is None:
        return slice(None, None, 1)
    match = _RANGE_RE.match(header)
    if match is None:
        raise ValueError("range not in acceptable format")
    first, last = match.groups()
    start = int(first) if first else None
    end = int(last) if last else None
    if start is None and end is not None:
        # a suffix range: the last `end` bytes
        start, end = -end, None
    if start is not None and end is not None:
        end += 1  # inclusive in the header, exclusive in a slice
        if start >= end:
            raise ValueError("start cannot be after end")
    if start is None and end is None:
        raise ValueError("No start or end of range specified")
    return slice(start, end, 1)
