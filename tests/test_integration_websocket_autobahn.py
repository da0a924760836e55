"""The Autobahn|Testsuite's case groups 1-7 and 9, end to end against a real weft server.

The Autobahn tool cannot run here, so its fuzzing client is reproduced with
raw frames over an asyncio stream: the handshake is built with the codec's
client helpers (``ws_client_headers``/``ws_verify_response``), the client's
frames are masked like a real client's, and the server's frames are read
with a client-side ``WebSocketReader``. The server is an echo handler on
``web.WebSocketResponse`` (autoping, autoclose, text echoed as text and
binary as binary), as Autobahn's own aiohttp test server.

What each case checks is what Autobahn checks: the exact messages the server
sends back (echoes, and pongs with the ping's payload), the close code it
ends with (1000 clean, 1002 protocol error, 1007 invalid UTF-8, 1009 too
big), and that the server closes the TCP connection after the closing
handshake (every case reads until EOF and never closes first). Where
Autobahn accepts a "NON-STRICT" outcome (the RFC allows either), the test
accepts both and says which weft gives. "Frame-wise chops" send each frame in
its own write with a pause; "octet-wise chops" write the stream in small
pieces. Autobahn's 1 s waits are 10-50 ms here. Case ids carry Autobahn's
case numbers; groups 12-13 (permessage-deflate) are in
``test_integration_websocket_autobahn_deflate.py``.

Left out: 9.1.5/9.1.6 and 9.2.5/9.2.6 (8 and 16 MiB messages), to stay fast.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from weft import web
from weft.http_parser import (
    ResponseHead,
    ResponseParser,
    WebSocketReader,
    WSMessage,
    WSMsgType,
    ws_client_headers,
    ws_encode_close,
    ws_encode_frame,
    ws_generate_key,
    ws_verify_response,
)

ServeApp = Callable[[web.Application], Awaitable[str]]
TIMEOUT = 5.0
FRAME_PAUSE = 0.01  # between the writes of "frame-wise chops"
MiB = 1 << 20
T, B, C, PI, PO = 1, 2, 8, 9, 10


# ---------------------------------------------------------------- the server


async def echo(request: web.Request) -> web.WebSocketResponse:
    """Echo TEXT as TEXT and BINARY as BINARY until the connection ends."""
    ws = web.WebSocketResponse(max_msg_size=8 * MiB, compress=False)
    await ws.prepare(request)
    async for msg in ws:
        try:
            if msg.type is web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type is web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        except ConnectionResetError:  # the server already failed or closed the connection
            break
    return ws


@pytest.fixture
def app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", echo)
    return app


# ---------------------------------------------------------------- the raw client


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client frame with any opcode, FIN and RSV bits, even ones RFC 6455 forbids."""
    data = bytearray(ws_encode_frame(B, payload, mask=True))
    data[0] = (0x80 if fin else 0) | (rsv << 4) | opcode
    return bytes(data)


def close_frame(code: int | None = 1000, reason: bytes = b"") -> bytes:
    """A masked close frame with any code (even invalid ones) and raw reason bytes."""
    if code is None:
        return frame(C)
    return frame(C, code.to_bytes(2, "big") + reason)


CLOSE_1000 = ws_encode_close(1000, mask=True)


@dataclass
class Peer:
    """A raw WebSocket client: a background task parses everything the server sends."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    parser: WebSocketReader = field(
        default_factory=lambda: WebSocketReader(is_client=True, max_msg_size=0)
    )
    inbox: deque[WSMessage] = field(default_factory=deque)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    eof: bool = False
    task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, base: str, path: str = "/") -> Peer:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = ws_generate_key()
        fields = [("Host", f"{host}:{port}"), *ws_client_headers(key, compress=False)]
        request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
        writer.write(request.encode("latin-1") + b"\r\n")
        parser = ResponseParser()
        parser.expect_response("GET")
        head: ResponseHead | None = None
        async with asyncio.timeout(TIMEOUT):
            while not parser.switched:
                data = await reader.read(65536)
                assert data, "the server closed the connection during the handshake"
                for event in parser.feed(data):
                    if isinstance(event, ResponseHead):
                        head = event
        assert head is not None
        ws_verify_response(head, key, compress=False)
        peer = cls(reader, writer)
        peer._parse(parser.take_trailing_data())
        peer.task = asyncio.create_task(peer._read())
        return peer

    def _parse(self, data: bytes) -> None:
        self.inbox.extend(self.parser.feed(data))
        self.arrived.set()

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(MiB):
                self._parse(data)
        except ConnectionResetError:
            pass
        self.eof = True
        self.arrived.set()

    @property
    def closed_by_server(self) -> bool:
        """The server sent its close frame or closed the connection: sending is pointless."""
        return self.eof or self.parser.closed

    async def send(self, *writes: bytes, pause: float = 0.0) -> None:
        """Each of ``writes`` in its own write, ``pause`` seconds apart.

        Stops once the server closed: a failing server may close before the
        client is done writing (as Autobahn's client, which then stops too).
        """
        for i, data in enumerate(writes):
            if i and pause:
                await asyncio.sleep(pause)
            if self.closed_by_server:
                return
            try:
                self.writer.write(data)
                await self.writer.drain()
            except ConnectionError:
                return

    async def send_chopped(self, data: bytes, chop: int) -> None:
        """``data`` in ``chop``-octet writes, yielding to the server between them."""
        for i in range(0, len(data), chop):
            await self.send(data[i : i + chop])
            await asyncio.sleep(0)

    async def recv(self) -> WSMessage:
        """The server's next frame (a message, ping, pong or close)."""
        async with asyncio.timeout(TIMEOUT):
            while not self.inbox:
                assert not self.eof, "the server closed the connection"
                self.arrived.clear()
                await self.arrived.wait()
        return self.inbox.popleft()

    async def until_eof(self) -> list[WSMessage]:
        """Every frame until the server closes the TCP connection (it must, within TIMEOUT)."""
        assert self.task is not None
        async with asyncio.timeout(TIMEOUT):
            await self.task
        messages = list(self.inbox)
        self.inbox.clear()
        return messages

    def nothing_received(self) -> bool:
        return not self.inbox and not self.closed_by_server

    async def aclose(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.writer.close()


def view(messages: Sequence[WSMessage]) -> list[tuple[WSMsgType, Any]]:
    """What Autobahn compares: the kind and payload (a close's code, not its reason)."""
    return [(m.type, m.data) for m in messages]


def text(data: str | bytes) -> tuple[WSMsgType, Any]:
    return (WSMsgType.TEXT, data if isinstance(data, str) else data.decode())


def binary(data: bytes) -> tuple[WSMsgType, Any]:
    return (WSMsgType.BINARY, data)


def pong(data: bytes = b"") -> tuple[WSMsgType, Any]:
    return (WSMsgType.PONG, data)


def closed(code: int) -> tuple[WSMsgType, Any]:
    return (WSMsgType.CLOSE, code)


# ---------------------------------------------------------------- the generic case


@dataclass(frozen=True)
class Case:
    """One Autobahn case: what the client sends, what the server must send back.

    ``writes``: the client's bytes, one write each, FRAME_PAUSE apart
    ("frame-wise chops"), or all joined and written in ``chop``-octet pieces.
    ``expect``: the server's frames, its close frame last. When the stream
    holds no close and no violation (``clean``), the client closes with 1000
    once ``expect`` minus the close has arrived, as Autobahn does.
    ``non_strict``: other outcomes Autobahn accepts ("NON-STRICT").
    """

    writes: tuple[bytes, ...]
    expect: tuple[tuple[WSMsgType, Any], ...]
    clean: bool = False
    chop: int | None = None
    non_strict: tuple[tuple[tuple[WSMsgType, Any], ...], ...] = ()


def ok(
    *writes: bytes, expect: Sequence[tuple[WSMsgType, Any]] = (), chop: int | None = None
) -> Case:
    """The server answers with ``expect``; then the client closes cleanly (1000 both ways)."""
    return Case(writes, (*expect, closed(1000)), clean=True, chop=chop)


def fails(
    *writes: bytes,
    code: int,
    before: Sequence[tuple[WSMsgType, Any]] = (),
    chop: int | None = None,
    non_strict_before: Sequence[tuple[WSMsgType, Any]] | None = None,
) -> Case:
    """The server sends ``before``, then fails the connection with ``code``."""
    alternatives = () if non_strict_before is None else ((*non_strict_before, closed(code)),)
    return Case(writes, (*before, closed(code)), chop=chop, non_strict=alternatives)


async def run_case(base: str, case: Case) -> list[tuple[WSMsgType, Any]]:
    """Play ``case`` against the server; return what it sent, checked as Autobahn would."""
    peer = await Peer.connect(base)
    try:
        if case.chop is not None:
            await peer.send_chopped(b"".join(case.writes), case.chop)
        else:
            await peer.send(*case.writes, pause=FRAME_PAUSE)
        if case.clean:
            got = view([await peer.recv() for _ in case.expect[:-1]])
            assert got == list(case.expect[:-1])
            await peer.send(CLOSE_1000)
        else:
            got = []
        got += view(await peer.until_eof())
    finally:
        await peer.aclose()
    outcomes = [list(case.expect), *(list(alternative) for alternative in case.non_strict)]
    assert got in outcomes, f"got {got!r}, want one of {outcomes!r}"
    return got


# ---------------------------------------------------------------- the cases

CASES: dict[str, Case] = {}

# -- 1: framing ------------------------------------------------------------------------------
SIZES_1 = (0, 125, 126, 127, 128, 65535, 65536)
for n, size in enumerate(SIZES_1, 1):
    CASES[f"1.1.{n} text {size} bytes"] = ok(frame(T, b"*" * size), expect=[text("*" * size)])
for n, size in enumerate(SIZES_1, 1):
    CASES[f"1.2.{n} binary {size} bytes"] = ok(
        frame(B, b"\xfe" * size), expect=[binary(b"\xfe" * size)]
    )
CASES["1.1.8 text 65536 bytes in 997-octet chops"] = ok(
    frame(T, b"*" * 65536), expect=[text("*" * 65536)], chop=997
)
CASES["1.2.8 binary 65536 bytes in 997-octet chops"] = ok(
    frame(B, b"\xfe" * 65536), expect=[binary(b"\xfe" * 65536)], chop=997
)

# -- 2: pings and pongs ----------------------------------------------------------------------
BIN_8 = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
PINGS_10 = [b"payload-%d" % i for i in range(10)]
CASES |= {
    "2.1 ping without payload": ok(frame(PI), expect=[pong()]),
    "2.2 ping with text payload": ok(frame(PI, b"Hello, world!"), expect=[pong(b"Hello, world!")]),
    "2.3 ping with binary payload": ok(frame(PI, BIN_8), expect=[pong(BIN_8)]),
    "2.4 ping with 125-byte payload": ok(frame(PI, b"\xfe" * 125), expect=[pong(b"\xfe" * 125)]),
    "2.5 ping with 126-byte payload": fails(frame(PI, b"\xfe" * 126), code=1002),
    "2.6 ping with 125-byte payload in octet-wise chops": ok(
        frame(PI, b"\xfe" * 125), expect=[pong(b"\xfe" * 125)], chop=1
    ),
    "2.7 unsolicited pong without payload": ok(frame(PO)),
    "2.8 unsolicited pong with payload": ok(frame(PO, b"unsolicited pong payload")),
    "2.9 unsolicited pong, then ping": ok(
        frame(PO, b"unsolicited pong payload") + frame(PI, b"ping payload"),
        expect=[pong(b"ping payload")],
    ),
    "2.10 10 pings": ok(
        b"".join(frame(PI, p) for p in PINGS_10), expect=[pong(p) for p in PINGS_10]
    ),
    "2.11 10 pings in octet-wise chops": ok(
        b"".join(frame(PI, p) for p in PINGS_10), expect=[pong(p) for p in PINGS_10], chop=1
    ),
}

# -- 3: reserved bits ------------------------------------------------------------------------
# "Echo, then fail" cases: written in one go, both frames reach the server in one read and
# weft fails the connection at once, before the handler echoes: Autobahn's NON-STRICT
# outcome (RFC 6455 §5.2: "MUST _Fail the WebSocket Connection_"). Frame-wise and
# octet-wise chops give the handler time to echo first: the strict outcome.
HELLO = b"Hello, world!"
CASES |= {
    "3.1 text with RSV=1": fails(frame(T, HELLO, rsv=4), code=1002),
    "3.2 text, text with RSV=2, ping": fails(
        frame(T, HELLO) + frame(T, HELLO, rsv=2) + frame(PI),
        code=1002,
        before=[text(HELLO)],
        non_strict_before=[],
    ),
    "3.3 text, text with RSV=3, ping, frame-wise chops": fails(
        frame(T, HELLO), frame(T, HELLO, rsv=3), frame(PI), code=1002, before=[text(HELLO)]
    ),
    "3.4 text, text with RSV=4, ping, octet-wise chops": fails(
        frame(T, HELLO) + frame(T, HELLO, rsv=4) + frame(PI),
        code=1002,
        before=[text(HELLO)],
        chop=1,
    ),
    "3.5 binary with RSV=5": fails(frame(B, BIN_8, rsv=5), code=1002),
    "3.6 ping with RSV=6": fails(frame(PI, HELLO, rsv=6), code=1002),
    "3.7 close with RSV=7": fails(frame(C, (1000).to_bytes(2, "big"), rsv=7), code=1002),
}

# -- 4: opcodes ------------------------------------------------------------------------------
for group, opcodes in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
    kind = "non-control" if group == 1 else "control"
    o1, o2, o3, o4, o5 = opcodes
    CASES |= {
        f"4.{group}.1 reserved {kind} opcode {o1}": fails(frame(o1), code=1002),
        f"4.{group}.2 reserved {kind} opcode {o2} with payload": fails(
            frame(o2, b"reserved opcode payload"), code=1002
        ),
        f"4.{group}.3 text, reserved {kind} opcode {o3}, ping": fails(
            frame(T, HELLO) + frame(o3) + frame(PI),
            code=1002,
            before=[text(HELLO)],
            non_strict_before=[],
        ),
        f"4.{group}.4 text, reserved {kind} opcode {o4} with payload, ping": fails(
            frame(T, HELLO) + frame(o4, b"reserved opcode payload") + frame(PI),
            code=1002,
            before=[text(HELLO)],
            non_strict_before=[],
        ),
        f"4.{group}.5 text, reserved {kind} opcode {o5} with payload, ping": fails(
            frame(T, HELLO) + frame(o5, b"reserved opcode payload") + frame(PI),
            code=1002,
            before=[text(HELLO)],
            non_strict_before=[],
        ),
    }

# -- 5: fragmentation ------------------------------------------------------------------------
F1, F2 = b"fragment1", b"fragment2"
TWO_FRAGMENTS = (frame(T, F1, fin=False), frame(0, F2))
WITH_PING = (frame(T, F1, fin=False), frame(PI, b"ping payload"), frame(0, F2))
NOTHING_TO_CONTINUE_FIN = (frame(0, F1), frame(T, F2))
NOTHING_TO_CONTINUE = (frame(0, F1, fin=False), frame(T, F2))
CASES |= {
    "5.1 ping in 2 fragments": fails(frame(PI, F1, fin=False) + frame(0, F2), code=1002),
    "5.2 pong in 2 fragments": fails(frame(PO, F1, fin=False) + frame(0, F2), code=1002),
    "5.3 text in 2 fragments": ok(b"".join(TWO_FRAGMENTS), expect=[text(F1 + F2)]),
    "5.4 text in 2 fragments, frame-wise chops": ok(*TWO_FRAGMENTS, expect=[text(F1 + F2)]),
    "5.5 text in 2 fragments, octet-wise chops": ok(
        b"".join(TWO_FRAGMENTS), expect=[text(F1 + F2)], chop=1
    ),
    "5.6 text in 2 fragments with a ping between": ok(
        b"".join(WITH_PING), expect=[pong(b"ping payload"), text(F1 + F2)]
    ),
    "5.7 text in 2 fragments with a ping between, frame-wise chops": ok(
        *WITH_PING, expect=[pong(b"ping payload"), text(F1 + F2)]
    ),
    "5.8 text in 2 fragments with a ping between, octet-wise chops": ok(
        b"".join(WITH_PING), expect=[pong(b"ping payload"), text(F1 + F2)], chop=1
    ),
    "5.9 continuation with FIN, nothing to continue, then text": fails(
        b"".join(NOTHING_TO_CONTINUE_FIN), code=1002
    ),
    "5.10 continuation with FIN, nothing to continue, then text, frame-wise chops": fails(
        *NOTHING_TO_CONTINUE_FIN, code=1002
    ),
    "5.11 continuation with FIN, nothing to continue, then text, octet-wise chops": fails(
        b"".join(NOTHING_TO_CONTINUE_FIN), code=1002, chop=1
    ),
    "5.12 continuation without FIN, nothing to continue, then text": fails(
        b"".join(NOTHING_TO_CONTINUE), code=1002
    ),
    "5.13 continuation without FIN, nothing to continue, then text, frame-wise chops": fails(
        *NOTHING_TO_CONTINUE, code=1002
    ),
    "5.14 continuation without FIN, nothing to continue, then text, octet-wise chops": fails(
        b"".join(NOTHING_TO_CONTINUE), code=1002, chop=1
    ),
    "5.15 text in 2 fragments, then continuation without FIN, then text in 2": fails(
        frame(T, F1, fin=False)
        + frame(0, F2)
        + frame(0, b"fragment3", fin=False)
        + frame(T, b"fragment4"),
        code=1002,
        before=[text(F1 + F2)],
        non_strict_before=[],
    ),
    "5.16 2x (continuation without FIN, nothing to continue, then text in 2)": fails(
        (frame(0, F1, fin=False) + frame(T, F2, fin=False) + frame(0, b"fragment3")) * 2,
        code=1002,
    ),
    "5.17 2x (continuation with FIN, nothing to continue, then text in 2)": fails(
        (frame(0, F1) + frame(T, F2, fin=False) + frame(0, b"fragment3")) * 2, code=1002
    ),
    "5.18 text in 2 fragments, both with the text opcode": fails(
        frame(T, F1, fin=False) + frame(T, F2), code=1002
    ),
}

# -- 6: UTF-8 handling ----------------------------------------------------------------------


def per_octet(opcode: int, payload: bytes) -> bytes:
    """A message in 1-byte fragments."""
    if len(payload) <= 1:
        return frame(opcode, payload)
    return b"".join(
        frame(opcode if i == 0 else 0, payload[i : i + 1], fin=i == len(payload) - 1)
        for i in range(len(payload))
    )


# "κόσμε" as Autobahn spells it: a 2-byte, a 3-byte and three 2-byte sequences
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode()
INVALID_63 = KOSME + b"\xed\xa0\x80edited"  # a UTF-16 surrogate in the middle
CASES |= {
    "6.1.1 empty text": ok(frame(T), expect=[text("")]),
    "6.1.2 text in 3 empty fragments": ok(
        frame(T, fin=False) + frame(0, fin=False) + frame(0), expect=[text("")]
    ),
    "6.1.3 text in 3 fragments, first and last empty": ok(
        frame(T, fin=False) + frame(0, b"middle frame payload", fin=False) + frame(0),
        expect=[text("middle frame payload")],
    ),
    "6.2.1 valid UTF-8 in one fragment": ok(frame(T, HELLO_UTF8), expect=[text(HELLO_UTF8)]),
    "6.2.2 valid UTF-8 in 2 fragments split on a code point": ok(
        frame(T, HELLO_UTF8[:7], fin=False) + frame(0, HELLO_UTF8[7:]),
        expect=[text(HELLO_UTF8)],
    ),
    "6.2.3 valid UTF-8 in 1-octet fragments": ok(
        per_octet(T, HELLO_UTF8), expect=[text(HELLO_UTF8)]
    ),
    "6.2.4 valid UTF-8 (kosme) in 1-octet fragments": ok(per_octet(T, KOSME), expect=[text(KOSME)]),
    "6.3.1 invalid UTF-8 in one fragment": fails(frame(T, INVALID_63), code=1007),
    "6.3.2 invalid UTF-8 in 1-octet fragments": fails(per_octet(T, INVALID_63), code=1007),
}


def utf8_vectors() -> list[tuple[str, bool, bytes]]:
    """Autobahn's UTF-8 test vectors (Markus Kuhn's stress test): (case, valid, bytes)."""
    groups: list[list[tuple[bool, bytes]]] = [
        # 6.5: some valid UTF-8
        [(True, KOSME)]
        + [(True, b"hello" + c + b"world") for c in (b"$", b"\xc2\xa2", b"\xe2\x82\xac")]
        + [(True, b"hello\xf0\xa4\xad\xa2world")],
        # 6.6: every prefix of "κόσμε": valid when it ends on a code point
        [(i in (2, 5, 7, 9, 11), KOSME[:i]) for i in range(1, 12)],
        # 6.7: first possible sequence of each length
        [(True, b) for b in (b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80")],
        # 6.8: first possible sequence of 5 and 6 bytes (not UTF-8 any more)
        [(False, b) for b in (b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80")],
        # 6.9: last possible sequence of each length
        [(True, b) for b in (b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf")],
        # 6.10: last possible sequence of 4 (over U+10FFFF), 5 and 6 bytes
        [
            (False, b)
            for b in (b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf\xbf")
        ],
        # 6.11: other boundary conditions
        [
            (True, b"\xed\x9f\xbf"),
            (True, b"\xee\x80\x80"),
            (True, b"\xef\xbf\xbd"),
            (True, b"\xf4\x8f\xbf\xbf"),
            (False, b"\xf4\x90\x80\x80"),
        ],
        # 6.12: unexpected continuation bytes
        [(False, b) for b in (b"\x80", b"\xbf")]
        + [(False, (b"\x80\xbf" * 3)[:n]) for n in range(2, 7)]
        + [(False, bytes(range(0x80, 0xC0)))],
        # 6.13: lonely start bytes of 2-, 3-, 4-, 5- and 6-byte sequences, each then a space
        [
            (False, b"".join(bytes((c, 0x20)) for c in range(lo, hi)))
            for lo, hi in ((0xC0, 0xE0), (0xE0, 0xF0), (0xF0, 0xF8), (0xF8, 0xFC), (0xFC, 0xFE))
        ],
        # 6.14: sequences with the last continuation byte missing
        [(False, b) for b in INCOMPLETE],
        # 6.15: all of 6.14 concatenated
        [(False, b"".join(INCOMPLETE))],
        # 6.16: impossible bytes
        [(False, b) for b in (b"\xfe", b"\xff", b"\xfe\xfe\xff\xff")],
        # 6.17: overlong "/"
        [(False, b) for b in OVERLONG_SLASH],
        # 6.18: maximum overlong sequences
        [
            (False, b)
            for b in (
                b"\xc1\xbf",
                b"\xe0\x9f\xbf",
                b"\xf0\x8f\xbf\xbf",
                b"\xf8\x87\xbf\xbf\xbf",
                b"\xfc\x83\xbf\xbf\xbf\xbf",
            )
        ],
        # 6.19: overlong NUL
        [
            (False, b)
            for b in (
                b"\xc0\x80",
                b"\xe0\x80\x80",
                b"\xf0\x80\x80\x80",
                b"\xf8\x80\x80\x80\x80",
                b"\xfc\x80\x80\x80\x80\x80",
            )
        ],
        # 6.20: single UTF-16 surrogates
        [(False, b"\xed" + bytes((a, b))) for a, b in SURROGATES],
        # 6.21: paired UTF-16 surrogates
        [
            (False, b"\xed" + bytes(high) + b"\xed" + bytes(low))
            for high in ((0xA0, 0x80), (0xAD, 0xBF), (0xAE, 0x80), (0xAF, 0xBF))
            for low in ((0xB0, 0x80), (0xBF, 0xBF))
        ],
        # 6.22: noncharacters U+FFFE, U+FFFF and U+nFFFE, U+nFFFF of planes 1-16: valid UTF-8
        [
            (True, chr(cp).encode())
            for plane in range(17)
            for cp in (plane << 16 | 0xFFFE, plane << 16 | 0xFFFF)
        ],
        # 6.23: specials U+FFF9-U+FFFF
        [(True, chr(cp).encode()) for cp in range(0xFFF9, 0x10000)],
    ]
    return [
        (f"6.{group}.{n}", valid, data)
        for group, vectors in enumerate(groups, 5)
        for n, (valid, data) in enumerate(vectors, 1)
    ]


INCOMPLETE = (
    b"\xc0",
    b"\xe0\x80",
    b"\xf0\x80\x80",
    b"\xf8\x80\x80\x80",
    b"\xfc\x80\x80\x80\x80",
    b"\xdf",
    b"\xef\xbf",
    b"\xf7\xbf\xbf",
    b"\xfb\xbf\xbf\xbf",
    b"\xfd\xbf\xbf\xbf\xbf",
)
OVERLONG_SLASH = (
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xf8\x80\x80\x80\xaf",
    b"\xfc\x80\x80\x80\x80\xaf",
)
SURROGATES = (
    (0xA0, 0x80),
    (0xAD, 0xBF),
    (0xAE, 0x80),
    (0xAF, 0xBF),
    (0xB0, 0x80),
    (0xBE, 0x80),
    (0xBF, 0xBF),
)
for number, valid, data in utf8_vectors():
    name = f"{number} {'valid' if valid else 'invalid'} UTF-8 {data[:12].hex(' ')}"
    name += "..." if len(data) > 12 else ""
    CASES[name] = (
        ok(frame(T, data), expect=[text(data)]) if valid else fails(frame(T, data), code=1007)
    )

# -- 7: close handling -----------------------------------------------------------------------
REASON_123 = b"*" * 123
CASES |= {
    # 7.1.1 (text then close, written together) is test_7_1_1_text_then_close below.
    "7.1.2 close, then close again": Case((CLOSE_1000 + CLOSE_1000,), (closed(1000),)),
    "7.1.3 close, then ping": Case((CLOSE_1000 + frame(PI, b"ping payload"),), (closed(1000),)),
    "7.1.4 close, then text": Case((CLOSE_1000 + frame(T, HELLO),), (closed(1000),)),
    "7.1.5 text fragment, close, then the last fragment": Case(
        (frame(T, F1, fin=False) + CLOSE_1000 + frame(0, F2),), (closed(1000),)
    ),
    # RFC 6455 §5.5.1: a close without a code is answered without one (weft) or with 1000.
    "7.3.1 close without payload": Case(
        (close_frame(None),), (closed(0),), non_strict=((closed(1000),),)
    ),
    "7.3.2 close with a 1-byte payload": fails(frame(C, b"\x03"), code=1002),
    "7.3.3 close 1000 without reason": Case((close_frame(1000),), (closed(1000),)),
    "7.3.4 close 1000 with a reason": Case((close_frame(1000, b"Hello World!"),), (closed(1000),)),
    "7.3.5 close 1000 with a 123-byte reason": Case(
        (close_frame(1000, REASON_123),), (closed(1000),)
    ),
    "7.3.6 close 1000 with a 124-byte reason (control frame over 125)": fails(
        close_frame(1000, REASON_123 + b"*"), code=1002
    ),
    "7.5.1 close with an invalid UTF-8 reason": fails(close_frame(1000, INVALID_63), code=1007),
}
VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
for n, code in enumerate(VALID_CODES, 1):
    # Answered with the same code, as Autobahn prefers (it accepts 1000 too).
    CASES[f"7.7.{n} close with valid code {code}"] = Case((close_frame(code),), (closed(code),))
for n, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999), 1):
    CASES[f"7.9.{n} close with invalid code {code}"] = fails(close_frame(code), code=1002)
for n, code in enumerate((5000, 65535), 1):
    # Informational in Autobahn: codes over 4999 are undefined; weft refuses them (1002).
    CASES[f"7.13.{n} close with out-of-range code {code}"] = fails(close_frame(code), code=1002)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.asyncio
async def test_case(serve: ServeApp, app: web.Application, name: str) -> None:
    """The server answers the case's stream with exactly the expected frames, then EOF."""
    await run_case(await serve(app), CASES[name])


# ---------------------------------------------------------------- cases with timing or state


@pytest.mark.parametrize(
    "sync",
    [False, True],
    ids=["5.19 pings inside a fragmented message", "5.20 the same, frame-wise chops"],
)
@pytest.mark.asyncio
async def test_5_19_and_5_20_pings_inside_a_fragmented_message(
    serve: ServeApp, app: web.Application, sync: bool
) -> None:
    """5.19/5.20: each ping inside a 5-fragment message is answered at once; then the echo."""
    peer = await Peer.connect(await serve(app))
    pause = FRAME_PAUSE if sync else 0.0
    try:
        await peer.send(
            frame(T, b"fragment1", fin=False),
            frame(0, b"fragment2", fin=False),
            frame(PI, b"pongme 1!"),
            pause=pause,
        )
        assert view([await peer.recv()]) == [pong(b"pongme 1!")]  # while the message is open
        await asyncio.sleep(0.05)  # Autobahn waits 1 s
        await peer.send(
            frame(0, b"fragment3", fin=False),
            frame(0, b"fragment4", fin=False),
            frame(PI, b"pongme 2!"),
            frame(0, b"fragment5"),
            pause=pause,
        )
        got = view([await peer.recv(), await peer.recv()])
        assert got == [pong(b"pongme 2!"), text("fragment1fragment2fragment3fragment4fragment5")]
        await peer.send(CLOSE_1000)
        assert view(await peer.until_eof()) == [closed(1000)]
    finally:
        await peer.aclose()


FAIL_FAST = {
    "6.4.1 3 fragments, the 2nd makes it invalid": (KOSME, b"\xf4\x90\x80\x80", b"edited", False),
    "6.4.2 3 fragments, the 1-octet 2nd makes it invalid": (
        KOSME + b"\xf4",
        b"\x90",
        b"\x80\x80edited",
        False,
    ),
    "6.4.3 3 chops of one frame, the 2nd makes it invalid": (
        KOSME,
        b"\xf4\x90\x80\x80",
        b"edited",
        True,
    ),
    "6.4.4 3 chops of one frame, the 1-octet 2nd makes it invalid": (
        KOSME + b"\xf4",
        b"\x90",
        b"\x80\x80edited",
        True,
    ),
}


@pytest.mark.parametrize("name", list(FAIL_FAST))
@pytest.mark.asyncio
async def test_6_4_fail_fast_on_invalid_utf8(
    serve: ServeApp, app: web.Application, name: str
) -> None:
    """6.4.x: the server fails with 1007 as soon as the text can no longer be valid UTF-8."""
    # Autobahn pauses 1 s after each part: failing only once the whole message arrived
    # would be its NON-STRICT outcome. weft checks UTF-8 incrementally, inside a frame
    # too, so it fails before the 3rd part, which is never sent here (strict).
    part1, part2, part3, one_frame = FAIL_FAST[name]
    if one_frame:
        data = frame(T, part1 + part2 + part3)
        header = len(data) - len(part1 + part2 + part3)
        first, second = data[: header + len(part1)], data[header + len(part1) : -len(part3)]
    else:
        first, second = frame(T, part1, fin=False), frame(0, part2, fin=False)
    peer = await Peer.connect(await serve(app))
    try:
        await peer.send(first)
        await asyncio.sleep(0.05)
        assert peer.nothing_received()  # a valid prefix: the server waits for more
        await peer.send(second)
        assert view(await peer.until_eof()) == [closed(1007)]
    finally:
        await peer.aclose()


@pytest.mark.asyncio
async def test_7_1_1_text_then_close(serve: ServeApp, app: web.Application) -> None:
    """7.1.1: a text message and a close in one write: the echo, then the close (strict)."""
    await run_case(
        await serve(app),
        Case((frame(T, b"Hello World!") + CLOSE_1000,), (text("Hello World!"), closed(1000))),
    )


@pytest.mark.asyncio
async def test_7_1_6_large_message_then_close_then_ping(
    serve: ServeApp, app: web.Application
) -> None:
    """7.1.6: 256 KiB text, close and ping back to back: the echo may be cut (non-strict)."""
    # Autobahn accepts the echo (strict) or a close that cuts it (non-strict).
    payload = b"BAsd7&jh23" * 26214 + b"Bl"  # 256 KiB, Autobahn's payload
    await run_case(
        await serve(app),
        Case(
            (frame(T, payload) + CLOSE_1000 + frame(PI, b"ping payload"),),
            (text(payload), closed(1000)),
            non_strict=((closed(1000),),),
        ),
    )


# -- 9: limits (sizes only; Autobahn also times them) ----------------------------------------
SIZES_9 = (64 << 10, 256 << 10, 1 << 20, 4 << 20)  # 9.x.5/9.x.6 (8 and 16 MiB) left out


def size_name(size: int) -> str:
    return f"{size >> 20} MiB" if size >= MiB else f"{size >> 10} KiB"


@pytest.mark.parametrize(
    ("size", "kind"),
    [
        pytest.param(size, kind, id=f"9.{group}.{n} {kind} {size_name(size)}")
        for group, kind in ((1, "text"), (2, "binary"))
        for n, size in enumerate(SIZES_9, 1)
    ],
)
@pytest.mark.asyncio
async def test_9_1_and_9_2_large_messages(
    serve: ServeApp, app: web.Application, size: int, kind: str
) -> None:
    """9.1/9.2: one large text or binary message, echoed whole."""
    payload = b"*" * size if kind == "text" else b"\xfe" * size
    expect = text(payload) if kind == "text" else binary(payload)
    await run_case(
        await serve(app), ok(frame(T if kind == "text" else B, payload), expect=[expect])
    )


FRAGMENTS_9 = (64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20)


def fragmented(opcode: int, payload: bytes, size: int) -> bytes:
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    return b"".join(
        frame(opcode if i == 0 else 0, piece, fin=i == len(pieces) - 1)
        for i, piece in enumerate(pieces)
    )


@pytest.mark.parametrize(
    ("fragment", "kind"),
    [
        pytest.param(fragment, kind, id=f"9.{group}.{n} 4 MiB {kind} in {fragment}-byte fragments")
        for group, kind in ((3, "text"), (4, "binary"))
        for n, fragment in enumerate(FRAGMENTS_9, 1)
    ],
)
@pytest.mark.asyncio
async def test_9_3_and_9_4_fragmented_messages(
    serve: ServeApp, app: web.Application, fragment: int, kind: str
) -> None:
    """9.3/9.4: a 4 MiB message in fragments of 64 B to 4 MiB, echoed whole."""
    payload = b"*" * (4 * MiB) if kind == "text" else b"\xfe" * size
    expect = text(payload) if kind == "text" else binary(payload)
    data = fragmented(T if kind == "text" else B, payload, fragment)
    await run_case(await serve(app), ok(data, expect=[expect]))


@pytest.mark.parametrize(
    ("chop", "kind"),
    [
        pytest.param(chop, kind, id=f"9.{group}.{n} 1 MiB {kind} in {chop}-octet chops")
        for group, kind in ((5, "text"), (6, "binary"))
        for n, chop in enumerate((64, 128, 256, 512, 1024, 2048), 1)
    ],
)
@pytest.mark.asyncio
async def test_9_5_and_9_6_chopped_messages(
    serve: ServeApp, app: web.Application, chop: int, kind: str
) -> None:
    """9.5/9.6: a 1 MiB message written in chops of 64 B to 2 KiB, echoed whole."""
    payload = b"*" * MiB if kind == "text" else b"\xfe" * MiB
    data = frame(T if kind == "text" else B, payload)
    peer = await Peer.connect(await serve(app))
    try:
        for i in range(0, len(data), chop):  # the writes are not spaced: the kernel may merge
            peer.writer.write(data[i : i + chop])
        await peer.writer.drain()
        got = view([await peer.recv()])
        assert got == [text(payload) if kind == "text" else binary(payload)]
        await peer.send(CLOSE_1000)
        assert view(await peer.until_eof()) == [closed(1000)]
    finally:
        await peer.aclose()


@pytest.mark.parametrize(
    ("size", "kind"),
    [
        pytest.param(size, kind, id=f"9.{group}.{n} 1000 {kind} round trips of {size} bytes")
        for group, kind in ((7, "text"), (8, "binary"))
        for n, size in enumerate((0, 16, 64, 256, 1024, 4096), 1)
    ],
)
@pytest.mark.asyncio
async def test_9_7_and_9_8_round_trips(
    serve: ServeApp, app: web.Application, size: int, kind: str
) -> None:
    """9.7/9.8: 1000 messages, each sent after the echo of the previous one arrived."""
    payload = b"*" * size if kind == "text" else b"\xfe" * size
    data = frame(T if kind == "text" else B, payload)
    expect = text(payload) if kind == "text" else binary(payload)
    peer = await Peer.connect(await serve(app))
    try:
        for _ in range(1000):
            peer.writer.write(data)
            assert view([await peer.recv()]) == [expect]
        await peer.send(CLOSE_1000)
        assert view(await peer.until_eof()) == [closed(1000)]
    finally:
        await peer.aclose()
