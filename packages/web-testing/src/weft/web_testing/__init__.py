"""weft.web_testing: test servers, a test client and a pytest plugin for weft applications.

aiohttp.test_utils' API for weft (``weft.web_testing.test_utils``; with the
meta-distribution also ``weft.test_utils``): ``TestServer`` and
``RawTestServer`` serve an Application or a plain handler on 127.0.0.1
through weft-web-runner, and ``TestClient`` talks to them over a real socket
with weft's own small HTTP/1.1 and WebSocket client (weft-http-parser
underneath). The pytest plugin (``weft.web_testing.pytest_plugin``, entry
point ``weft``) gives the fixtures ``weft_client``, ``weft_server``,
``weft_raw_server`` and ``weft_unused_port``.

Names are imported on first use (PEP 562): pytest imports this package in
every run of an environment where it is installed (for the plugin), which
then costs nothing of the client's or the server's import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .__about__ import __version__

if TYPE_CHECKING:
    from .test_utils import (
        AioHTTPTestCase,
        BaseTestServer,
        ClientConnectionError,
        ClientError,
        ClientPayloadError,
        ClientResponse,
        ClientResponseError,
        ClientSession,
        ClientWebSocketResponse,
        ContentTypeError,
        CookieJar,
        RawTestServer,
        RequestInfo,
        ServerDisconnectedError,
        TestClient,
        TestServer,
        TooManyRedirects,
        WSServerHandshakeError,
        get_port_socket,
        get_unused_port_socket,
        loop_context,
        make_mocked_coro,
        make_mocked_request,
        setup_test_loop,
        teardown_test_loop,
        unused_port,
    )


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".test_utils", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


# The names of weft.web_testing.test_utils (aiohttp.test_utils'), which defines them all.
__all__ = [
    "__version__",
    # servers and the client
    "BaseTestServer",
    "TestServer",
    "RawTestServer",
    "TestClient",
    "AioHTTPTestCase",
    # the client's parts
    "ClientSession",
    "ClientResponse",
    "CookieJar",
    "RequestInfo",
    "ClientError",
    "ClientConnectionError",
    "ServerDisconnectedError",
    "ClientPayloadError",
    "ClientResponseError",
    "ContentTypeError",
    "TooManyRedirects",
    "ClientWebSocketResponse",
    "WSServerHandshakeError",
    # helpers
    "unused_port",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "setup_test_loop",
    "teardown_test_loop",
    "make_mocked_request",
    "make_mocked_coro",
]
