"""weft.web_core: aiohttp.web's Application, Request, Response and middlewares.

The web framework proper: what a handler receives and returns. Serving it
over sockets is weft.web_runner's job; routing is weft.web_routing's.
"""

from __future__ import annotations

from .__about__ import __version__
from ._app import AppKey, Application, CleanupError, NotAppKeyWarning, web_logger
from ._exception_response import exception_response
from ._middleware import middleware
from ._normalize_path import normalize_path_middleware
from ._request import BaseRequest, Request, RequestProtocol
from ._response import Response, StreamResponse, json_response
from ._signals import Signal
from ._view import View
from ._writer import StreamWriter, WriterProtocol

__all__ = [
    "__version__",
    # application
    "AppKey",
    "Application",
    "CleanupError",
    "NotAppKeyWarning",
    "Signal",
    "web_logger",
    # request and response
    "BaseRequest",
    "Request",
    "Response",
    "StreamResponse",
    "json_response",
    "exception_response",
    "View",
    # middlewares
    "middleware",
    "normalize_path_middleware",
    # the connection side, for servers (web-runner)
    "RequestProtocol",
    "StreamWriter",
    "WriterProtocol",
]
