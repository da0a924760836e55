"""Parsing the Forwarded header (RFC 7239) into one mapping per proxy hop."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from ._token import TCHAR

__all__ = ["parse_forwarded"]

# RFC 7230 token and quoted-string (with quoted-pair), as RFC 7239 §4 uses them.
_TOKEN = rf"[{TCHAR}]+"
_QUOTED = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t !-~\x80-\xff])*"'
_PAIR = re.compile(rf"[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})[ \t]*")
_UNQUOTE = re.compile(r"\\([\t !-~\x80-\xff])")


def parse_forwarded(values: Iterable[str]) -> tuple[MappingProxyType[str, str], ...]:
    """``for=1.2.3.4;proto=https, for=5.6.7.8`` -> one read-only mapping per element.

    Parameter names are lower-cased and quoted values unquoted; the first of
    a repeated name wins. A malformed pair ends its element (keeping the pairs
    before it) and parsing resumes after the next ``,``, so one bad proxy does
    not hide the others. Results match aiohttp's ``request.forwarded``.
    """
    hops: list[MappingProxyType[str, str]] = []
    for value in values:
        pos, length = 0, len(value)
        while True:
            element: dict[str, str] = {}
            while pos < length:
                match = _PAIR.match(value, pos)
                if match is None:
                    break
                name, raw = match.group(1).lower(), match.group(2)
                if raw.startswith('"'):
                    raw = _UNQUOTE.sub(r"\1", raw[1:-1])
                element.setdefault(name, raw)
                pos = match.end()
                if pos >= length or value[pos] != ";":
                    break
                pos += 1
            hops.append(MappingProxyType(element))
            comma = value.find(",", pos)
            if comma == -1:
                break
            pos = comma + 1
    return tuple(hops)
