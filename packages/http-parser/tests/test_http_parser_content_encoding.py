"""ContentDecoder: gzip, deflate (zlib and raw), br, chains, the size cap, errors."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

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
    assert supported_encodings() == ("gzip", "deflate")
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


@pytest.mark.parametrize("encoding", ["compress", "zstd", "gzip, snappy", "*"])
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
