"""An in-memory connection for web-core's tests: raw request bytes in, response bytes out.

No sockets: a fake transport records every ``write``, a fake protocol counts
drains, the request comes from weft.http_parser and the response bytes are
split back into status, headers and body (chunked coding decoded strictly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict

from weft.http_parser import BodyChunk, EndOfMessage, RequestHead, RequestParser
from weft.http_parser.streams import BodyStream
from weft.web_core import Application, Request, StreamResponse, StreamWriter, exception_response
from weft.web_exceptions import HTTPException

PEER = ("192.0.2.7", 50123)


class FakeTransport(asyncio.Transport):
    """A transport that keeps what is written, one list item per buffer handed over
    (a ``write``, or each buffer of a ``writelines``, which are not joined)."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False
        self.extra: dict[str, Any] = {"peername": PEER} if extra is None else extra

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.writes.extend(bytes(data) for data in list_of_data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.extra.get(name, default)

    def close(self) -> None:
        self.closing = True

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)

    @property
    def nonempty_writes(self) -> list[bytes]:
        return [w for w in self.writes if w]


class FakeProtocol:
    """The connection side a StreamWriter and a Request need: a transport and drain()."""

    def __init__(self, transport: FakeTransport | None) -> None:
        self.transport = transport
        self.drains = 0

    async def drain(self) -> None:
        self.drains += 1


@dataclass
class Parsed:
    """A response as it went over the wire."""

    version: str
    status: int
    reason: str
    headers: CIMultiDict[str]
    body: bytes
    raw_body: bytes


def decode_chunked(data: bytes) -> tuple[bytes, bytes]:
    """Decode chunked transfer coding strictly; returns (body, bytes after the message)."""
    body = bytearray()
    while True:
        line, sep, data = data.partition(b"\r\n")
        assert sep, "chunk-size line without CRLF"
        size = int(line.split(b";")[0], 16)
        if size == 0:
            trailer_end = data.index(b"\r\n")  # no trailers: an empty line ends the message
            assert trailer_end == 0, "unexpected trailers"
            return bytes(body), data[2:]
        chunk, crlf, data = data[:size], data[size : size + 2], data[size + 2 :]
        assert len(chunk) == size
        assert crlf == b"\r\n", "chunk data not followed by CRLF"
        body += chunk


def parse_response(data: bytes) -> Parsed:
    """Split response bytes into status line, headers and (de-chunked) body."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, f"no end of head in {data!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, reason = [*status_line.split(" ", 2), ""][:3]
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, colon, value = line.partition(":")
        assert colon, f"bad header line {line!r}"
        headers.add(name, value.strip())
    body = rest
    if headers.get("Transfer-Encoding") == "chunked":
        body, extra = decode_chunked(rest)
        assert extra == b"", "bytes after the last chunk"
    elif "Content-Length" in headers:
        assert len(rest) == int(headers["Content-Length"]) or not rest
    return Parsed(version, int(status), reason, headers, body, rest)


def make_request(
    raw: bytes,
    app: Application | None = None,
    *,
    transport: FakeTransport | None = None,
    protocol: FakeProtocol | None = None,
    client_max_size: int | None = None,
) -> tuple[Request, FakeTransport]:
    """Parse ``raw`` and build the Request a server would (call inside a running loop).

    ``protocol``, when given, is the connection (its transport is used).
    """
    events = RequestParser().feed(raw)
    head = events[0]
    assert isinstance(head, RequestHead)
    if protocol is not None:
        assert isinstance(protocol.transport, FakeTransport)
        transport = protocol.transport
    if transport is None:
        transport = FakeTransport()
    if protocol is None:
        protocol = FakeProtocol(transport)
    has_body = head.chunked or bool(head.content_length)
    payload = BodyStream() if has_body else BodyStream.empty()
    for event in events[1:]:
        if isinstance(event, BodyChunk):
            payload.feed_data(event.data)
        elif isinstance(event, EndOfMessage) and has_body:
            payload.feed_eof()
    loop = asyncio.get_running_loop()
    writer = StreamWriter(protocol)
    if app is None:
        app = Application()
    if client_max_size is None:
        request = app._make_request(head, payload, protocol, writer, None, loop)
    else:
        request = Request(
            head, payload, protocol, writer, None, loop, client_max_size=client_max_size
        )
    return request, transport


@dataclass
class Exchange:
    """One request through an application, and what went over the wire."""

    request: Request
    response: StreamResponse
    transport: FakeTransport
    parsed: Parsed


async def exchange(
    app: Application, raw: bytes, *, transport: FakeTransport | None = None
) -> Exchange:
    """Freeze ``app``, handle ``raw`` as the server would, and parse the bytes written."""
    app.freeze()
    request, transport = make_request(raw, app, transport=transport)
    try:
        response = await app._handle(request)
    except HTTPException as exc:
        # The server's part: a raised HTTP exception leaves Application._handle.
        response = exception_response(exc)
    await response.prepare(request)
    await response.write_eof()
    return Exchange(request, response, transport, parse_response(transport.data))


async def send(
    response: StreamResponse, raw: bytes = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
) -> Exchange:
    """Prepare and finish ``response`` for the request ``raw``; parse what was written."""
    request, transport = make_request(raw)
    await response.prepare(request)
    await response.write_eof()
    return Exchange(request, response, transport, parse_response(transport.data))


def get(path: str = "/", *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    """Raw bytes of a body-less request."""
    lines = [f"{method} {path} HTTP/{version}", "Host: example.com", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


class VirtualClock:
    """The running loop's clock, stopped: only ``advance`` moves it.

    web-core's timers (WebSocket heartbeat, receive and close timeouts) are
    loop timers, so a test sets them in seconds and reaches each deadline with
    ``await clock.advance(s)`` instead of waiting. Everything here is in memory,
    so nothing else needs real time to flow.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._now = loop.time()

    def time(self) -> float:
        return self._now

    async def advance(self, seconds: float) -> None:
        """Let what can run, run; move the clock ``seconds`` forward; return once every
        timer due by then has run (tasks just created start their timers first)."""
        await yield_to_the_loop()
        self._now += seconds
        # Due timers run in deadline order, so those now overdue have run (and
        # what they started at once has had its turn) when this one fires.
        reached: asyncio.Future[None] = self._loop.create_future()
        self._loop.call_at(self._now, reached.set_result, None)
        await reached
        await yield_to_the_loop()  # woken tasks act on what the timers did


async def yield_to_the_loop(turns: int = 10) -> None:
    """Let every task that can run, run: in memory, nothing else is waited for."""
    for _ in range(turns):
        await asyncio.sleep(0)
