"""weft.web_core: aiohttp.web's Application, Request, Response and middlewares.

The web framework proper: what a handler receives and returns. Serving it
over sockets is weft.web_runner's job; routing is weft.web_routing's.

``COMPILED`` is True when the response path (``_response`` and ``_writer``)
was imported as the C extension modules that mypyc builds into the wheel where
a compiler is available, False for the pure-Python build (same code, same
behaviour; ``WEFT_WEB_CORE_PURE=1`` at install time builds that one).
"""

from __future__ import annotations

from weft.http_parser import WSCloseCode, WSMessage, WSMsgType

from . import _response as _hot_module
from .__about__ import __version__
from ._app import Application, CleanupError, web_logger
from ._compiled import is_native as _is_native
from ._compression import ContentCoding
from ._conditional import ETag
from ._exception_response import exception_response
from ._file_response import FileResponse
from ._form import FileField
from ._helpers import ChainMapProxy
from ._json_response import json_bytes_response, json_response
from ._keys import AppKey, NotAppKeyWarning, RequestKey, ResponseKey
from ._middleware import middleware
from ._multipart import (
    BodyPartReader,
    MultipartError,
    MultipartHeadersTooLarge,
    MultipartReader,
    MultipartTooManyParts,
)
from ._multipart_writer import BodyPartReaderPayload, MultipartWriter
from ._normalize_path import normalize_path_middleware
from ._payload import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BytesPayload,
    JsonBytesPayload,
    JsonPayload,
    Order,
    Payload,
    PayloadLookupError,
    PayloadRegistry,
    PayloadWriter,
    StringPayload,
    get_payload,
    payload_type,
)
from ._payload_io import (
    BufferedReaderPayload,
    BytesIOPayload,
    IOBasePayload,
    StringIOPayload,
    TextIOPayload,
)
from ._request import BaseRequest, Request, RequestProtocol
from ._response import Response, StreamResponse, is_response
from ._signals import Signal
from ._trusted_proxies import (
    FORWARDED_CLIENT,
    ForwardedClient,
    ProxyHeaderError,
    TrustedProxies,
    trusted_proxies_middleware,
)
from ._upgrade import UpgradableProtocol, UpgradeReceiver
from ._view import View
from ._websocket import WebSocketReady, WebSocketResponse, WSMessageTypeError
from ._writer import StreamWriter, WriterProtocol

#: True when the mypyc-compiled response path is loaded, False for pure Python.
COMPILED: bool = _is_native(getattr(_hot_module, "__file__", None))

__all__ = [
    "__version__",
    "COMPILED",
    # application
    "AppKey",
    "RequestKey",
    "ResponseKey",
    "Application",
    "CleanupError",
    "NotAppKeyWarning",
    "Signal",
    "ChainMapProxy",
    "web_logger",
    # request and response
    "BaseRequest",
    "Request",
    "Response",
    "StreamResponse",
    "json_response",
    "json_bytes_response",
    "exception_response",
    "is_response",
    "FileResponse",
    "ContentCoding",
    "ETag",
    "View",
    # forms and multipart
    "FileField",
    "BodyPartReader",
    "MultipartReader",
    "MultipartWriter",
    "MultipartError",
    "MultipartHeadersTooLarge",
    "MultipartTooManyParts",
    # payloads: response bodies and multipart parts (aiohttp.payload's names)
    "Payload",
    "BytesPayload",
    "StringPayload",
    "JsonPayload",
    "JsonBytesPayload",
    "IOBasePayload",
    "BufferedReaderPayload",
    "TextIOPayload",
    "BytesIOPayload",
    "StringIOPayload",
    "AsyncIterablePayload",
    "BodyPartReaderPayload",
    "PAYLOAD_REGISTRY",
    "PayloadRegistry",
    "PayloadLookupError",
    "PayloadWriter",
    "Order",
    "get_payload",
    "payload_type",
    # WebSockets
    "WebSocketResponse",
    "WebSocketReady",
    "WSMsgType",
    "WSCloseCode",
    "WSMessage",
    "WSMessageTypeError",
    # middlewares
    "middleware",
    "normalize_path_middleware",
    # behind reverse proxies
    "trusted_proxies_middleware",
    "TrustedProxies",
    "ForwardedClient",
    "FORWARDED_CLIENT",
    "ProxyHeaderError",
    # the connection side, for servers (web-runner)
    "RequestProtocol",
    "StreamWriter",
    "WriterProtocol",
    "UpgradableProtocol",
    "UpgradeReceiver",
]
