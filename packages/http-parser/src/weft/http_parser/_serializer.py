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

The check is done on the whole encoded head at once: a head of ``n`` lines
(the start line, the field lines, the empty line) has exactly ``n`` CRLFs of
its own and no other control byte, so deleting every byte that is not a CTL
(``bytes.translate``, a C loop) must leave exactly ``n`` CRLFs. UTF-8 encodes
every non-ASCII character to bytes 0x80-0xFF, so only the caller's ASCII
control characters can survive. Validated field names are remembered, since
a server sends the same few names again and again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from ._errors import HeaderInjectionError
from ._status import reason_phrase, status_line
from ._token import TOKEN_STR
from ._types import HttpVersion, HttpVersion11

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
#: Every byte but the CTLs other than HTAB: translate() deletes these.
_NOT_CTL: Final = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
#: The control bytes of a head of up to 256 lines.
_CRLFS: Final = b"\r\n" * 256

_GOOD_NAMES: Final[set[str]] = set()
_GOOD_NAMES_MAX: Final = 4096


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


def _head(fields: Iterable[tuple[str, str]], first: str) -> bytes:
    """``first``, the field lines and the empty line, each ending in CRLF; validated, encoded."""
    out = [first]
    good = _GOOD_NAMES
    for name, value in fields:
        if name not in good:
            _check_name(name)
        out.append(f"{name}: {value}\r\n")
    out.append("\r\n")
    data = "".join(out).encode("utf-8")
    lines = len(out) if first else len(out) - 1
    controls = data.translate(None, _NOT_CTL)
    if lines <= 256:
        if controls != _CRLFS[: 2 * lines]:
            _raise_injection(out)
    elif controls != b"\r\n" * lines:
        _raise_injection(out)
    return data


def _raise_injection(out: list[str]) -> None:
    for index, line in enumerate(out):
        body = line[:-2]
        bad = _FORBIDDEN.search(body)
        if bad is not None:
            char = f"0x{ord(bad[0]):02x}"
            if index == 0:
                raise HeaderInjectionError(
                    f"the start line contains the control character {char}: {body!r}; "
                    "a reason or target must be a single line without control characters"
                )
            name, _, value = body.partition(": ")
            check_field(name, value)
    raise AssertionError("unreachable: no offending line found")  # pragma: no cover


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
    major, minor = version
    line = status_line(major, minor, status, reason)
    if line is None:
        if reason is None:
            reason = reason_phrase(status)
        elif not 100 <= status <= 999:
            raise ValueError(f"status {status} is not a three-digit code (100..999)")
        first = f"HTTP/{major}.{minor} {status} {reason}\r\n"
        return _head(headers, first)
    return line + _head(headers, "")


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
    first = f"{method} {target} HTTP/{version.major}.{version.minor}\r\n"
    return _head(headers, first)


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
    return _head(trailers, "0\r\n")
