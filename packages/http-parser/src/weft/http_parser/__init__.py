"""weft.http_parser: a strict, incremental, sans-IO HTTP/1.1 parser and serializer.

>>> from weft.http_parser import RequestParser
>>> parser = RequestParser()
>>> head, end = parser.feed(b"GET /a?b=1 HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n")
>>> head.method, head.path, head.query_string, head.should_close
('GET', '/a', 'b=1', False)

The asyncio body stream lives apart, in ``weft.http_parser.streams``, so that
importing this package never imports asyncio.
"""

from __future__ import annotations

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
)
from ._request_parser import RequestParser
from ._response_parser import ResponseParser
from ._serializer import (
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

__all__ = [
    "__version__",
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
    "serialize_request_head",
    "encode_chunk",
    "encode_last_chunk",
]
