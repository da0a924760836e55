"""permessage-deflate (RFC 7692): negotiation, and the compressor and decompressor.

Negotiation (§7.1). A client offers one or more ``permessage-deflate``
elements in Sec-WebSocket-Extensions; the server accepts the first it can
honour and answers with one element. The four parameters:

=============================  ======================================================
``server_no_context_takeover``  the server resets its compressor after each message
``client_no_context_takeover``  the client resets its compressor after each message
``server_max_window_bits=N``    the server compresses with an LZ77 window <= 2**N
``client_max_window_bits[=N]``  in an offer without N: the client can be limited;
                                with N (offer or answer): the client's window <= 2**N
=============================  ======================================================

Invariants this module keeps:

1. An offer the server cannot honour (unknown or repeated parameter, a value
   that is not 8..15 written without leading zeros, a missing or superfluous
   value, ``server_max_window_bits=8``) is declined, and the next offer is
   tried (§7.1, "the server ... MUST decline an offer that it does not
   support"). A server never fails the handshake over extensions.
2. ``server_max_window_bits=8`` is declined because zlib cannot compress with
   a 256-byte window (zlib 1.2.9 rejects ``wbits=-8``); for the same reason a
   client refuses an answer with ``client_max_window_bits=8``.
3. The receiving side always inflates with a 32 KiB window (wbits 15): a
   larger window than the sender's decodes the same data, so the peer's
   window limit needs no matching setting here.
4. Decompression never produces more than the bytes still allowed plus one
   (zlib's ``max_length``), so a deflate bomb costs at most ``max_msg_size``.
5. Each compressed message ends with a sync flush whose last four bytes
   (``00 00 ff ff``) are removed before sending and appended again before
   inflating (§7.2.1, §7.2.2). An empty compressed payload is sent as a single
   ``00`` byte (§7.2.3.6), never as nothing, because nothing plus the tail is
   not a complete block.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final

from ._errors import WebSocketError, WebSocketHandshakeError
from ._token import TCHAR, ascii_lower

__all__ = [
    "WSDeflateParams",
    "ws_deflate_offer",
    "ws_negotiate_deflate",
    "ws_parse_deflate_response",
]

_TAIL: Final = b"\x00\x00\xff\xff"
_EXTENSION: Final = "permessage-deflate"
_TOKEN: Final = rf"[{TCHAR}]+"
_QUOTED: Final = r'"(?:[^"\\]|\\.)*"'
# OWS is SP and HTAB (RFC 9110 §5.6.3); a str pattern's \s would also take
# Unicode spaces (U+00A0, U+2003, ...), which no other parser reads as OWS.
_OWS: Final = r"[ \t]*"
_ELEMENT_RE: Final = re.compile(
    rf"{_OWS}({_TOKEN})((?:{_OWS};{_OWS}{_TOKEN}(?:{_OWS}={_OWS}(?:{_TOKEN}|{_QUOTED}))?)*){_OWS}"
)
_PARAM_RE: Final = re.compile(rf"{_OWS};{_OWS}({_TOKEN})(?:{_OWS}={_OWS}({_TOKEN}|{_QUOTED}))?")
_SPLIT_RE: Final = re.compile(rf'(?:[^,"]|{_QUOTED})+|(?=,)')
_BITS: Final = {str(n): n for n in range(8, 16)}  # "8".."15", no leading zeros or signs
_FLAGS: Final = ("server_no_context_takeover", "client_no_context_takeover")


@dataclass(frozen=True, slots=True)
class WSDeflateParams:
    """The permessage-deflate parameters both sides agreed on.

    The reader and the encoder of either side take the same object: each picks
    the half that concerns it (a server compresses with the ``server_*``
    values and inflates what the client compressed with the ``client_*``).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15


def _split_elements(header: str) -> list[str]:
    """The comma-separated elements of a header value; commas inside quotes do not split."""
    return [m.group() for m in _SPLIT_RE.finditer(header) if m.group().strip(" \t")]


def _parse_element(element: str) -> tuple[str, list[tuple[str, str | None]]] | None:
    """``name; a; b=1`` -> ``("name", [("a", None), ("b", "1")])``; None if malformed."""
    match = _ELEMENT_RE.fullmatch(element)
    if match is None:
        return None
    params: list[tuple[str, str | None]] = []
    for param in _PARAM_RE.finditer(match.group(2)):
        value = param.group(2)
        if value is not None and value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.append((ascii_lower(param.group(1)), value))
    return ascii_lower(match.group(1)), params


def _read_params(params: list[tuple[str, str | None]]) -> dict[str, int | None] | None:
    """The parameters as a dict (a flag maps to None), or None if any is invalid."""
    found: dict[str, int | None] = {}
    for name, value in params:
        if name in found:
            return None  # RFC 7692 §7: a parameter appears at most once
        if name in _FLAGS:
            if value is not None:
                return None
            found[name] = None
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            if value is None:
                if name == "server_max_window_bits":
                    return None  # §7.1.2.1: the value is required
                found[name] = None
            elif value in _BITS:
                found[name] = _BITS[value]
            else:
                return None
        else:
            return None
    return found


def ws_negotiate_deflate(
    offers: str | None,
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
) -> tuple[WSDeflateParams, str] | None:
    """Accept the first permessage-deflate offer the server can honour.

    ``offers`` is the client's Sec-WebSocket-Extensions (repeated fields joined
    with ``", "``). Returns the agreed parameters and the element to send back
    in the 101's Sec-WebSocket-Extensions, or None to answer without it.
    The keyword arguments are the server's own wishes: reset its compressor
    after each message, ask the client to reset its own, a smaller window.

    >>> params, answer = ws_negotiate_deflate(
    ...     "permessage-deflate; server_max_window_bits=8, "
    ...     "permessage-deflate; client_max_window_bits"
    ... )
    >>> answer
    'permessage-deflate'
    >>> ws_negotiate_deflate("x-webkit-deflate-frame") is None
    True
    """
    if not 9 <= server_max_window_bits <= 15:
        raise ValueError("server_max_window_bits must be 9..15 (zlib cannot compress with 8)")
    if not offers:
        return None
    for element in _split_elements(offers):
        parsed = _parse_element(element)
        if parsed is None or parsed[0] != _EXTENSION:
            continue
        found = _read_params(parsed[1])
        if found is None:
            continue
        offered_bits = found.get("server_max_window_bits")
        if offered_bits == 8:
            continue  # invariant 2
        server_reset = server_no_context_takeover or "server_no_context_takeover" in found
        client_reset = client_no_context_takeover or "client_no_context_takeover" in found
        server_bits = min(offered_bits or 15, server_max_window_bits)
        client_bits = found.get("client_max_window_bits") or 15
        answer = [_EXTENSION]
        if server_reset:
            answer.append("server_no_context_takeover")
        if client_reset:
            answer.append("client_no_context_takeover")
        if offered_bits is not None or server_bits < 15:
            answer.append(f"server_max_window_bits={server_bits}")
        params = WSDeflateParams(server_reset, client_reset, server_bits, client_bits)
        return params, "; ".join(answer)
    return None


def ws_deflate_offer(
    *,
    client_no_context_takeover: bool = False,
    server_no_context_takeover: bool = False,
    server_max_window_bits: int | None = None,
) -> str:
    """A client's Sec-WebSocket-Extensions offer.

    It always carries a bare ``client_max_window_bits``: the client can be told
    to use a smaller window (RFC 7692 §7.1.2.2).

    >>> ws_deflate_offer(server_no_context_takeover=True)
    'permessage-deflate; server_no_context_takeover; client_max_window_bits'
    """
    offer = [_EXTENSION]
    if client_no_context_takeover:
        offer.append("client_no_context_takeover")
    if server_no_context_takeover:
        offer.append("server_no_context_takeover")
    if server_max_window_bits is not None:
        if not 8 <= server_max_window_bits <= 15:
            raise ValueError("server_max_window_bits must be 8..15")
        offer.append(f"server_max_window_bits={server_max_window_bits}")
    offer.append("client_max_window_bits")
    return "; ".join(offer)


def ws_parse_deflate_response(response: str, offer: str) -> WSDeflateParams:
    """Check the server's Sec-WebSocket-Extensions against the client's ``offer``.

    Raises WebSocketHandshakeError when the client must fail the connection
    (RFC 6455 §4.1, RFC 7692 §7.1): another extension, more than one element,
    an invalid parameter, or an answer the offer does not allow.
    """
    elements = _split_elements(response)
    if len(elements) != 1:
        raise WebSocketHandshakeError(f"expected one permessage-deflate element, got {response!r}")
    parsed = _parse_element(elements[0])
    if parsed is None or parsed[0] != _EXTENSION:
        raise WebSocketHandshakeError(f"the server answered an extension not offered: {response!r}")
    found = _read_params(parsed[1])
    if found is None:
        raise WebSocketHandshakeError(f"invalid permessage-deflate parameters: {response!r}")
    offered_element = _parse_element(_split_elements(offer)[0]) if offer else None
    offered = _read_params(offered_element[1]) if offered_element else None
    if offered is None:
        raise ValueError(f"invalid offer {offer!r}")
    if "server_no_context_takeover" in offered and "server_no_context_takeover" not in found:
        raise WebSocketHandshakeError("the server ignored server_no_context_takeover")
    server_bits = found.get("server_max_window_bits") or 15
    if offered.get("server_max_window_bits") and (
        "server_max_window_bits" not in found
        or server_bits > (offered["server_max_window_bits"] or 15)
    ):
        raise WebSocketHandshakeError("the server exceeded the offered server_max_window_bits")
    if "client_max_window_bits" in found:
        if "client_max_window_bits" not in offered:
            raise WebSocketHandshakeError("client_max_window_bits answered but not offered")
        client_bits = found["client_max_window_bits"]
        if client_bits is None:
            raise WebSocketHandshakeError("client_max_window_bits needs a value in an answer")
        if client_bits == 8:
            raise WebSocketHandshakeError("client_max_window_bits=8 is not supported by zlib")
    else:
        client_bits = offered.get("client_max_window_bits") or 15
    return WSDeflateParams(
        "server_no_context_takeover" in found,
        "client_no_context_takeover" in found or "client_no_context_takeover" in offered,
        server_bits,
        client_bits,
    )


class Deflater:
    """Compresses one message at a time (RFC 7692 §7.2.1)."""

    __slots__ = ("_compressor", "_flush")

    def __init__(self, window_bits: int, no_context_takeover: bool, level: int) -> None:
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, -window_bits)
        # A full flush empties the window too, so the next message refers to
        # nothing before it: the same effect as a fresh compressor, cheaper.
        self._flush = zlib.Z_FULL_FLUSH if no_context_takeover else zlib.Z_SYNC_FLUSH

    def compress(self, data: bytes) -> bytes:
        """The message's compressed payload, without the ``00 00 ff ff`` tail."""
        compressor = self._compressor
        out = compressor.compress(data) + compressor.flush(self._flush)
        return out[:-4] or b"\x00"  # invariant 5


class Inflater:
    """Decompresses the messages of one direction, with a cap on their size."""

    __slots__ = ("_decompressor", "_reset")

    def __init__(self, no_context_takeover: bool) -> None:
        self._reset = no_context_takeover
        self._decompressor = zlib.decompressobj(-15)

    def inflate(self, data: bytes, allowed: int) -> bytes:
        """Inflate part of a message; ``allowed`` bytes may come out (0: no limit)."""
        try:
            out = self._decompressor.decompress(data, allowed + 1 if allowed else 0)
        except zlib.error as exc:
            raise WebSocketError(1002, f"invalid compressed data: {exc}") from None
        if allowed and len(out) > allowed:
            raise WebSocketError(1009, "decompressed message over max_msg_size")
        return out

    def end_message(self, allowed: int) -> bytes:
        """Inflate the message's tail, and reset the context if it is not taken over."""
        out = self.inflate(_TAIL, allowed)
        # A sender may end a message with a final block (BFINAL=1, §7.2.3.4):
        # the stream is then over and the next message starts a new one.
        if self._reset or self._decompressor.eof:
            self._decompressor = zlib.decompressobj(-15)
        return out
