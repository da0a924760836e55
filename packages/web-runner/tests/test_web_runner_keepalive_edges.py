"""Keep-alive edges, each scenario run against aiohttp 3.14 and weft side by side.

The same raw bytes go to an aiohttp.web server and a weft server on the same
loop (both read the loop's clock, so the ``clock`` fixture moves both); each
test states what each answers, and where they differ, why weft does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web as aiohttp_web
from aiohttp import web_protocol as aiohttp_web_protocol

from weft.web_core import Application, Request, Response
from weft.web_runner import AppRunner, RequestHandler, TCPSite

if TYPE_CHECKING:
    from conftest import Until, VirtualClock

TIMEOUT = 10.0  # a safety bound only
GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
FRAMEWORKS = ("aiohttp", "weft")


class Reads:
    """Bytes that servers' connections have received, under both frameworks: a test
    moves the clock only once what it sent has been read (it starts clocks)."""

    def __init__(self) -> None:
        self.total = 0
        self.connections = 0

    async def connected(self, until: Until) -> None:
        """The server has seen the connection (aiohttp starts its keep-alive timer then)."""
        await until(lambda: self.connections >= 1)
        await asyncio.sleep(0)  # and weft's connection task has started its idle wait

    async def reach(self, total: int, until: Until) -> None:
        await until(lambda: self.total >= total)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    counter = Reads()
    for cls in (RequestHandler, aiohttp_web_protocol.RequestHandler):
        original = cls.data_received

        def counting(self: Any, data: bytes, original: Any = original) -> None:
            counter.total += len(data)
            original(self, data)

        monkeypatch.setattr(cls, "data_received", counting)
        made = cls.connection_made

        def counting_made(self: Any, transport: Any, made: Any = made) -> None:
            counter.connections += 1
            made(self, transport)

        monkeypatch.setattr(cls, "connection_made", counting_made)
    return counter


@contextlib.asynccontextmanager
async def serving(framework: str, **kwargs: Any) -> AsyncIterator[int]:
    """An app answering ``path`` to GET /{path}, served by ``framework`` on a free port."""
    runner: aiohttp_web.AppRunner | AppRunner
    if framework == "aiohttp":
        aio_app = aiohttp_web.Application()

        async def aio_answer(request: aiohttp_web.Request) -> aiohttp_web.Response:
            return aiohttp_web.Response(text=request.path)

        aio_app.router.add_get("/{path:.*}", aio_answer)
        runner = aiohttp_web.AppRunner(aio_app, access_log=None, **kwargs)
        await runner.setup()
        site: aiohttp_web.TCPSite | TCPSite = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    else:
        app = Application()

        async def answer(request: Request) -> Response:
            return Response(text=request.path)

        app.router.add_get("/{path:.*}", answer)
        runner = AppRunner(app, access_log=None, **kwargs)
        await runner.setup()
        site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


class Wire:
    """A raw client connection that records what each response said."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Wire:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def answer(self) -> tuple[bytes, str | None] | str:
        """(body, Connection header) of the next response, or how the connection ended."""
        try:
            async with asyncio.timeout(TIMEOUT):
                head = await self.reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:-2]
                )
                body = await self.reader.readexactly(int(headers["Content-Length"]))
        except asyncio.IncompleteReadError as exc:
            return "closed" if not exc.partial else f"cut short: {exc.partial!r}"
        except ConnectionResetError:
            return "reset"
        status = head.split(b" ", 2)[1]
        if status != b"200":
            return f"status {status.decode()}"
        return body, headers.get("Connection")

    async def answered(self) -> tuple[bytes, str | None]:
        """The next response, which must be a 200: (body, Connection header)."""
        outcome = await self.answer()
        assert isinstance(outcome, tuple), outcome
        return outcome

    async def end(self) -> str:
        """How the connection ends: "closed" (EOF), "reset", or the bytes that came instead."""
        try:
            data = await asyncio.wait_for(self.reader.read(), TIMEOUT)
        except ConnectionResetError:
            return "reset"
        return "closed" if data == b"" else repr(data)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


# -- keepalive_timeout=0


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_keepalive_timeout_zero_closes_after_each_answer(framework: str) -> None:
    """keepalive_timeout=0 is no keep-alive, under both: the connection closes once the
    answer is out. weft says so in the answer (Connection: close); aiohttp says
    nothing and closes, so a client that sends its next request at once can lose it
    to the close."""
    async with serving(framework, keepalive_timeout=0) as port:
        wire = await Wire.open(port)
        wire.send(GET % b"/one")
        body, connection = await wire.answered()
        assert body == b"/one"
        assert connection == {"aiohttp": None, "weft": "close"}[framework]
        assert await wire.end() == "closed"
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_keepalive_timeout_zero_still_answers_what_was_pipelined(framework: str) -> None:
    """Requests already received behind the one answered are answered, then the close."""
    async with serving(framework, keepalive_timeout=0) as port:
        wire = await Wire.open(port)
        wire.send(GET % b"/one" + GET % b"/two")
        first, second = await wire.answer(), await wire.answer()
        assert (first, second) == (
            (b"/one", None),
            (b"/two", {"aiohttp": None, "weft": "close"}[framework]),
        )
        assert await wire.end() == "closed"
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_keepalive_timeout_zero_with_aiohttps_client(framework: str) -> None:
    """aiohttp's pooled client gets every answer under both (it opens a connection per
    request: told to close by weft, retrying on the close with aiohttp)."""
    async with (
        serving(framework, keepalive_timeout=0) as port,
        aiohttp.ClientSession() as session,
    ):
        for i in range(20):
            async with session.get(f"http://127.0.0.1:{port}/r{i}") as response:
                assert await response.text() == f"/r{i}"


# -- a head trickled in on a connection's first request


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_first_head_trickled_past_the_keepalive_timeout(
    framework: str, clock: VirtualClock, reads: Reads, until: Until
) -> None:
    """The first request's head arrives over 18 s, keepalive_timeout is 15 s. aiohttp's
    keep-alive timer runs from the connection's start and closes it mid-head: the
    client sees a disconnect. weft: a head on its way is read_head_timeout's (20 s),
    and the keep-alive timer leaves it alone: answered."""
    async with serving(framework, keepalive_timeout=15.0) as port:
        wire = await Wire.open(port)
        await reads.connected(until)
        sent = reads.total
        for piece in (b"GET /slow HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: b\r\n"):
            wire.send(piece)
            sent += len(piece)
            await reads.reach(sent, until)
            await clock.advance(6.0)
        wire.send(b"\r\n")
        outcome = await wire.answer()
        assert outcome == {"aiohttp": "closed", "weft": (b"/slow", None)}[framework]
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_first_head_trickled_past_read_head_timeout(
    framework: str, clock: VirtualClock, reads: Reads, until: Until
) -> None:
    """Past weft's read_head_timeout (20 s) the client gets 408 and a close (slowloris);
    aiohttp, with no head timeout, waits for the head as long as its keep-alive
    timer lets it (75 s here) and answers."""
    async with serving(framework, keepalive_timeout=75.0) as port:
        wire = await Wire.open(port)
        await reads.connected(until)
        sent = reads.total
        for piece in (b"GET /slow HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: b\r\n"):
            wire.send(piece)
            sent += len(piece)
            await reads.reach(sent, until)
            await clock.advance(9.0)
        wire.send(b"\r\n")
        outcome = await wire.answer()
        assert outcome == {"aiohttp": (b"/slow", None), "weft": "status 408"}[framework]
        await wire.close()


# -- keep-alive and close, side by side


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_request_arriving_with_the_keepalive_deadline_is_answered(
    framework: str, clock: VirtualClock
) -> None:
    """The next request is read in the same loop turn as the keep-alive deadline
    passes (I/O runs before timers in a turn): both answer it."""
    async with serving(framework, keepalive_timeout=30.0) as port:
        wire = await Wire.open(port)
        wire.send(GET % b"/one")
        assert await wire.answer() == (b"/one", None)
        wire.send(GET % b"/two")
        await wire.writer.drain()
        await clock.advance(31.0)
        assert await wire.answer() == (b"/two", None)
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_an_idle_connection_past_the_keepalive_timeout_closes(
    framework: str, clock: VirtualClock
) -> None:
    """After an answer, an idle connection closes at keepalive_timeout under both."""
    async with serving(framework, keepalive_timeout=30.0) as port:
        wire = await Wire.open(port)
        wire.send(GET % b"/one")
        assert await wire.answer() == (b"/one", None)
        await clock.advance(31.0)
        assert await wire.end() == "closed"
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_request_pipelined_behind_connection_close(framework: str) -> None:
    """Connection: close on a request makes it the last: weft answers it and closes.
    aiohttp's parser refuses the whole read ("Data after `Connection: close`") and
    answers 400 instead, so the client loses the answer to the request it did send."""
    async with serving(framework) as port:
        wire = await Wire.open(port)
        wire.send(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + GET % b"/never")
        outcome = await wire.answer()
        assert outcome == {"aiohttp": "status 400", "weft": (b"/last", "close")}[framework]
        assert await wire.end() in ("closed", "reset")  # /never was sent: a reset may come
        await wire.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_http10_keep_alive_then_close(framework: str) -> None:
    """HTTP/1.0: kept alive when asked, closed after a request that does not ask."""
    async with serving(framework) as port:
        wire = await Wire.open(port)
        wire.send(b"GET /kept HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert await wire.answer() == (b"/kept", "keep-alive")
        wire.send(b"GET /closed HTTP/1.0\r\n\r\n")
        body, _ = await wire.answered()
        assert body == b"/closed"
        assert await wire.end() == "closed"
        await wire.close()
