"""Parsing the Forwarded header (RFC 7239) into one mapping per proxy hop."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from ._token import TCHAR

__all__ = ["parse_forwarded"]

# RFC 7230 token and quoted-string (with quoted-pair), as RFC 7239 §4 uses them;
# aiohttp also takes a port after an unquoted value (``for=1.2.3.4:1234``).
_TOKEN = rf"[{TCHAR}]+"
_QUOTED = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t !-~\x80-\xff])*"'
_PAIR = re.compile(rf"({_TOKEN})=({_TOKEN}|{_QUOTED})(:[0-9]{{1,4}})?")
_UNQUOTE = re.compile(r"\\([\t !-~\x80-\xff])")


def parse_forwarded(values: Iterable[str]) -> tuple[MappingProxyType[str, str], ...]:
    """``for=1.2.3.4;proto=https, for=5.6.7.8`` -> one read-only mapping per element.

    As aiohttp's ``request.forwarded``: parameter names are lower-cased and
    quoted values unquoted; of a repeated name the last wins; blanks around
    ``;`` and ``,`` and empty pairs are passed over; a malformed pair (or a
    pair not after a ``;``) ends its element, keeping the pairs before it,
    and reading resumes at the next ``,``, so one bad proxy hides no other.
    """
    hops: list[MappingProxyType[str, str]] = []
    for value in values:
        element: dict[str, str] = {}
        hops.append(MappingProxyType(element))
        pos, length = 0, len(value)
        after_pair = False  # a pair was just read: only a separator may follow
        while 0 <= pos < length:
            char = value[pos]
            if char == ",":
                element = {}
                hops.append(MappingProxyType(element))
                after_pair = False
                pos += 1
            elif char == ";":
                after_pair = False
                pos += 1
            elif char in " \t":
                pos += 1
            else:
                match = None if after_pair else _PAIR.match(value, pos)
                if match is None:
                    pos = value.find(",", pos)  # -1 at the end: the loop stops
                    continue
                name, raw, port = match.groups()
                if raw.startswith('"'):
                    raw = _UNQUOTE.sub(r"\1", raw[1:-1])
                element[name.lower()] = raw + (port or "")
                pos = match.end()
                after_pair = True
    return tuple(hops)
