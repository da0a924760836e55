"""MultipartWriter: headers, encodings, serialization, Response bodies and a round trip."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from web_core_support import send

from weft.http_parser.streams import BodyStream
from weft.web_core import BodyPartReader, MultipartReader, MultipartWriter, Response


class Collector:
    """Anything with ``async write(bytes)``, as MultipartWriter.write() takes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.chunks.append(data)


def fed(data: bytes, piece: int = 1000) -> BodyStream:
    """A finished BodyStream holding ``data``."""
    stream = BodyStream()
    for start in range(0, len(data), piece):
        stream.feed_data(data[start : start + piece])
    stream.feed_eof()
    return stream


Parts = list[tuple[dict[str, str], bytes]]


async def read_back(writer: MultipartWriter, piece: int = 1000) -> Parts:
    """Serialize ``writer`` and read every part (decoded) back with MultipartReader."""
    data = await writer.as_bytes()
    reader = MultipartReader({"Content-Type": writer.content_type}, fed(data, piece))
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        out.append((dict(part.headers), await part.read(decode=True)))
    return out


def test_content_type_and_boundary() -> None:
    """The Content-Type carries the boundary, quoted when it is not a token."""
    assert MultipartWriter("mixed", "abc").content_type == "multipart/mixed; boundary=abc"
    quoted = MultipartWriter("form-data", "a b:c")
    assert quoted.content_type == 'multipart/form-data; boundary="a b:c"'
    assert quoted.boundary == "a b:c"
    assert len(MultipartWriter().boundary) == 32


@pytest.mark.parametrize("boundary", ["", "x" * 71, "trailing ", "é", "bad\r\nheader", 'q"'])
def test_invalid_boundaries_are_refused(boundary: str) -> None:
    """Boundaries outside RFC 2046 raise ValueError."""
    with pytest.raises(ValueError, match="boundary"):
        MultipartWriter(boundary=boundary)


@pytest.mark.asyncio
async def test_append_types_and_default_headers(tmp_path: Path) -> None:
    """str, bytes, text and binary files, JSON and forms get aiohttp's default headers."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"file content")
    writer = MultipartWriter("mixed", "b")
    writer.append("text é")
    writer.append(b"\x00raw")
    writer.append(io.StringIO("from a StringIO"))
    with path.open("rb") as file:
        writer.append(file)
        writer.append_json({"k": [1]})
        writer.append_form([("a", "1"), ("b", "x y")])
        assert len(writer) == 6
        parts = await read_back(writer)
    assert parts[0] == (
        {"Content-Type": "text/plain; charset=utf-8", "Content-Length": "7"},
        "text é".encode(),
    )
    assert parts[1][0]["Content-Type"] == "application/octet-stream"
    assert parts[2][1] == b"from a StringIO"
    assert parts[3][0] == {
        "Content-Type": "text/plain",
        "Content-Disposition": 'attachment; filename="notes.txt"',
        "Content-Length": "12",
    }
    assert parts[3][1] == b"file content"
    assert json.loads(parts[4][1]) == {"k": [1]}
    assert parts[5] == (
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "9"},
        b"a=1&b=x+y",
    )


def test_append_refuses_unknown_objects() -> None:
    """Objects that are not str, bytes, files or writers raise TypeError."""
    with pytest.raises(TypeError, match="Cannot create payload"):
        MultipartWriter().append(object())


def test_form_data_parts_get_a_name_and_no_encodings() -> None:
    """form-data parts default to name=section-N and may not carry encodings (RFC 7578)."""
    writer = MultipartWriter("form-data")
    part = writer.append("x")
    assert part.headers["Content-Disposition"] == 'form-data; name="section-0"'
    assert "Content-Length" not in part.headers
    with pytest.raises(ValueError, match="Content-Transfer-Encoding"):
        writer.append("y", {"Content-Transfer-Encoding": "base64"})


def test_unknown_encodings_are_refused() -> None:
    """Only gzip/deflate and base64/quoted-printable/binary are known."""
    writer = MultipartWriter()
    with pytest.raises(RuntimeError, match="content encoding"):
        writer.append("x", {"Content-Encoding": "br"})
    with pytest.raises(RuntimeError, match="transfer encoding"):
        writer.append("x", {"Content-Transfer-Encoding": "uuencode"})


@pytest.mark.asyncio
async def test_size_matches_the_serialized_length() -> None:
    """size is the exact length of the body, None once a part is encoded."""
    writer = MultipartWriter("mixed", "xyz")
    writer.append("hello")
    writer.append(io.BytesIO(b"12345"))
    writer.append_json([1, 2])
    data = await writer.as_bytes()
    assert writer.size == len(data)
    assert data.endswith(b"\r\n--xyz--\r\n")
    writer.append("z", {"Content-Transfer-Encoding": "base64"})
    assert writer.size is None


@pytest.mark.asyncio
async def test_encodings_round_trip() -> None:
    """base64, quoted-printable, gzip and deflate parts read back as the original bytes."""
    data = bytes(range(256)) * 50
    text = "ligne accentuée = égal\n" * 30
    writer = MultipartWriter()
    writer.append(data, {"Content-Transfer-Encoding": "base64"})
    writer.append(text, {"Content-Transfer-Encoding": "quoted-printable"})
    writer.append(data, {"Content-Encoding": "gzip"})
    writer.append(data, {"Content-Encoding": "deflate", "Content-Transfer-Encoding": "base64"})
    parts = await read_back(writer, piece=77)
    assert [content for _, content in parts] == [data, text.encode(), data, data]


@pytest.mark.asyncio
async def test_nested_writer() -> None:
    """A MultipartWriter appended to another is a nested multipart."""
    inner = MultipartWriter("alternative", "in")
    inner.append("plain")
    inner.append("<b>html</b>", {"Content-Type": "text/html"})
    outer = MultipartWriter("mixed", "out")
    outer.append_json({"a": 1})
    outer.append(inner)
    data = await outer.as_bytes()
    assert outer.size == len(data)
    reader = MultipartReader({"Content-Type": outer.content_type}, fed(data, 10))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.json() == {"a": 1}
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    assert nested.headers["Content-Type"] == "multipart/alternative; boundary=in"
    texts = []
    async for part in nested:
        assert isinstance(part, BodyPartReader)
        texts.append(await part.text())
    assert texts == ["plain", "<b>html</b>"]
    assert await reader.next() is None


@pytest.mark.asyncio
async def test_write_streams_the_same_bytes_and_decode_matches() -> None:
    """write(writer) sends exactly as_bytes(); decode() is its text."""
    writer = MultipartWriter("mixed", "s")
    writer.append("a")
    writer.append(io.BytesIO(b"b" * 100_000))
    collector = Collector()
    await writer.write(collector)
    data = await writer.as_bytes()
    assert b"".join(collector.chunks) == data
    assert writer.decode() == data.decode()
    assert iter(writer) is not None
    assert [part.size for part, _, _ in writer] == [1, 100_000]


@pytest.mark.asyncio
async def test_response_body_is_a_multipart_writer() -> None:
    """Response(body=writer) sends the serialized body with its Content-Type and length."""
    writer = MultipartWriter("mixed", "resp")
    part = writer.append("secret")
    part.set_content_disposition("attachment", filename="secret.txt")
    response = Response(body=writer)
    exchange = await send(response)
    assert exchange.parsed.headers["Content-Type"] == "multipart/mixed; boundary=resp"
    assert exchange.parsed.body == await writer.as_bytes()
    assert int(exchange.parsed.headers["Content-Length"]) == writer.size


@pytest.mark.asyncio
async def test_headers_with_newlines_are_refused() -> None:
    """A part header value with CR/LF cannot be serialized (header injection)."""
    writer = MultipartWriter()
    writer.append("x", {"X-Evil": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="Newline"):
        await writer.as_bytes()


_BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"
_boundaries = st.text(alphabet=_BCHARS + " ", min_size=1, max_size=70).filter(
    lambda b: not b.endswith(" ")
)
_header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20
).map(str.strip)
_parts = st.tuples(
    st.binary(max_size=3000),
    st.sampled_from([None, "base64", "quoted-printable"]),
    st.sampled_from([None, "gzip", "deflate"]),
    _header_values,
)


@pytest.mark.asyncio
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    boundary=_boundaries,
    parts=st.lists(_parts, max_size=6),
    piece=st.integers(min_value=1, max_value=500),
)
async def test_round_trip(
    boundary: str,
    parts: list[tuple[bytes, str | None, str | None, str]],
    piece: int,
) -> None:
    """MultipartWriter output read back by MultipartReader gives the same parts."""
    writer = MultipartWriter("mixed", boundary)
    for content, transfer, coding, value in parts:
        headers = {"X-Value": value}
        if transfer:
            headers["Content-Transfer-Encoding"] = transfer
        if coding:
            headers["Content-Encoding"] = coding
        writer.append(content, headers)
    # The sender picks a boundary that its content does not contain (RFC 2046 §5.1.1).
    assume((await writer.as_bytes()).count(b"\r\n--" + boundary.encode()) == len(parts))
    back = await read_back(writer, piece)
    assert [content for content, *_ in parts] == [data for _, data in back]
    assert [value for *_, value in parts] == [headers["X-Value"] for headers, _ in back]
