"""The chunk-size line of the chunked transfer coding (RFC 9112 §7.1).

::

    chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    chunk-size = 1*HEXDIG
    chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    chunk-ext-val = token / quoted-string

Extensions are checked against that grammar and then ignored (no extension is
defined); the parser bounds the whole line by ``max_chunk_line_size`` so
they cannot be used to make a server read unbounded metadata. A size has at
most 16 hex digits and must fit in 63 bits.
"""

from __future__ import annotations

import re
from typing import Final

from ._errors import BadRequest
from ._fields import TCHAR

__all__ = ["parse_chunk_size"]

_QUOTED: Final = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*+"'
_CHUNK_LINE: Final = re.compile(
    rb"([0-9A-Fa-f]++)(?:[ \t]*+;[ \t]*+[%s]++(?:[ \t]*+=[ \t]*+(?:[%s]++|%s))?+)*+"
    % (TCHAR, TCHAR, _QUOTED)
)
_HEX: Final = re.compile(rb"[0-9A-Fa-f]++")
_MAX_SIZE: Final = 2**63 - 1


def parse_chunk_size(buf: bytes, start: int, end: int) -> int:
    """The size in the chunk-size line ``buf[start:end]`` (without CRLF)."""
    match = _CHUNK_LINE.fullmatch(buf, start, end)
    if match is None:
        line = bytes(buf[start:end])
        if _HEX.match(line) is None:
            raise BadRequest(f"chunk size {line[:40]!r} is not hexadecimal (RFC 9112 §7.1)")
        raise BadRequest(f"invalid chunk extension in {line[:80]!r} (RFC 9112 §7.1.1)")
    digits = match[1]
    if len(digits) > 16:
        raise BadRequest(f"chunk size {digits[:40]!r} has more than 16 hex digits")
    size = int(digits, 16)
    if size > _MAX_SIZE:
        raise BadRequest(f"chunk size 0x{digits.decode()} does not fit in 63 bits")
    return size
