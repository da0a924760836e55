"""permessage-deflate (RFC 7692 §7.2): compression both ways, context takeover, size caps.

The reference is zlib itself (raw deflate, the ``00 00 ff ff`` tail removed
and restored by hand) and, when it is installed, the `websockets` library's
sans-IO protocol talking to our reader and encoder.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest

from weft.http_parser import (
    RequestHead,
    RequestParser,
    WebSocketEncoder,
    WebSocketError,
    WebSocketReader,
    WSDeflateParams,
    WSMessage,
    WSMsgType,
    serialize_response_head,
    ws_encode_frame,
    ws_server_handshake,
)

TAIL = b"\x00\x00\xff\xff"
MESSAGES = [b"hello hello hello", b"hello hello hello", b"", os.urandom(3000), b"z" * 70000]


def payloads(frames: bytes, is_client_reader: bool = True) -> list[tuple[bool, bytes]]:
    """(RSV1, payload) of each unmasked frame in ``frames``; a tiny frame splitter."""
    out = []
    pos = 0
    while pos < len(frames):
        first, second = frames[pos], frames[pos + 1]
        size = second & 0x7F
        pos += 2
        if size == 126:
            size = int.from_bytes(frames[pos : pos + 2], "big")
            pos += 2
        elif size == 127:
            size = int.from_bytes(frames[pos : pos + 8], "big")
            pos += 8
        out.append((bool(first & 0x40), frames[pos : pos + size]))
        pos += size
    return out


@pytest.mark.parametrize("takeover", [True, False])
def test_our_compression_against_zlib(takeover: bool) -> None:
    """Our compressed payloads inflate with plain zlib, with or without context takeover."""
    params = WSDeflateParams(server_no_context_takeover=not takeover)
    encoder = WebSocketEncoder(compress=params)
    reference = zlib.decompressobj(-15)
    sizes = []
    for message in MESSAGES:
        ((rsv1, payload),) = payloads(encoder.binary(message))
        assert rsv1
        sizes.append(len(payload))
        if not takeover:
            reference = zlib.decompressobj(-15)  # each message stands alone
        assert reference.decompress(payload + TAIL) == message
    # With context takeover the repeated message refers to the first: it is shorter.
    assert (sizes[1] < sizes[0]) is takeover


@pytest.mark.parametrize("window_bits", [9, 10, 12, 15])
@pytest.mark.parametrize("takeover", [True, False])
def test_zlib_compression_read_by_us(window_bits: int, takeover: bool) -> None:
    """zlib-compressed frames (any window, with or without takeover) are read back."""
    params = WSDeflateParams(client_no_context_takeover=not takeover)
    reader = WebSocketReader(compress=params)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -window_bits)
    for message in MESSAGES:
        if not takeover:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -window_bits)
        data = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(TAIL)
        frame = ws_encode_frame(WSMsgType.BINARY, data[:-4], rsv1=True, mask=True)
        assert reader.feed(frame) == [WSMessage(WSMsgType.BINARY, message, "")]


def test_message_ending_with_a_final_block() -> None:
    """A sender may end a message with BFINAL=1 (a finished stream); the next starts anew."""
    reader = WebSocketReader(compress=WSDeflateParams())
    for message in (b"first", b"second"):
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = compressor.compress(message) + compressor.flush(zlib.Z_FINISH)
        frame = ws_encode_frame(WSMsgType.BINARY, data, rsv1=True, mask=True)
        assert reader.feed(frame) == [WSMessage(WSMsgType.BINARY, message, "")]


@pytest.mark.parametrize("max_frame_size", [None, 1, 7, 1000])
@pytest.mark.parametrize("is_client", [False, True])
def test_round_trip_compressed_fragmented(max_frame_size: int | None, is_client: bool) -> None:
    """Compressed messages, fragmented or not, from either side, read back; RSV1 on frame 1 only."""
    params = WSDeflateParams()
    encoder = WebSocketEncoder(is_client=is_client, compress=params, max_frame_size=max_frame_size)
    reader = WebSocketReader(is_client=not is_client, compress=params)
    for message in ["héllo" * 50, "", "x"]:
        assert reader.feed(encoder.text(message)) == [WSMessage(WSMsgType.TEXT, message, "")]
    if not is_client:
        frames = payloads(encoder.text("abc" * 500))
        assert frames[0][0]
        assert not any(rsv1 for rsv1, _ in frames[1:])


def test_empty_message_is_a_single_zero_byte() -> None:
    """An empty compressed message after context is a 0x00 byte (§7.2.3.6), never nothing."""
    encoder = WebSocketEncoder(compress=WSDeflateParams())
    reader = WebSocketReader(is_client=True, compress=WSDeflateParams())
    for message in (b"", b"abc", b"", b""):
        frame = encoder.binary(message)
        ((_, payload),) = payloads(frame)
        assert payload
        assert reader.feed(frame) == [WSMessage(WSMsgType.BINARY, message, "")]


def test_uncompressed_messages_when_compression_is_on() -> None:
    """compress=False sends one message plainly; the reader takes both kinds."""
    params = WSDeflateParams()
    encoder = WebSocketEncoder(compress=params)
    assert encoder.compressing
    plain = encoder.text("plain", compress=False)
    assert plain == ws_encode_frame(WSMsgType.TEXT, b"plain")
    reader = WebSocketReader(is_client=True, compress=params)
    data = plain + encoder.text("packed") + plain
    assert [m.data for m in reader.feed(data)] == ["plain", "packed", "plain"]


def test_deflate_bomb_is_1009() -> None:
    """A small frame inflating past max_msg_size fails with 1009, inflating no further."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"\x00" * (20 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 30_000
    frame = ws_encode_frame(WSMsgType.BINARY, bomb[:-4], rsv1=True, mask=True)
    reader = WebSocketReader(compress=WSDeflateParams(), max_msg_size=1 << 20)
    with pytest.raises(WebSocketError) as info:
        reader.feed(frame)
    assert info.value.code == 1009


def test_compressed_message_at_the_limit_passes() -> None:
    """Exactly max_msg_size bytes after inflation is allowed; one more is not."""
    params = WSDeflateParams()
    for size, ok in ((1000, True), (1001, False)):
        frame = WebSocketEncoder(is_client=True, compress=params).binary(b"a" * size)
        reader = WebSocketReader(compress=params, max_msg_size=1000)
        if ok:
            assert reader.feed(frame)[0].data == b"a" * size
        else:
            with pytest.raises(WebSocketError, match="max_msg_size"):
                reader.feed(frame)


def test_corrupt_compressed_data_is_1002() -> None:
    """Data that is not deflate fails the connection."""
    frame = ws_encode_frame(WSMsgType.BINARY, b"\xff\xff\xff\xff", rsv1=True, mask=True)
    with pytest.raises(WebSocketError) as info:
        WebSocketReader(compress=WSDeflateParams()).feed(frame)
    assert info.value.code == 1002


def test_invalid_utf8_inside_compressed_text_is_1007() -> None:
    """The UTF-8 check applies to the inflated text."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(b"ok \xff") + compressor.flush(zlib.Z_SYNC_FLUSH)
    frame = ws_encode_frame(WSMsgType.TEXT, data[:-4], rsv1=True, mask=True)
    with pytest.raises(WebSocketError) as info:
        WebSocketReader(compress=WSDeflateParams()).feed(frame)
    assert info.value.code == 1007


def test_rsv1_rules_with_deflate() -> None:
    """With deflate, RSV1 is still refused on continuation and control frames."""
    params = WSDeflateParams()
    continuation = ws_encode_frame(1, b"", fin=False, mask=True) + ws_encode_frame(
        0, b"", rsv1=True, mask=True
    )
    control = b"\xc9\x80" + b"\x00" * 4
    for data in (continuation, control):
        with pytest.raises(WebSocketError) as info:
            WebSocketReader(compress=params).feed(data)
        assert info.value.code == 1002


# -- interoperability with the `websockets` library (optional) ------------------------------


def connect_websockets(offer: dict[str, Any]) -> tuple[Any, WSDeflateParams | None]:
    """A `websockets` sans-IO client, opened against our handshake, and the agreement."""
    client_module = pytest.importorskip("websockets.client")
    deflate = pytest.importorskip("websockets.extensions.permessage_deflate")
    state = pytest.importorskip("websockets.protocol").State
    uri = pytest.importorskip("websockets.uri").parse_uri("ws://example.com/")

    client = client_module.ClientProtocol(
        uri, extensions=[deflate.ClientPerMessageDeflateFactory(**offer)], max_size=None
    )
    client.send_request(client.connect())
    head = RequestParser().feed(b"".join(client.data_to_send()))[0]
    assert isinstance(head, RequestHead)
    server = ws_server_handshake(head)
    client.receive_data(serialize_response_head(101, None, server.headers))
    assert client.state is state.OPEN, client.handshake_exc
    client.events_received()  # the 101 response
    return client, server.compress


OFFERS = [
    pytest.param({}, id="default"),
    pytest.param({"server_no_context_takeover": True}, id="server-no-takeover"),
    pytest.param({"client_no_context_takeover": True}, id="client-no-takeover"),
    pytest.param({"server_max_window_bits": 10, "client_max_window_bits": 9}, id="windows"),
]


@pytest.mark.parametrize("offer", OFFERS)
def test_websockets_client_to_our_server(offer: dict[str, Any]) -> None:
    """Compressed messages (whole and fragmented) from `websockets` read by our reader."""
    client, params = connect_websockets(offer)
    assert params is not None
    reader = WebSocketReader(compress=params)
    sent: list[WSMessage] = []
    for message in ["hello " * 20, "hello " * 20, "", "é" * 5000]:
        client.send_text(message.encode())
        sent.append(WSMessage(WSMsgType.TEXT, message, ""))
    client.send_binary(b"ab" * 40000, fin=False)
    client.send_continuation(b"cd" * 40000, fin=True)
    sent.append(WSMessage(WSMsgType.BINARY, b"ab" * 40000 + b"cd" * 40000, ""))
    client.send_ping(b"p")
    sent.append(WSMessage(WSMsgType.PING, b"p", ""))
    client.send_close(1000, "done")
    sent.append(WSMessage(WSMsgType.CLOSE, 1000, "done"))
    received = [m for chunk in client.data_to_send() for m in reader.feed(chunk)]
    assert received == sent


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("max_frame_size", [None, 100])
def test_our_server_to_websockets_client(offer: dict[str, Any], max_frame_size: int | None) -> None:
    """Our compressed (and fragmented) messages read by `websockets` as the same messages."""
    client, params = connect_websockets(offer)
    encoder = WebSocketEncoder(compress=params, max_frame_size=max_frame_size)
    messages = [b"hello " * 20, b"hello " * 20, b"", os.urandom(5000), b"x" * 100000]
    for message in messages:
        client.receive_data(encoder.binary(message))
    client.receive_data(encoder.text("fin"))
    frames = client.events_received()
    assert client.parser_exc is None
    assembled: list[bytes] = []
    for frame in frames:
        if frame.opcode.value in (1, 2):
            assembled.append(frame.data)
        else:
            assembled[-1] += frame.data
    assert assembled == [*messages, b"fin"]
