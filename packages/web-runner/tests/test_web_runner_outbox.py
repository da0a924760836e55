"""Answers leave when the loop turns, pipelined ones together, and nothing overtakes them (_outbox).

The connections here are fed by hand with a transport that records each
call, so the tests can count the writes a burst of pipelined requests
costs and see the order of every byte; the last tests use a real socket.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest

from weft.web_core import BaseRequest, Response, StreamResponse
from weft.web_runner import Server
from weft.web_runner._outbox import BATCH_BYTES, PIPELINE_BATCH, Flusher, Outbox

if TYPE_CHECKING:
    from conftest import Serve


class Transport(asyncio.Transport):
    """Records every write call; closing it ends the connection as asyncio's would."""

    def __init__(self, protocol: asyncio.Protocol | None = None) -> None:
        super().__init__({"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8080)})
        self.calls: list[bytes] = []  # one entry per write()/writelines()
        self.closing = False
        self.eof = False
        self.protocol = protocol
        if protocol is not None:
            protocol.connection_made(self)

    @property
    def data(self) -> bytes:
        return b"".join(self.calls)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "written after close"
        self.calls.append(bytes(data))

    def writelines(self, list_of_data: object) -> None:
        assert not self.closing, "written after close"
        self.calls.append(b"".join(list_of_data))  # type: ignore[arg-type]

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            if self.protocol is not None:
                asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def get_write_buffer_size(self) -> int:
        return 0


def requests(*paths: str, last: bytes = b"") -> bytes:
    return b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (p.encode(), last) for p in paths)


async def turns(n: int = 30) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def answers(data: bytes) -> list[bytes]:
    """The bodies of the answers in ``data``, in order (each says its path)."""
    parts = data.split(b"HTTP/1.1 2")[1:]
    return [part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0] for part in parts]


def holding(outbox: Outbox) -> bool:
    return outbox.holding  # asked afresh each time (mypy would narrow the property)


async def echo(request: BaseRequest) -> Response:
    return Response(text=request.path)


@pytest.mark.asyncio
async def test_a_pipelined_burst_is_written_once_per_batch() -> None:
    server = Server(echo, access_log=None)
    transport = Transport(server())
    paths = [f"/{i}" for i in range(2 * PIPELINE_BATCH + 1)]
    transport.protocol.data_received(requests(*paths))  # type: ignore[union-attr]
    await turns()
    assert answers(transport.data) == [p.encode() for p in paths]
    # Three batches: 4 + 4 + 1 answers, each batch in one write.
    assert len(transport.calls) == 3
    assert [c.count(b"HTTP/1.1 200 OK") for c in transport.calls] == [4, 4, 1]
    await server.shutdown(0.1)


class Recording(Transport):
    """A Transport that notes its writes in a log shared with the handler."""

    def __init__(self, name: str, log: list[str], protocol: asyncio.Protocol) -> None:
        self.name, self.log = name, log
        super().__init__(protocol)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.log.append(f"written {self.name}")
        super().write(data)

    def writelines(self, list_of_data: object) -> None:
        self.log.append(f"written {self.name}")
        super().writelines(list_of_data)


@pytest.mark.asyncio
@pytest.mark.parametrize("access_log", [False, True], ids=["no access log", "access log with %a"])
async def test_the_answers_of_one_turn_leave_after_its_handlers(
    access_log: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Two connections, one request each, arriving in the same turn: both
    # handlers run before either answer is written, and each answer is one write
    # (a write interleaved with the next handler wakes the client once per answer).
    # An access log with the client's address (%a: run_app's default format has
    # it) reads request.remote after every answer; reading it writes nothing.
    log: list[str] = []
    logger = logging.getLogger("test.outbox.access")
    caplog.set_level(logging.INFO, logger=logger.name)

    async def handler(request: BaseRequest) -> Response:
        log.append(f"handled {request.path}")
        return Response(text=request.path)

    server = Server(
        handler, access_log=logger if access_log else None, access_log_format='%a "%r" %s'
    )
    one = Recording("/one", log, server())
    two = Recording("/two", log, server())
    one.protocol.data_received(requests("/one"))  # type: ignore[union-attr]
    two.protocol.data_received(requests("/two"))  # type: ignore[union-attr]
    await turns()
    assert log == ["handled /one", "handled /two", "written /one", "written /two"]
    assert answers(one.data) == [b"/one"]
    assert answers(two.data) == [b"/two"]
    lines = ['127.0.0.1 "GET /one HTTP/1.1" 200', '127.0.0.1 "GET /two HTTP/1.1" 200']
    logged = [record.getMessage() for record in caplog.records if record.name == logger.name]
    assert logged == (lines if access_log else [])
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_handler_that_waits_does_not_hold_the_answers_before_it() -> None:
    release = asyncio.Event()

    async def handler(request: BaseRequest) -> Response:
        if request.path == "/slow":
            await release.wait()
        return Response(text=request.path)

    server = Server(handler, access_log=None)
    transport = Transport(server())
    transport.protocol.data_received(requests("/a", "/slow", "/b"))  # type: ignore[union-attr]
    await turns()
    # /slow waits: /a's answer, held for the batch, went out when the loop turned.
    assert answers(transport.data) == [b"/a"]
    release.set()
    await turns()
    assert answers(transport.data) == [b"/a", b"/slow", b"/b"]
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_stream_after_a_held_answer_comes_after_it() -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        if request.path == "/a":
            return Response(text="/a")
        stream = StreamResponse()
        await stream.prepare(request)
        await stream.write(b"streamed")
        await stream.write_eof()
        return stream

    server = Server(handler, access_log=None)
    transport = Transport(server())
    transport.protocol.data_received(requests("/a", "/stream", "/a"))  # type: ignore[union-attr]
    await turns()
    data = transport.data
    assert data.count(b"HTTP/1.1 200 OK") == 3
    first, stream_at, last = (data.find(b"/a"), data.find(b"streamed"), data.rfind(b"/a"))
    assert 0 < first < stream_at < last
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_raw_write_to_request_transport_comes_after_the_held_answers() -> None:
    async def handler(request: BaseRequest) -> Response:
        if request.path == "/raw":
            assert request.transport is not None
            request.transport.write(b"RAW")
        return Response(text=request.path)

    server = Server(handler, access_log=None)
    transport = Transport(server())
    transport.protocol.data_received(requests("/a", "/raw"))  # type: ignore[union-attr]
    await turns()
    data = transport.data
    assert data.index(b"/a") < data.index(b"RAW") < data.index(b"/raw")
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_rejected_request_is_answered_after_the_held_answers() -> None:
    server = Server(echo, access_log=None)
    transport = Transport(server())
    bad = b"GET /bad HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
    transport.protocol.data_received(requests("/a", "/b") + bad)  # type: ignore[union-attr]
    await turns()
    data = transport.data
    assert data.index(b"/a") < data.index(b"/b") < data.index(b"HTTP/1.1 400 ")
    assert transport.eof  # lingering close: the FIN after every answer
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_the_held_answers_go_before_the_close() -> None:
    server = Server(echo, access_log=None)
    transport = Transport(server())
    burst = requests("/a", "/b") + requests("/last", last=b"Connection: close\r\n")
    transport.protocol.data_received(burst)  # type: ignore[union-attr]
    await turns()
    assert answers(transport.data) == [b"/a", b"/b", b"/last"]
    assert transport.closing  # and the Transport asserts nothing was written after
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_connection_lost_with_answers_held_writes_nothing_more() -> None:
    server = Server(echo, access_log=None)
    protocol = server()
    transport = Transport(protocol)
    # The answers are held while the task runs; the peer goes away before the loop turns.
    protocol.data_received(requests("/a", "/b"))
    await asyncio.sleep(0)  # the task answers both; the flush is due next turn
    transport.closing = True
    protocol.connection_lost(None)
    await turns()
    assert transport.calls == []
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_a_large_answer_is_not_held() -> None:
    big = b"x" * (BATCH_BYTES + 1)

    async def handler(request: BaseRequest) -> Response:
        return Response(body=big if request.path == "/big" else b"small")

    server = Server(handler, access_log=None)
    transport = Transport(server())
    transport.protocol.data_received(requests("/a", "/big", "/c"))  # type: ignore[union-attr]
    await turns()
    assert transport.data.count(b"HTTP/1.1 200 OK") == 3
    # /a and /big leave together as soon as the batch passes the limit; /c alone.
    assert len(transport.calls) == 2
    assert transport.calls[0].endswith(big)
    await server.shutdown(0.1)


@pytest.mark.asyncio
async def test_outbox_flushes_before_any_other_use_of_the_transport() -> None:
    loop = asyncio.get_running_loop()
    transport = Transport()
    outbox = Outbox(transport, Flusher(loop))
    outbox.write(b"one")
    outbox.writelines([b"two", b"three"])
    assert holding(outbox)
    assert transport.calls == []
    assert outbox.get_extra_info("peername") == ("127.0.0.1", 5555)  # no flush needed
    assert not outbox.is_closing()
    assert transport.calls == []
    outbox.write_eof()  # anything else: the held bytes first
    assert transport.calls == [b"onetwothree"]
    assert transport.eof
    assert not holding(outbox)
    await turns(2)  # the call_soon flush finds nothing left
    assert transport.calls == [b"onetwothree"]


#: asyncio's Transport methods, and whether the outbox writes what it holds before each.
_TRANSPORT_METHODS = {
    "write_eof": ((), True),
    "can_write_eof": ((), True),
    "close": ((), True),
    "abort": ((), True),
    "pause_reading": ((), True),
    "resume_reading": ((), True),
    "get_write_buffer_size": ((), True),
    "set_write_buffer_limits": ((1024, 512), True),
    "set_protocol": ((asyncio.Protocol(),), True),
    "is_reading": ((), False),
    "get_write_buffer_limits": ((), False),
    "get_protocol": ((), False),
    "get_extra_info": (("peername",), False),
    "is_closing": ((), False),
}


def test_the_outbox_has_every_method_of_a_transport() -> None:
    public = {name for name in vars(asyncio.Transport) if not name.startswith("_")}
    for base in asyncio.Transport.__mro__:
        public |= {name for name in vars(base) if not name.startswith("_")}
    assert public - {"write", "writelines"} == set(_TRANSPORT_METHODS)


@pytest.mark.parametrize("name", sorted(_TRANSPORT_METHODS))
@pytest.mark.asyncio
async def test_each_transport_method_of_the_outbox_reaches_the_transport(name: str) -> None:
    """...after the held bytes, when the method may change what the connection does."""
    loop = asyncio.get_running_loop()
    seen: list[tuple[str, list[bytes]]] = []

    class Recording(Transport):
        def __getattribute__(self, attribute: str) -> object:
            if attribute == name:
                seen.append((name, list(object.__getattribute__(self, "calls"))))
            return object.__getattribute__(self, attribute)

        def abort(self) -> None:
            self.closing = True

        def is_reading(self) -> bool:
            return True

        def get_write_buffer_limits(self) -> tuple[int, int]:
            return (0, 0)

        def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
            pass

        def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
            pass

        def get_protocol(self) -> asyncio.BaseProtocol:
            return asyncio.Protocol()

    transport = Recording()
    outbox = Outbox(transport, Flusher(loop))
    outbox.write(b"held")
    args, flushes = _TRANSPORT_METHODS[name]
    getattr(outbox, name)(*args)
    assert seen == [(name, [b"held"] if flushes else [])]
    assert holding(outbox) is not flushes


@pytest.mark.asyncio
async def test_outbox_flushes_when_the_loop_turns_and_drops_on_a_closed_transport() -> None:
    loop = asyncio.get_running_loop()
    transport = Transport()
    outbox = Outbox(transport, Flusher(loop))
    outbox.write(b"")  # nothing to hold
    assert not holding(outbox)
    outbox.write(b"a")
    outbox.write(b"b")
    await asyncio.sleep(0)
    assert transport.calls == [b"ab"]
    outbox.write(b"lost")
    transport.closing = True
    await asyncio.sleep(0)
    assert transport.calls == [b"ab"]
    assert not holding(outbox)


@pytest.mark.asyncio
async def test_a_pipelined_burst_over_a_socket_is_answered_in_order(serve: Serve) -> None:
    served = await serve(echo)
    connection = await served.connect()
    paths = [f"/p{i}" for i in range(3 * PIPELINE_BATCH + 2)]
    connection.send(requests(*paths))
    bodies = [(await connection.response()).body for _ in paths]
    assert bodies == [p.encode() for p in paths]


@pytest.mark.asyncio
async def test_what_a_stream_kept_goes_out_before_a_forced_close(serve: Serve) -> None:
    # aiohttp-sse closes the connection under a prepared stream (force_close()):
    # the head and the writes kept until the loop turns must reach the client first.
    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"kept")
        request.protocol.force_close()  # type: ignore[attr-defined]
        with pytest.raises(ConnectionResetError):
            await response.write(b"never")
        return response

    served = await serve(handler)
    data = await served.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"\r\n\r\n4\r\nkept\r\n")


class Broken(Transport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("broken")


@pytest.mark.asyncio
async def test_one_flusher_lets_every_outbox_go_in_order_when_the_loop_turns() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        flusher = Flusher(loop)
        log: list[str] = []
        first = Recording("first", log, asyncio.Protocol())
        broken, last = Broken(), Recording("last", log, asyncio.Protocol())
        boxes = [Outbox(first, flusher), Outbox(broken, flusher), Outbox(last, flusher)]
        for box, data in zip(boxes, (b"1", b"2", b"3"), strict=True):
            box.write(data)
        boxes[0].write(b"1b")  # already due: once in the turn
        assert log == []
        await asyncio.sleep(0)
        # One write each, in the order they began to hold; the broken one is
        # reported and does not hold the last one back.
        assert log == ["written first", "written last"]
        assert (first.calls, last.calls) == ([b"11b"], [b"3"])
        assert [str(e["exception"]) for e in errors] == ["broken"]
        assert not any(holding(box) for box in boxes)
    finally:
        loop.set_exception_handler(None)


@pytest.mark.asyncio
async def test_a_request_for_a_cancelled_idle_task_is_not_an_error() -> None:
    """The task waiting for a request is cancelled, then a request comes in the same
    turn: the wake finds its waiter cancelled with it, and nothing is answered."""
    server = Server(echo, access_log=None)
    protocol = server()
    transport = Transport(protocol)
    await turns(3)  # the connection's task waits for a request
    assert protocol._task is not None
    protocol._task.cancel()
    protocol.data_received(requests("/late"))  # no InvalidStateError
    await turns()
    assert protocol._task.done()
    assert transport.data == b""
    await server.shutdown(0.1)
