"""The WebSocket opening handshake (RFC 6455 §4) and permessage-deflate negotiation (RFC 7692)."""

from __future__ import annotations

import base64

import pytest

from weft.http_parser import (
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    WebSocketHandshakeError,
    WebSocketVersionError,
    WSDeflateParams,
    serialize_response_head,
    ws_accept_key,
    ws_client_headers,
    ws_deflate_offer,
    ws_generate_key,
    ws_negotiate_deflate,
    ws_parse_deflate_response,
    ws_select_protocol,
    ws_server_handshake,
    ws_verify_response,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
VALID = [
    ("Host", "example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
]


def request(
    fields: list[tuple[str, str]] = VALID, method: str = "GET", version: str = "1.1"
) -> RequestHead:
    """Parse a request with these fields through the real request parser."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields)
    raw = f"{method} /chat HTTP/{version}\r\n{lines}\r\n".encode()
    head = RequestParser().feed(raw)[0]
    assert isinstance(head, RequestHead)
    return head


def replace(name: str, value: str | None) -> list[tuple[str, str]]:
    """VALID with field ``name`` set to ``value`` (None removes it)."""
    fields = [(n, v) for n, v in VALID if n != name]
    return fields if value is None else [*fields, (name, value)]


def test_accept_key_rfc_example() -> None:
    """The RFC 6455 §1.3 example key hashes to its example accept value."""
    assert ws_accept_key(KEY) == ACCEPT


def test_generated_keys_are_16_random_bytes() -> None:
    """A client key is the base64 of 16 bytes, fresh each time."""
    keys = {ws_generate_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(base64.b64decode(key, validate=True)) == 16 for key in keys)


def test_valid_request_answer() -> None:
    """A minimal valid upgrade gets Upgrade, Connection and the accept value, nothing more."""
    result = ws_server_handshake(request())
    assert result.headers == [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ACCEPT),
    ]
    assert result.protocol is None
    assert result.compress is None


@pytest.mark.parametrize(
    ("fields", "method", "version"),
    [
        pytest.param(VALID, "POST", "1.1", id="not-GET"),
        pytest.param(VALID, "GET", "1.0", id="HTTP/1.0"),
        pytest.param(replace("Upgrade", None), "GET", "1.1", id="no-upgrade"),
        pytest.param(replace("Upgrade", "h2c"), "GET", "1.1", id="upgrade-h2c"),
        pytest.param(replace("Connection", None), "GET", "1.1", id="no-connection"),
        pytest.param(replace("Connection", "keep-alive"), "GET", "1.1", id="connection-no-upgrade"),
        pytest.param(replace("Sec-WebSocket-Key", None), "GET", "1.1", id="no-key"),
        pytest.param(replace("Sec-WebSocket-Key", "abc"), "GET", "1.1", id="key-not-16-bytes"),
        pytest.param(
            replace("Sec-WebSocket-Key", base64.b64encode(b"x" * 15).decode()),
            "GET",
            "1.1",
            id="key-15-bytes",
        ),
        pytest.param(
            replace("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="), "GET", "1.1", id="key-not-b64"
        ),
        pytest.param([*VALID, ("Sec-WebSocket-Key", KEY)], "GET", "1.1", id="two-keys"),
    ],
)
def test_bad_requests_are_400(fields: list[tuple[str, str]], method: str, version: str) -> None:
    """Each broken rule of RFC 6455 §4.2.1 is a 400 WebSocketHandshakeError."""
    with pytest.raises(WebSocketHandshakeError) as info:
        ws_server_handshake(request(fields, method, version))
    assert info.value.status == 400
    assert not isinstance(info.value, WebSocketVersionError)


@pytest.mark.parametrize("version", [None, "8", "7", "14", "13, 8"])
def test_unsupported_version_is_426_with_hint(version: str | None) -> None:
    """A version other than 13 is 426 Upgrade Required naming version 13 (§4.2.2, §4.4)."""
    with pytest.raises(WebSocketVersionError) as info:
        ws_server_handshake(request(replace("Sec-WebSocket-Version", version)))
    assert info.value.status == 426
    assert info.value.reason == "Upgrade Required"
    assert info.value.headers == (("Sec-WebSocket-Version", "13"),)
    assert isinstance(info.value, WebSocketHandshakeError)


def test_tokens_are_case_insensitive_and_listed() -> None:
    """Upgrade and Connection match as tokens among others, in any case."""
    fields = replace("Upgrade", "WebSocket, foo/2")
    fields = [(n, v) for n, v in fields if n != "Connection"] + [
        ("Connection", "keep-alive, UPGRADE")
    ]
    assert ws_server_handshake(request(fields)).headers[2] == ("Sec-WebSocket-Accept", ACCEPT)


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        ("chat", ["chat"], "chat"),
        ("chat, superchat", ["superchat", "chat"], "chat"),  # the client's order, as aiohttp
        ("a,b ,  c", ["c"], "c"),
        ("v2", ["v1"], None),
        (None, ["v1"], None),
        ("v1", [], None),
    ],
)
def test_subprotocol_selection(offered: str | None, supported: list[str], chosen: str) -> None:
    """The first protocol the client lists that the server supports; none without overlap."""
    assert ws_select_protocol(offered, supported) == chosen


def test_subprotocol_in_answer_and_repeated_fields() -> None:
    """Repeated Sec-WebSocket-Protocol fields are one list; the choice is answered."""
    fields = [*VALID, ("Sec-WebSocket-Protocol", "x"), ("Sec-WebSocket-Protocol", "y, z")]
    result = ws_server_handshake(request(fields), protocols=["z", "y"])
    assert result.protocol == "y"
    assert ("Sec-WebSocket-Protocol", "y") in result.headers
    result = ws_server_handshake(request(fields), protocols=["q"])
    assert result.protocol is None
    assert all(name != "Sec-WebSocket-Protocol" for name, _ in result.headers)


# -- permessage-deflate negotiation (RFC 7692 §7.1) -------------------------------------------

P = WSDeflateParams


@pytest.mark.parametrize(
    ("offer", "params", "answer"),
    [
        ("permessage-deflate", P(), "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits", P(), "permessage-deflate"),
        (
            "permessage-deflate; client_max_window_bits=10",
            P(client_max_window_bits=10),
            "permessage-deflate",
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            P(server_no_context_takeover=True),
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            P(client_no_context_takeover=True),
            "permessage-deflate; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            P(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=10",
        ),
        (
            "permessage-deflate; server_max_window_bits=15",
            P(),
            "permessage-deflate; server_max_window_bits=15",
        ),
        (
            'permessage-deflate; server_max_window_bits="12"',  # a quoted-string value
            P(server_max_window_bits=12),
            "permessage-deflate; server_max_window_bits=12",
        ),
        (
            "PerMessage-Deflate ;Server_No_Context_Takeover ; client_no_context_takeover",
            P(True, True),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        # Declined offers are skipped, the next one is taken.
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate", P(), None),
        ("permessage-deflate; server_max_window_bits, permessage-deflate", P(), None),
        ("permessage-deflate; server_max_window_bits=16, permessage-deflate", P(), None),
        ("permessage-deflate; server_max_window_bits=7, permessage-deflate", P(), None),
        ("permessage-deflate; server_max_window_bits=010, permessage-deflate", P(), None),
        ("permessage-deflate; client_max_window_bits=20, permessage-deflate", P(), None),
        ("permessage-deflate; client_no_context_takeover=1, permessage-deflate", P(), None),
        ("permessage-deflate; unknown, permessage-deflate", P(), None),
        (
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover, "
            "permessage-deflate",
            P(),
            None,
        ),
        ("x-webkit-deflate-frame, permessage-deflate", P(), None),
        ("permessage-deflate; =broken, permessage-deflate", P(), None),
        ('foo; bar="a,b", permessage-deflate', P(), None),
    ],
)
def test_negotiation_matrix(offer: str, params: WSDeflateParams, answer: str | None) -> None:
    """Each offer is accepted with these parameters and this answer (None: plain answer)."""
    result = ws_negotiate_deflate(offer)
    assert result is not None
    assert result[0] == params
    assert result[1] == (answer or "permessage-deflate")


@pytest.mark.parametrize(
    "offer",
    [
        None,
        "",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; bogus=1",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate;;",
    ],
)
def test_negotiation_declines(offer: str | None) -> None:
    """Without an acceptable offer there is no extension, and no error (RFC 7692 §7.1)."""
    assert ws_negotiate_deflate(offer) is None


def test_server_wishes() -> None:
    """The server may impose no-context-takeover on both sides and a smaller window."""
    params, answer = ws_negotiate_deflate(
        "permessage-deflate; server_max_window_bits=12",
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=10,
    ) or (None, "")
    assert params == P(True, True, 10, 15)
    assert answer == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10"
    )
    with pytest.raises(ValueError, match=r"9\.\.15"):
        ws_negotiate_deflate("permessage-deflate", server_max_window_bits=8)


def test_handshake_with_and_without_compress() -> None:
    """ws_server_handshake answers the extension only when compress is on."""
    fields = [
        *VALID,
        ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=8"),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
    ]
    result = ws_server_handshake(request(fields))
    assert result.compress == P()
    assert ("Sec-WebSocket-Extensions", "permessage-deflate") in result.headers
    result = ws_server_handshake(request(fields), compress=False)
    assert result.compress is None
    assert all(name != "Sec-WebSocket-Extensions" for name, _ in result.headers)


# -- the client side ---------------------------------------------------------------------------


def response(fields: list[tuple[str, str]], status: int = 101) -> ResponseHead:
    """Parse a response head with these fields."""
    parser = ResponseParser()
    parser.expect_response("GET")
    head = parser.feed(serialize_response_head(status, None, fields))[0]
    assert isinstance(head, ResponseHead)
    return head


def test_client_headers() -> None:
    """The client asks for version 13 with its key, protocols and a deflate offer."""
    fields = ws_client_headers(KEY, protocols=["a", "b"])
    assert fields == [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Protocol", "a, b"),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
    ]
    assert all(
        name != "Sec-WebSocket-Extensions" for name, _ in ws_client_headers(KEY, compress=False)
    )


def test_server_answer_verifies_on_the_client() -> None:
    """What ws_server_handshake answers, ws_verify_response accepts, with the same agreement."""
    key = ws_generate_key()
    fields = [("Host", "x"), *ws_client_headers(key, protocols=["p2", "p1"])]
    server = ws_server_handshake(request(fields), protocols=["p1"])
    client = ws_verify_response(response(server.headers), key, protocols=["p2", "p1"])
    assert client.protocol == server.protocol == "p1"
    assert client.compress == server.compress == P()


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        (
            [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)],
            200,
        ),
        ([("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)], 101),
        ([("Upgrade", "websocket"), ("Sec-WebSocket-Accept", ACCEPT)], 101),
        ([("Upgrade", "websocket"), ("Connection", "Upgrade")], 101),
        ([("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "x")], 101),
    ],
)
def test_client_refuses_bad_answers(fields: list[tuple[str, str]], status: int) -> None:
    """Not 101, no Upgrade or Connection, a missing or wrong accept: the client fails (§4.1)."""
    with pytest.raises(WebSocketHandshakeError):
        ws_verify_response(response(fields, status), KEY)


GOOD = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)]


def test_client_refuses_unoffered_protocol_and_extension() -> None:
    """A protocol or an extension the client did not offer fails the connection."""
    with pytest.raises(WebSocketHandshakeError, match="protocol"):
        ws_verify_response(response([*GOOD, ("Sec-WebSocket-Protocol", "x")]), KEY)
    with pytest.raises(WebSocketHandshakeError, match="not offered"):
        ws_verify_response(
            response([*GOOD, ("Sec-WebSocket-Extensions", "permessage-deflate")]),
            KEY,
            compress=False,
        )


@pytest.mark.parametrize(
    ("offer", "answer", "expected"),
    [
        (ws_deflate_offer(), "permessage-deflate", P()),
        (
            ws_deflate_offer(),
            "permessage-deflate; client_max_window_bits=10",
            P(client_max_window_bits=10),
        ),
        (
            ws_deflate_offer(),
            "permessage-deflate; server_max_window_bits=9",
            P(server_max_window_bits=9),
        ),
        (
            ws_deflate_offer(server_no_context_takeover=True),
            "permessage-deflate; server_no_context_takeover",
            P(server_no_context_takeover=True),
        ),
        (
            ws_deflate_offer(client_no_context_takeover=True),
            "permessage-deflate",
            P(client_no_context_takeover=True),
        ),
        (
            ws_deflate_offer(server_max_window_bits=12),
            "permessage-deflate; server_max_window_bits=10",
            P(server_max_window_bits=10),
        ),
    ],
)
def test_client_parses_answers(offer: str, answer: str, expected: WSDeflateParams) -> None:
    """The agreed parameters follow the answer and what the client itself offered."""
    assert ws_parse_deflate_response(answer, offer) == expected


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        (ws_deflate_offer(), "permessage-deflate, permessage-deflate"),
        (ws_deflate_offer(), "x-other"),
        (ws_deflate_offer(), "permessage-deflate; bogus"),
        (ws_deflate_offer(), "permessage-deflate; client_max_window_bits"),  # needs a value
        (ws_deflate_offer(), "permessage-deflate; client_max_window_bits=8"),  # zlib cannot
        (ws_deflate_offer(server_no_context_takeover=True), "permessage-deflate"),
        (ws_deflate_offer(server_max_window_bits=10), "permessage-deflate"),
        (
            ws_deflate_offer(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=12",
        ),
        ("permessage-deflate", "permessage-deflate; client_max_window_bits=10"),  # not offered
    ],
)
def test_client_refuses_bad_deflate_answers(offer: str, answer: str) -> None:
    """An answer the offer does not allow fails the connection (RFC 7692 §7.1)."""
    with pytest.raises(WebSocketHandshakeError):
        ws_parse_deflate_response(answer, offer)


# -- interoperability with the `websockets` library (optional) --------------------------------


def test_websockets_client_handshake_is_accepted() -> None:
    """The `websockets` sans-IO client's request passes, and it accepts our 101 answer."""
    client_module = pytest.importorskip("websockets.client")
    deflate = pytest.importorskip("websockets.extensions.permessage_deflate")
    state = pytest.importorskip("websockets.protocol").State
    uri = pytest.importorskip("websockets.uri").parse_uri("ws://example.com/chat")

    client = client_module.ClientProtocol(
        uri,
        subprotocols=["v2", "v1"],
        extensions=[deflate.ClientPerMessageDeflateFactory(server_max_window_bits=11)],
    )
    client.send_request(client.connect())
    (raw,) = client.data_to_send()
    head = RequestParser().feed(raw)[0]
    assert isinstance(head, RequestHead)
    server = ws_server_handshake(head, protocols=["v1"])
    assert server.compress == P(server_max_window_bits=11)
    client.receive_data(serialize_response_head(101, None, server.headers))
    assert client.state is state.OPEN, client.handshake_exc
    assert client.subprotocol == "v1"


def test_our_client_handshake_is_accepted_by_websockets() -> None:
    """The `websockets` sans-IO server accepts our request, and we accept its answer."""
    deflate = pytest.importorskip("websockets.extensions.permessage_deflate")
    state = pytest.importorskip("websockets.protocol").State
    server_module = pytest.importorskip("websockets.server")

    server = server_module.ServerProtocol(
        extensions=[deflate.ServerPerMessageDeflateFactory(server_no_context_takeover=True)],
        subprotocols=["v1"],
    )
    key = ws_generate_key()
    fields = [("Host", "example.com"), *ws_client_headers(key, protocols=["v1"])]
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields)
    server.receive_data(f"GET /chat HTTP/1.1\r\n{lines}\r\n".encode())
    (req,) = server.events_received()
    server.send_response(server.accept(req))
    assert server.state is state.OPEN
    parser = ResponseParser()
    parser.expect_response("GET")
    head = parser.feed(b"".join(server.data_to_send()))[0]
    assert isinstance(head, ResponseHead)
    result = ws_verify_response(head, key, protocols=["v1"])
    assert result.protocol == "v1"
    assert result.compress == P(server_no_context_takeover=True)


# -- the public surface --------------------------------------------------------------------------


def test_ws_docstring_examples() -> None:
    """The examples in the WebSocket modules' docstrings give the output they show."""
    import doctest

    from weft.http_parser import _ws_deflate, _ws_handshake, _ws_reader, _ws_types, _ws_writer

    for module in (_ws_deflate, _ws_handshake, _ws_reader, _ws_types, _ws_writer):
        result = doctest.testmod(module)
        assert result.failed == 0
        assert result.attempted > 0


def test_ws_types_match_aiohttp() -> None:
    """WSMsgType and WSCloseCode have aiohttp's members and values."""
    from weft.http_parser import WSCloseCode, WSMsgType

    assert {m.name: m.value for m in WSMsgType} == {
        "CONTINUATION": 0,
        "TEXT": 1,
        "BINARY": 2,
        "CLOSE": 8,
        "PING": 9,
        "PONG": 10,
        "CLOSING": 256,
        "CLOSED": 257,
        "ERROR": 258,
    }
    assert WSMsgType.__members__["text"] is WSMsgType.TEXT  # aiohttp's lower-case aliases
    assert {m.name: m.value for m in WSCloseCode} == {
        "OK": 1000,
        "GOING_AWAY": 1001,
        "PROTOCOL_ERROR": 1002,
        "UNSUPPORTED_DATA": 1003,
        "ABNORMAL_CLOSURE": 1006,
        "INVALID_TEXT": 1007,
        "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009,
        "MANDATORY_EXTENSION": 1010,
        "INTERNAL_ERROR": 1011,
        "SERVICE_RESTART": 1012,
        "TRY_AGAIN_LATER": 1013,
        "BAD_GATEWAY": 1014,
    }


def test_websocket_error_shape() -> None:
    """WebSocketError: a ValueError with .code, str() the message, as aiohttp's."""
    from weft.http_parser import HttpParserError, WebSocketError

    error = WebSocketError(1002, "bad frame")
    assert isinstance(error, ValueError)
    assert not isinstance(error, HttpParserError)
    assert (error.code, str(error), error.args, error.messages) == (
        1002,
        "bad frame",
        (1002, "bad frame"),
        [],
    )
    assert issubclass(WebSocketHandshakeError, HttpParserError)
    assert WebSocketHandshakeError("x").headers == ()
