"""Compression: Accept-Encoding negotiation, whole-body and streamed compression."""

from __future__ import annotations

import gzip
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from multidict import CIMultiDict
from web_core_support import get, make_request, parse_response, send

from weft.web_core import ContentCoding, Response, StreamResponse
from weft.web_core._compression import ZLibCompressor, add_vary, negotiate_coding

BODY = b"weft compresses this body. " * 200


# -- negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", None),
        ("identity", None),
        ("gzip", ContentCoding.gzip),
        ("GZIP", ContentCoding.gzip),
        ("deflate", ContentCoding.deflate),
        ("gzip, deflate", ContentCoding.deflate),  # a tie: aiohttp's order
        ("gzip;q=1, deflate;q=0.5", ContentCoding.gzip),
        ("gzip;q=0, deflate;q=0", None),  # refused (aiohttp's substring test would compress)
        ("br", None),
        ("*", ContentCoding.deflate),
        ("*, deflate;q=0", ContentCoding.gzip),
        ("identity;q=1, gzip;q=0.5", None),  # the client prefers no coding
        ("gzip;q=bogus", ContentCoding.gzip),
    ],
)
def test_negotiate(accept: str, expected: ContentCoding | None) -> None:
    """The highest non-zero weight wins, ties go deflate then gzip, q=0 refuses."""
    assert negotiate_coding(accept) is expected


def test_add_vary_merges() -> None:
    """Vary gets Accept-Encoding once, added to what is there; ``*`` already covers it."""
    md: CIMultiDict[str] = CIMultiDict()
    add_vary(md)
    add_vary(md)
    assert md["Vary"] == "Accept-Encoding"
    md["Vary"] = "Origin"
    add_vary(md)
    assert md["Vary"] == "Origin, Accept-Encoding"
    md["Vary"] = "*"
    add_vary(md)
    assert md["Vary"] == "*"


def test_identity_compressor_refused() -> None:
    """A compressor for identity makes no sense and says so."""
    with pytest.raises(ValueError, match="identity"):
        ZLibCompressor(ContentCoding.identity)


def test_enable_compression_force_types() -> None:
    """force takes a ContentCoding; a bool is deprecated (True = deflate); others are TypeError."""
    assert StreamResponse().compression is False
    resp = StreamResponse()
    resp.enable_compression()
    assert resp.compression is True
    with pytest.warns(DeprecationWarning, match="boolean"):
        resp.enable_compression(True)
    assert resp._compression_force is ContentCoding.deflate
    with pytest.raises(TypeError, match="force"):
        resp.enable_compression("gzip")  # type: ignore[arg-type]


# -- Response: the whole body at once


@pytest.mark.asyncio
async def test_response_gzip_whole_body() -> None:
    """A Response compresses its body once: Content-Encoding, the compressed length, Vary."""
    resp = Response(body=BODY, content_type="text/plain")
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip"))
    parsed = ex.parsed
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert parsed.headers["Vary"] == "Accept-Encoding"
    assert int(parsed.headers["Content-Length"]) == len(parsed.body) < len(BODY)
    assert "Transfer-Encoding" not in parsed.headers
    assert gzip.decompress(parsed.body) == BODY
    assert resp.content_length == len(parsed.body)


@pytest.mark.asyncio
async def test_response_deflate_is_zlib_format() -> None:
    """deflate is the zlib format (RFC 9110 §8.4.1.2), as aiohttp sends it."""
    resp = Response(body=BODY)
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip, deflate"))
    assert ex.parsed.headers["Content-Encoding"] == "deflate"
    assert zlib.decompress(ex.parsed.body) == BODY


@pytest.mark.asyncio
async def test_response_identity_when_not_accepted() -> None:
    """Without an acceptable coding the body goes as it is, still marked Vary."""
    resp = Response(body=BODY)
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: identity"))
    assert "Content-Encoding" not in ex.parsed.headers
    assert ex.parsed.headers["Vary"] == "Accept-Encoding"
    assert ex.parsed.body == BODY


@pytest.mark.asyncio
async def test_response_forced_coding_ignores_accept_encoding() -> None:
    """force=ContentCoding.gzip compresses whatever the client said, without Vary."""
    resp = Response(body=BODY)
    resp.enable_compression(ContentCoding.gzip)
    ex = await send(resp, get("/"))
    assert ex.parsed.headers["Content-Encoding"] == "gzip"
    assert "Vary" not in ex.parsed.headers
    assert gzip.decompress(ex.parsed.body) == BODY


@pytest.mark.asyncio
async def test_response_forced_identity_sends_plain() -> None:
    """force=ContentCoding.identity never compresses."""
    resp = Response(body=BODY)
    resp.enable_compression(ContentCoding.identity)
    ex = await send(resp, get("/", "Accept-Encoding: gzip"))
    assert "Content-Encoding" not in ex.parsed.headers
    assert ex.parsed.body == BODY


@pytest.mark.asyncio
async def test_response_big_body_compressed_in_executor() -> None:
    """Past zlib_executor_size the body is compressed in the given executor."""
    with ThreadPoolExecutor(1) as executor:
        resp = Response(body=BODY, zlib_executor_size=16, zlib_executor=executor)
        resp.enable_compression()
        ex = await send(resp, get("/", "Accept-Encoding: gzip"))
    assert gzip.decompress(ex.parsed.body) == BODY


@pytest.mark.asyncio
async def test_response_head_has_compressed_length_no_body() -> None:
    """HEAD gets the same Content-Encoding and Content-Length as GET, and no body."""
    resp = Response(body=BODY)
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip", method="HEAD"))
    assert ex.parsed.headers["Content-Encoding"] == "gzip"
    assert int(ex.parsed.headers["Content-Length"]) < len(BODY)
    assert ex.parsed.raw_body == b""


@pytest.mark.asyncio
async def test_response_empty_body_not_compressed() -> None:
    """An empty body is not worth a Content-Encoding."""
    resp = Response()
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip"))
    assert "Content-Encoding" not in ex.parsed.headers
    assert ex.parsed.headers["Content-Length"] == "0"


@pytest.mark.asyncio
async def test_already_encoded_body_left_alone() -> None:
    """A body whose Content-Encoding is set by the handler is never compressed again."""
    payload = gzip.compress(BODY)
    resp = Response(body=payload, headers={"Content-Encoding": "gzip"})
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip, deflate"))
    assert ex.parsed.headers["Content-Encoding"] == "gzip"
    assert ex.parsed.body == payload


@pytest.mark.asyncio
async def test_setting_body_drops_compressed_copy() -> None:
    """Setting body resets the compressed copy, so a stale one is never sent."""
    resp = Response(body=BODY)
    resp._compressed_body = b"stale"
    resp.body = b"fresh"
    assert resp._compressed_body is None


# -- StreamResponse: piece by piece


@pytest.mark.asyncio
async def test_stream_response_compresses_each_write() -> None:
    """A streamed body is compressed through the writer, chunked, without Content-Length."""
    request, transport = make_request(get("/", "Accept-Encoding: gzip"))
    resp = StreamResponse()
    resp.content_length = 12345  # a length for the plain body: dropped when compressing
    resp.enable_compression()
    await resp.prepare(request)
    for _ in range(5):
        await resp.write(BODY)
    await resp.write_eof(b"the end")
    parsed = parse_response(transport.data)
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert parsed.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in parsed.headers
    assert gzip.decompress(parsed.body) == BODY * 5 + b"the end"


@pytest.mark.asyncio
async def test_stream_response_http10_compressed_until_close() -> None:
    """On HTTP/1.0 a compressed stream ends with the connection."""
    request, transport = make_request(get("/", "Accept-Encoding: deflate", version="1.0"))
    resp = StreamResponse()
    resp.enable_compression()
    await resp.prepare(request)
    await resp.write(BODY)
    await resp.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.headers["Content-Encoding"] == "deflate"
    assert resp.keep_alive is False
    assert zlib.decompress(parsed.body) == BODY


@pytest.mark.asyncio
async def test_stream_response_head_sends_no_compressed_bytes() -> None:
    """HEAD: the coding is announced but no compressed bytes (not even a gzip trailer) go out."""
    request, transport = make_request(get("/", "Accept-Encoding: gzip", method="HEAD"))
    resp = StreamResponse()
    resp.enable_compression()
    await resp.prepare(request)
    await resp.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert parsed.raw_body == b""


@pytest.mark.asyncio
async def test_stream_response_big_writes_in_executor_keep_order() -> None:
    """Writes larger than the sync limit go through the executor and stay in order."""
    request, transport = make_request(get("/", "Accept-Encoding: gzip"))
    resp = StreamResponse()
    resp.enable_compression()
    await resp.prepare(request)
    pieces = [bytes([65 + i]) * 10_000 for i in range(6)]
    for piece in pieces:
        await resp.write(piece)
        await resp.write(b"small")
    await resp.write_eof()
    expected = b"".join(piece + b"small" for piece in pieces)
    assert gzip.decompress(parse_response(transport.data).body) == expected
