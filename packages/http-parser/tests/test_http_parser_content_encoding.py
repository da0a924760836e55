"""ContentDecoder: gzip, deflate (zlib and raw), br, chains, the size cap, errors."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import brotli
import pytest
from backports import zstd

from weft.http_parser import (
    BadRequest,
    ContentDecoder,
    HttpParserError,
    PayloadTooLarge,
    UnsupportedContentEncoding,
    _content_encoding,
    supported_encodings,
)

TEXT = b"The quick brown fox jumps over the lazy dog. " * 200


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


def decode_in_pieces(encoding: str, data: bytes, size: int, max_size: int | None = None) -> bytes:
    decoder = ContentDecoder(encoding, max_size=max_size)
    out = b"".join(decoder.decompress(data[i : i + size]) for i in range(0, len(data), size))
    return out + decoder.flush()


def zeros_gzip(size: int) -> bytes:
    """gzip of ``size`` zero bytes, made a MiB at a time."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [c.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + c.flush()


@pytest.mark.parametrize(
    ("encoding", "coded"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("GZIP", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", raw_deflate(TEXT)),
        ("identity", TEXT),
        ("gzip, deflate", zlib.compress(gzip.compress(TEXT))),
        ("deflate,gzip", gzip.compress(zlib.compress(TEXT))),
        ("gzip, identity", gzip.compress(TEXT)),
    ],
)
@pytest.mark.parametrize("piece", [1, 7, 100_000])
def test_decodes_in_any_pieces(encoding: str, coded: bytes, piece: int) -> None:
    """Each supported coding (and chains of them) decodes, however the body is cut."""
    assert decode_in_pieces(encoding, coded, piece, max_size=len(TEXT)) == TEXT


def test_concatenated_gzip_members() -> None:
    """Several gzip members one after the other are one body (RFC 1952 §2.2)."""
    coded = gzip.compress(b"abc") + gzip.compress(b"def")
    assert decode_in_pieces("gzip", coded, 5) == b"abcdef"


def test_brotli() -> None:
    """br decodes when brotli is installed, and is capped like the others."""
    import brotli

    coded = brotli.compress(TEXT)
    assert "br" in supported_encodings()
    assert decode_in_pieces("br", coded, 3) == TEXT
    bomb = brotli.compress(bytes(20 << 20))
    with pytest.raises(PayloadTooLarge):
        ContentDecoder("br", max_size=1 << 20).decompress(bomb)


def test_brotli_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without brotli, br is an unsupported coding that says what to install.

    brotli is in the test group, so its absence is what the module saw at import.
    """
    monkeypatch.setattr(_content_encoding, "_brotli_module", None)
    assert "br" not in supported_encodings()
    with pytest.raises(UnsupportedContentEncoding, match="brotli"):
        ContentDecoder("br", max_size=None)


def test_exactly_at_the_cap_is_fine() -> None:
    """A body decoding to exactly max_size bytes is accepted."""
    assert decode_in_pieces("gzip", gzip.compress(TEXT), 50, max_size=len(TEXT)) == TEXT
    with pytest.raises(PayloadTooLarge):
        decode_in_pieces("gzip", gzip.compress(TEXT), 50, max_size=len(TEXT) - 1)


def test_zip_bomb_is_stopped_early() -> None:
    """10 KB of gzip that would inflate to 10 MiB stops at the cap, holding little memory."""
    bomb = zeros_gzip(10 << 20)
    assert len(bomb) < 12_000
    decoder = ContentDecoder("gzip", max_size=1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge) as info:
            decoder.decompress(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.status == 413
    assert peak < 4 << 20  # the cap plus a step, never the 10 MiB


def test_nested_zip_bomb() -> None:
    """gzip inside gzip (about 300 bytes -> 64 MiB) is stopped at the cap, early."""
    inner = zeros_gzip(64 << 20)
    bomb = gzip.compress(inner, 9)
    assert len(bomb) < 1000
    decoder = ContentDecoder("gzip, gzip", max_size=1 << 20)
    pieces = iter([bomb[i : i + 50] for i in range(0, len(bomb), 50)])

    def feed_all() -> None:
        for piece in pieces:
            decoder.decompress(piece)

    with pytest.raises(PayloadTooLarge):
        feed_all()
    assert decoder.total <= 1 << 20
    assert next(pieces, None) is not None  # it stopped before the end of the input


def test_cap_counts_across_calls() -> None:
    """The cap is on the whole body, not on each call."""
    decoder = ContentDecoder("identity", max_size=10)
    assert decoder.decompress(b"12345") == b"12345"
    with pytest.raises(PayloadTooLarge):
        decoder.decompress(b"678901")


@pytest.mark.parametrize("encoding", ["compress", "x-compress", "gzip, snappy", "*"])
def test_unknown_codings(encoding: str) -> None:
    """A coding the decoder cannot undo is 415 and names the supported ones."""
    with pytest.raises(UnsupportedContentEncoding, match="gzip, deflate") as info:
        ContentDecoder(encoding, max_size=None)
    assert info.value.status == 415
    assert isinstance(info.value, HttpParserError)


@pytest.mark.parametrize(
    ("encoding", "coded"),
    [
        ("gzip", b"not gzip at all"),
        ("gzip", gzip.compress(TEXT)[:-8]),
        ("deflate", zlib.compress(TEXT)[:-3]),
        ("deflate", b"x"),
        ("gzip", gzip.compress(TEXT) + b"junk"),
        ("deflate", zlib.compress(TEXT) + b"junk"),
    ],
)
def test_corrupt_or_truncated(encoding: str, coded: bytes) -> None:
    """Corrupt, truncated or over-long coded bodies are 400."""
    with pytest.raises(BadRequest):
        decode_in_pieces(encoding, coded, 10)


def test_empty_list_elements_are_ignored() -> None:
    """', gzip ,' is gzip: empty list elements are allowed (RFC 9110 §5.6.1)."""
    assert decode_in_pieces(", gzip ,", gzip.compress(b"x"), 4) == b"x"


def test_negative_cap_is_a_usage_error() -> None:
    """max_size must not be negative."""
    with pytest.raises(ValueError, match="max_size"):
        ContentDecoder("gzip", max_size=-1)


def test_zstd() -> None:
    """zstd (RFC 8878), in any pieces, several frames concatenated; a bomb stops at the
    cap; truncated or corrupt data is 400 (backports.zstd is in the test group, as the
    package aiohttp 3.14 uses)."""
    assert "zstd" in supported_encodings()
    coded = zstd.compress(TEXT)
    for piece in (1, 7, 100_000):
        assert decode_in_pieces("zstd", coded, piece) == TEXT
    assert decode_in_pieces("zstd", coded + zstd.compress(b"!"), 5) == TEXT + b"!"
    with pytest.raises(PayloadTooLarge):
        ContentDecoder("zstd", max_size=1 << 20).decompress(zstd.compress(bytes(20 << 20)))
    with pytest.raises(BadRequest, match="truncated"):
        decode_in_pieces("zstd", coded[:-3], 10)
    with pytest.raises(BadRequest, match="zstd"):
        decode_in_pieces("zstd", b"not zstd at all", 10)


def test_zstd_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a zstd module, zstd is an unsupported coding that says what to install."""
    monkeypatch.setattr(_content_encoding, "_ZstdDecompressor", None)
    assert "zstd" not in supported_encodings()
    with pytest.raises(UnsupportedContentEncoding, match=r"backports\.zstd"):
        ContentDecoder("zstd", max_size=None)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
        ("br", brotli.compress),
        ("zstd", zstd.compress),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
def test_pull_gives_bounded_steps_of_a_bomb(encoding: str, compress: object) -> None:
    """push() then pull(n): a small coded body that inflates to 32 MiB is decoded at most
    n bytes at a time, all of it, with memory bounded by the step rather than the
    decoded size; the result is what decompress() gives."""
    assert callable(compress)
    size = 32 << 20
    coded = compress(bytes(size))
    decoder = ContentDecoder(encoding, max_size=None)
    decoder.push(coded)
    step = 64 * 1024
    total = 0
    tracemalloc.start()
    try:
        while piece := decoder.pull(step):
            assert 0 < len(piece) <= step
            assert not any(piece)
            total += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoder.flush() == b""
    assert total == decoder.total == size
    assert peak < 8 * step + 2 * len(coded) + (1 << 20)  # zlib/brotli windows aside


def test_pull_needs_more_input_and_a_usage_error() -> None:
    """pull() returns b"" until enough input was pushed, then the decoded bytes; a step
    under 1 is a usage error; the cap applies to pulled bytes (one over: 413)."""
    coded = gzip.compress(TEXT)
    decoder = ContentDecoder("gzip", max_size=len(TEXT) - 1)
    decoder.push(coded[:5])
    assert decoder.pull(100) == b""
    with pytest.raises(ValueError, match="n >= 1"):
        decoder.pull(0)
    decoder.push(coded[5:])
    assert len(decoder.pull(1000)) == 1000
    assert len(decoder.pull(len(TEXT) - 1001)) == len(TEXT) - 1001  # exactly the cap
    with pytest.raises(PayloadTooLarge):
        decoder.pull(1000)
    deflate = ContentDecoder("deflate", max_size=None)
    deflate.push(b"x")  # one byte: not enough to tell zlib from raw deflate
    assert deflate.pull(10) == b""
