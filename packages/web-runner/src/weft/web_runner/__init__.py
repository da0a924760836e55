"""weft.web_runner: serve weft applications over asyncio.

The connection protocol (keep-alive, pipelining, error pages), the low-level
Server, runners and sites, run_app and the ``python -m weft.web`` command line.

Names are imported on first use (PEP 562): importing a submodule (the
gunicorn workers, the metrics, the tracing) then costs nothing of the
server's import time.

The test servers, the test client and the pytest plugin are weft-web-testing's
(``weft.web_testing``); ``weft.web_runner.test_utils`` and
``weft.web_runner.pytest_plugin`` are deprecated aliases of them.

``COMPILED`` is True when the connection core (``_connection``) was imported
as the C extension module that mypyc builds into the wheel where a compiler
is available, False for the pure-Python build (same code, same behaviour).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .__about__ import __version__

if TYPE_CHECKING:
    #: True when the mypyc-compiled connection core is loaded, False for pure Python.
    COMPILED: bool
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
    from ._structured_log import JsonAccessFormatter, StructuredAccessLogger

# Public name -> the module that defines it (imported by __getattr__ on first use).
_LAZY: dict[str, str] = {
    "AbstractAccessLogger": "._access_log",
    "AccessLogger": "._access_log",
    "access_logger": "._access_log",
    "main": "._cli",
    "BodyReadTimeoutError": "._errors",
    "PayloadAccessError": "._errors",
    "RequestPayloadError": "._errors",
    "GracefulExit": "._graceful",
    "RequestHandler": "._protocol",
    "run_app": "._run_app",
    "AppRunner": "._runners",
    "BaseRunner": "._runners",
    "BaseSite": "._runners",
    "NamedPipeSite": "._runners",
    "ServerRunner": "._runners",
    "SockSite": "._runners",
    "TCPSite": "._runners",
    "UnixSite": "._runners",
    "Server": "._server",
    "server_logger": "._server",
    "JsonAccessFormatter": "._structured_log",
    "StructuredAccessLogger": "._structured_log",
}


def _is_compiled() -> bool:
    from importlib.machinery import EXTENSION_SUFFIXES

    from . import _connection

    return (getattr(_connection, "__file__", None) or "").endswith(tuple(EXTENSION_SUFFIXES))


def __getattr__(name: str) -> object:
    if name == "COMPILED":
        # Lazy as the other names: it imports the core, which the pytest plugin need not.
        value: object = _is_compiled()
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "__version__",
    "COMPILED",
    "AbstractAccessLogger",
    "AccessLogger",
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "BodyReadTimeoutError",
    "PayloadAccessError",
    "RequestPayloadError",
    "GracefulExit",
    "JsonAccessFormatter",
    "NamedPipeSite",
    "RequestHandler",
    "Server",
    "ServerRunner",
    "SockSite",
    "StructuredAccessLogger",
    "TCPSite",
    "UnixSite",
    "access_logger",
    "main",
    "run_app",
    "server_logger",
]
