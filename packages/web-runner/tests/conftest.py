"""Fixtures for web-runner's tests: a real server on 127.0.0.1 and raw connections.

Only web-runner and its declared dependencies are imported here (never
``weft.web``): these tests run in a venv that holds nothing else.
Test modules import the helper types under ``TYPE_CHECKING`` only; at run
time they reach them through the fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict

from weft.web_core import Application, BaseRequest, StreamResponse
from weft.web_runner import AppRunner, BaseRunner, RequestHandler, Server, ServerRunner, TCPSite

TIMEOUT = 10.0  # a safety bound only: no test asserts how long anything takes


def unused_port() -> int:
    """A port free on 127.0.0.1 now (as weft-web-testing's, which this file does not import)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


# ---------------------------------------------------------------- gunicorn

GUNICORN_TIMEOUT = 20.0  # a safety bound only: a master boots in well under a second


class Gunicorn:
    """A gunicorn master (a subprocess) serving a test app module on 127.0.0.1.

    Its log (stderr) is read line by line as tests wait for what it reports,
    so a test waits for an event the master announces, never for time.
    """

    def __init__(self, process: asyncio.subprocess.Process, port: int, scheme: str) -> None:
        self.process = process
        self.port = port
        self.scheme = scheme
        self.stdout = ""
        self.stderr = ""  # the log read so far; all of it after finish()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def wait_for_log(self, pattern: str, count: int = 1) -> str:
        """The ``count``-th line of the whole log matching the regex ``pattern``."""
        assert self.process.stderr is not None
        matches = [line for line in self.stderr.splitlines() if re.search(pattern, line)]
        async with asyncio.timeout(GUNICORN_TIMEOUT):
            while len(matches) < count:
                line = (await self.process.stderr.readline()).decode()
                if not line:  # the master exited
                    await self.finish()
                    pytest.fail(f"gunicorn exited before logging {pattern!r}:\n{self.stderr}")
                self.stderr += line
                if re.search(pattern, line):
                    matches.append(line)
        return matches[count - 1]

    async def listening(self) -> None:
        """Once the master listens, its socket queues connections until a worker accepts."""
        await self.wait_for_log(r"Listening at: ")

    async def finish(self) -> int:
        """Wait for the master (and its workers: they hold the pipes) to exit."""
        async with asyncio.timeout(GUNICORN_TIMEOUT):
            out, err = await self.process.communicate()
        self.stdout, self.stderr = out.decode(), self.stderr + err.decode()
        assert self.process.returncode is not None
        return self.process.returncode

    def booted_pids(self) -> set[int]:
        return {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.stderr)}


class StartGunicorn(Protocol):
    def __call__(
        self,
        app: str,
        *args: str,
        target: str = ...,
        worker: str = ...,
        workers: int = ...,
        scheme: str = ...,
    ) -> Awaitable[Gunicorn]: ...


def _control_socket_args() -> list[str]:
    """Newer gunicorn opens a control socket in $HOME; tests run several masters at once."""
    from gunicorn import config

    names = {setting.name for setting in config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


@pytest_asyncio.fixture
async def gunicorn_master(tmp_path: Path) -> AsyncIterator[StartGunicorn]:
    """``start(app_source, *args)``: gunicorn serving ``app_source`` as a module.

    The module is importable as ``gunicorn_test_app``; files the test writes to
    ``tmp_path`` (a ``--config`` file) are there too. A master a test leaves
    running is killed.
    """
    started: list[Gunicorn] = []
    env = dict(os.environ)
    paths = [tmp_path, *(Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(str(Path.cwd() / p) for p in paths)

    async def start(
        app: str,
        *args: str,
        target: str = "app",
        worker: str = "GunicornWebWorker",
        workers: int = 1,
        scheme: str = "http",
    ) -> Gunicorn:
        (tmp_path / "gunicorn_test_app.py").write_text(app)
        port = unused_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            f"weft.web_runner.worker.{worker}",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            *_control_socket_args(),
            *args,
            f"gunicorn_test_app:{target}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        served = Gunicorn(process, port, scheme)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.returncode is None:
            served.process.kill()
            await served.process.communicate()
