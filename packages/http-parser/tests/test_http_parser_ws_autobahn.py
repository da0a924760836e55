"""The Autobahn|Testsuite cases that concern the codec, reproduced with raw frames.

Groups 1-7 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
close handling), 9 (message sizes) and 12-13 (permessage-deflate). Each case
is a client's byte stream fed to a server's reader; the expected outcome is
the messages an echo server would see, or the close code it must fail with.
Timing cases and ones about the TCP connection itself belong to web-core's
tests. Case numbers follow Autobahn's report; "chopped" cases feed the bytes
in small pieces.
"""

from __future__ import annotations

import zlib

import pytest

from weft.http_parser import (
    WebSocketEncoder,
    WebSocketError,
    WebSocketReader,
    WSMessage,
    WSMsgType,
    ws_negotiate_deflate,
)

MASK = b"\x37\xfa\x21\x3d"
T, B, C, PI, PO = 1, 2, 8, 9, 10


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client frame with any opcode and RSV bits."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload)
    if size < 126:
        header = bytes((first, 0x80 | size))
    elif size < 0x10000:
        header = bytes((first, 0xFE)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, 0xFF)) + size.to_bytes(8, "big")
    key = (MASK * (size // 4 + 1))[:size]
    return header + MASK + bytes(a ^ b for a, b in zip(payload, key, strict=True))


def run(data: bytes, chunk: int | None = None, **kwargs: object) -> list[WSMessage]:
    """Feed ``data`` whole or in ``chunk``-sized pieces to a server reader."""
    reader = WebSocketReader(**kwargs)  # type: ignore[arg-type]
    if chunk is None:
        return reader.feed(data)
    return [m for i in range(0, len(data), chunk) for m in reader.feed(data[i : i + chunk])]


def txt(s: str | bytes) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, s if isinstance(s, str) else s.decode(), "")


def binm(b: bytes) -> WSMessage:
    return WSMessage(WSMsgType.BINARY, b, "")


def ping(b: bytes = b"") -> WSMessage:
    return WSMessage(WSMsgType.PING, b, "")


def pong(b: bytes = b"") -> WSMessage:
    return WSMessage(WSMsgType.PONG, b, "")


def close(code: int = 1000, reason: str = "") -> WSMessage:
    return WSMessage(WSMsgType.CLOSE, code, reason)


SIZES_1 = [0, 125, 126, 127, 128, 65535, 65536]
CASES_OK: list[object] = []
CASES_FAIL: list[object] = []

# -- 1: framing: text and binary of each length, whole and chopped (1.1.8/1.2.8) ------------
for n, size in enumerate(SIZES_1, 1):
    CASES_OK.append(pytest.param(frame(T, b"*" * size), None, [txt("*" * size)], id=f"1.1.{n}"))
    CASES_OK.append(
        pytest.param(frame(B, b"\xfe" * size), None, [binm(b"\xfe" * size)], id=f"1.2.{n}")
    )
CASES_OK.append(pytest.param(frame(T, b"*" * 65536), 997, [txt("*" * 65536)], id="1.1.8"))
CASES_OK.append(pytest.param(frame(B, b"\xfe" * 65536), 997, [binm(b"\xfe" * 65536)], id="1.2.8"))

# -- 2: pings and pongs -----------------------------------------------------------------------
CASES_OK += [
    pytest.param(frame(PI), None, [ping()], id="2.1"),
    pytest.param(frame(PI, b"Hello, world!"), None, [ping(b"Hello, world!")], id="2.2"),
    pytest.param(frame(PI, b"\x00\xff\xfe\xfd"), None, [ping(b"\x00\xff\xfe\xfd")], id="2.3"),
    pytest.param(frame(PI, b"\xfe" * 125), None, [ping(b"\xfe" * 125)], id="2.4"),
    pytest.param(frame(PI, b"\xfe" * 125), 1, [ping(b"\xfe" * 125)], id="2.6"),
    pytest.param(frame(PO), None, [pong()], id="2.7"),
    pytest.param(frame(PO, b"unsolicited"), None, [pong(b"unsolicited")], id="2.8"),
    pytest.param(frame(PO, b"x") + frame(PI, b"y"), None, [pong(b"x"), ping(b"y")], id="2.9"),
    pytest.param(
        b"".join(frame(PI, b"%d" % i) for i in range(10)),
        None,
        [ping(b"%d" % i) for i in range(10)],
        id="2.10",
    ),
    pytest.param(
        b"".join(frame(PI, b"%d" % i) for i in range(10)),
        1,
        [ping(b"%d" % i) for i in range(10)],
        id="2.11",
    ),
]
CASES_FAIL.append(pytest.param(frame(PI, b"\xfe" * 126), [], 1002, id="2.5"))

# -- 3: reserved bits -------------------------------------------------------------------------
H = frame(T, b"Hello")
CASES_FAIL += [
    pytest.param(frame(T, b"Hello", rsv=4), [], 1002, id="3.1"),
    pytest.param(H + frame(T, b"Hello", rsv=2) + frame(PI), [txt("Hello")], 1002, id="3.2"),
    pytest.param(H + frame(T, b"Hello", rsv=3) + frame(PI), [txt("Hello")], 1002, id="3.3"),
    pytest.param(H + frame(T, b"Hello", rsv=4) + frame(PI), [txt("Hello")], 1002, id="3.4"),
    pytest.param(frame(B, b"\xff", rsv=5), [], 1002, id="3.5"),
    pytest.param(frame(PI, b"Hello", rsv=6), [], 1002, id="3.6"),
    pytest.param(frame(C, b"\x03\xe8", rsv=7), [], 1002, id="3.7"),
]

# -- 4: opcodes -------------------------------------------------------------------------------
for n, op in enumerate((3, 4, 5, 6, 7), 1):
    CASES_FAIL.append(
        pytest.param(H + frame(op, b"x") + frame(PI), [txt("Hello")], 1002, id=f"4.1.{n}")
    )
for n, op in enumerate((11, 12, 13, 14, 15), 1):
    CASES_FAIL.append(
        pytest.param(H + frame(op, b"x") + frame(PI), [txt("Hello")], 1002, id=f"4.2.{n}")
    )

# -- 5: fragmentation -------------------------------------------------------------------------
F1, F2 = b"fragment1", b"fragment2"
CASES_FAIL += [
    pytest.param(frame(PI, F1, fin=False) + frame(0, F2), [], 1002, id="5.1"),
    pytest.param(frame(PO, F1, fin=False) + frame(0, F2), [], 1002, id="5.2"),
    pytest.param(frame(0, F1) + frame(T, F2), [], 1002, id="5.9"),
    pytest.param(frame(0, F1, fin=False) + frame(T, F2), [], 1002, id="5.12"),
    pytest.param(
        frame(T, F1, fin=False) + frame(0, F2) + frame(0, b"3", fin=False) + frame(T, b"4"),
        [txt(F1 + F2)],
        1002,
        id="5.15",
    ),
    pytest.param(frame(T, F1, fin=False) + frame(T, F2), [], 1002, id="5.17"),
    pytest.param(frame(T, F1, fin=False) + frame(B, F2), [], 1002, id="5.18"),
]
FRAG_PING = frame(T, F1, fin=False) + frame(PI, b"ping") + frame(0, F2)
CASES_OK += [
    pytest.param(frame(T, F1, fin=False) + frame(0, F2), None, [txt(F1 + F2)], id="5.3"),
    pytest.param(frame(T, F1, fin=False) + frame(0, F2), 1, [txt(F1 + F2)], id="5.5"),
    pytest.param(FRAG_PING, None, [ping(b"ping"), txt(F1 + F2)], id="5.6"),
    pytest.param(FRAG_PING, 1, [ping(b"ping"), txt(F1 + F2)], id="5.7"),
    pytest.param(
        frame(T, b"f1", fin=False)
        + frame(PI, b"p1")
        + frame(0, b"f2", fin=False)
        + frame(PI, b"p2")
        + frame(0, b"f3", fin=False)
        + frame(0, b"f4"),
        None,
        [ping(b"p1"), ping(b"p2"), txt("f1f2f3f4")],
        id="5.19",
    ),
]

# -- 6: UTF-8 handling ------------------------------------------------------------------------
VALID_UTF8 = [
    b"",
    "Hello-µ@ßöäüàá-UTF-8!!".encode(),
    "κόσμε".encode(),
    b"\x00",
    b"\x7f",
    b"\xc2\x80",
    b"\xdf\xbf",
    b"\xe0\xa0\x80",
    b"\xef\xbf\xbf",  # U+FFFF, a noncharacter, is valid UTF-8
    b"\xef\xbf\xbe",
    b"\xf0\x90\x80\x80",
    b"\xf4\x8f\xbf\xbf",  # U+10FFFF
    b"\xed\x9f\xbf",  # U+D7FF, just below the surrogates
    b"\xee\x80\x80",  # U+E000, just above
]
INVALID_UTF8 = [
    "κόσμε".encode() + b"\xed\xa0\x80edited",  # 6.3: a surrogate
    b"\x80",  # lone continuation bytes
    b"\xbf",
    b"\x80\xbf\x80",
    b"\xc0 ",  # lone start bytes followed by a space
    b"\xe0 ",
    b"\xf0 ",
    b"\xc0",  # sequences with the last byte missing
    b"\xe0\x80",
    b"\xf0\x80\x80",
    b"\xdf",
    b"\xef\xbf",
    b"\xf7\xbf\xbf",
    b"\xfe",  # impossible bytes
    b"\xff",
    b"\xfe\xfe\xff\xff",
    b"\xc0\xaf",  # overlong encodings
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xc1\xbf",
    b"\xe0\x9f\xbf",
    b"\xf0\x8f\xbf\xbf",
    b"\xed\xa0\x80",  # UTF-16 surrogates
    b"\xed\xad\xbf",
    b"\xed\xbf\xbf",
    b"\xed\xa0\x80\xed\xb0\x80",
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf8\x88\x80\x80\x80",  # 5- and 6-byte forms
    b"\xfc\x84\x80\x80\x80\x80",
]
for n, data in enumerate(VALID_UTF8, 1):
    CASES_OK.append(pytest.param(frame(T, data), None, [txt(data)], id=f"6.valid.{n}"))
    fragmented = (
        frame(T, data[:1], fin=False)
        + b"".join(frame(0, data[i : i + 1], fin=i == len(data) - 1) for i in range(1, len(data)))
        if len(data) > 1
        else frame(T, data)
    )
    CASES_OK.append(pytest.param(fragmented, 1, [txt(data)], id=f"6.valid.{n}.per-byte"))
for n, data in enumerate(INVALID_UTF8, 1):
    CASES_FAIL.append(pytest.param(frame(T, data), [], 1007, id=f"6.invalid.{n}"))
    per_byte = (
        frame(T, data[:1], fin=False)
        + b"".join(frame(0, data[i : i + 1], fin=i == len(data) - 1) for i in range(1, len(data)))
        if len(data) > 1
        else frame(T, data)
    )
    CASES_FAIL.append(pytest.param(per_byte, [], 1007, id=f"6.invalid.{n}.per-byte"))

# -- 7: close handling ------------------------------------------------------------------------
CLOSE = frame(C, b"\x03\xe8")
CASES_OK += [
    pytest.param(frame(T, b"Hello") + CLOSE, None, [txt("Hello"), close()], id="7.1.1"),
    pytest.param(CLOSE + CLOSE, None, [close()], id="7.1.2"),
    pytest.param(CLOSE + frame(PI), None, [close()], id="7.1.3"),
    pytest.param(CLOSE + frame(T, b"after"), None, [close()], id="7.1.4"),
    pytest.param(frame(T, F1, fin=False) + CLOSE + frame(0, F2), None, [close()], id="7.1.5"),
    pytest.param(frame(C), None, [close(0)], id="7.3.1"),
    pytest.param(CLOSE, None, [close()], id="7.3.3"),
    pytest.param(
        frame(C, b"\x03\xe8Hello World!"), None, [close(1000, "Hello World!")], id="7.3.4"
    ),
    pytest.param(frame(C, b"\x03\xe8" + b"*" * 123), None, [close(1000, "*" * 123)], id="7.3.5"),
]
CASES_FAIL += [
    pytest.param(frame(C, b"\x03"), [], 1002, id="7.3.2"),
    pytest.param(frame(C, b"\x03\xe8" + b"*" * 124), [], 1002, id="7.3.6"),
    pytest.param(
        frame(C, b"\x03\xe8" + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
        [],
        1007,
        id="7.5.1",
    ),
]
for n, code in enumerate(
    (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999), 1
):
    CASES_OK.append(
        pytest.param(frame(C, code.to_bytes(2, "big")), None, [close(code)], id=f"7.7.{n}")
    )
for n, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999), 1):
    CASES_FAIL.append(pytest.param(frame(C, code.to_bytes(2, "big")), [], 1002, id=f"7.9.{n}"))
CASES_FAIL += [
    pytest.param(frame(C, (5000).to_bytes(2, "big")), [], 1002, id="7.13.1"),
    pytest.param(frame(C, (65535).to_bytes(2, "big")), [], 1002, id="7.13.2"),
]


@pytest.mark.parametrize(("data", "chunk", "expected"), CASES_OK)
def test_case_ok(data: bytes, chunk: int | None, expected: list[WSMessage]) -> None:
    """The stream yields exactly these messages."""
    assert run(data, chunk) == expected


@pytest.mark.parametrize(("data", "before", "code"), CASES_FAIL)
def test_case_fails(data: bytes, before: list[WSMessage], code: int) -> None:
    """The stream yields these messages, then fails with this close code (whole and per byte)."""
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        reader = WebSocketReader()
        received: list[WSMessage] = []
        with pytest.raises(WebSocketError) as info:
            received.extend(m for piece in pieces for m in reader.feed(piece))
        received += info.value.messages
        assert info.value.code == code
        assert received == before


# -- 9: limits and performance (sizes only; Autobahn times them) ------------------------------

SIZES_9 = [64 << 10, 256 << 10, 1 << 20, 4 << 20]


@pytest.mark.parametrize("size", SIZES_9, ids=[f"9.1.{n}" for n in range(1, 5)])
def test_9_1_text_messages(size: int) -> None:
    """9.1: one text message of 64 KiB to 4 MiB, echoed."""
    data = "*" * size
    message = run(frame(T, data.encode()), max_msg_size=16 << 20)
    assert message == [txt(data)]
    echo = WebSocketEncoder().text(data)
    assert WebSocketReader(is_client=True, max_msg_size=0).feed(echo) == message


@pytest.mark.parametrize("size", SIZES_9, ids=[f"9.2.{n}" for n in range(1, 5)])
def test_9_2_binary_messages(size: int) -> None:
    """9.2: one binary message of 64 KiB to 4 MiB."""
    data = b"\xfe" * size
    assert run(frame(B, data), max_msg_size=16 << 20) == [binm(data)]


@pytest.mark.parametrize(
    "fragment", [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20]
)
def test_9_3_and_9_4_fragmented(fragment: int) -> None:
    """9.3/9.4: a 4 MiB message in fragments of 64 B to 1 MiB, text and binary."""
    size = 4 << 20
    for kind, payload in ((T, b"*" * size), (B, b"\xfe" * size)):
        pieces = [payload[i : i + fragment] for i in range(0, size, fragment)]
        data = b"".join(
            frame(kind if i == 0 else 0, piece, fin=i == len(pieces) - 1)
            for i, piece in enumerate(pieces)
        )
        (message,) = run(data, 1 << 16, max_msg_size=size)
        assert len(message.data) == size


@pytest.mark.parametrize("chop", [64, 128, 256, 512, 1024, 2048], ids=lambda c: f"9.5-9.6-{c}")
def test_9_5_and_9_6_chopped(chop: int) -> None:
    """9.5/9.6: a 1 MiB message delivered in chops of 64 B to 2 KiB."""
    payload = b"*" * (1 << 20)
    assert run(frame(T, payload), chop) == [txt(payload)]
    assert run(frame(B, payload), chop) == [binm(payload)]


def test_9_7_and_9_8_many_small_messages() -> None:
    """9.7/9.8: 1000 small text and binary messages in one stream."""
    data = b"".join(frame(T, b"Hello, world!") + frame(B, b"\xfe" * 16) for _ in range(1000))
    assert run(data) == [txt("Hello, world!"), binm(b"\xfe" * 16)] * 1000


# -- 12/13: permessage-deflate ----------------------------------------------------------------

OFFERS_13 = {
    "13.1": "permessage-deflate; client_max_window_bits",
    "13.2": "permessage-deflate; client_max_window_bits; server_no_context_takeover;"
    " client_no_context_takeover",
    "13.3": "permessage-deflate; client_max_window_bits=9",
    "13.4": "permessage-deflate; client_max_window_bits=15",
    "13.5": "permessage-deflate; client_max_window_bits=9; client_no_context_takeover;"
    " server_no_context_takeover; server_max_window_bits=9",
    "13.6": "permessage-deflate; client_max_window_bits=15; client_no_context_takeover;"
    " server_no_context_takeover; server_max_window_bits=15",
    "13.7": "permessage-deflate; server_max_window_bits=8, permessage-deflate;"
    " client_no_context_takeover, permessage-deflate",
}
SIZES_12 = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]


def echo_compressed(offer: str, payloads: list[bytes], opcode: int) -> None:
    """A zlib-compressing client sends ``payloads``; the server reads them and echoes them."""
    agreed = ws_negotiate_deflate(offer)
    assert agreed is not None
    params = agreed[0]
    reader = WebSocketReader(compress=params)
    encoder = WebSocketEncoder(compress=params)
    client_bits = params.client_max_window_bits
    compressor = zlib.compressobj(6, zlib.DEFLATED, -max(client_bits, 9))
    decompressor = zlib.decompressobj(-15)
    for payload in payloads:
        if params.client_no_context_takeover:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -max(client_bits, 9))
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        (message,) = reader.feed(frame(opcode, data[:-4], rsv=4))
        raw = message.data.encode() if opcode == T else message.data
        assert raw == payload
        echo = encoder.message(raw, opcode)
        assert echo[0] & 0x40  # RSV1: compressed
        if params.server_no_context_takeover:
            decompressor = zlib.decompressobj(-15)
        header = 2 + (2 if echo[1] & 0x7F == 126 else 8 if echo[1] & 0x7F == 127 else 0)
        assert decompressor.decompress(echo[header:] + b"\x00\x00\xff\xff") == payload


@pytest.mark.parametrize("size", SIZES_12)
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_12_compressed_payload_sizes(size: int, kind: str) -> None:
    """12.x: compressed text (repetitive) and binary (random-ish) messages of 16 B to 128 KiB."""
    if kind == "text":
        base = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
        payloads = [(base * (size // len(base) + 1))[:size] for _ in range(10)]
        opcode = T
    else:
        payloads = [bytes((i * 7 + j * 13) % 251 for j in range(size)) for i in range(3)]
        opcode = B
    echo_compressed(OFFERS_13["13.1"], payloads, opcode)


@pytest.mark.parametrize("case", sorted(OFFERS_13))
def test_13_negotiated_parameters(case: str) -> None:
    """13.x: each offer from Autobahn's client is negotiated and messages round-trip."""
    payloads = [b"Hello, compressed world! " * n for n in (1, 1, 10, 100, 1000)]
    echo_compressed(OFFERS_13[case], payloads, T)
    echo_compressed(OFFERS_13[case], payloads, B)
