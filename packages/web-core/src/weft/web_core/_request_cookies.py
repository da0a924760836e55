"""The Cookie request header (RFC 6265 §4.2) read pair by pair, a bad pair skipped.

One malformed pair must not cost the others: a cookie planted by a sibling
subdomain with a name the parser refuses would otherwise log the user out of
every session cookie sent beside it. So the header is cut at each ``;`` (a
``;`` inside a quoted value included in that value), and each pair is judged
alone:

- the name is what precedes the first ``=``, trimmed of spaces and tabs; it
  must be 1 or more visible ASCII characters other than ``"``, ``,``, ``;``,
  ``\\`` and ``=`` (RFC 6265's token, widened as browsers and aiohttp widen
  it to ``()/:<>?@[]{}`` seen in real cookies); otherwise the pair is skipped;
- the value is the rest, trimmed; a value in double quotes is unquoted the way
  ``http.cookies`` quotes (backslash escapes and ``\\ooo`` octal escapes);
- a pair without ``=`` is a name with an empty value, as aiohttp reads it;
- a name sent twice keeps its last value, as aiohttp's mapping does.

Skipped names are logged once per header at DEBUG, however many there are:
a header of 500 bad names is one log line, not 500.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["parse_cookie_header"]

_logger: Final = logging.getLogger("weft.web")

# A pair: a name up to "=" or ";", then an optional value: a quoted string
# (which may hold ";") when nothing but blanks follows it, or the run to ";".
_PAIR: Final = re.compile(
    r'[ \t]*+([^=;]*)(?:=[ \t]*+("(?:[^"\\]|\\.)*+"(?=[ \t]*+(?:;|$))|[^;]*))?(?:;|$)',
    re.DOTALL,
)
_NAME: Final = re.compile(r"[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+")
_ESCAPE: Final = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _unescape(match: re.Match[str]) -> str:
    octal, char = match.groups()
    return chr(int(octal, 8)) if octal else char


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _ESCAPE.sub(_unescape, value[1:-1])
    return value


def parse_cookie_header(header: str) -> dict[str, str]:
    """Name -> value for every well-formed pair of a Cookie header's value."""
    cookies: dict[str, str] = {}
    skipped = 0
    first_skipped = ""
    position, end = 0, len(header)
    while position < end:
        match = _PAIR.match(header, position)
        assert match is not None  # every group may be empty and ";" or the end follows
        position = match.end()
        name = match.group(1).rstrip(" \t")
        value = match.group(2)
        if not name and value is None:
            continue  # an empty element: ";;" or trailing blanks
        if _NAME.fullmatch(name) is None:
            if not skipped:
                first_skipped = name
            skipped += 1
            continue
        cookies[name] = "" if value is None else _unquote(value.rstrip(" \t"))
    if skipped:
        _logger.debug(
            "Cookie header: %d pair(s) with an invalid name skipped, the first %r",
            skipped,
            first_skipped[:64],
        )
    return cookies
