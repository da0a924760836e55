"""Request bodies decoded as aiohttp's auto_decompress=True does, over real sockets.

The data flow (README, "Request body decoding"): the parser feeds the body as
sent into a BodyStream (flow control on the coded bytes); the handler reads a
DecodingBodyStream over it, which decodes a read buffer at a time as it is
read; an unread body is discarded from the coded stream, never decoded.
"""

from __future__ import annotations

import gzip
import zlib
from typing import TYPE_CHECKING

import aiohttp
import brotli
import pytest
from backports import zstd

from weft.http_parser import ContentDecoder
from weft.web_core import Application, Request, Response

if TYPE_CHECKING:
    from conftest import Serve

TEXT = b"The quick brown fox jumps over the lazy dog. " * 500


def echo_app(**handler_args: object) -> Application:
    async def echo(request: Request) -> Response:
        body = await request.read()
        headers = {
            "X-Seen-Encoding": request.headers.get("Content-Encoding", "-"),
            "X-Seen-Length": str(request.content_length),
        }
        return Response(body=body, headers=headers)

    app = Application(handler_args=handler_args or None)
    app.router.add_post("/", echo)
    return app


def zeros_gzip(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(c.compress(bytes(1 << 20)) for _ in range(size >> 20)) + c.flush()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("encoding", "coded"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("br", brotli.compress(TEXT)),
        ("zstd", zstd.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_a_compressed_body_reaches_the_handler_decoded(
    serve: Serve, client: aiohttp.ClientSession, encoding: str, coded: bytes, chunked: bool
) -> None:
    """auto_decompress=True is the default: the handler reads the decoded body, and
    request.headers (Content-Encoding, Content-Length) are what was sent, as aiohttp."""
    served = await serve(echo_app())

    async def pieces() -> object:
        for at in range(0, len(coded), 1000):
            yield coded[at : at + 1000]

    data = pieces() if chunked else coded
    async with client.post(
        served.url(), data=data, headers={"Content-Encoding": encoding}
    ) as response:
        assert response.status == 200
        assert await response.read() == TEXT
        assert response.headers["X-Seen-Encoding"] == encoding
        assert response.headers["X-Seen-Length"] == ("None" if chunked else str(len(coded)))


@pytest.mark.asyncio
async def test_auto_decompress_true_can_be_asked_for(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """AppRunner(app, auto_decompress=True) and handler_args say the default out loud."""
    for served in (
        await serve(echo_app(), auto_decompress=True),
        await serve(echo_app(auto_decompress=True)),
    ):
        async with client.post(
            served.url(), data=gzip.compress(b"hi"), headers={"Content-Encoding": "gzip"}
        ) as response:
            assert await response.read() == b"hi"


@pytest.mark.asyncio
async def test_an_unsupported_coding_is_415_with_accept_encoding(serve: Serve) -> None:
    """A body in a coding weft cannot undo is 415 (RFC 9110 §15.5.16) with an
    Accept-Encoding field naming what it can, the handler is not called, and the
    connection closes; a request before it is answered first."""
    called: list[bytes] = []

    async def handler(request: Request) -> Response:
        called.append(await request.read())
        return Response(text="ok")

    app = Application()
    app.router.add_post("/", handler)
    served = await serve(app)
    connection = await served.connect()
    connection.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: snappy\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert (await connection.response()).status == 200
    response = await connection.response()
    assert response.status == 415
    assert response.headers["Accept-Encoding"] == "gzip, deflate, br, zstd"
    assert b"snappy" in response.body
    assert await connection.read_to_eof() == b""
    assert called == [b"ab"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "coded", [b"\x1f\x8b\x08\x00 not gzip", gzip.compress(TEXT)[:-8]], ids=["corrupt", "truncated"]
)
async def test_a_corrupt_body_is_400(serve: Serve, coded: bytes) -> None:
    """Corrupt or truncated gzip: the handler's read raises, and the answer is 400."""
    served = await serve(echo_app())
    connection = await served.connect()
    connection.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(coded), coded)
    )
    response = await connection.response()
    assert response.status == 400
    assert b"gzip" in response.body


@pytest.mark.asyncio
async def test_decoded_bytes_count_against_client_max_size(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A 10 KB gzip body that inflates past client_max_size (1 MiB) is 413, as aiohttp."""
    served = await serve(echo_app())
    bomb = zeros_gzip(8 << 20)
    assert len(bomb) < 20_000
    async with client.post(
        served.url(), data=bomb, headers={"Content-Encoding": "gzip"}
    ) as response:
        assert response.status == 413


@pytest.mark.asyncio
async def test_a_bomb_is_decoded_a_read_buffer_at_a_time(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A streaming handler reading a 256 MiB bomb (about 250 KB of gzip) gets pieces of
    at most read_bufsize bytes: decoding follows the reader, never ahead of it."""
    biggest = 0
    total = 0

    async def stream(request: Request) -> Response:
        nonlocal biggest, total
        async for piece in request.content.iter_any():
            biggest = max(biggest, len(piece))
            total += len(piece)
        return Response(text=str(total))

    app = Application()
    app.router.add_post("/", stream)
    served = await serve(app, read_bufsize=16384)
    bomb = zeros_gzip(256 << 20)
    async with client.post(
        served.url(), data=bomb, headers={"Content-Encoding": "gzip"}
    ) as response:
        assert await response.text() == str(256 << 20)
    assert 0 < biggest <= 16384


@pytest.mark.asyncio
async def test_decoding_errors_surface_as_the_handler_sees_them(serve: Serve) -> None:
    """A handler that catches the decoding error answers what it likes; the error is an
    HttpParserError with the status to answer (400)."""
    from weft.http_parser import HttpParserError

    seen: list[int] = []

    async def handler(request: Request) -> Response:
        try:
            await request.read()
        except HttpParserError as exc:
            seen.append(exc.status)
        return Response(text="handled")

    app = Application()
    app.router.add_post("/", handler)
    served = await serve(app)
    connection = await served.connect()
    connection.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\n"
        b"Content-Length: 5\r\n\r\n\x78\x9c\xff\xff\xff"
    )
    response = await connection.response()
    assert (response.status, response.body, seen) == (200, b"handled", [400])


def test_content_decoder_is_what_decodes() -> None:
    """The connection uses http-parser's ContentDecoder (the one the tests count)."""
    decoder = ContentDecoder("gzip", max_size=None)
    assert decoder.decompress(gzip.compress(b"x")) + decoder.flush() == b"x"
