"""The Autobahn|Testsuite's case groups 12 and 13 (permessage-deflate), end to end.

A weft echo server (``web.WebSocketResponse``, ``compress=True``) talks to
the ``websockets`` client with its permessage-deflate extension, configured
as Autobahn's client offers: group 12 with the default offer, group 13 with
Autobahn's seven offer lists (``server_no_context_takeover`` and
``server_max_window_bits`` requested, several offers at once). Each of the
18 sub-cases sends messages of one size (16 B to 128 KiB), whole or
fragmented ("auto-fragment" to 256 B - 32 KiB), and checks the echoes byte
for byte and the parameters agreed. Autobahn sends 1000 messages per case
taken from real files; here a few messages per case from synthetic corpora
of the same kinds (JSON, a bitmap, German prose, HTML, a PDF-like binary).

The websockets client inflates with the window it negotiated, so an echo
compressed with a larger window than ``server_max_window_bits`` allows
would fail it. Raw-frame tests check what the library hides: the server's
frames carry RSV1, and with ``server_no_context_takeover`` each message is
compressed on its own. A ``compress=False`` server declines every offer and
still echoes. Groups 1-7 and 9 are in ``test_integration_websocket_autobahn.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)

from weft import web
from weft.http_parser import (
    ResponseHead,
    ResponseParser,
    WebSocketEncoder,
    WebSocketReader,
    WSDeflateParams,
    ws_client_headers,
    ws_encode_close,
    ws_generate_key,
    ws_verify_response,
)

ServeApp = Callable[[web.Application], Awaitable[str]]
TIMEOUT = 5.0
KiB = 1024
MESSAGES = 10  # per case (Autobahn: 1000)


async def echo(request: web.Request) -> web.WebSocketResponse:
    """Echo TEXT as TEXT and BINARY as BINARY; ``?compress=0`` turns permessage-deflate off."""
    ws = web.WebSocketResponse(
        compress=request.query.get("compress", "1") == "1", max_msg_size=4 * 1024 * KiB
    )
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is web.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


@pytest.fixture
def app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", echo)
    return app


# ---------------------------------------------------------------- Autobahn's corpora, synthesized


def _json_corpus(rng: random.Random) -> bytes:
    rows = [
        {
            "id": i,
            "name": f"user-{rng.randrange(10**6):06d}",
            "email": f"u{i}@example.org",
            "active": rng.random() < 0.7,
            "score": round(rng.uniform(0, 100), 3),
            "tags": rng.sample(["alpha", "beta", "gamma", "delta", "omega", "pi"], 3),
        }
        for i in range(1700)
    ]
    return json.dumps(rows, indent=1).encode()


def _bitmap_corpus(rng: random.Random) -> bytes:
    """A 512x512 black-and-white bitmap: a BMP header, then rows of runs."""
    rows = bytearray()
    for _ in range(512 * 4):
        row = bytearray()
        while len(row) < 64:
            row += bytes((rng.choice((0x00, 0xFF, 0xF0, 0x0F)),)) * rng.randrange(1, 12)
        rows += row[:64]
    return b"BM" + len(rows).to_bytes(4, "little") + bytes(48) + bytes(rows)


FAUST = (
    "Habe nun, ach! Philosophie, Juristerei und Medizin, und leider auch Theologie "
    "durchaus studiert, mit heißem Bemühn. Da steh ich nun, ich armer Tor! Und bin so "
    "klug als wie zuvor; heiße Magister, heiße Doktor gar, und ziehe schon an die zehen "
    "Jahr herauf, herab und quer und krumm meine Schüler an der Nase herum - und sehe, "
    "daß wir nichts wissen können! Das will mir schier das Herz verbrennen."
).split()


def _prose_corpus(rng: random.Random) -> bytes:
    lines = [" ".join(rng.choices(FAUST, k=rng.randrange(5, 12))) for _ in range(4000)]
    return "\n".join(lines).encode()


def _html_corpus(rng: random.Random) -> bytes:
    rows = "".join(
        f'<tr class="r{i % 2}"><td><a href="/item/{i}">Item {i}</a></td>'
        f"<td>{rng.randrange(10**5)}</td><td>{rng.choice(FAUST)}</td></tr>\n"
        for i in range(2800)
    )
    return f"<!DOCTYPE html><html><body><table>\n{rows}</table></body></html>".encode()


def _pdf_corpus(rng: random.Random) -> bytes:
    """Text objects between streams of incompressible bytes, as in a PDF with images."""
    parts = [b"%PDF-1.4\n"]
    for n in range(1, 60):
        parts.append(f"{n} 0 obj\n<< /Length 3000 /Filter /DCTDecode >>\nstream\n".encode())
        parts.append(rng.randbytes(3000) + b"\nendstream\nendobj\n")
    return b"".join(parts)


_rng = random.Random(12)
CORPORA: list[tuple[str, bool, bytes]] = [  # (Autobahn's file, is_text, bytes)
    ("JSON", True, _json_corpus(_rng)),
    ("bitmap", False, _bitmap_corpus(_rng)),
    ("German prose", True, _prose_corpus(_rng)),
    ("HTML", True, _html_corpus(_rng)),
    ("PDF", False, _pdf_corpus(_rng)),
]
# (payload size, auto-fragment size; 0: unfragmented): Autobahn's 18 sub-cases of 12.x/13.x
SUB_CASES = [(size, 0) for size in (16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072)]
SUB_CASES += [(size, 256) for size in (8192, 16384, 32768, 65536, 131072)]
SUB_CASES += [(131072, fragment) for fragment in (1024, 4096, 32768)]


def payloads(corpus: bytes, is_text: bool, size: int) -> list[str] | list[bytes]:
    """MESSAGES slices of ``size`` bytes of ``corpus`` (text cut back to whole characters)."""
    slices = [corpus[i * 997 : i * 997 + size] for i in range(MESSAGES)]
    if is_text:
        return [piece.decode("utf-8", "ignore") for piece in slices]
    return slices


def fragments(payload: str | bytes, size: int) -> list[str] | list[bytes]:
    return [payload[i : i + size] for i in range(0, len(payload), size)]  # type: ignore[return-value]


def size_name(size: int) -> str:
    return f"{size // KiB} KiB" if size >= KiB else f"{size} B"


def sub_case_name(size: int, fragment: int) -> str:
    return size_name(size) + (f" in {size_name(fragment)} fragments" if fragment else "")


# ---------------------------------------------------------------- the websockets client


async def echo_all(ws: ClientConnection, messages: list[str] | list[bytes], fragment: int) -> None:
    """Send each message (fragmented when asked), wait for its echo, compare byte for byte."""
    for message in messages:
        if fragment and len(message) > fragment:
            await ws.send(fragments(message, fragment))
        else:
            await ws.send(message)
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == message


def agreed(ws: ClientConnection) -> PerMessageDeflate | None:
    """The permessage-deflate extension the handshake agreed on, or None."""
    extensions = ws.protocol.extensions
    assert len(extensions) <= 1
    if not extensions:
        return None
    assert isinstance(extensions[0], PerMessageDeflate)
    return extensions[0]


def ws_url(base: str, path: str = "/") -> str:
    return base.replace("http://", "ws://") + path


def settings(extension: PerMessageDeflate) -> tuple[bool, bool, int, int]:
    """(server_no_context_takeover, client_no_context_takeover, server bits, client bits)."""
    return (
        extension.remote_no_context_takeover,
        extension.local_no_context_takeover,
        extension.remote_max_window_bits,
        extension.local_max_window_bits,
    )


# -- 12: the default offer ("permessage-deflate; client_max_window_bits") -----------------------


@pytest.mark.parametrize(
    ("corpus", "size", "fragment"),
    [
        pytest.param(
            n, size, fragment, id=f"12.{n}.{m} {CORPORA[n - 1][0]} {sub_case_name(size, fragment)}"
        )
        for n in range(1, 6)
        for m, (size, fragment) in enumerate(SUB_CASES, 1)
    ],
)
@pytest.mark.asyncio
async def test_12_compressed_messages(
    serve: ServeApp, app: web.Application, corpus: int, size: int, fragment: int
) -> None:
    """12.x.y: messages of one size from one corpus round-trip compressed, default offer."""
    _, is_text, data = CORPORA[corpus - 1]
    factory = ClientPerMessageDeflateFactory(client_max_window_bits=True)
    base = await serve(app)
    async with connect(ws_url(base), extensions=[factory], compression=None, max_size=None) as ws:
        extension = agreed(ws)
        assert extension is not None
        assert settings(extension) == (False, False, 15, 15)
        await echo_all(ws, payloads(data, is_text, size), fragment)


# -- 13: Autobahn's offer lists (server_no_context_takeover, server_max_window_bits) -----------

# Autobahn's (requestNoContextTakeover, requestMaxWindowBits) per offer, each offer also
# accepting client_max_window_bits. weft declines server_max_window_bits=8 (zlib cannot
# compress with a 256-byte window; aiohttp declines it too), then takes the next offer.
OFFERS_13: dict[int, tuple[list[tuple[bool, int]], tuple[bool, bool, int, int] | None]] = {
    1: ([(False, 0)], (False, False, 15, 15)),
    2: ([(True, 0)], (True, False, 15, 15)),
    3: ([(False, 8)], None),
    4: ([(False, 15)], (False, False, 15, 15)),
    5: ([(True, 8)], None),
    6: ([(True, 15)], (True, False, 15, 15)),
    7: ([(True, 8), (True, 0), (False, 0)], (True, False, 15, 15)),
}


def factories(offers: list[tuple[bool, int]]) -> list[ClientPerMessageDeflateFactory]:
    return [
        ClientPerMessageDeflateFactory(
            server_no_context_takeover=no_takeover,
            server_max_window_bits=bits or None,
            client_max_window_bits=True,
        )
        for no_takeover, bits in offers
    ]


def offers_name(offers: list[tuple[bool, int]]) -> str:
    return " + ".join(
        "+".join(([f"smwb={bits}"] if bits else []) + (["snct"] if no_takeover else []))
        or "default"
        for no_takeover, bits in offers
    )


@pytest.mark.parametrize(
    ("offer", "size", "fragment"),
    [
        pytest.param(
            n,
            size,
            fragment,
            id=f"13.{n}.{m} {offers_name(OFFERS_13[n][0])} {sub_case_name(size, fragment)}",
        )
        for n in OFFERS_13
        for m, (size, fragment) in enumerate(SUB_CASES, 1)
    ],
)
@pytest.mark.asyncio
async def test_13_negotiated_parameters(
    serve: ServeApp, app: web.Application, offer: int, size: int, fragment: int
) -> None:
    """13.x.y: each offer list is negotiated as expected and JSON messages round-trip."""
    offers, expected = OFFERS_13[offer]
    _, is_text, data = CORPORA[0]  # Autobahn's 13.x use its JSON file
    base = await serve(app)
    async with connect(
        ws_url(base), extensions=factories(offers), compression=None, max_size=None
    ) as ws:
        extension = agreed(ws)
        assert (None if extension is None else settings(extension)) == expected
        await echo_all(ws, payloads(data, is_text, size), fragment)


# -- beyond Autobahn: the client-side parameters, and a server without compression ---------

CLIENT_VARIANTS: dict[str, tuple[dict[str, Any], tuple[bool, bool, int, int]]] = {
    "client_max_window_bits=9": ({"client_max_window_bits": 9}, (False, False, 15, 9)),
    "client_max_window_bits=12": ({"client_max_window_bits": 12}, (False, False, 15, 12)),
    "client_no_context_takeover": (
        {"client_no_context_takeover": True},
        (False, True, 15, 15),
    ),
    "server_max_window_bits=9": ({"server_max_window_bits": 9}, (False, False, 9, 15)),
    "server_max_window_bits=12": ({"server_max_window_bits": 12}, (False, False, 12, 15)),
    "all four (9 bits, no context takeover both ways)": (
        {
            "client_max_window_bits": 9,
            "server_max_window_bits": 9,
            "client_no_context_takeover": True,
            "server_no_context_takeover": True,
        },
        (True, True, 9, 9),
    ),
}


@pytest.mark.parametrize("variant", list(CLIENT_VARIANTS))
@pytest.mark.parametrize("corpus", [1, 2, 3], ids=lambda n: CORPORA[n - 1][0])
@pytest.mark.asyncio
async def test_window_bits_and_context_takeover_variants(
    serve: ServeApp, app: web.Application, variant: str, corpus: int
) -> None:
    """Each window size and no_context_takeover is agreed and honoured (8 KiB-64 KiB messages)."""
    kwargs, expected = CLIENT_VARIANTS[variant]
    _, is_text, data = CORPORA[corpus - 1]
    factory = ClientPerMessageDeflateFactory(**kwargs)
    base = await serve(app)
    async with connect(ws_url(base), extensions=[factory], compression=None, max_size=None) as ws:
        extension = agreed(ws)
        assert extension is not None
        assert settings(extension) == expected
        for size in (8 * KiB, 64 * KiB):
            await echo_all(ws, payloads(data, is_text, size), 0)
            await echo_all(ws, payloads(data, is_text, size), 4 * KiB)


@pytest.mark.parametrize("offer", list(OFFERS_13), ids=lambda n: f"13.{n} offers, compress=False")
@pytest.mark.asyncio
async def test_server_without_compression_declines(
    serve: ServeApp, app: web.Application, offer: int
) -> None:
    """A compress=False server declines every offer; messages still round-trip uncompressed."""
    _, is_text, data = CORPORA[0]
    base = await serve(app)
    async with connect(
        ws_url(base, "/?compress=0"),
        extensions=factories(OFFERS_13[offer][0]),
        compression=None,
        max_size=None,
    ) as ws:
        assert agreed(ws) is None
        await echo_all(ws, payloads(data, is_text, 16 * KiB), 1024)


# ---------------------------------------------------------------- raw frames


async def raw_deflate_echo(
    base: str, offer: str, messages: list[str]
) -> tuple[WSDeflateParams, list[bytes]]:
    """Send ``messages`` compressed over a raw connection; the server's echo frames, raw."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        key = ws_generate_key()
        fields = [("Host", f"{host}:{port}"), *ws_client_headers(key, compress=offer)]
        request = "GET / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
        writer.write(request.encode("latin-1"))
        parser = ResponseParser()
        parser.expect_response("GET")
        head: ResponseHead | None = None
        async with asyncio.timeout(TIMEOUT):
            while not parser.switched:
                data = await reader.read(65536)
                assert data
                head = next((e for e in parser.feed(data) if isinstance(e, ResponseHead)), head)
        assert head is not None
        params = ws_verify_response(head, key, compress=offer).compress
        assert params is not None
        encoder = WebSocketEncoder(is_client=True, compress=params)
        frames_in = WebSocketReader(is_client=True, compress=params)
        buffer = parser.take_trailing_data()
        echoes: list[bytes] = []
        for message in messages:
            writer.write(encoder.text(message))
            async with asyncio.timeout(TIMEOUT):
                while not (got := frames_in.feed(buffer)):
                    buffer = await reader.read(65536)
                    assert buffer, "the server closed the connection"
                    echoes.append(buffer)  # each echo arrives in one read on loopback
                buffer = b""
            assert [m.data for m in got] == [message]
        writer.write(ws_encode_close(1000, mask=True))
        async with asyncio.timeout(TIMEOUT):
            rest = await reader.read()
            while more := await reader.read():
                rest += more
        assert [(m.type, m.data) for m in frames_in.feed(rest)] == [(web.WSMsgType.CLOSE, 1000)]
        return params, echoes
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("offer", "takeover"),
    [
        pytest.param("permessage-deflate; client_max_window_bits", True, id="13.1 raw frames"),
        pytest.param(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits",
            False,
            id="13.2 raw frames",
        ),
    ],
)
@pytest.mark.asyncio
async def test_server_frames_are_compressed_with_the_agreed_context(
    serve: ServeApp, app: web.Application, offer: str, takeover: bool
) -> None:
    """The echo frames carry RSV1; a repeated message shrinks only with context takeover."""
    message = CORPORA[3][2][: 4 * KiB].decode()
    params, echoes = await raw_deflate_echo(await serve(app), offer, [message, message])
    assert params.server_no_context_takeover is not takeover
    assert all(echo[0] == 0xC1 for echo in echoes)  # FIN, RSV1, TEXT: one compressed frame
    first, second = (len(echo) for echo in echoes)
    assert first < len(message) // 2
    if takeover:
        assert second < first // 5  # the second copy refers back to the first
    else:
        assert second == first  # compressed from scratch both times
