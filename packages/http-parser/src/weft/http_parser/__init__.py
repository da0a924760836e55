"""weft.http_parser: a strict, incremental, sans-IO HTTP/1.1 parser and serializer.

>>> from weft.http_parser import RequestParser
>>> parser = RequestParser()
>>> head, end = parser.feed(b"GET /a?b=1 HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n")
>>> head.method, head.path, head.query_string, head.should_close
('GET', '/a', 'b=1', False)

The asyncio body stream lives apart, in ``weft.http_parser.streams``, so that
importing this package never imports asyncio.

``COMPILED`` is True when the parser's hot modules were imported as the
C extension modules that mypyc builds into the wheel where a compiler is
available, False for the pure-Python build (same code, same behaviour).
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES as _EXTENSION_SUFFIXES

from . import _parser as _hot_module
from .__about__ import __version__
from ._content_encoding import ContentDecoder, supported_encodings
from ._errors import (
    BadRequest,
    HeaderFieldsTooLarge,
    HeaderInjectionError,
    HttpParserError,
    NotImplementedCoding,
    PayloadTooLarge,
    RequestTargetTooLong,
    UnsupportedContentEncoding,
    VersionNotSupported,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketVersionError,
)
from ._request_parser import RequestParser
from ._response_parser import ResponseParser
from ._serializer import (
    check_field,
    check_reason,
    chunk_header,
    encode_chunk,
    encode_last_chunk,
    serialize_request_head,
    serialize_response_head,
)
from ._status import reason_phrase
from ._types import (
    BodyChunk,
    EndOfMessage,
    Event,
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    RequestHead,
    ResponseEvent,
    ResponseHead,
)
from ._ws_deflate import (
    WSDeflateParams,
    ws_deflate_offer,
    ws_negotiate_deflate,
    ws_parse_deflate_response,
)
from ._ws_handshake import (
    WSClientHandshake,
    WSServerHandshake,
    ws_accept_key,
    ws_client_headers,
    ws_generate_key,
    ws_select_protocol,
    ws_server_handshake,
    ws_verify_response,
)
from ._ws_reader import WebSocketReader
from ._ws_types import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from ._ws_writer import WebSocketEncoder, ws_encode_close, ws_encode_frame

#: True when the mypyc-compiled build is loaded, False for pure Python.
COMPILED: bool = (getattr(_hot_module, "__file__", None) or "").endswith(tuple(_EXTENSION_SUFFIXES))

__all__ = [
    "__version__",
    "COMPILED",
    # parsing
    "RequestParser",
    "RequestHead",
    "ResponseParser",
    "ResponseHead",
    "ResponseEvent",
    "BodyChunk",
    "EndOfMessage",
    "Event",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    # errors
    "HttpParserError",
    "BadRequest",
    "RequestTargetTooLong",
    "HeaderFieldsTooLarge",
    "PayloadTooLarge",
    "NotImplementedCoding",
    "VersionNotSupported",
    "UnsupportedContentEncoding",
    "HeaderInjectionError",
    # content codings
    "ContentDecoder",
    "supported_encodings",
    # serializing
    "reason_phrase",
    "serialize_response_head",
    "check_field",
    "check_reason",
    "serialize_request_head",
    "chunk_header",
    "encode_chunk",
    "encode_last_chunk",
    # WebSocket (RFC 6455, RFC 7692)
    "WSMsgType",
    "WSCloseCode",
    "WSMessage",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketVersionError",
    "WebSocketReader",
    "WebSocketEncoder",
    "ws_encode_frame",
    "ws_encode_close",
    "WSServerHandshake",
    "WSClientHandshake",
    "ws_server_handshake",
    "ws_accept_key",
    "ws_generate_key",
    "ws_select_protocol",
    "ws_client_headers",
    "ws_verify_response",
    "WSDeflateParams",
    "ws_negotiate_deflate",
    "ws_deflate_offer",
    "ws_parse_deflate_response",
]
