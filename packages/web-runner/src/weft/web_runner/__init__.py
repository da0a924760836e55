"""weft.web_runner: serve weft applications over asyncio.

The connection protocol (keep-alive, pipelining, error pages), the low-level
Server, runners and sites, run_app and the ``python -m weft.web`` command line.
"""

from __future__ import annotations

from .__about__ import __version__
from ._access_log import AbstractAccessLogger, AccessLogger, access_logger
from ._cli import main
from ._errors import BodyReadTimeoutError, PayloadAccessError, RequestPayloadError
from ._graceful import GracefulExit
from ._protocol import RequestHandler
from ._run_app import run_app
from ._runners import (
    AppRunner,
    BaseRunner,
    BaseSite,
    NamedPipeSite,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)
from ._server import Server, server_logger

__all__ = [
    "__version__",
    "AbstractAccessLogger",
    "AccessLogger",
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "BodyReadTimeoutError",
    "PayloadAccessError",
    "RequestPayloadError",
    "GracefulExit",
    "NamedPipeSite",
    "RequestHandler",
    "Server",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
    "access_logger",
    "main",
    "run_app",
    "server_logger",
]
