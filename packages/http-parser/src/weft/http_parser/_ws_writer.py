"""The WebSocket frame writer (RFC 6455 §5): messages in, bytes out.

``ws_encode_frame`` builds one frame; ``ws_encode_close`` a close frame with
a checked code and reason; ``WebSocketEncoder`` one side's messages, with
masking for a client, permessage-deflate and optional fragmentation. All of
them return bytes to write and never touch a socket.

Invariants:

1. Every frame this module builds passes ``WebSocketReader``'s rules: a
   control frame carries at most 125 bytes and is never fragmented, RSV1 is
   set only on the first frame of a compressed message, a close code is one
   a peer may send and its reason at most 123 UTF-8 bytes. Breaking one is a
   caller's mistake and raises ValueError before anything is built.
2. The length uses the shortest encoding (§5.2: 7 bits up to 125, 16 bits up
   to 65535, 64 bits beyond).
3. A client masks every frame with a fresh key from ``os.urandom`` (§5.3:
   "derived from a strong source of entropy"); a server never masks.
"""

from __future__ import annotations

import os
import zlib
from typing import Final

from ._ws_deflate import Deflater, WSDeflateParams
from ._ws_reader import is_valid_close_code, unmask
from ._ws_types import WSCloseCode, WSMsgType

__all__ = ["WebSocketEncoder", "ws_encode_close", "ws_encode_frame"]

_OPCODES: Final = frozenset({0x0, 0x1, 0x2, 0x8, 0x9, 0xA})
_TEXT: Final = int(WSMsgType.TEXT)
_BINARY: Final = int(WSMsgType.BINARY)


def ws_encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    mask: bool = False,
    rsv1: bool = False,
    mask_key: bytes | None = None,
) -> bytes:
    """One frame: ``ws_encode_frame(WSMsgType.TEXT, b"Hello")``.

    ``mask=True`` (a client) masks the payload with ``mask_key``, a fresh
    random key unless one is given (tests give one to get fixed bytes).

    >>> ws_encode_frame(WSMsgType.TEXT, b"Hello")
    b'\\x81\\x05Hello'
    >>> ws_encode_frame(WSMsgType.TEXT, b"Hello", mask=True, mask_key=b"\\x37\\xfa\\x21\\x3d")
    b'\\x81\\x857\\xfa!=\\x7f\\x9fMQX'
    """
    if opcode not in _OPCODES:
        raise ValueError(f"opcode {opcode:#x} is not defined by RFC 6455")
    size = len(payload)
    if opcode & 0x8 and (size > 125 or not fin or rsv1):
        raise ValueError("a control frame carries at most 125 bytes, unfragmented, no RSV1")
    first = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
    mask_bit = 0x80 if mask else 0
    if size < 126:
        header = bytes((first, mask_bit | size))
    elif size < 0x10000:
        header = bytes((first, mask_bit | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, mask_bit | 127)) + size.to_bytes(8, "big")
    if not mask:
        return header + payload
    if mask_key is None:
        mask_key = os.urandom(4)
    elif len(mask_key) != 4:
        raise ValueError("mask_key must be 4 bytes")
    return header + mask_key + unmask(bytes(payload), mask_key)


def _close_payload(code: int | None, reason: str) -> bytes:
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    if not is_valid_close_code(code):
        raise ValueError(
            f"close code {code} may not be sent: use 1000-1003, 1007-1014 or 3000-4999"
        )
    data = reason.encode("utf-8")
    if len(data) > 123:
        raise ValueError(f"close reason is {len(data)} bytes in UTF-8; at most 123 fit a frame")
    return code.to_bytes(2, "big") + data


def ws_encode_close(
    code: int | None = WSCloseCode.OK,
    reason: str = "",
    *,
    mask: bool = False,
    mask_key: bytes | None = None,
) -> bytes:
    """A close frame; ``code=None`` sends none (the peer then sees 1005).

    >>> ws_encode_close(1000, "bye")
    b'\\x88\\x05\\x03\\xe8bye'
    """
    return ws_encode_frame(
        WSMsgType.CLOSE, _close_payload(code, reason), mask=mask, mask_key=mask_key
    )


class WebSocketEncoder:
    """Encodes the messages one side sends.

    ``is_client=True`` masks every frame. ``compress``: the negotiated
    permessage-deflate parameters; each data message is then compressed unless
    sent with ``compress=False``. ``max_frame_size``: split data messages into
    frames of at most this many payload bytes (None: one frame per message).
    ``level``: the zlib compression level (aiohttp uses 1, the fastest).

    >>> WebSocketEncoder().text("Hello")
    b'\\x81\\x05Hello'
    """

    __slots__ = ("_deflater", "_mask", "_max_frame_size")

    def __init__(
        self,
        *,
        is_client: bool = False,
        compress: WSDeflateParams | None = None,
        max_frame_size: int | None = None,
        level: int = zlib.Z_BEST_SPEED,
    ) -> None:
        if max_frame_size is not None and max_frame_size < 1:
            raise ValueError("max_frame_size must be at least 1 (or None)")
        self._mask = is_client
        self._max_frame_size = max_frame_size
        self._deflater: Deflater | None = None
        if compress is not None:
            # We compress: our own side's parameters apply.
            if is_client:
                bits = compress.client_max_window_bits
                reset = compress.client_no_context_takeover
            else:
                bits = compress.server_max_window_bits
                reset = compress.server_no_context_takeover
            if not 9 <= bits <= 15:
                raise ValueError(f"cannot compress with max_window_bits={bits}: zlib needs 9..15")
            self._deflater = Deflater(bits, reset, level)

    @property
    def compressing(self) -> bool:
        """True when permessage-deflate was negotiated."""
        return self._deflater is not None

    def message(self, payload: bytes, opcode: int, *, compress: bool | None = None) -> bytes:
        """A TEXT or BINARY message (``payload`` already encoded), or a control frame.

        ``compress=False`` sends this data message uncompressed even when
        permessage-deflate is on; None or True compress it when it is on.
        """
        if opcode & 0x8:
            return ws_encode_frame(opcode, payload, mask=self._mask)
        if opcode not in (_TEXT, _BINARY):
            raise ValueError(f"opcode {opcode:#x} is not a message type")
        rsv1 = False
        if self._deflater is not None and compress is not False:
            payload = self._deflater.compress(payload)
            rsv1 = True
        step = self._max_frame_size
        if step is None or len(payload) <= step:
            return ws_encode_frame(opcode, payload, rsv1=rsv1, mask=self._mask)
        view = memoryview(payload)
        last = len(payload) - step
        frames = [
            ws_encode_frame(
                opcode if start == 0 else 0,
                bytes(view[start : start + step]),
                fin=start >= last,
                rsv1=rsv1 and start == 0,
                mask=self._mask,
            )
            for start in range(0, len(payload), step)
        ]
        return b"".join(frames)

    def text(self, data: str, *, compress: bool | None = None) -> bytes:
        """A TEXT message."""
        return self.message(data.encode("utf-8"), _TEXT, compress=compress)

    def binary(self, data: bytes, *, compress: bool | None = None) -> bytes:
        """A BINARY message."""
        return self.message(data, _BINARY, compress=compress)

    def ping(self, data: bytes = b"") -> bytes:
        """A PING frame (at most 125 bytes of data)."""
        return ws_encode_frame(WSMsgType.PING, data, mask=self._mask)

    def pong(self, data: bytes = b"") -> bytes:
        """A PONG frame (at most 125 bytes of data)."""
        return ws_encode_frame(WSMsgType.PONG, data, mask=self._mask)

    def close(self, code: int | None = WSCloseCode.OK, reason: str = "") -> bytes:
        """A close frame; ValueError for a code that may not be sent or a reason over 123 bytes."""
        return ws_encode_close(code, reason, mask=self._mask)
