"""The WebSocket frame reader and writer (RFC 6455 §5, §7): framing, masking, limits, close."""

from __future__ import annotations

import os

import pytest

from weft.http_parser import (
    WebSocketEncoder,
    WebSocketError,
    WebSocketReader,
    WSDeflateParams,
    WSMessage,
    WSMsgType,
    ws_encode_close,
    ws_encode_frame,
)

MASK = b"\x01\x02\x03\x04"


def raw(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = MASK,
    length_size: int | None = None,
) -> bytes:
    """Any frame, valid or not: ``length_size`` 0/2/8 forces the length encoding."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload)
    if length_size is None:
        length_size = 0 if size < 126 else 2 if size < 0x10000 else 8
    mask_bit = 0x80 if mask is not None else 0
    if length_size == 0:
        header = bytes((first, mask_bit | size))
    else:
        code = 126 if length_size == 2 else 127
        header = bytes((first, mask_bit | code)) + size.to_bytes(length_size, "big")
    if mask is None:
        return header + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def text(data: bytes) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, data.decode(), "")


def feed_bytewise(reader: WebSocketReader, data: bytes) -> list[WSMessage]:
    return [msg for i in range(len(data)) for msg in reader.feed(data[i : i + 1])]


def fails(data: bytes, code: int, **kwargs: object) -> WebSocketError:
    """Feeding ``data`` (whole, then byte by byte) fails with close ``code``."""
    with pytest.raises(WebSocketError) as info:
        WebSocketReader(**kwargs).feed(data)  # type: ignore[arg-type]
    assert info.value.code == code, str(info.value)
    with pytest.raises(WebSocketError) as again:
        feed_bytewise(WebSocketReader(**kwargs), data)  # type: ignore[arg-type]
    assert again.value.code == code
    return info.value


# -- masking (§5.1, §5.3) -----------------------------------------------------------------------


def test_rfc_masked_hello() -> None:
    """RFC 6455 §5.7: a masked "Hello" from a client."""
    data = bytes.fromhex("818537fa213d7f9f4d5158")
    assert WebSocketReader().feed(data) == [text(b"Hello")]


def test_rfc_unmasked_hello_to_client() -> None:
    """RFC 6455 §5.7: an unmasked "Hello" from a server, read by a client."""
    assert WebSocketReader(is_client=True).feed(bytes.fromhex("810548656c6c6f")) == [text(b"Hello")]


def test_server_refuses_unmasked_frames() -> None:
    """A server fails the connection on an unmasked client frame (§5.1): 1002."""
    error = fails(raw(1, b"hi", mask=None), 1002)
    assert "unmasked" in str(error)


def test_client_refuses_masked_frames() -> None:
    """A client fails the connection on a masked server frame (§5.1): 1002."""
    fails(raw(1, b"hi"), 1002, is_client=True)


def test_client_encoder_masks_with_fresh_keys() -> None:
    """A client's frames carry a new key each time and decode to the same message."""
    encoder = WebSocketEncoder(is_client=True)
    one, two = encoder.text("same"), encoder.text("same")
    assert one[1] & 0x80
    assert one != two  # 2**-32 chance of a false failure
    assert WebSocketReader().feed(one + two) == [text(b"same")] * 2


def test_masking_across_splits_at_every_offset() -> None:
    """The mask is applied at the right offset whatever the cut of the payload."""
    payload = bytes(range(256)) * 3
    frame = raw(2, payload)
    for cut in range(len(frame)):
        reader = WebSocketReader()
        messages = reader.feed(frame[:cut]) + reader.feed(frame[cut:])
        assert messages == [WSMessage(WSMsgType.BINARY, payload, "")]


# -- lengths (§5.2) -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 1 << 20])
def test_lengths_round_trip(size: int) -> None:
    """7-, 16- and 64-bit lengths, up to a 1 MiB message, both directions."""
    payload = os.urandom(size)
    for is_client in (False, True):
        frame = WebSocketEncoder(is_client=is_client).binary(payload)
        reader = WebSocketReader(is_client=not is_client)
        assert reader.feed(frame) == [WSMessage(WSMsgType.BINARY, payload, "")]


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (125, b"\x82\x7d"),
        (126, b"\x82\x7e\x00\x7e"),
        (65535, b"\x82\x7e\xff\xff"),
        (65536, b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_writer_uses_the_shortest_length(size: int, header: bytes) -> None:
    """The writer encodes each length in the shortest form (§5.2)."""
    assert ws_encode_frame(WSMsgType.BINARY, b"x" * size).startswith(header)


@pytest.mark.parametrize("length_size", [2, 8])
def test_non_minimal_lengths_are_accepted(length_size: int) -> None:
    """§5.2 does not require the minimal length encoding, so a 5-byte payload may use 64 bits."""
    frame = raw(1, b"hello", length_size=length_size)
    assert WebSocketReader().feed(frame) == [text(b"hello")]


def test_64_bit_length_top_bit() -> None:
    """The most significant bit of a 64-bit length must be 0 (§5.2): 1002."""
    frame = b"\x82\xff" + (1 << 63).to_bytes(8, "big") + MASK
    fails(frame, 1002, max_msg_size=0)


# -- fragmentation and control frames (§5.4, §5.5) ---------------------------------------------


def test_fragments_with_interleaved_ping() -> None:
    """Fragments make one message; a ping between them is delivered first (§5.4)."""
    data = (
        raw(1, b"Hel", fin=False)
        + raw(0x9, b"p")
        + raw(0, b"lo", fin=False)
        + raw(0xA, b"q")
        + raw(0, b"!", fin=True)
    )
    expected = [
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.PONG, b"q", ""),
        text(b"Hello!"),
    ]
    assert WebSocketReader().feed(data) == expected
    assert feed_bytewise(WebSocketReader(), data) == expected


def test_empty_fragments() -> None:
    """Empty first, middle and last fragments are allowed."""
    data = raw(2, b"", fin=False) + raw(0, b"ab", fin=False) + raw(0, b"", fin=False) + raw(0, b"")
    assert WebSocketReader().feed(data) == [WSMessage(WSMsgType.BINARY, b"ab", "")]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(raw(0, b"x"), id="continuation-alone"),
        pytest.param(raw(0, b"x", fin=False), id="continuation-alone-not-fin"),
        pytest.param(raw(1, b"a", fin=False) + raw(1, b"b"), id="text-inside-message"),
        pytest.param(raw(1, b"a", fin=False) + raw(2, b"b"), id="binary-inside-message"),
        pytest.param(raw(0x9, b"", fin=False), id="fragmented-ping"),
        pytest.param(raw(0x8, b"\x03\xe8", fin=False), id="fragmented-close"),
        pytest.param(raw(0x9, b"x" * 126), id="ping-126"),
        pytest.param(raw(0xA, b"x" * 126), id="pong-126"),
        pytest.param(raw(0x8, b"\x03\xe8" + b"x" * 124), id="close-126"),
        pytest.param(raw(0x9, b"x" * 5, length_size=2), id="ping-16-bit-length"),
    ]
    + [pytest.param(raw(op, b"x"), id=f"reserved-opcode-{op:#x}") for op in (3, 4, 5, 6, 7)]
    + [pytest.param(raw(op, b""), id=f"reserved-opcode-{op:#x}") for op in range(0xB, 0x10)]
    + [pytest.param(raw(1, b"x", rsv=rsv), id=f"rsv-{rsv}") for rsv in range(1, 8)],
)
def test_framing_violations_are_1002(data: bytes) -> None:
    """Each framing rule of §5.2-§5.5 broken: 1002 PROTOCOL_ERROR."""
    fails(data, 1002)


def test_header_errors_fail_before_the_rest_arrives() -> None:
    """Opcode, RSV, FIN and the 7-bit length of a control frame are checked on 2 bytes."""
    for first_two in (b"\x83\x81", b"\xc1\x81", b"\x09\x80", b"\x89\xfe", b"\x81\x01"):
        with pytest.raises(WebSocketError) as info:
            WebSocketReader().feed(first_two)
        assert info.value.code == 1002


# -- limits (§7.4.1: 1009) ----------------------------------------------------------------------


def test_declared_length_over_limit_fails_at_the_header() -> None:
    """A frame declaring more than max_msg_size fails before its payload is read."""
    header = b"\x82\xff" + (1 << 40).to_bytes(8, "big") + MASK
    with pytest.raises(WebSocketError) as info:
        WebSocketReader().feed(header)
    assert info.value.code == 1009


def test_limit_counts_all_fragments() -> None:
    """The limit applies to the message, summed over its fragments."""
    data = raw(2, b"x" * 60, fin=False) + raw(0, b"x" * 41)
    fails(data, 1009, max_msg_size=100)
    ok = raw(2, b"x" * 60, fin=False) + raw(0, b"x" * 40)
    assert WebSocketReader(max_msg_size=100).feed(ok)[0].data == b"x" * 100


def test_zero_limit_is_unlimited() -> None:
    """max_msg_size=0 disables the limit, as in aiohttp."""
    payload = b"y" * (5 << 20)
    assert WebSocketReader(max_msg_size=0).feed(raw(2, payload))[0].data == payload
    with pytest.raises(ValueError, match="max_msg_size"):
        WebSocketReader(max_msg_size=-1)


def test_control_frames_are_not_counted() -> None:
    """Pings between fragments do not count toward the message's size."""
    data = raw(2, b"x" * 10, fin=False) + raw(9, b"p" * 100) + raw(0, b"x" * 10)
    assert WebSocketReader(max_msg_size=20).feed(data)[-1].data == b"x" * 20


# -- UTF-8 (§8.1: 1007) -------------------------------------------------------------------------

SAMPLE = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 €".encode()


def test_utf8_split_across_fragments_at_every_byte() -> None:
    """Valid UTF-8 cut inside a character between fragments is still one valid text."""
    for cut in range(len(SAMPLE) + 1):
        data = raw(1, SAMPLE[:cut], fin=False) + raw(0, SAMPLE[cut:])
        assert WebSocketReader().feed(data) == [text(SAMPLE)]


@pytest.mark.parametrize(
    "bad",
    [b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xf0\x9d"],
)
def test_invalid_utf8_text_is_1007(bad: bytes) -> None:
    """Invalid or truncated UTF-8 in a text message: 1007 INVALID_TEXT."""
    fails(raw(1, b"ok " + bad), 1007)
    for cut in range(len(bad) + 1):
        fails(raw(1, b"ok " + bad[:cut], fin=False) + raw(0, bad[cut:]), 1007)


def test_invalid_utf8_fails_fast() -> None:
    """Invalid bytes in the first fragment fail before the message ends (§8.1)."""
    reader = WebSocketReader()
    with pytest.raises(WebSocketError) as info:
        reader.feed(raw(1, b"fine \xc0\xaf", fin=False))
    assert info.value.code == 1007
    streaming = WebSocketReader()
    frame = raw(1, b"abc\xff" + b"x" * 1000)
    with pytest.raises(WebSocketError):
        streaming.feed(frame[:20])  # 8 header bytes, 12 of 1004 payload bytes


def test_binary_is_not_utf8_checked() -> None:
    """Binary messages may hold any bytes."""
    assert WebSocketReader().feed(raw(2, b"\xff\xfe"))[0].data == b"\xff\xfe"


def test_decode_text_false_keeps_text_as_unchecked_bytes() -> None:
    """decode_text=False: TEXT stays TEXT, its payload bytes as sent, invalid UTF-8 included."""
    bad = b"ok \xff"
    data = raw(1, bad[:2], fin=False) + raw(9, b"p") + raw(0, bad[2:]) + raw(2, b"\xfe")
    expected = [
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.TEXT, bad, ""),
        WSMessage(WSMsgType.BINARY, b"\xfe", ""),
    ]
    assert WebSocketReader(decode_text=False).feed(data) == expected
    assert feed_bytewise(WebSocketReader(decode_text=False), data) == expected
    fails(raw(1, bad), 1007)  # the default still checks


# -- close frames (§5.5.1, §7.4) ---------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1010, 1011, 1014, 3000, 4999])
def test_valid_close_codes(code: int) -> None:
    """Defined and registered/private codes are delivered with their reason."""
    data = raw(8, code.to_bytes(2, "big") + "né".encode())
    assert WebSocketReader().feed(data) == [WSMessage(WSMsgType.CLOSE, code, "né")]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_invalid_close_codes_are_1002(code: int) -> None:
    """Reserved, never-sent and unassigned codes: 1002."""
    fails(raw(8, code.to_bytes(2, "big")), 1002)


def test_close_payload_rules() -> None:
    """Empty close: code 0 as aiohttp; 1 byte: 1002; reason not UTF-8: 1007."""
    assert WebSocketReader().feed(raw(8)) == [WSMessage(WSMsgType.CLOSE, 0, "")]
    fails(raw(8, b"\x03"), 1002)
    fails(raw(8, b"\x03\xe8\xff"), 1007)


def test_bytes_after_close_are_dropped() -> None:
    """After a close frame the reader is closed and ignores what follows (§5.5.1)."""
    reader = WebSocketReader()
    data = raw(1, b"a") + raw(8, b"\x03\xe8") + raw(1, b"after") + b"\xff\xff garbage"
    assert reader.feed(data) == [text(b"a"), WSMessage(WSMsgType.CLOSE, 1000, "")]
    assert reader.closed
    assert reader.feed(raw(1, b"more")) == []


def test_close_inside_a_fragmented_message() -> None:
    """A close between fragments ends the connection; the partial message is dropped."""
    data = raw(1, b"par", fin=False) + raw(8, b"\x03\xe8")
    assert WebSocketReader().feed(data) == [WSMessage(WSMsgType.CLOSE, 1000, "")]


# -- errors are final ---------------------------------------------------------------------------


def test_error_keeps_earlier_messages_and_is_sticky() -> None:
    """The failing call's earlier messages ride on the error; later feeds raise again."""
    reader = WebSocketReader()
    with pytest.raises(WebSocketError) as info:
        reader.feed(raw(1, b"one") + raw(2, b"two") + raw(3, b""))
    assert info.value.messages == [text(b"one"), WSMessage(WSMsgType.BINARY, b"two", "")]
    with pytest.raises(WebSocketError) as again:
        reader.feed(raw(1, b"three"))
    assert again.value.code == 1002
    assert isinstance(again.value, ValueError)


def test_reader_accepts_bytearray_and_memoryview() -> None:
    """feed takes any bytes-like object."""
    frame = raw(1, b"hi")
    assert WebSocketReader().feed(bytearray(frame)) == [text(b"hi")]
    assert WebSocketReader().feed(memoryview(frame)) == [text(b"hi")]


# -- the writer ---------------------------------------------------------------------------------


def test_encode_close() -> None:
    """A close frame: code, reason, or nothing; checked before anything is built."""
    assert ws_encode_close() == b"\x88\x02\x03\xe8"
    assert ws_encode_close(None) == b"\x88\x00"
    assert ws_encode_close(4000, "x" * 123)[1] == 125
    reader = WebSocketReader(is_client=True)
    assert reader.feed(ws_encode_close(1001, "bye")) == [WSMessage(WSMsgType.CLOSE, 1001, "bye")]


@pytest.mark.parametrize(
    ("code", "reason", "match"),
    [
        (1005, "", "may not be sent"),
        (1006, "", "may not be sent"),
        (1004, "", "may not be sent"),
        (1015, "", "may not be sent"),
        (999, "", "may not be sent"),
        (5000, "", "may not be sent"),
        (1000, "x" * 124, "123"),
        (1000, "é" * 62, "123"),
        (None, "why", "needs a close code"),
    ],
)
def test_encode_close_refuses(code: int | None, reason: str, match: str) -> None:
    """Codes that may not be sent and reasons over 123 UTF-8 bytes: ValueError."""
    with pytest.raises(ValueError, match=match):
        ws_encode_close(code, reason)


def test_encode_frame_refuses_invalid_frames() -> None:
    """Control frames over 125 bytes, fragmented or with RSV1, unknown opcodes: ValueError."""
    with pytest.raises(ValueError, match="125"):
        ws_encode_frame(WSMsgType.PING, b"x" * 126)
    with pytest.raises(ValueError, match="125"):
        ws_encode_frame(WSMsgType.PING, b"", fin=False)
    with pytest.raises(ValueError, match="not defined"):
        ws_encode_frame(3, b"")
    with pytest.raises(ValueError, match="mask_key"):
        ws_encode_frame(1, b"", mask=True, mask_key=b"12")
    with pytest.raises(ValueError, match="message type"):
        WebSocketEncoder().message(b"", 0)
    with pytest.raises(ValueError, match="max_frame_size"):
        WebSocketEncoder(max_frame_size=0)
    with pytest.raises(ValueError, match=r"9\.\.15"):
        WebSocketEncoder(compress=WSDeflateParams(server_max_window_bits=8))


def test_encoder_fragments_big_messages() -> None:
    """max_frame_size splits a message: first frame has the opcode, the last FIN."""
    frames = WebSocketEncoder(max_frame_size=4).text("0123456789")
    assert frames == (
        ws_encode_frame(1, b"0123", fin=False)
        + ws_encode_frame(0, b"4567", fin=False)
        + ws_encode_frame(0, b"89")
    )
    assert WebSocketReader(is_client=True).feed(frames) == [text(b"0123456789")]
    assert WebSocketEncoder(max_frame_size=5).binary(b"01234") == ws_encode_frame(2, b"01234")


def test_encoder_control_frames() -> None:
    """ping, pong and close through the encoder, read back by the peer."""
    encoder = WebSocketEncoder(is_client=True)
    data = encoder.ping(b"1") + encoder.pong(b"2") + encoder.message(b"3", WSMsgType.PING)
    data += encoder.close(3000, "r")
    assert WebSocketReader().feed(data) == [
        WSMessage(WSMsgType.PING, b"1", ""),
        WSMessage(WSMsgType.PONG, b"2", ""),
        WSMessage(WSMsgType.PING, b"3", ""),
        WSMessage(WSMsgType.CLOSE, 3000, "r"),
    ]
