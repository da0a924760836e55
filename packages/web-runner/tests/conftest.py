"""Fixtures for web-runner's tests: a real server on 127.0.0.1 and raw connections.

Only web-runner and its declared dependencies are imported here (never
``weft.web``): these tests run in a venv that holds nothing else.
Test modules import the helper types under ``TYPE_CHECKING`` only; at run
time they reach them through the fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict

from weft.web_core import Application, BaseRequest, StreamResponse
from weft.web_runner import AppRunner, BaseRunner, RequestHandler, Server, ServerRunner, TCPSite

TIMEOUT = 10.0  # a safety bound only: no test asserts how long anything takes

Handler = Callable[[BaseRequest], Awaitable[StreamResponse]]


class RawResponse:
    """One response as it came off the wire."""

    def __init__(
        self, status: int, reason: str, headers: CIMultiDict[str], body: bytes, raw: bytes
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw = raw

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.reason} {self.body[:40]!r}>"


class RawConnection:
    """A byte-level client connection: write anything, read responses one by one."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def response(self, *, head_request: bool = False) -> RawResponse:
        """Read exactly one response (Content-Length, chunked, or until EOF)."""
        return await asyncio.wait_for(self._response(head_request), TIMEOUT)

    async def _response(self, head_request: bool) -> RawResponse:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version in ("HTTP/1.1", "HTTP/1.0"), lines[0]
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.add(name, value.strip())
        code = int(status)
        raw = bytearray(head)
        if head_request or code in (204, 304) or 100 <= code < 200:
            body = b""
        elif headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = bytearray()
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                raw += size_line
                size = int(size_line.split(b";")[0], 16)
                data = await self.reader.readexactly(size + 2)
                raw += data
                assert data.endswith(b"\r\n")
                if size == 0:
                    break
                parts += data[:-2]
            body = bytes(parts)
        elif "Content-Length" in headers:
            body = await self.reader.readexactly(int(headers["Content-Length"]))
            raw += body
        else:
            body = await self.reader.read()
            raw += body
        return RawResponse(code, reason[0] if reason else "", headers, body, bytes(raw))

    async def read_to_eof(self) -> bytes:
        """Everything the server sends until it closes the connection."""
        return await asyncio.wait_for(self.reader.read(), TIMEOUT)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    def abort(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a client that vanishes does."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


class Served:
    """A runner serving on a free port of 127.0.0.1."""

    def __init__(self, runner: BaseRunner, port: int) -> None:
        self.runner = runner
        self.host = "127.0.0.1"
        self.port = port
        self.cleaned = False
        self._connections: list[RawConnection] = []

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def server(self) -> Server:
        server = self.runner.server
        assert server is not None
        return server

    async def connect(self) -> RawConnection:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), TIMEOUT
        )
        connection = RawConnection(reader, writer)
        self._connections.append(connection)
        return connection

    async def exchange(self, data: bytes) -> bytes:
        """Send raw bytes on a new connection, return all that comes back until EOF."""
        connection = await self.connect()
        connection.send(data)
        try:
            return await connection.read_to_eof()
        finally:
            await connection.close()

    async def cleanup(self) -> None:
        self.cleaned = True
        await self.runner.cleanup()

    async def close_connections(self) -> None:
        for connection in self._connections:
            await connection.close()


Serve = Callable[..., Awaitable[Served]]
Until = Callable[[Callable[[], bool]], Awaitable[None]]


class VirtualClock:
    """The running loop's clock, which the test moves forward instead of waiting.

    The server's timeouts (keep-alive, read_head / read_body, lingering,
    shutdown) are loop timers, so a test reaches a deadline with
    ``await clock.advance(seconds)`` and then awaits what the deadline causes
    (EOF on its socket, a 408), with no real waiting.

    The loop's time becomes its own clock plus an offset that only
    ``advance`` grows: real time still flows, so the ``TIMEOUT`` safety bounds
    and the server's own short polls keep working, while the timeouts under
    test are set far longer than a test runs (tens of seconds), so only
    ``advance`` reaches them. The loop's ``time`` is replaced on the instance
    rather than by a loop subclass: that works with every pytest-asyncio the
    package allows (a loop factory hook needs 1.4) and only for the tests
    that ask for it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._real_time = loop.time
        self._offset = 0.0

    def time(self) -> float:
        return self._real_time() + self._offset

    async def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward; return once every timer due by then has run."""
        self._offset += seconds
        # Timers leave the loop's heap in deadline order, so those now overdue
        # run in the same turn as this one, just before it: their callbacks
        # (and what they schedule at once) have run when the test resumes.
        reached: asyncio.Future[None] = self._loop.create_future()
        self._loop.call_at(self.time(), reached.set_result, None)
        await reached


@pytest_asyncio.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The test's loop on a clock the test advances (see VirtualClock)."""
    loop = asyncio.get_running_loop()
    virtual = VirtualClock(loop)
    monkeypatch.setattr(loop, "time", virtual.time)
    return virtual


async def _until(condition: Callable[[], bool]) -> None:
    # Each turn runs the I/O and callbacks that are ready, so a state change the
    # server makes on a later turn (a close it noticed) shows up within a few turns.
    # Bounded by the safety TIMEOUT rather than a number of turns: a busy machine
    # may take more turns to deliver a loopback FIN, never more seconds.
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110 (a state with no event, see above)
            await asyncio.sleep(0)


@pytest.fixture
def until() -> Until:
    """``await until(condition)``: for a state change there is no event to await."""
    return _until


class ServerReads:
    """How many bytes the server's connections have read so far.

    A read starts clocks (a head's, a body's), so before moving the clock a
    test waits until what it sent has been read: ``await reads.reach(n)``.
    """

    def __init__(self) -> None:
        self.total = 0

    async def reach(self, total: int) -> None:
        await _until(lambda: self.total >= total)


@pytest.fixture
def server_reads(monkeypatch: pytest.MonkeyPatch) -> ServerReads:
    """Count the bytes every RequestHandler receives (see ServerReads)."""
    reads = ServerReads()
    data_received = RequestHandler.data_received

    def counting(self: RequestHandler, data: bytes) -> None:
        reads.total += len(data)
        data_received(self, data)

    monkeypatch.setattr(RequestHandler, "data_received", counting)
    return reads


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an Application (AppRunner) or a plain handler (Server + ServerRunner).

    Keyword arguments go to the runner (AppRunner) or the Server.
    """
    started: list[Served] = []

    async def start(target: Application | Handler, **kwargs: Any) -> Served:
        runner: BaseRunner
        if isinstance(target, Application):
            kwargs.setdefault("shutdown_timeout", 5.0)
            runner = AppRunner(target, **kwargs)
        else:
            shutdown_timeout = kwargs.pop("shutdown_timeout", 5.0)
            runner = ServerRunner(Server(target, **kwargs), shutdown_timeout=shutdown_timeout)
        await runner.setup()
        site = TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        served = Served(runner, runner.addresses[0][1])
        started.append(served)
        return served

    yield start
    for served in started:
        if not served.cleaned:
            await served.cleanup()
        await served.close_connections()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session
