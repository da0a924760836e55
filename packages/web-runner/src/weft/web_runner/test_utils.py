"""Deprecated alias of ``weft.web_testing.test_utils`` (distribution weft-web-testing).

The test servers, the test client and the pytest plugin left weft-web-runner
for their own distribution, so that the server's distribution is the server
(docs/design.md, "The test tooling"). Import them from
``weft.web_testing.test_utils`` (or ``weft.test_utils`` with the
meta-distribution). This module re-exports them, with a DeprecationWarning,
when weft-web-testing is installed, and says what to install when it is not.
It goes in weft-web-runner 0.2.
"""

from __future__ import annotations

from ._moved import moved_error, warn_moved

try:
    from weft.web_testing.test_utils import (
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
except ModuleNotFoundError as exc:
    error = moved_error(__name__, "weft.web_testing.test_utils", exc)
    if error is None:
        raise
    raise error from exc

warn_moved(__name__, "weft.web_testing.test_utils")

__all__ = [
    "BaseTestServer",
    "TestServer",
    "RawTestServer",
    "TestClient",
    "AioHTTPTestCase",
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
    "unused_port",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "setup_test_loop",
    "teardown_test_loop",
    "make_mocked_request",
    "make_mocked_coro",
]
