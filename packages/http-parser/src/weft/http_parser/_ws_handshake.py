"""The WebSocket opening handshake (RFC 6455 §4), both sides, sans-IO.

A server calls ``ws_server_handshake(head, protocols=..., compress=...)`` on
the parsed upgrade request: it gets the fields of the 101 answer, the chosen
subprotocol and the permessage-deflate parameters, or a
WebSocketHandshakeError carrying the status to answer with (400, or 426 with
``Sec-WebSocket-Version: 13`` in ``error.headers``).

A client sends ``ws_client_headers(key, ...)`` (key from
``ws_generate_key()``) and checks the answer with ``ws_verify_response``.

The request rules (§4.2.1), in the order they are checked:

1. the method is GET and the version HTTP/1.1 or later;
2. ``Upgrade`` lists ``websocket`` and ``Connection`` lists ``upgrade``
   (case-insensitive tokens, other tokens allowed beside them);
3. ``Sec-WebSocket-Version`` is ``13``, once, else 426 (§4.2.2 point 4);
4. ``Sec-WebSocket-Key`` appears once and is the base64 of 16 bytes.

Subprotocols follow aiohttp: the first protocol *in the client's order* that
the server supports is chosen, and a request with no overlap is not refused
(the answer simply carries no Sec-WebSocket-Protocol; §4.2.2 leaves the
choice to the server and browsers then fail the connection themselves).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple, Protocol

from multidict import MultiMapping

from ._errors import WebSocketHandshakeError, WebSocketVersionError
from ._token import ascii_lower
from ._ws_deflate import (
    WSDeflateParams,
    ws_deflate_offer,
    ws_negotiate_deflate,
    ws_parse_deflate_response,
)

__all__ = [
    "WSClientHandshake",
    "WSServerHandshake",
    "ws_accept_key",
    "ws_client_headers",
    "ws_generate_key",
    "ws_select_protocol",
    "ws_server_handshake",
    "ws_verify_response",
]

#: The GUID RFC 6455 §1.3 appends to the key before hashing.
_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _Request(Protocol):
    """What the server handshake reads of a request (``RequestHead`` has it)."""

    @property
    def method(self) -> str: ...
    @property
    def version(self) -> tuple[int, int]: ...
    @property
    def headers(self) -> MultiMapping[str]: ...


class _Response(Protocol):
    """What the client check reads of a response (``ResponseHead`` has it)."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> MultiMapping[str]: ...


class WSServerHandshake(NamedTuple):
    """A valid upgrade request, and how to answer it with 101 Switching Protocols."""

    #: The 101's fields: Upgrade, Connection, Sec-WebSocket-Accept, and when
    #: agreed Sec-WebSocket-Protocol and Sec-WebSocket-Extensions.
    headers: list[tuple[str, str]]
    protocol: str | None
    compress: WSDeflateParams | None


class WSClientHandshake(NamedTuple):
    """What a valid 101 answer agreed to."""

    protocol: str | None
    compress: WSDeflateParams | None


def ws_accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 point 5.4).

    >>> ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    digest = hashlib.sha1(key.encode("ascii") + _GUID, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def ws_generate_key() -> str:
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64 (§4.1 point 7)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def _tokens(headers: MultiMapping[str], name: str) -> list[str]:
    """The comma-separated tokens of every ``name`` field, lower-cased.

    Only ASCII letters are lowered and only OWS (SP, HTAB) is stripped:
    ``str.lower()`` turns U+212A KELVIN SIGN into ``k`` and ``str.strip()``
    removes Unicode spaces, so either would make a look-alike of ``websocket``
    or ``upgrade`` match (aiohttp's CVE-2025-69224).
    """
    return [
        ascii_lower(token.strip(" \t"))
        for value in headers.getall(name, ())
        for token in value.split(",")
        if token.strip(" \t")
    ]


def _joined(headers: MultiMapping[str], name: str) -> str | None:
    values = headers.getall(name, ())
    return ", ".join(values) if values else None


def ws_select_protocol(offered: str | None, supported: Iterable[str]) -> str | None:
    """The first of the client's ``offered`` protocols the server supports, as aiohttp.

    >>> ws_select_protocol("chat, superchat", ["superchat", "chat"])
    'chat'
    >>> ws_select_protocol("v2", ["v1"]) is None
    True
    """
    if not offered:
        return None
    known = set(supported)
    for protocol in offered.split(","):
        protocol = protocol.strip(" \t")
        if protocol in known:
            return protocol
    return None


def ws_server_handshake(
    head: _Request,
    *,
    protocols: Iterable[str] = (),
    compress: bool = True,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
) -> WSServerHandshake:
    """Validate an upgrade request and build the 101 answer (RFC 6455 §4.2).

    ``compress=False`` never agrees to permessage-deflate; the other keywords
    are the server's permessage-deflate wishes (see ``ws_negotiate_deflate``).
    Raises WebSocketHandshakeError (400) or WebSocketVersionError (426).

    >>> from weft.http_parser import RequestParser
    >>> head = RequestParser().feed(
    ...     b"GET /chat HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\n"
    ...     b"Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
    ...     b"Sec-WebSocket-Version: 13\\r\\n\\r\\n"
    ... )[0]
    >>> ws_server_handshake(head).headers  # doctest: +NORMALIZE_WHITESPACE
    [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
     ('Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')]
    """
    if head.method != "GET":
        raise WebSocketHandshakeError(f"a WebSocket upgrade must be a GET, not {head.method}")
    if tuple(head.version) < (1, 1):
        raise WebSocketHandshakeError("a WebSocket upgrade needs HTTP/1.1 or later")
    headers = head.headers
    if "websocket" not in _tokens(headers, "Upgrade"):
        raise WebSocketHandshakeError(
            f"no 'Upgrade: websocket' field (got {_joined(headers, 'Upgrade')!r}): "
            "this resource only speaks WebSocket"
        )
    if "upgrade" not in _tokens(headers, "Connection"):
        raise WebSocketHandshakeError(
            f"no 'upgrade' token in Connection (got {_joined(headers, 'Connection')!r})"
        )
    versions = headers.getall("Sec-WebSocket-Version", ())
    if len(versions) != 1 or versions[0].strip(" \t") != "13":
        raise WebSocketVersionError(
            f"unsupported Sec-WebSocket-Version {', '.join(versions) or 'missing'}: only 13"
        )
    keys = headers.getall("Sec-WebSocket-Key", ())
    if len(keys) != 1:
        raise WebSocketHandshakeError("expected exactly one Sec-WebSocket-Key field")
    key = keys[0].strip(" \t")
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise WebSocketHandshakeError(f"Sec-WebSocket-Key {key!r} is not base64 of 16 bytes")
    answer = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ws_accept_key(key)),
    ]
    protocol = ws_select_protocol(_joined(headers, "Sec-WebSocket-Protocol"), protocols)
    if protocol is not None:
        answer.append(("Sec-WebSocket-Protocol", protocol))
    params = None
    if compress:
        agreed = ws_negotiate_deflate(
            _joined(headers, "Sec-WebSocket-Extensions"),
            server_no_context_takeover=server_no_context_takeover,
            client_no_context_takeover=client_no_context_takeover,
            server_max_window_bits=server_max_window_bits,
        )
        if agreed is not None:
            params, extension = agreed
            answer.append(("Sec-WebSocket-Extensions", extension))
    return WSServerHandshake(answer, protocol, params)


def ws_client_headers(
    key: str,
    *,
    protocols: Sequence[str] = (),
    compress: bool | str = True,
) -> list[tuple[str, str]]:
    """The fields a client adds to its GET to ask for the upgrade (§4.1).

    ``compress``: True offers permessage-deflate (``ws_deflate_offer()``), a
    string is sent as the offer itself, False offers nothing. Host and the
    request line are the caller's.
    """
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
    if protocols:
        fields.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    offer = ws_deflate_offer() if compress is True else compress or None
    if offer:
        fields.append(("Sec-WebSocket-Extensions", offer))
    return fields


def ws_verify_response(
    head: _Response,
    key: str,
    *,
    protocols: Sequence[str] = (),
    compress: bool | str = True,
) -> WSClientHandshake:
    """Check the server's answer to ``ws_client_headers(key, ...)`` (§4.1, §4.2.2).

    Pass the same ``protocols`` and ``compress`` as to ``ws_client_headers``.
    Raises WebSocketHandshakeError when the client must fail the connection:
    not 101, no Upgrade/Connection, a wrong Sec-WebSocket-Accept, a protocol
    or an extension that was not offered.
    """
    if head.status != 101:
        raise WebSocketHandshakeError(f"expected status 101, got {head.status}")
    headers = head.headers
    if "websocket" not in _tokens(headers, "Upgrade"):
        raise WebSocketHandshakeError("the answer has no 'Upgrade: websocket'")
    if "upgrade" not in _tokens(headers, "Connection"):
        raise WebSocketHandshakeError("the answer has no 'Connection: upgrade'")
    accepts = headers.getall("Sec-WebSocket-Accept", ())
    if len(accepts) != 1 or accepts[0].strip(" \t") != ws_accept_key(key):
        raise WebSocketHandshakeError("Sec-WebSocket-Accept does not match the key sent")
    protocol = _joined(headers, "Sec-WebSocket-Protocol")
    if protocol is not None:
        protocol = protocol.strip(" \t")
        if protocol not in protocols:
            raise WebSocketHandshakeError(f"the server chose protocol {protocol!r}, not offered")
    extensions = _joined(headers, "Sec-WebSocket-Extensions")
    params = None
    if extensions is not None:
        offer = ws_deflate_offer() if compress is True else compress or ""
        if not offer:
            raise WebSocketHandshakeError(
                f"the server answered extensions not offered: {extensions}"
            )
        params = ws_parse_deflate_response(extensions, offer)
    return WSClientHandshake(protocol, params)
