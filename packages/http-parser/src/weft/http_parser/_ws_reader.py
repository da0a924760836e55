"""The WebSocket frame reader (RFC 6455 §5): bytes in, whole messages out.

``WebSocketReader.feed(bytes)`` returns the messages (``WSMessage``) the bytes
completed: TEXT, BINARY, PING, PONG and CLOSE. It is sans-IO: the caller
answers pings, echoes the close and closes the transport.

Invariants:

1. **Nothing but a header waits in the buffer.** A frame's payload is
   consumed as it arrives: unmasked (with the mask rotated by the payload
   offset), inflated, UTF-8 checked and appended to the message. What stays
   between ``feed`` calls is at most an incomplete frame header (13 bytes),
   so memory is bounded by ``max_msg_size`` plus the control-frame limit,
   and any split of the input gives the same messages.
2. **Each rule is checked as early as the bytes allow.** The two first bytes
   of a header are checked before the rest arrives (opcode, RSV bits, FIN on
   control frames, mask bit, the 7-bit length of a control frame); a data
   frame's declared length is checked against ``max_msg_size`` before its
   payload is read; text is decoded incrementally, so invalid UTF-8 fails at
   the byte that makes it invalid, not at the end of the message. With
   ``decode_text=False`` a TEXT message's payload is its bytes, unchecked
   (aiohttp 3.14's ``decode_text=False``: the application decodes, or not).
3. **Every violation raises WebSocketError with the close code to send**:
   1002 for framing (§5.2-§5.5, §7.4.1), 1007 for invalid UTF-8 in text or a
   close reason (§8.1), 1009 for a message over ``max_msg_size`` (§7.4.1).
   After an error the reader is finished and every later ``feed`` raises it
   again; ``error.messages`` holds the messages completed before it in the
   failing call.
4. **After a close frame, the peer has nothing more to say** (§5.5.1): the
   reader is ``closed`` and later bytes are dropped.

Rules (RFC 6455 section): RSV2/RSV3 never set and RSV1 only with
permessage-deflate, on the first frame of a data message (§5.2, RFC 7692
§6); opcodes 3-7 and 0xB-0xF reserved (§5.2); control frames unfragmented
with at most 125 payload bytes (§5.5); continuation only inside a message,
and no new data message inside one (§5.4); client frames masked, server
frames not (§5.1, §5.3); the 64-bit length's top bit clear (§5.2); any
length encoding, minimal or not, accepted (§5.2 does not require minimal);
close payload empty or a valid code plus a UTF-8 reason (§5.5.1, §7.4).
"""

from __future__ import annotations

import codecs
from typing import Final

from ._errors import WebSocketError
from ._ws_deflate import Inflater, WSDeflateParams
from ._ws_types import WSMessage, WSMsgType

__all__ = ["WebSocketReader", "is_valid_close_code", "unmask"]

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_CLOSE: Final = WSMsgType.CLOSE
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
#: The assembly state of a TEXT message read with ``decode_text=False`` (no opcode has it).
_RAW_TEXT: Final = -1
_UTF8_DECODER: Final = codecs.getincrementaldecoder("utf-8")


def is_valid_close_code(code: int) -> bool:
    """True for a code a peer may send (RFC 6455 §7.4.1, §7.4.2; the IANA registry).

    1000-1003 and 1007-1014 are defined; 1004 is reserved, 1005, 1006 and
    1015 must never be sent; 3000-3999 are registered, 4000-4999 private.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(data: bytes, mask: bytes, offset: int = 0) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` starting at ``offset`` into the payload (§5.3).

    Masking is its own inverse. One big-integer XOR does the whole payload.

    >>> unmask(b"\\x7f\\x9f\\x4d\\x51\\x58", b"\\x37\\xfa\\x21\\x3d")
    b'Hello'
    """
    size = len(data)
    if not size:
        return b""
    if offset & 3:
        shift = offset & 3
        mask = mask[shift:] + mask[:shift]
    key = (mask * ((size >> 2) + 1))[:size]
    value = int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(size, "little")


class WebSocketReader:
    """Parses the frames one peer sends into messages.

    ``is_client=False`` (a server) requires masked frames and refuses unmasked
    ones; a client refuses masked ones. ``max_msg_size`` caps a message's
    payload after decompression (0: no cap, as in aiohttp). ``compress``:
    the negotiated permessage-deflate parameters, or None without it.
    ``decode_text=False``: TEXT messages carry their payload as bytes, not
    UTF-8 checked (invalid UTF-8 is then no 1007).

    >>> reader = WebSocketReader()
    >>> reader.feed(b"\\x81\\x85\\x37\\xfa\\x21\\x3d\\x7f\\x9f\\x4d\\x51\\x58")
    [WSMessage(type=<WSMsgType.TEXT: 1>, data='Hello', extra='')]
    """

    __slots__ = (
        "_control",
        "_ctrl_opcode",
        "_decode_text",
        "_decoder",
        "_error",
        "_fin",
        "_inflater",
        "_mask",
        "_mask_offset",
        "_max_msg_size",
        "_msg_compressed",
        "_msg_opcode",
        "_msg_size",
        "_payload",
        "_remaining",
        "_tail",
        "_text",
        "_want_mask",
        "_whole",
        "closed",
    )

    def __init__(
        self,
        *,
        is_client: bool = False,
        max_msg_size: int = 4 * 1024 * 1024,
        compress: WSDeflateParams | None = None,
        decode_text: bool = True,
    ) -> None:
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0 (0: no limit)")
        self._want_mask = 0 if is_client else 0x80
        self._max_msg_size = max_msg_size
        self._decode_text = decode_text
        self._inflater: Inflater | None = None
        if compress is not None:
            # We inflate what the peer compressed: its no_context_takeover applies.
            peer_resets = (
                compress.server_no_context_takeover
                if is_client
                else compress.client_no_context_takeover
            )
            self._inflater = Inflater(peer_resets)
        self._tail = b""  # an incomplete header (invariant 1)
        self._error: WebSocketError | None = None
        #: True once a close frame was received; later bytes are dropped.
        self.closed = False
        # The frame being read: its payload bytes still to come (-1: none).
        self._remaining = -1
        self._fin = False
        self._mask: bytes | None = None
        self._mask_offset = 0
        self._ctrl_opcode = 0  # of the control frame being read, 0 for a data frame
        self._control = b""
        # The data message being assembled (opcode 0: none).
        self._msg_opcode = 0
        self._msg_compressed = False
        self._msg_size = 0
        # A message's payload arriving in more than one chunk is copied into
        # one bytearray (UTF-8 for text, checked as it comes by _decoder), so
        # it costs about its size whatever the fragmentation: a list of one
        # bytes object per fragment cost ~40 bytes per 1-byte fragment
        # (aiohttp #13350). A message arriving in one chunk is not copied.
        self._payload = bytearray()
        self._whole: bytes | None = None
        self._text: str | None = None  # a text message decoded from one chunk
        self._decoder: codecs.IncrementalDecoder | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[WSMessage]:
        """The messages completed by ``data``; raises WebSocketError on a violation."""
        if self._error is not None:
            raise WebSocketError(self._error.code, str(self._error))
        if self.closed:
            return []
        buffer = data if isinstance(data, bytes) else bytes(data)
        if self._tail:
            buffer = self._tail + buffer
            self._tail = b""
        out: list[WSMessage] = []
        try:
            self._parse(buffer, out)
        except WebSocketError as exc:
            exc.messages = out
            self._error = exc
            raise
        return out

    def _parse(self, data: bytes, out: list[WSMessage]) -> None:
        pos = 0
        end = len(data)
        while pos < end or self._remaining == 0:
            if self._remaining < 0:
                pos = self._read_header(data, pos)
                if pos < 0:
                    return
                continue
            take = min(self._remaining, end - pos)
            chunk = data[pos : pos + take] if take != end or pos else data
            pos += take
            self._remaining -= take
            if self._mask is not None:
                chunk = unmask(chunk, self._mask, self._mask_offset)
                self._mask_offset += take
            if self._ctrl_opcode:
                self._control += chunk
                if not self._remaining:
                    self._remaining = -1
                    message = self._control_message()
                    out.append(message)
                    if message.type is _CLOSE:
                        self.closed = True
                        return
            else:
                complete = not self._remaining
                if complete:
                    self._remaining = -1
                message_end = complete and self._fin
                if self._msg_compressed:
                    self._add_compressed(chunk, message_end)
                else:
                    self._add(chunk, message_end)
                if message_end:
                    out.append(self._finish_message())

    def _read_header(self, data: bytes, pos: int) -> int:
        """Start the next frame; the position after its header, or -1 if incomplete."""
        available = len(data) - pos
        if available < 2:
            self._tail = data[pos:]
            return -1
        first = data[pos]
        second = data[pos + 1]
        opcode = first & 0x0F
        if first & 0x30:
            raise WebSocketError(1002, "RSV2 or RSV3 set: no extension negotiated them")
        rsv1 = first & 0x40
        fin = first & 0x80
        length = second & 0x7F
        if opcode & 0x8:
            if opcode > 0xA:
                raise WebSocketError(1002, f"reserved control opcode {opcode:#x}")
            if not fin:
                raise WebSocketError(1002, "fragmented control frame")
            if length > 125:
                raise WebSocketError(1002, "control frame payload over 125 bytes")
            if rsv1:
                raise WebSocketError(1002, "RSV1 set on a control frame")
        elif opcode == 0:
            if not self._msg_opcode:
                raise WebSocketError(1002, "continuation frame outside a fragmented message")
            if rsv1:
                raise WebSocketError(1002, "RSV1 set on a continuation frame")
        elif opcode <= 2:
            if self._msg_opcode:
                raise WebSocketError(1002, "new data frame inside a fragmented message")
            if rsv1 and self._inflater is None:
                raise WebSocketError(1002, "RSV1 set but permessage-deflate was not negotiated")
        else:
            raise WebSocketError(1002, f"reserved data opcode {opcode:#x}")
        if second & 0x80 != self._want_mask:
            raise WebSocketError(
                1002,
                "unmasked frame from a client" if self._want_mask else "masked frame from a server",
            )
        size = (
            2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if self._want_mask else 0)
        )
        if available < size:
            self._tail = data[pos:]
            return -1
        at = pos + 2
        if length == 126:
            length = int.from_bytes(data[at : at + 2], "big")
            at += 2
        elif length == 127:
            length = int.from_bytes(data[at : at + 8], "big")
            if length >> 63:
                raise WebSocketError(1002, "64-bit payload length with the top bit set")
            at += 8
        self._mask = data[at : at + 4] if self._want_mask else None
        self._mask_offset = 0
        self._remaining = length
        self._fin = bool(fin)
        if opcode & 0x8:
            self._ctrl_opcode = opcode
            self._control = b""
            return pos + size
        self._ctrl_opcode = 0
        if opcode:  # the first frame of a message
            # An undecoded TEXT message is assembled as BINARY is, and typed TEXT at the end.
            self._msg_opcode = opcode if opcode != _TEXT or self._decode_text else _RAW_TEXT
            self._msg_compressed = bool(rsv1)
            self._msg_size = 0
            self._payload = bytearray()
            self._whole = None
            self._text = None
            self._decoder = None
        limit = self._max_msg_size
        if limit and not self._msg_compressed and self._msg_size + length > limit:
            raise WebSocketError(
                1009,
                f"message of {self._msg_size + length} bytes or more, over max_msg_size {limit}",
            )
        return pos + size

    def _add(self, chunk: bytes, message_end: bool) -> None:
        """Append payload to the message; text is checked as it comes (invariant 2)."""
        self._msg_size += len(chunk)
        if message_end and not self._payload:
            # The whole message in one chunk (the common case): kept, not
            # copied; text decoded once.
            if self._msg_opcode == _TEXT and self._decoder is None:
                try:
                    self._text = chunk.decode("utf-8")
                except UnicodeDecodeError:
                    raise WebSocketError(1007, "invalid UTF-8 in a text message") from None
                return
            if self._msg_opcode == _TEXT:
                self._check_text(chunk, True)
            self._whole = chunk
            return
        if self._msg_opcode == _TEXT:
            if self._decoder is None:
                self._decoder = _UTF8_DECODER()
            self._check_text(chunk, message_end)
        self._payload += chunk

    def _check_text(self, chunk: bytes, message_end: bool) -> None:
        """Refuse invalid UTF-8 at the chunk that makes it so; the text is decoded at the end."""
        decoder = self._decoder
        assert decoder is not None
        try:
            decoder.decode(chunk, message_end)
        except UnicodeDecodeError:
            raise WebSocketError(1007, "invalid UTF-8 in a text message") from None

    def _add_compressed(self, chunk: bytes, message_end: bool) -> None:
        inflater = self._inflater
        assert inflater is not None  # RSV1 is refused without it
        limit = self._max_msg_size
        if chunk:
            allowed = limit - self._msg_size if limit else 0
            self._add(inflater.inflate(chunk, allowed), False)
        if message_end:
            allowed = limit - self._msg_size if limit else 0
            self._add(inflater.end_message(allowed), True)

    def _finish_message(self) -> WSMessage:
        opcode = self._msg_opcode
        self._msg_opcode = 0
        self._decoder = None
        if opcode == _TEXT and self._text is not None:
            text = self._text
            self._text = None
            return WSMessage(_TEXT, text, "")
        whole = self._whole
        if whole is None:
            whole = bytes(self._payload)
            self._payload = bytearray()
        else:
            self._whole = None
        if opcode == _TEXT:
            # Checked already (a single chunk) or by the incremental decoder.
            return WSMessage(_TEXT, whole.decode("utf-8"), "")
        return WSMessage(_TEXT if opcode == _RAW_TEXT else _BINARY, whole, "")

    def _control_message(self) -> WSMessage:
        payload = self._control
        opcode = self._ctrl_opcode
        if opcode == _PING:
            return WSMessage(_PING, payload, "")
        if opcode == _PONG:
            return WSMessage(_PONG, payload, "")
        if not payload:
            return WSMessage(_CLOSE, 0, "")  # no status code (1005), reported as 0 like aiohttp
        if len(payload) == 1:
            raise WebSocketError(1002, "close frame with a 1-byte payload")
        code = int.from_bytes(payload[:2], "big")
        if not is_valid_close_code(code):
            raise WebSocketError(1002, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketError(1007, "invalid UTF-8 in a close reason") from None
        return WSMessage(_CLOSE, code, reason)
