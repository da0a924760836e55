"""Writing heads and chunked bodies.

The serializer trusts nothing it is given: a field name must be a token, and
no value, reason or request-target may contain a control character (RFC 9110
§5.5: CTL is 0x00-0x1F and 0x7F) other than HTAB in a value or reason. CR,
LF or NUL would let a value end its line early and smuggle a field (or a
whole response) of someone else's choosing into the message; the other CTLs
are invalid field content that recipients refuse or handle differently
(aiohttp refuses them too, its #12689). Such input raises
HeaderInjectionError, a ValueError naming the header; nothing is silently
stripped.

A server sends the same few lines again and again (``Server``, the
``Content-Type`` of its handlers, the ``Date`` of the current second, the
usual lengths), so each field line is checked and encoded once and its bytes
are remembered under its (name, value): a later head with the same field
costs a dict lookup, and the head is the join of those bytes. Only lines that
passed the check are remembered, the key is the exact text of the name and
the value (``str`` and multidict's ``istr``, whose equality is the text's; a
value of another type is checked every time), and a line is only ever served
for an equal key, so a value that differs by one character is a miss and is
checked. The table is bounded (``_LINES_MAX`` entries of at most
``_LINE_VALUE_MAX`` characters; it is emptied when full, so a ``Date`` that
changes every second, or values an application makes unique per response,
cannot grow it). Status lines of registered statuses with their own phrase
are built once at import (``_status``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, cast

from multidict import istr

from ._errors import HeaderInjectionError
from ._status import REASON_PHRASES, STATUS_LINES_10, STATUS_LINES_11, reason_phrase
from ._token import TOKEN_STR
from ._types import HttpVersion, HttpVersion10, HttpVersion11

__all__ = [
    "check_field",
    "check_reason",
    "chunk_header",
    "encode_chunk",
    "encode_last_chunk",
    "serialize_request_head",
    "serialize_response_head",
]

_TARGET: Final = re.compile(r"[^\x00-\x20\x7f]+")
#: RFC 9110's CTL but HTAB: never in a value, a reason or a target.
_FORBIDDEN: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_GOOD_NAMES: Final[set[str]] = set()
_GOOD_NAMES_MAX: Final = 4096

#: Field lines checked and encoded, by (name, value): b"Server: weft\r\n".
_LINES: Final[dict[object, bytes]] = {}
_ISTR: Final = istr
#: Entries before the table is emptied (a Date a second: about 17 minutes
#: of an idle server's Dates if nothing else came).
_LINES_MAX: Final = 1024
#: A longer value is checked and encoded each time, never remembered.
_LINE_VALUE_MAX: Final = 512


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"header name must be a str, not {type(name).__name__}")
    if TOKEN_STR.fullmatch(name) is None:
        raise HeaderInjectionError(
            f"invalid header name {name!r}: a name must be a non-empty token "
            "(letters, digits and !#$%&'*+-.^_`|~, RFC 9110 §5.1)"
        )
    if len(_GOOD_NAMES) < _GOOD_NAMES_MAX:
        _GOOD_NAMES.add(name)


def _field_line(field: object) -> bytes:
    """``name: value`` and its CRLF, encoded, once checked; remembered when it may be.

    The check is over the line's own text (name included), so what is sent
    is what was checked, whatever ``name`` compared equal to.
    """
    name, value = cast("tuple[str, str]", field)
    if name not in _GOOD_NAMES:
        _check_name(name)
    text = f"{name}: {value}\r\n"
    if _FORBIDDEN.search(text, 0, len(text) - 2) is not None:
        check_field(name, value)  # raises, naming the header
        raise HeaderInjectionError(f"invalid header line {text!r}")  # pragma: no cover
    line = text.encode("utf-8")
    # Only a tuple of a str (or istr) and a str is remembered: their equality
    # is the text's, so a lookup hits only a line of the same name and value.
    if (
        type(field) is tuple
        and type(value) is str
        and (type(name) is str or type(name) is _ISTR)
        and len(value) <= _LINE_VALUE_MAX
    ):
        if len(_LINES) >= _LINES_MAX:
            _LINES.clear()
        _LINES[field] = line
    return line


def _head(fields: Iterable[tuple[str, str]], first: bytes) -> bytes:
    """``first`` (a checked start line, or b""), the field lines and the empty line."""
    out = [first]
    lines = _LINES
    items: Iterable[object] = fields  # each (name, value) tuple is its own key
    for field in items:
        line = lines.get(field) if type(field) is tuple else None
        if line is None:
            line = _field_line(field)
        out.append(line)
    out.append(b"\r\n")
    return b"".join(out)


def check_field(name: str, value: str) -> None:
    """Raise HeaderInjectionError unless ``name: value`` may be sent as it is.

    The serializers check a whole head at once; this is the same check for one
    field, so that a framework can refuse a bad value where its user sets it
    rather than only when the head is written.
    """
    if name not in _GOOD_NAMES:
        _check_name(name)
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        raise HeaderInjectionError(
            f"the value of header {name!r} contains the control character "
            f"0x{ord(bad[0]):02x}: {value!r}; only HTAB is allowed (RFC 9110 §5.5): "
            "encode the value before sending"
        )


def check_reason(reason: str) -> None:
    """Raise HeaderInjectionError unless ``reason`` may be sent as a reason phrase."""
    bad = _FORBIDDEN.search(reason)
    if bad is not None:
        raise HeaderInjectionError(
            f"the reason phrase contains the control character 0x{ord(bad[0]):02x}: "
            f"{reason!r}; a reason must be a single line without control characters"
        )


def serialize_response_head(
    status: int,
    reason: str | None,
    headers: Iterable[tuple[str, str]],
    version: HttpVersion = HttpVersion11,
) -> bytes:
    """The status line and field section, ending with the empty line.

    >>> serialize_response_head(200, None, [("Content-Length", "2")])
    b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n'

    ``reason=None`` uses the registered phrase. Raises HeaderInjectionError
    (a ValueError) when a name is not a token or a value or the reason holds
    a control character other than HTAB, and ValueError when ``status`` is
    not in 100..999.
    """
    phrase = REASON_PHRASES.get(status)
    if phrase is not None and (reason is None or reason == phrase):
        # A registered status with its own phrase: the status line built at import.
        if version is HttpVersion11 or version == HttpVersion11:
            return _head(headers, STATUS_LINES_11[status])
        if version == HttpVersion10:
            return _head(headers, STATUS_LINES_10[status])
    if reason is None:
        reason = reason_phrase(status)
    elif not 100 <= status <= 999:
        raise ValueError(f"status {status} is not a three-digit code (100..999)")
    major, minor = version
    return _head(headers, _start_line(f"HTTP/{major}.{minor} {status} {reason}"))


def _start_line(text: str) -> bytes:
    """``text`` and its CRLF, encoded, once checked to hold no control character but HTAB."""
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise HeaderInjectionError(
            f"the start line contains the control character 0x{ord(bad[0]):02x}: {text!r}; "
            "a reason or target must be a single line without control characters"
        )
    return f"{text}\r\n".encode()


def serialize_request_head(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    version: HttpVersion = HttpVersion11,
) -> bytes:
    """The request-line and field section, ending with the empty line.

    >>> serialize_request_head("GET", "/", [("Host", "example.com")])
    b'GET / HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n'
    """
    if TOKEN_STR.fullmatch(method) is None:
        raise HeaderInjectionError(f"invalid method {method!r}: a method must be a token")
    if _TARGET.fullmatch(target) is None:
        raise HeaderInjectionError(
            f"invalid request-target {target!r}: it must be non-empty and hold no "
            "whitespace or control characters (percent-encode them)"
        )
    return _head(headers, _start_line(f"{method} {target} HTTP/{version.major}.{version.minor}"))


def chunk_header(size: int) -> bytes:
    """The line that starts a chunk of ``size`` bytes: ``chunk_header(255) == b"ff\\r\\n"``.

    For writers that send a large chunk's data as it is (header, data, then
    ``b"\\r\\n"``) instead of copying it into one ``encode_chunk`` buffer.
    """
    if size <= 0:
        raise ValueError(f"a chunk has at least one byte, not {size}: use encode_last_chunk")
    return b"%x\r\n" % size


def encode_chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body: ``encode_chunk(b"hi") == b"2\\r\\nhi\\r\\n"``.

    Empty data gives ``b""``: a zero-size chunk would end the body (use
    encode_last_chunk for that).
    """
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


def encode_last_chunk(trailers: Iterable[tuple[str, str]] | None = None) -> bytes:
    """The last chunk and trailer section that end a chunked body.

    >>> encode_last_chunk()
    b'0\\r\\n\\r\\n'
    >>> encode_last_chunk([("Digest", "x")])
    b'0\\r\\nDigest: x\\r\\n\\r\\n'
    """
    if trailers is None:
        return b"0\r\n\r\n"
    return _head(trailers, b"0\r\n")
