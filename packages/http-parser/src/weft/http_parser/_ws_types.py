"""The values the WebSocket codec produces and web-core's WebSocketResponse returns.

The names, members and values are aiohttp's (``aiohttp.WSMsgType``,
``aiohttp.WSCloseCode``, ``aiohttp.WSMessage``), so application code that
compares ``msg.type == WSMsgType.TEXT`` or builds ``WSMessage`` tuples runs
unchanged. ``WSMsgType`` values below 0x10 are the RFC 6455 §5.2 opcodes; the
three above 0xFF never appear on the wire, they are states a receiver reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final, NamedTuple

__all__ = [
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
]


class WSMsgType(IntEnum):
    """The type of a WebSocket message: an opcode (RFC 6455 §5.2) or a receiver state."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA
    # Not opcodes: what a receiver reports once the connection is closing,
    # closed, or failed (aiohttp's values).
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # aiohttp's lower-case aliases.
    text = TEXT
    binary = BINARY
    close = CLOSE
    ping = PING
    pong = PONG
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(IntEnum):
    """Close codes with a meaning (RFC 6455 §7.4.1 and the IANA registry), as aiohttp names them."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006  # never sent: reported when the connection dropped without a close
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """One received message: ``WSMessage(WSMsgType.TEXT, "hi", None)``.

    ``data`` is ``str`` for TEXT, ``bytes`` for BINARY, PING and PONG, the close
    code (``int``, 0 when the peer sent none) for CLOSE, with the reason in
    ``extra``; for ERROR it is the exception.

    >>> WSMessage(WSMsgType.TEXT, '{"a": 1}', None).json()
    {'a': 1}
    """

    type: WSMsgType
    data: Any
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """``data`` parsed as JSON (or by ``loads``)."""
        return loads(self.data)


WS_CLOSED_MESSAGE: Final = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE: Final = WSMessage(WSMsgType.CLOSING, None, None)
