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
this one. So a connection that has not started a request yet is not idle
at the shutdown for a short grace after its accept (one second): its first
request, when it comes, is answered with ``Connection: close``, and none
after it. aiohttp 3.14 answers it too (200, this very sequence), because its
shutdown reaches the connections only after awaits in which the request is
read; weft marks them closing at once (in the signal's callback under
run_app), hence the explicit grace. A connection that sends nothing is closed
when the grace ends: it cannot hold the shutdown.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from weft.web_core import Application, BaseRequest, Response

if TYPE_CHECKING:
    from conftest import Serve, Until, VirtualClock

TIMEOUT = 10.0


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


@pytest.mark.asyncio
async def test_a_first_request_sent_just_after_the_shutdown_began_is_answered(
    serve: Serve, until: Until
) -> None:
    started: list[str] = []

    async def handler(request: BaseRequest) -> Response:
        started.append(request.path)
        return Response(text="answered")

    app = Application()
    app.router.add_get("/{name}", handler)
    served = await serve(app)
    fresh = await served.connect()
    await until(lambda: bool(served.server.connections))
    cleanup = asyncio.create_task(served.cleanup())
    await until(lambda: served.server.shutting_down)
    fresh.send(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n")
    response = await fresh.response()
    assert (response.status, response.body) == (200, b"answered")
    assert response.headers["Connection"] == "close"
    assert await fresh.read_to_eof() == b""  # nothing after the first
    await fresh.close()
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert started == ["/first"]


@pytest.mark.asyncio
async def test_a_fresh_connection_that_sends_nothing_is_closed_after_the_grace(
    serve: Serve, until: Until, clock: VirtualClock
) -> None:
    """It cannot hold the shutdown until shutdown_timeout (60 s here)."""
    served = await serve(Application())
    silent = await served.connect()
    await until(lambda: bool(served.server.connections))
    cleanup = asyncio.create_task(served.cleanup())
    await until(lambda: served.server.shutting_down)
    await clock.advance(0.5)
    assert served.server.connections  # still waited for ...
    await clock.advance(0.5)
    assert await silent.read_to_eof() == b""  # ... until a second after it opened
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_a_first_head_still_arriving_is_bounded_by_read_head_timeout(
    serve: Serve, until: Until, clock: VirtualClock
) -> None:
    """A first request that has begun to arrive is waited for past the grace, as
    long as any head is (always within shutdown_timeout)."""
    served = await serve(Application(), read_head_timeout=20.0, shutdown_timeout=60.0)
    slow = await served.connect()
    await until(lambda: bool(served.server.connections))
    slow.send(b"GET /slow HTTP/1.1\r\n")
    (connection,) = served.server.connections
    await until(lambda: "head" in connection._core.deadlines())  # the head clock runs
    cleanup = asyncio.create_task(served.cleanup())
    await until(lambda: served.server.shutting_down)
    await clock.advance(1.0)  # past the grace: a head is arriving, so it stays
    assert served.server.connections
    await clock.advance(19.0)
    response = await slow.response()
    assert (response.status, response.headers["Connection"]) == (408, "close")
    await slow.close()
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_a_first_head_begun_within_the_grace_is_not_cut_when_it_ends(
    serve: Serve, until: Until, clock: VirtualClock
) -> None:
    async def handler(request: BaseRequest) -> Response:
        return Response(text="answered")

    app = Application()
    app.router.add_get("/first", handler)
    served = await serve(app, shutdown_timeout=60.0)
    fresh = await served.connect()
    await until(lambda: bool(served.server.connections))
    (connection,) = served.server.connections
    cleanup = asyncio.create_task(served.cleanup())
    await until(lambda: served.server.shutting_down)
    fresh.send(b"GET /first HTTP/1.1\r\n")
    await until(lambda: connection._core.parser.head_pending)
    await clock.advance(1.0)  # the grace ends while the head arrives
    assert served.server.connections
    fresh.send(b"Host: x\r\n\r\n")
    response = await fresh.response()
    assert (response.status, response.body) == (200, b"answered")
    assert response.headers["Connection"] == "close"
    await fresh.close()
    await asyncio.wait_for(cleanup, TIMEOUT)
