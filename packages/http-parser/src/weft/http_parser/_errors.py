"""The errors of weft.http_parser.

Every input the parser rejects raises one of these, and each carries the
status a server should answer with, so a server translates them in one place::

    ValueError
     ├── HttpParserError                 .status, .reason, .events
     │    ├── BadRequest                 400  malformed syntax or framing
     │    ├── RequestTargetTooLong       414  request-target over max_line_size
     │    ├── HeaderFieldsTooLarge       431  a field name or value, or the fields, over a limit
     │    ├── PayloadTooLarge            413  body over max_body_size
     │    ├── NotImplementedCoding       501  a transfer coding this parser does not implement
     │    ├── UnsupportedContentEncoding 415  a content coding ContentDecoder cannot undo
     │    ├── VersionNotSupported        505  HTTP/2 and later, HTTP/0.x
     │    └── WebSocketHandshakeError    400  not a WebSocket upgrade (or 101); .headers
     │         └── WebSocketVersionError 426  Sec-WebSocket-Version is not 13
     ├── WebSocketError                       .code: the close code to send (1002, 1007, 1009)
     └── HeaderInjectionError                 the serializer refused a name or value

They subclass ValueError because that is what they are: bad values, sent by a
peer (the parser's errors) or passed by the caller (the serializer's).

WebSocketError is not an HttpParserError: it is raised after the upgrade,
when no HTTP answer can be sent any more; what it carries is the close code
(RFC 6455 §7.4.1) to fail the connection with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ._types import Event
    from ._ws_types import WSMessage

__all__ = [
    "BadRequest",
    "HeaderFieldsTooLarge",
    "HeaderInjectionError",
    "HttpParserError",
    "NotImplementedCoding",
    "PayloadTooLarge",
    "RequestTargetTooLong",
    "UnsupportedContentEncoding",
    "VersionNotSupported",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketVersionError",
]


class HttpParserError(ValueError):
    """The peer sent something this parser refuses.

    ``status`` and ``reason`` are what to answer with; ``str(error)`` says what
    was wrong. ``events`` holds the events the failing ``feed()`` call had
    completed before the error (for instance an earlier pipelined request), so
    a server may still answer them; it is empty when there were none.
    """

    status: ClassVar[int] = 400
    reason: ClassVar[str] = "Bad Request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.events: list[Event] = []


class BadRequest(HttpParserError):
    """400: the message is malformed or its framing is ambiguous."""

    status = 400
    reason = "Bad Request"


class RequestTargetTooLong(HttpParserError):
    """414: the request-target is longer than ``max_line_size``."""

    status = 414
    reason = "URI Too Long"


class HeaderFieldsTooLarge(HttpParserError):
    """431: a field name or value, the field section or the number of fields is over a limit."""

    status = 431
    reason = "Request Header Fields Too Large"


class PayloadTooLarge(HttpParserError):
    """413: the body (or its decoded form) is larger than the limit set for it."""

    status = 413
    reason = "Content Too Large"


class NotImplementedCoding(HttpParserError):
    """501: the request uses a transfer coding this parser does not implement."""

    status = 501
    reason = "Not Implemented"


class UnsupportedContentEncoding(HttpParserError):
    """415: the body has a content coding the decoder cannot undo (RFC 9110 §15.5.16)."""

    status = 415
    reason = "Unsupported Media Type"


class VersionNotSupported(HttpParserError):
    """505: the message's HTTP major version is not 1."""

    status = 505
    reason = "HTTP Version Not Supported"


class HeaderInjectionError(ValueError):
    """The serializer refused a field name, value, reason or target.

    Names must be tokens (RFC 9110 §5.1); values, reasons and targets must not
    contain a control character (0x00-0x1F, 0x7F) other than HTAB (RFC 9110
    §5.5): CR, LF or NUL would let the text end the line early and inject
    fields or a whole message of the caller's choosing, and the others are
    invalid field content. The message names the header.
    """


class WebSocketHandshakeError(HttpParserError):
    """400: the request is not a valid WebSocket opening handshake (RFC 6455 §4.2.1).

    ``headers`` are fields to add to the error response (empty here). A client
    gets the same error for a 101 answer it must refuse (RFC 6455 §4.1).
    """

    status = 400
    reason = "Bad Request"
    headers: tuple[tuple[str, str], ...] = ()


class WebSocketVersionError(WebSocketHandshakeError):
    """426: Sec-WebSocket-Version is missing or not 13; answer with the version we speak.

    RFC 6455 §4.2.2: the server "MUST abort the WebSocket handshake described
    in this section and instead send an appropriate HTTP error code (such as
    426 Upgrade Required) and a |Sec-WebSocket-Version| header field
    indicating the version(s) the server is capable of understanding".
    """

    status = 426
    reason = "Upgrade Required"
    headers = (("Sec-WebSocket-Version", "13"),)


class WebSocketError(ValueError):
    """The peer broke the WebSocket protocol; fail the connection with ``code``.

    ``WebSocketError(1002, "unmasked frame from a client")``: ``code`` is the
    close code to send in the close frame (``WSCloseCode.PROTOCOL_ERROR``
    1002, ``INVALID_TEXT`` 1007, ``MESSAGE_TOO_BIG`` 1009, ...) and
    ``str(error)`` says what was wrong, as aiohttp's ``WebSocketError``.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        #: The messages the failing ``WebSocketReader.feed`` call completed before the error.
        self.messages: list[WSMessage] = []

    def __str__(self) -> str:
        return str(self.args[1])
