"""The graceful shutdown, step by step (the sequence in _runners.py's docstring).

Each test holds a handler open at a step and looks at what the step did:
the sites stopped listening, idle connections closed, busy ones answer with
``Connection: close`` and start nothing more, on_shutdown ran, the wait for
in-flight handlers ends with the last one (no polling), the rest are
cancelled and have ended before on_cleanup.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from weft.web_core import Application, BaseRequest, Response

if TYPE_CHECKING:
    from conftest import RawConnection, Serve, Served, ServerReads, Until, VirtualClock

TIMEOUT = 10.0
GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"


class Steps:
    """An app whose /hold handler waits for the test; every step it sees is recorded."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.started: list[str] = []  # paths whose handler began
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.on_shutdown: Callable[[], object] | None = None  # awaited in on_shutdown

    async def handler(self, request: BaseRequest) -> Response:
        self.started.append(request.path)
        if request.path == "/hold":
            self.holding.set()
            await self.release.wait()
        if request.path == "/upload":
            self.holding.set()
            body = await request.read()
            return Response(text=f"read {len(body)}")
        return Response(text=f"answered {request.path}")

    def app(self) -> Application:
        app = Application()
        app.router.add_route("*", "/{tail:.*}", self.handler)

        async def on_shutdown(app: Application) -> None:
            self.events.append("on_shutdown")
            if self.on_shutdown is not None:
                await self.on_shutdown()  # type: ignore[misc]

        async def on_cleanup(app: Application) -> None:
            self.events.append("on_cleanup")

        app.on_shutdown.append(on_shutdown)
        app.on_cleanup.append(on_cleanup)
        return app


async def hold_one(served: Served, steps: Steps, extra: bytes = b"") -> RawConnection:
    """A connection whose request (and ``extra`` pipelined behind it) is in flight."""
    busy = await served.connect()
    busy.send(GET % b"/hold" + extra)
    await asyncio.wait_for(steps.holding.wait(), TIMEOUT)
    return busy


@pytest.mark.asyncio
async def test_sites_stop_listening_before_on_shutdown(serve: Serve) -> None:
    """Step 1: by the time on_shutdown runs, a new connection is refused."""
    steps = Steps()
    refused: list[bool] = []

    async def try_to_connect() -> None:
        try:
            _, writer = await asyncio.open_connection(served.host, served.port)
        except ConnectionRefusedError:
            refused.append(True)
        else:
            writer.close()
            refused.append(False)

    steps.on_shutdown = try_to_connect
    served = await serve(steps.app())
    await served.cleanup()
    assert refused == [True]
    assert steps.events == ["on_shutdown", "on_cleanup"]


@pytest.mark.asyncio
async def test_idle_connections_are_closed_before_on_shutdown(
    serve: Serve, clock: VirtualClock
) -> None:
    """Step 2: an idle keep-alive connection sees EOF before on_shutdown runs, while a
    busy one is still answering; so does a connection that has sent no request in
    the second since it opened (a fresher one is waited for a little: see
    test_web_runner_shutdown_fresh_connection.py)."""
    steps = Steps()
    served = await serve(steps.app())
    idle = await served.connect()
    idle.send(GET % b"/quick")
    assert (await idle.response()).body == b"answered /quick"
    silent = await served.connect()
    busy = await hold_one(served, steps)
    await clock.advance(1.0)
    seen_at_on_shutdown: list[bytes] = []

    async def read_the_idle_ones() -> None:
        seen_at_on_shutdown.append(await idle.read_to_eof())
        seen_at_on_shutdown.append(await silent.read_to_eof())

    steps.on_shutdown = read_the_idle_ones
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    steps.release.set()
    response = await busy.response()
    await busy.close()
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert seen_at_on_shutdown == [b"", b""]
    assert response.body == b"answered /hold"


async def steps_reached(steps: Steps, event: str) -> None:
    while event not in steps.events:  # noqa: ASYNC110 (the app records; no event to await)
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_the_request_in_hand_is_answered_with_connection_close(serve: Serve) -> None:
    """Step 2: a busy connection finishes its request, says Connection: close, closes."""
    steps = Steps()
    served = await serve(steps.app())
    busy = await hold_one(served, steps)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    steps.release.set()
    response = await busy.response()
    assert (response.status, response.body) == (200, b"answered /hold")
    assert response.headers["Connection"] == "close"
    assert await busy.read_to_eof() == b""
    await busy.close()  # as a client told Connection: close does
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.events == ["on_shutdown", "on_cleanup"]


@pytest.mark.asyncio
async def test_pipelined_requests_behind_the_one_in_hand_are_not_started(serve: Serve) -> None:
    """Step 2: requests already buffered behind the busy one are not started (as aiohttp)."""
    steps = Steps()
    served = await serve(steps.app())
    busy = await hold_one(served, steps, extra=GET % b"/second" + GET % b"/third")
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    steps.release.set()
    response = await busy.response()
    assert response.headers["Connection"] == "close"
    assert await busy.read_to_eof() == b""
    await busy.close()  # as a client told Connection: close does
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/hold"]


@pytest.mark.asyncio
@pytest.mark.parametrize("read_first", [True, False], ids=["read", "unread"])
async def test_a_request_sent_during_the_shutdown_is_not_started(
    serve: Serve, server_reads: ServerReads, read_first: bool
) -> None:
    """Step 2: a request that arrives on a busy connection after the shutdown began is
    never started, and the client sees its connection close after the answer it awaited,
    whether the server read the request before that answer or not."""
    steps = Steps()
    served = await serve(steps.app())
    busy = await hold_one(served, steps)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    read_before = server_reads.total
    busy.send(GET % b"/late")
    await busy.writer.drain()
    if read_first:
        await server_reads.reach(read_before + len(GET % b"/late"))
    steps.release.set()
    assert (await busy.response()).headers["Connection"] == "close"
    # Then a clean close: the server half-closes and reads what still comes, so
    # the unanswered /late does not turn the close into a reset.
    assert await busy.read_to_eof() == b""
    await busy.close()  # as a client told Connection: close does
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/hold"]


@pytest.mark.asyncio
async def test_the_body_of_the_request_in_hand_still_arrives(serve: Serve) -> None:
    """Step 2: the busy request's body keeps being read (aiohttp stops reading: an
    upload in progress would stall until shutdown_timeout); nothing after it is parsed."""
    steps = Steps()
    served = await serve(steps.app())
    busy = await served.connect()
    busy.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    await asyncio.wait_for(steps.holding.wait(), TIMEOUT)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    busy.send(b"defghij" + GET % b"/after")
    response = await busy.response()
    assert (response.body, response.headers["Connection"]) == (b"read 10", "close")
    assert await busy.read_to_eof() == b""
    await busy.close()  # as a client told Connection: close does
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/upload"]


@pytest.mark.asyncio
async def test_a_connection_accepted_during_the_shutdown_gets_its_first_request_answered(
    serve: Serve,
) -> None:
    """A connection the server is handed once shutting down (accepted just before the
    sites stopped) has its first request answered, with Connection: close, and no
    other: the client sent it to this process, and none other will answer it."""
    steps = Steps()
    served = await serve(steps.app())
    busy = await hold_one(served, steps)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    ours, theirs = socket.socketpair()
    with ours:
        ours.setblocking(False)
        loop = asyncio.get_running_loop()
        # Waiting when it is accepted, with a second request pipelined behind it.
        await loop.sock_sendall(ours, GET % b"/newcomer" + GET % b"/second")
        await loop.connect_accepted_socket(served.server, theirs)
        received = b""
        while chunk := await asyncio.wait_for(loop.sock_recv(ours, 1024), TIMEOUT):
            received += chunk  # until the server's FIN
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close" in head
    assert body == b"answered /newcomer"
    steps.release.set()
    assert (await busy.response()).body == b"answered /hold"
    await busy.close()
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/hold", "/newcomer"]


@pytest.mark.asyncio
async def test_a_client_that_does_not_close_holds_the_end_for_lingering_time_at_most(
    serve: Serve, clock: VirtualClock, until: Until
) -> None:
    """After the last answer the server half-closes and reads until the client
    closes; one that never does is closed at lingering_time."""
    steps = Steps()
    served = await serve(steps.app(), shutdown_timeout=60.0, lingering_time=10.0)
    busy = await hold_one(served, steps)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    steps.release.set()
    assert (await busy.response()).headers["Connection"] == "close"
    assert await busy.reader.read() == b""  # the FIN: the answer is whole
    await until(lambda: not served.server.connections[0].handling)
    await clock.advance(5.0)
    assert not cleanup.done()  # still reading what the client may send
    busy.send(GET % b"/ignored")  # read and discarded, never started
    await clock.advance(6.0)
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/hold"]
    assert steps.events == ["on_shutdown", "on_cleanup"]


@pytest.mark.asyncio
async def test_the_wait_ends_with_the_last_handler_not_with_a_poll(
    serve: Serve, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 4: once the last in-flight handler ends (and its client, told
    Connection: close, has closed), cleanup goes on at once.

    The loop's clock stands still here, so a shutdown that polled (sleeping
    between looks) would never see the end; the check counts loop turns.
    """
    steps = Steps()
    served = await serve(steps.app(), shutdown_timeout=60.0)
    busy = await hold_one(served, steps)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    still = clock.time()
    monkeypatch.setattr(clock, "_real_time", lambda: still)  # time stops for the loop
    monkeypatch.setattr(clock, "_offset", 0.0)
    steps.release.set()
    assert (await busy.response()).headers["Connection"] == "close"
    assert await busy.reader.read() == b""
    await busy.close()  # as a client told Connection: close does
    for _ in range(1000):  # a bound on turns, not on time
        if cleanup.done():
            break
        await asyncio.sleep(0)
    assert cleanup.done()
    await cleanup
    assert steps.events == ["on_shutdown", "on_cleanup"]


@pytest.mark.asyncio
async def test_handlers_cancelled_at_the_timeout_end_before_on_cleanup(
    serve: Serve, clock: VirtualClock, until: Until
) -> None:
    """Steps 4-6: a handler past shutdown_timeout is cancelled, and on_cleanup starts
    only once it has ended, however long it takes to unwind."""
    steps = Steps()
    unwinding = asyncio.Event()
    unwound = asyncio.Event()

    async def stubborn(request: BaseRequest) -> Response:
        steps.holding.set()
        try:
            await steps.release.wait()
        except asyncio.CancelledError:
            unwinding.set()
            await unwound.wait()  # closing its own resources, say
            steps.events.append("handler ended")
            raise
        return Response(text="never")

    app = steps.app()
    app.router.add_get("/stubborn", stubborn)
    served = await serve(app, shutdown_timeout=60.0)
    busy = await served.connect()
    busy.send(GET % b"/stubborn")
    await asyncio.wait_for(steps.holding.wait(), TIMEOUT)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(steps_reached(steps, "on_shutdown"), TIMEOUT)
    await clock.advance(55.0)
    assert not unwinding.is_set()  # within shutdown_timeout: waited for
    await clock.advance(10.0)
    await asyncio.wait_for(unwinding.wait(), TIMEOUT)
    for _ in range(100):  # on_cleanup must wait however many turns the handler takes
        await asyncio.sleep(0)
    assert steps.events == ["on_shutdown"]
    unwound.set()
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.events == ["on_shutdown", "handler ended", "on_cleanup"]
    assert await busy.read_to_eof() == b""


@pytest.mark.asyncio
async def test_shutdown_timeout_zero_cancels_at_once(serve: Serve) -> None:
    """shutdown_timeout=0: nothing in flight is waited for."""
    steps = Steps()
    served = await serve(steps.app(), shutdown_timeout=0)
    busy = await hold_one(served, steps)
    await asyncio.wait_for(served.cleanup(), TIMEOUT)
    assert steps.events == ["on_shutdown", "on_cleanup"]
    assert await busy.read_to_eof() == b""


@pytest.mark.asyncio
async def test_the_low_level_server_shuts_down_in_the_same_steps(serve: Serve) -> None:
    """ServerRunner: idle closed, the busy one answered with Connection: close."""
    steps = Steps()
    served = await serve(steps.handler)
    idle = await served.connect()
    busy = await hold_one(served, steps, extra=GET % b"/pipelined")
    cleanup = asyncio.create_task(served.cleanup())
    assert await idle.read_to_eof() == b""
    assert not cleanup.done()
    steps.release.set()
    assert (await busy.response()).headers["Connection"] == "close"
    assert await busy.read_to_eof() == b""
    await busy.close()  # as a client told Connection: close does
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert steps.started == ["/hold"]
