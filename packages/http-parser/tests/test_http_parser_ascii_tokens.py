"""Token-valued fields are compared after ASCII-only lowercasing; no Unicode case folding.

Header values are decoded as UTF-8 (surrogateescape), so the bytes
``e2 84 aa`` arrive as U+212A KELVIN SIGN, and ``str.lower()`` maps that to
ASCII ``k``: ``"chun\\u212aed".lower() == "chunked"``. A proxy in front reads
those bytes as an unknown coding while a parser that lowers with Unicode rules
reads chunked, which is request smuggling (aiohttp's CVE-2025-69224,
GHSA-69f9-5gxw-wvc2). Tokens are ASCII (RFC 9110 §5.6.2), so:

- a non-ASCII byte in a framing field (Transfer-Encoding, Content-Length,
  Connection, and Upgrade on an upgrade request) is 400;
- every other token comparison (Expect, Content-Encoding, the WebSocket
  handshake's Upgrade and Connection, permessage-deflate parameters) lowers
  ASCII letters only, so a non-ASCII token never equals an ASCII one.

The public helpers of ``_head`` are held to the same rule for str input, since
other code calls them with values that did not come through this parser.
"""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from weft.http_parser import (
    BadRequest,
    ContentDecoder,
    EndOfMessage,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    UnsupportedContentEncoding,
    WebSocketHandshakeError,
    ws_negotiate_deflate,
    ws_server_handshake,
)
from weft.http_parser._head import (
    check_transfer_encoding,
    content_coding,
    parse_content_length,
    tokens,
)
from weft.http_parser._token import ascii_lower

KELVIN = "\u212a"  # KELVIN SIGN: "K".lower() with Unicode rules is ASCII "k"
KELVIN_UTF8 = KELVIN.encode("utf-8")  # b"\xe2\x84\xaa", what arrives on the wire
SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: h\r\n\r\n"


def feed_all(data: bytes) -> list[object]:
    """The events for ``data`` fed whole; the same events fed byte by byte (or the same error)."""
    whole = RequestParser().feed(data)
    parser = RequestParser()
    split: list[object] = []
    for i in range(len(data)):
        split += parser.feed(data[i : i + 1])
    assert split == whole
    return list(whole)


def refused(data: bytes) -> BadRequest:
    """The BadRequest raised for ``data``, fed whole and fed byte by byte."""
    with pytest.raises(BadRequest) as whole:
        RequestParser().feed(data)
    parser = RequestParser()

    def feed_bytewise() -> None:
        for i in range(len(data)):
            parser.feed(data[i : i + 1])

    with pytest.raises(BadRequest) as split:
        feed_bytewise()
    assert str(split.value) == str(whole.value)
    assert whole.value.status == 400
    return whole.value


# -- raw bytes through the request parser


def test_kelvin_sign_in_transfer_encoding_is_refused_not_read_as_chunked() -> None:
    """CVE-2025-69224: ``Transfer-Encoding: chun<U+212A>ed`` is 400, never chunked framing.

    Read as chunked, the ``0`` chunk would end the body and the request after
    it would be served; a front-end that does not fold Unicode frames it
    differently.
    """
    data = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun"
        + KELVIN_UTF8
        + b"ed\r\n\r\n0\r\n\r\n"
        + SMUGGLED
    )
    error = refused(data)
    assert "non-ASCII" in str(error)
    assert "Transfer-Encoding" in str(error)


@pytest.mark.parametrize(
    "value",
    [
        b"chun" + KELVIN_UTF8 + b"ed",
        b"gzip, chun" + KELVIN_UTF8 + b"ed",
        b"CHUN" + KELVIN_UTF8 + b"ED",
        b"chunked\xc2\xa0",  # NO-BREAK SPACE, which str.strip() would remove
        b"chunked\xff",  # not UTF-8 at all (a lone surrogate once decoded)
        b"\xef\xbd\x83hunked",  # FULLWIDTH LATIN SMALL LETTER C
    ],
)
def test_any_non_ascii_byte_in_transfer_encoding_is_400(value: bytes) -> None:
    """CVE-2025-69224: every non-ASCII byte in Transfer-Encoding is a 400, whatever it folds to."""
    refused(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n")


def test_non_ascii_transfer_encoding_is_refused_on_a_second_line_too() -> None:
    """CVE-2025-69224: the check covers every Transfer-Encoding line, not only the first."""
    refused(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chun"
        + KELVIN_UTF8
        + b"ed\r\n\r\n0\r\n\r\n"
    )


@pytest.mark.parametrize("value", ["\u0661", "\uff15", "\u00b2", "5\u00a0", "\U0001d7d3"], ids=repr)
def test_content_length_is_ascii_digits_only(value: str) -> None:
    """Content-Length: ARABIC-INDIC, FULLWIDTH and superscript digits are 400 (str.isdigit
    and int() accept them)."""
    refused(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + value.encode() + b"\r\n\r\nxxxxx")


def test_kelvin_sign_in_connection_is_400() -> None:
    """CVE-2025-69224: ``Connection: <U+212A>eep-alive`` on HTTP/1.0 is 400, not keep-alive.

    Read as keep-alive, the bytes after the request would be parsed as the
    next request on a connection a front-end considers closed.
    """
    error = refused(
        b"GET / HTTP/1.0\r\nConnection: " + KELVIN_UTF8 + b"eep-alive\r\n\r\n" + SMUGGLED
    )
    assert "Connection" in str(error)


def test_a_non_ascii_connection_is_refused_every_time() -> None:
    """The Connection tokens are cached per value; a non-ASCII value never enters the
    cache, so the tenth request with it is refused like the first."""
    tokens(["clos\u00e9"])  # a caller of the helper does not make it pass later
    for _ in range(10):
        refused(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: clos\xc3\xa9\r\n\r\n")


def test_non_ascii_in_any_connection_line_is_400() -> None:
    """The check covers every Connection line, on HTTP/1.1 too."""
    refused(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nConnection: \xc3\xa9\r\n\r\n")


def test_kelvin_sign_in_upgrade_does_not_switch_protocols() -> None:
    """CVE-2025-69224: ``Upgrade: websoc<U+212A>et`` with ``Connection: upgrade`` is 400."""
    error = refused(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websoc"
        + KELVIN_UTF8
        + b"et\r\n\r\n"
    )
    assert "Upgrade" in str(error)


def test_kelvin_sign_in_expect_is_not_100_continue() -> None:
    """Expect is compared by ASCII-lowered token: a non-ASCII look-alike is not 100-continue."""
    # No letter of "100-continue" has a Unicode look-alike that lowers to it
    # but "k"; use a fullwidth one to show nothing but ASCII letters is lowered.
    events = feed_all(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-CONTINUE\r\n\r\n"
    )
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.expect_continue
    events = feed_all(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
        b"Expect: 100-\xef\xbd\x83ontinue\r\n\r\n"
    )
    head = events[0]
    assert isinstance(head, RequestHead)
    assert not head.expect_continue


def test_content_encoding_lowers_ascii_only() -> None:
    """content_encoding keeps non-ASCII as sent, so ContentDecoder refuses it (415)."""
    events = feed_all(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: GZIP, br\r\n\r\n")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.content_encoding == "gzip, br"
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gz\xc4\xb0p\r\n\r\n"  # U+0130
    head = feed_all(data)[0]
    assert isinstance(head, RequestHead)
    assert head.content_encoding == "gz\u0130p".encode().decode()  # not "gzi\u0307p"
    with pytest.raises(UnsupportedContentEncoding):
        ContentDecoder(head.content_encoding or "", max_size=None)


def test_ascii_framing_fields_still_fold_case() -> None:
    """Upper-case ASCII tokens keep working: ``CHUNKED``, ``Keep-Alive``, ``UPGRADE``."""
    events = feed_all(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n"
        b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: UPGRADE\r\nUpgrade: WebSocket\r\n\r\n"
    )
    heads = [e for e in events if isinstance(e, RequestHead)]
    assert [h.chunked for h in heads] == [True, False, False]
    assert not heads[1].should_close
    assert heads[2].upgrade
    assert isinstance(events[-1], EndOfMessage)


# -- raw bytes through the response parser


def parse_response(data: bytes) -> list[object]:
    parser = ResponseParser()
    parser.expect_response("GET")
    return list(parser.feed(data))


def test_kelvin_sign_in_a_response_transfer_encoding_is_refused() -> None:
    """CVE-2025-69224, response side: ``chun<U+212A>ed`` does not frame a response as chunked."""
    with pytest.raises(BadRequest, match="non-ASCII"):
        parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chun" + KELVIN_UTF8 + b"ed\r\n\r\n0\r\n\r\n"
        )


def test_kelvin_sign_in_a_response_connection_is_refused() -> None:
    """CVE-2025-69224, response side: ``<U+212A>eep-alive`` in HTTP/1.0 is 400."""
    with pytest.raises(BadRequest, match="Connection"):
        parse_response(
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: "
            + KELVIN_UTF8
            + b"eep-alive\r\n\r\n"
        )


def test_response_with_ascii_tokens_is_unchanged() -> None:
    """``Transfer-Encoding: Chunked`` and ``Connection: CLOSE`` still frame a response."""
    events = parse_response(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nConnection: CLOSE\r\n\r\n0\r\n\r\n"
    )
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.chunked
    assert head.should_close


# -- the helpers, called with str that did not come through the parser


def test_ascii_lower_lowers_only_ascii_letters() -> None:
    """ascii_lower maps A-Z and nothing else (str.lower maps U+212A to 'k', U+0130 to 'i̇')."""
    assert ascii_lower("Chunked") == "chunked"
    assert ascii_lower("CHUN" + KELVIN + "ED") == "chun" + KELVIN + "ed"
    assert ascii_lower("\u0130\u00c9Z") == "\u0130\u00c9z"


def test_tokens_helper_does_not_fold_unicode() -> None:
    """tokens() lowers ASCII only, for one value, several, and from its cache."""
    assert tokens([KELVIN + "eep-alive"]) == frozenset({KELVIN + "eep-alive"})
    assert tokens([KELVIN + "eep-alive"]) == frozenset({KELVIN + "eep-alive"})  # again
    assert tokens(["Close", "Upgrade, " + KELVIN]) == frozenset({"close", "upgrade", KELVIN})
    assert tokens(["Keep-Alive"]) == frozenset({"keep-alive"})


@pytest.mark.parametrize(
    "values", [["chun" + KELVIN + "ed"], ["gzip", "chun" + KELVIN + "ed"], ["chunked\u00a0"]]
)
def test_check_transfer_encoding_helper_refuses_non_ascii(values: list[str]) -> None:
    """check_transfer_encoding raises BadRequest for non-ASCII str, whatever str.lower says."""
    with pytest.raises(BadRequest, match="non-ASCII"):
        check_transfer_encoding(values)
    with pytest.raises(BadRequest, match="non-ASCII"):
        check_transfer_encoding(values, "response")


def test_parse_content_length_helper_takes_ascii_digits_only() -> None:
    """parse_content_length: "\\u0661" (ARABIC-INDIC ONE) is not 1."""
    with pytest.raises(BadRequest):
        parse_content_length(["\u0661"])
    assert parse_content_length(["0012"]) == 12


def test_content_coding_helper_lowers_ascii_only() -> None:
    """content_coding keeps non-ASCII characters as they are."""
    fields = CIMultiDictProxy(CIMultiDict([("Content-Encoding", "GZIP, " + KELVIN)]))
    assert content_coding(fields) == "gzip, " + KELVIN


# -- the WebSocket handshake and permessage-deflate


def ws_request(upgrade: str, connection: str = "Upgrade") -> RequestHead:
    head = RequestParser().feed(
        b"GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Connection: " + connection.encode() + b"\r\nUpgrade: " + upgrade.encode() + b"\r\n\r\n"
    )[0]
    assert isinstance(head, RequestHead)
    return head


class _Head:
    """A request head built by another server (str values that never met the parser)."""

    method = "GET"
    version = (1, 1)

    def __init__(self, **fields: str) -> None:
        self.headers = CIMultiDictProxy(CIMultiDict(fields))


def test_ws_handshake_accepts_ascii_case_variants() -> None:
    """``Upgrade: WebSocket`` and ``Connection: keep-alive, UPGRADE`` are a valid handshake."""
    assert ws_server_handshake(ws_request("WebSocket", "keep-alive, UPGRADE")).headers


@pytest.mark.parametrize(
    ("upgrade", "connection"),
    [
        ("websoc" + KELVIN + "et", "Upgrade"),
        ("websocket\u00a0", "Upgrade"),  # str.strip() removes NO-BREAK SPACE
        ("websocket", "upgrade\u2003"),  # and EM SPACE
    ],
    ids=repr,
)
def test_ws_handshake_does_not_fold_unicode(upgrade: str, connection: str) -> None:
    """CVE-2025-69224 for the handshake helper: a look-alike of websocket/upgrade is no upgrade."""
    head = _Head(
        Upgrade=upgrade,
        Connection=connection,
        **{"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
    )
    with pytest.raises(WebSocketHandshakeError):
        ws_server_handshake(head)


def test_deflate_offer_names_and_parameters_are_ascii_tokens() -> None:
    """permessage-deflate: ASCII case variants are accepted; Unicode look-alikes and Unicode
    whitespace around parameters are declined."""
    assert ws_negotiate_deflate("PerMessage-Deflate; Server_No_Context_Takeover") is not None
    assert ws_negotiate_deflate("permessage-deflate\u00a0; server_no_context_takeover") is None
    assert ws_negotiate_deflate("permessage-deflate;\u2003client_max_window_bits") is None
