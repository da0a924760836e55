"""The status-line and the framing of a response (RFC 9112 §4, §6.3).

::

    status-line = HTTP-version SP status-code SP [ reason-phrase ]
    status-code = 3DIGIT
    reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )

A status-line that ends right after the code (no SP) is accepted: many
servers send ``HTTP/1.1 200``, it is unambiguous, and RFC 9112 §4 asks
clients to ignore the reason anyway. Codes below 100 are refused.

How long the body is, in the order of RFC 9112 §6.3:

1. A response to HEAD, and every 1xx, 204 and 304 response: no body,
   whatever the fields say (they are still checked).
2. A 2xx response to CONNECT: no body, the connection becomes a tunnel;
   a 101 response: the connection switches protocols.
3. Transfer-Encoding: chunked is the only coding decoded; any other (501),
   chunked twice, an HTTP/1.0 response with it, or Transfer-Encoding with
   Content-Length (400) is refused, not guessed at: RFC 9112 §6.3 says the
   latter "ought to be handled as an error" since it smells of response
   splitting.
4. Content-Length: that many bytes (same grammar as for requests).
5. Otherwise the body runs until the server closes the connection.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn

from multidict import CIMultiDictProxy

from ._errors import BadRequest, PayloadTooLarge, VersionNotSupported
from ._head import CONNECTION, check_singletons, content_coding, framing_tokens, message_length
from ._types import HttpVersion, HttpVersion10, HttpVersion11, RawHeaders, ResponseHead

__all__ = [
    "CHUNKED",
    "INFORMATIONAL",
    "LENGTH",
    "NO_BODY",
    "STATUS_LINE",
    "SWITCH",
    "UNTIL_CLOSE",
    "interpret_response",
    "parse_status_line",
    "status_line_from_match",
]

#: version, status, reason
StatusLine = tuple[HttpVersion, int, str]

STATUS_LINE: Final = re.compile(
    rb"HTTP/([0-9])\.([0-9]) ([1-9][0-9][0-9])(?: ([\t \x21-\x7e\x80-\xff]*+))?"
)
_VERSION: Final = re.compile(rb"HTTP/([0-9]{1,9})(?:\.([0-9]++))?")

# How a response's body is framed.
NO_BODY: Final = 0
INFORMATIONAL: Final = (
    1  # a 1xx other than 101: no body, no EndOfMessage, the final response follows
)
LENGTH: Final = 2
CHUNKED: Final = 3
UNTIL_CLOSE: Final = 4
SWITCH: Final = 5  # 101, or 2xx to CONNECT: the head ends HTTP on this connection


def parse_status_line(buf: bytes, start: int, end: int) -> StatusLine:
    """Parse ``buf[start:end]`` (a status-line without CRLF); raise what is wrong."""
    match = STATUS_LINE.fullmatch(buf, start, end)
    if match is None:
        _diagnose(bytes(buf[start:end]))
    return status_line_from_match(match)


def status_line_from_match(match: re.Match[bytes]) -> StatusLine:
    """The parts of a status-line that STATUS_LINE matched."""
    major, minor, code, reason = match.groups()
    if major != b"1":
        raise VersionNotSupported(
            f"HTTP/{major.decode()}.{minor.decode()} is not supported: this parser speaks HTTP/1.1"
        )
    version = HttpVersion10 if minor == b"0" else HttpVersion11
    text = reason.decode("utf-8", "surrogateescape") if reason else ""
    return version, int(code), text


def _diagnose(line: bytes) -> NoReturn:
    version = line.partition(b" ")[0]
    match = _VERSION.fullmatch(version)
    if match is not None and int(match[1]) != 1:
        raise VersionNotSupported(
            f"{version[:20].decode('latin-1')} is not supported: this parser speaks HTTP/1.1"
        )
    raise BadRequest(
        f"malformed status-line {line[:100]!r}: expected 'HTTP/1.1 SP 3DIGIT SP reason' "
        "(RFC 9112 §4)"
    )


def interpret_response(
    line: StatusLine,
    headers: CIMultiDictProxy[str],
    raw: RawHeaders,
    method: str,
    max_body_size: int | None,
) -> tuple[ResponseHead, int]:
    """The ResponseHead and its framing (NO_BODY, LENGTH, ...); raise on bad framing."""
    version, status, reason = line
    getall = headers.getall
    http10 = version == HttpVersion10

    chunked, content_length = message_length(headers, http10, "response", "§6.3")

    if status < 200:
        framing = SWITCH if status == 101 else INFORMATIONAL
    elif method == "HEAD" or status == 204 or status == 304:
        framing = NO_BODY
    elif method == "CONNECT" and status < 300:
        framing = SWITCH
    elif chunked:
        framing = CHUNKED
    elif content_length is not None:
        framing = LENGTH if content_length else NO_BODY
        if max_body_size is not None and content_length > max_body_size:
            raise PayloadTooLarge(
                f"the body is {content_length} bytes, more than max_body_size={max_body_size}"
            )
    else:
        framing = UNTIL_CLOSE

    check_singletons(headers)
    connection = framing_tokens(getall(CONNECTION, None), "Connection")
    if http10:
        should_close = "keep-alive" not in connection or "close" in connection
    else:
        should_close = "close" in connection
    if framing == UNTIL_CLOSE:
        should_close = True

    content_encoding = content_coding(headers)
    head = ResponseHead(
        version,
        status,
        reason,
        headers,
        raw,
        should_close,
        framing == CHUNKED,
        content_length,
        status == 101,
        content_encoding,
    )
    return head, framing
