"""Hypothesis properties of the WebSocket codec: round trips, splits, no crash on noise."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    WebSocketEncoder,
    WebSocketError,
    WebSocketReader,
    WSDeflateParams,
    WSMessage,
    WSMsgType,
)

messages = st.lists(
    st.one_of(
        st.text(max_size=300).map(lambda s: WSMessage(WSMsgType.TEXT, s, "")),
        st.binary(max_size=300).map(lambda b: WSMessage(WSMsgType.BINARY, b, "")),
        st.binary(max_size=125).map(lambda b: WSMessage(WSMsgType.PING, b, "")),
        st.binary(max_size=125).map(lambda b: WSMessage(WSMsgType.PONG, b, "")),
    ),
    max_size=8,
)
deflate = st.one_of(
    st.none(),
    st.builds(
        WSDeflateParams,
        st.booleans(),
        st.booleans(),
        st.integers(9, 15),
        st.integers(9, 15),
    ),
)


def encode(encoder: WebSocketEncoder, message: WSMessage, compress: bool) -> bytes:
    if message.type is WSMsgType.TEXT:
        return encoder.text(message.data, compress=compress)
    if message.type is WSMsgType.BINARY:
        return encoder.binary(message.data, compress=compress)
    return encoder.message(message.data, message.type)


@settings(max_examples=300, deadline=None)
@given(
    sent=messages,
    is_client=st.booleans(),
    params=deflate,
    max_frame_size=st.one_of(st.none(), st.integers(1, 64)),
    compress_each=st.lists(st.booleans(), min_size=8, max_size=8),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
    close=st.one_of(
        st.none(), st.tuples(st.sampled_from([1000, 1001, 3000, 4999]), st.text(max_size=30))
    ),
)
def test_encode_then_read_gives_the_messages(
    sent: list[WSMessage],
    is_client: bool,
    params: WSDeflateParams | None,
    max_frame_size: int | None,
    compress_each: list[bool],
    cuts: list[int],
    close: tuple[int, str] | None,
) -> None:
    """Whatever the side, compression, fragmentation and split, the reader gets what was sent."""
    encoder = WebSocketEncoder(is_client=is_client, compress=params, max_frame_size=max_frame_size)
    data = b"".join(encode(encoder, m, c) for m, c in zip(sent, compress_each, strict=False))
    expected = list(sent)
    if close is not None:
        data += encoder.close(*close)
        expected.append(WSMessage(WSMsgType.CLOSE, *close))
    reader = WebSocketReader(is_client=not is_client, compress=params, max_msg_size=0)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    received = [m for a, b in itertools.pairwise(points) for m in reader.feed(data[a:b])]
    assert received == expected
    assert reader.closed is (close is not None)


@settings(max_examples=500, deadline=None)
@given(noise=st.binary(max_size=200), is_client=st.booleans(), params=deflate)
def test_noise_only_raises_websocket_error(
    noise: bytes, is_client: bool, params: WSDeflateParams | None
) -> None:
    """Random bytes give messages or a WebSocketError with a close code, nothing else."""
    reader = WebSocketReader(is_client=is_client, compress=params, max_msg_size=1000)
    kinds = {WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG, WSMsgType.CLOSE}
    code = 0
    try:
        received = reader.feed(noise)
    except WebSocketError as exc:
        code = exc.code
        received = exc.messages
    assert code in (0, 1002, 1007, 1009)
    assert {message.type for message in received} <= kinds
