"""A request already sent on a just-opened connection when the graceful shutdown begins.

Under gunicorn every worker accepts from one shared listening socket. During
a HUP reload (or a ``max_requests`` restart) the old workers stop while the
new ones serve, and nginx opens fresh upstream connections all the while: the
kernel can hand one to an old worker, nginx writes its request at once, and
the worker's shutdown begins before it has read those bytes. The shutdown
closes the connection as idle, over the unread request: nginx answers the
client 502 ("upstream prematurely closed connection"), and does not retry
since the connection was new. tests/e2e/test_e2e_lifecycle.py sees it in
about one HUP reload in eight under load.

No other process will serve that request: the kernel gave the connection to
this one. The connection is not idle, a request is on it, and it should be
answered (with ``Connection: close``) like the request in hand of a busy
connection. aiohttp 3.14 answers it (200, this very sequence): its shutdown
reaches the connections only after awaits in which the request is read.
weft marks them closing in the shutdown's first step, so the read comes
after the close.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from weft.web_core import Application, BaseRequest, Response

if TYPE_CHECKING:
    from conftest import Serve

TIMEOUT = 10.0


@pytest.mark.xfail(
    strict=True,
    reason="weft bug (issue 17): pre_shutdown closes a fresh connection as idle while "
    "its first request is unread in the socket; remove this mark with the fix",
)
@pytest.mark.asyncio
async def test_a_request_unread_on_a_fresh_connection_is_answered(serve: Serve) -> None:
    started: list[str] = []

    async def handler(request: BaseRequest) -> Response:
        started.append(request.path)
        return Response(text="answered")

    app = Application()
    app.router.add_get("/first", handler)
    served = await serve(app)
    fresh = await served.connect()
    while not served.server.connections:  # noqa: ASYNC110 (connection_made has no event)
        await asyncio.sleep(0)
    # Written to the kernel at once (the transport's buffer is empty); the
    # shutdown's first step runs before the loop next polls the socket.
    fresh.send(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
    cleanup = asyncio.create_task(served.cleanup())
    try:
        response = await fresh.response()
    except (asyncio.IncompleteReadError, ConnectionResetError) as error:
        pytest.fail(f"the request on the fresh connection was dropped: {error!r}")
    finally:
        await fresh.close()
        await asyncio.wait_for(cleanup, TIMEOUT)
    assert (response.status, response.body) == (200, b"answered")
    assert response.headers["Connection"] == "close"
    assert started == ["/first"]
