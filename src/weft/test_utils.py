"""weft.test_utils: the test utilities under aiohttp's path (``aiohttp.test_utils``).

Re-exports only; they live in weft.web_testing.test_utils (servers and the
test client, distribution weft-web-testing) and weft.web_core.test_utils
(make_mocked_request). Under weft.compat's switch this module stays weft's,
while ``aiohttp.test_utils`` is aiohttp's own file on weft's server, its
client aiohttp's (docs/compat.md).
"""

from __future__ import annotations

from weft.web_testing.test_utils import (
    AioHTTPTestCase,
    BaseTestServer,
    RawTestServer,
    TestClient,
    TestServer,
    get_port_socket,
    get_unused_port_socket,
    loop_context,
    make_mocked_coro,
    make_mocked_request,
    setup_test_loop,
    teardown_test_loop,
    unused_port,
)

__all__ = [
    "AioHTTPTestCase",
    "BaseTestServer",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "get_port_socket",
    "get_unused_port_socket",
    "loop_context",
    "make_mocked_coro",
    "make_mocked_request",
    "setup_test_loop",
    "teardown_test_loop",
    "unused_port",
]
