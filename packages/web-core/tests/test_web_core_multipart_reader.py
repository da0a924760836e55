"""MultipartReader and BodyPartReader over in-memory body streams."""

from __future__ import annotations

import base64
import binascii
import gzip
import warnings
import zlib

import pytest
from aiohttp import multipart as aiohttp_multipart

from weft.http_parser.streams import BodyStream
from weft.web_core import (
    BodyPartReader,
    MultipartError,
    MultipartHeadersTooLarge,
    MultipartReader,
    MultipartTooManyParts,
)
from weft.web_core._content_disposition import (
    content_disposition_filename,
    content_disposition_header,
    parse_content_disposition,
)

CT = {"Content-Type": "multipart/mixed; boundary=xyz"}


def stream(data: bytes, piece: int = 0) -> BodyStream:
    """A finished BodyStream fed with ``data`` in pieces of ``piece`` bytes (0: one piece)."""
    body = BodyStream()
    step = piece or max(1, len(data))
    for start in range(0, len(data), step):
        body.feed_data(data[start : start + step])
    body.feed_eof()
    return body


def body(*parts: tuple[str, bytes], boundary: str = "xyz", preamble: bytes = b"") -> bytes:
    """A multipart body of (headers, content) parts."""
    out = bytearray(preamble)
    for headers, content in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


async def read_all(reader: MultipartReader) -> list[tuple[dict[str, str], bytes]]:
    """Every part of ``reader`` as (headers, decoded bytes)."""
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        out.append((dict(part.headers), await part.read(decode=True)))
    return out


@pytest.mark.asyncio
@pytest.mark.parametrize("piece", [0, 1, 3, 64])
async def test_parts_are_read_whatever_the_chunking(piece: int) -> None:
    """Parts come out whole however the body is split into stream chunks."""
    raw = body(
        ("Content-Type: text/plain", b"hello\r\nworld"),
        ("X-A: 1", b""),
        ("X-B: 2", b"--xy not a boundary\r\n-xyz\r--xyz"),
        preamble=b"ignored preamble\r\n",
    )
    parts = await read_all(MultipartReader(CT, stream(raw, piece)))
    assert parts == [
        ({"Content-Type": "text/plain"}, b"hello\r\nworld"),
        ({"X-A": "1"}, b""),
        ({"X-B": "2"}, b"--xy not a boundary\r\n-xyz\r--xyz"),
    ]


@pytest.mark.asyncio
async def test_read_chunk_returns_bounded_pieces_then_empty() -> None:
    """read_chunk(size) never returns more than size bytes and b'' at the end."""
    content = bytes(range(256)) * 40
    reader = MultipartReader(CT, stream(body(("X: 1", content)), 100))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    chunks = []
    while chunk := await part.read_chunk(1000):
        assert len(chunk) <= 1000
        chunks.append(chunk)
    assert b"".join(chunks) == content
    assert part.at_eof()
    assert await part.read_chunk() == b""
    assert await reader.next() is None
    assert reader.at_eof()


@pytest.mark.asyncio
async def test_readline_splits_lines_and_strips_the_last_crlf() -> None:
    """readline() gives each line with its LF; the last comes without the delimiter's CRLF."""
    reader = MultipartReader(CT, stream(body(("X: 1", b"one\r\ntwo\nthree")), 2))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert [await part.readline() for _ in range(4)] == [b"one\r\n", b"two\n", b"three", b""]


@pytest.mark.asyncio
async def test_unread_parts_are_released_when_moving_on() -> None:
    """next() skips the rest of a part that was not read."""
    raw = body(("X: 1", b"a" * 10000), ("X: 2", b"second"))
    reader = MultipartReader(CT, stream(raw, 512))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.read_chunk(10) == b"a" * 10
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert await second.read() == b"second"


@pytest.mark.asyncio
async def test_text_json_and_form_helpers() -> None:
    """text(), json() and form() decode a part with its charset."""
    raw = body(
        ("Content-Type: text/plain; charset=latin-1", "café".encode("latin-1")),
        ("Content-Type: application/json", b'{"a": [1, 2]}'),
        ("Content-Type: application/x-www-form-urlencoded", b"a=1&b=x+y&c="),
        ("Content-Type: application/json", b""),
    )
    reader = MultipartReader(CT, stream(raw))
    text_part = await reader.next()
    assert isinstance(text_part, BodyPartReader)
    assert await text_part.text() == "café"
    json_part = await reader.next()
    assert isinstance(json_part, BodyPartReader)
    assert await json_part.json() == {"a": [1, 2]}
    form_part = await reader.next()
    assert isinstance(form_part, BodyPartReader)
    assert await form_part.form() == [("a", "1"), ("b", "x y"), ("c", "")]
    empty = await reader.next()
    assert isinstance(empty, BodyPartReader)
    assert await empty.json() is None


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [1, 5, 7, 100, 65536])
async def test_base64_chunks_decode_one_by_one(size: int) -> None:
    """A base64 part's read_chunk() pieces each decode alone, with line breaks in the data."""
    payload = bytes(range(256)) * 5
    encoded = base64.encodebytes(payload)  # 76-character lines
    raw = body(("Content-Transfer-Encoding: base64", encoded))
    reader = MultipartReader(CT, stream(raw, 13))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    decoded = bytearray()
    while chunk := await part.read_chunk(size):
        decoded += part.decode(chunk)
    assert bytes(decoded) == payload


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [1, 4, 50, 65536])
async def test_quoted_printable_chunks_decode_one_by_one(size: int) -> None:
    """A quoted-printable part decodes chunk by chunk, soft line breaks included."""
    text = ("naïve façade = déjà vu " * 20).encode()
    encoded = binascii.b2a_qp(text)
    assert b"=\r\n" in encoded or b"=\n" in encoded
    raw = body(("Content-Transfer-Encoding: quoted-printable", encoded))
    part = await MultipartReader(CT, stream(raw, 9)).next()
    assert isinstance(part, BodyPartReader)
    decoded = bytearray()
    while chunk := await part.read_chunk(size):
        decoded += part.decode(chunk)
    assert bytes(decoded) == text


@pytest.mark.asyncio
async def test_content_encoding_gzip_and_deflate() -> None:
    """read(decode=True) undoes gzip, zlib deflate and raw deflate (not for form-data)."""
    data = b"compress me " * 100
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = body(
        ("Content-Encoding: gzip", gzip.compress(data)),
        ("Content-Encoding: deflate", zlib.compress(data)),
        ("Content-Encoding: deflate", raw_deflate.compress(data) + raw_deflate.flush()),
    )
    parts = await read_all(MultipartReader(CT, stream(raw, 100)))
    assert [content for _, content in parts] == [data, data, data]


@pytest.mark.asyncio
async def test_decoded_size_is_capped() -> None:
    """A part that inflates past client_max_size is refused."""
    raw = body(("Content-Encoding: gzip", gzip.compress(b"\0" * 100_000)))
    part = await MultipartReader(CT, stream(raw), client_max_size=1000).next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(ValueError, match="1000"):
        await part.read(decode=True)


@pytest.mark.asyncio
async def test_nested_multipart() -> None:
    """A multipart/* part is a nested MultipartReader; the outer reader resumes after it."""
    inner = body(("X: in1", b"inner one"), ("X: in2", b"inner two"), boundary="in")
    raw = body(
        ("X: first", b"1"),
        ("Content-Type: multipart/alternative; boundary=in", inner + b"inner epilogue"),
        ("X: last", b"3"),
    )
    reader = MultipartReader(CT, stream(raw, 5))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    assert await read_all(nested) == [({"X": "in1"}, b"inner one"), ({"X": "in2"}, b"inner two")]
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert await last.read() == b"3"
    assert await reader.next() is None


@pytest.mark.asyncio
async def test_unread_nested_multipart_is_skipped() -> None:
    """next() releases a nested reader that was not read at all."""
    inner = body(("X: in", b"inner"), boundary="in")
    raw = body(("Content-Type: multipart/mixed; boundary=in", inner), ("X: last", b"z"))
    reader = MultipartReader(CT, stream(raw))
    assert isinstance(await reader.next(), MultipartReader)
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert await last.read() == b"z"


@pytest.mark.asyncio
async def test_release_reads_everything() -> None:
    """release() consumes every remaining part, nested ones too."""
    inner = body(("X: in", b"inner"), boundary="in")
    raw = body(("X: 1", b"a"), ("Content-Type: multipart/mixed; boundary=in", inner))
    reader = MultipartReader(CT, stream(raw))
    await reader.release()
    assert reader.at_eof()
    assert await reader.next() is None


@pytest.mark.asyncio
async def test_charset_field_sets_the_default_charset() -> None:
    """A first form-data field named _charset_ is hidden and sets the parts' charset."""
    raw = body(
        ('Content-Disposition: form-data; name="_charset_"', b"latin-1"),
        ('Content-Disposition: form-data; name="a"', "é".encode("latin-1")),
    )
    reader = MultipartReader({"Content-Type": "multipart/form-data; boundary=xyz"}, stream(raw))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert part.name == "a"
    assert await part.text() == "é"


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain; boundary=x",
        "multipart/mixed",
        "multipart/mixed; boundary=" + "a" * 71,
        'multipart/mixed; boundary="ends with space "',
        "multipart/mixed; boundary=bad{char}",
    ],
)
def test_invalid_content_type_or_boundary_is_refused(ctype: str) -> None:
    """The boundary must follow RFC 2046 (1-70 bchars, no trailing space)."""
    with pytest.raises(MultipartError):
        MultipartReader({"Content-Type": ctype}, BodyStream.empty())


def test_quoted_boundary_with_space_is_accepted() -> None:
    """A quoted boundary with an inner space is valid RFC 2046."""
    reader = MultipartReader(
        {"Content-Type": 'multipart/mixed; boundary="a b:c"'}, BodyStream.empty()
    )
    assert reader._boundary == b"--a b:c"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"no boundary here at all", "starting boundary"),
        (b"--xyz\r\nX: 1\r\n\r\nnever closed", "closing boundary"),
        (b"--xyz\r\nX: 1", "headers"),
        (b"--xyz\r\nnot a header\r\n\r\nx\r\n--xyz--", "Invalid header"),
        (b"--xyz\r\n X: folded\r\n\r\nx\r\n--xyz--", "Invalid header"),
        (b"--xyz\r\nX: a\x01b\r\n\r\nx\r\n--xyz--", "Invalid character"),
        (b"--xyzjunk\r\nX: 1\r\n\r\nx\r\n--xyz--", "Invalid boundary"),
    ],
)
async def test_malformed_bodies_raise_multipart_error(raw: bytes, message: str) -> None:
    """Every malformation is a MultipartError (a ValueError, status 400)."""
    with pytest.raises(MultipartError, match=message) as info:
        await MultipartReader(CT, stream(raw, 4)).release()
    assert info.value.status == 400
    assert isinstance(info.value, ValueError)


@pytest.mark.asyncio
async def test_header_line_limit() -> None:
    """A part header line longer than max_field_size is refused without buffering more."""
    content = BodyStream()  # the client is still sending: no end of body yet
    for _ in range(20):
        content.feed_data(b"--xyz\r\nX: " if not content.total_bytes else b"a" * 100)
    reader = MultipartReader(CT, content, max_field_size=1000)
    with pytest.raises(MultipartHeadersTooLarge, match="1000"):
        await reader.next()


@pytest.mark.asyncio
async def test_header_count_limit() -> None:
    """A part with more than max_headers headers is refused."""
    headers = "\r\n".join(f"X-{i}: {i}" for i in range(20))
    reader = MultipartReader(CT, stream(body((headers, b"x"))), max_headers=10)
    with pytest.raises(MultipartHeadersTooLarge, match="10 headers"):
        await reader.next()


@pytest.mark.asyncio
async def test_part_count_limit() -> None:
    """More than max_parts parts raise MultipartTooManyParts (status 413)."""
    raw = body(*[("X: 1", b"x")] * 5)
    reader = MultipartReader(CT, stream(raw), max_parts=4)
    for _ in range(4):
        assert await reader.next() is not None
    with pytest.raises(MultipartTooManyParts) as info:
        await reader.next()
    assert info.value.status == 413


@pytest.mark.asyncio
async def test_read_size_limit_uses_the_given_error_class() -> None:
    """read() past client_max_size raises max_size_error_cls(client_max_size)."""

    class TooBig(Exception):
        pass

    reader = MultipartReader(
        CT, stream(body(("X: 1", b"x" * 500))), client_max_size=100, max_size_error_cls=TooBig
    )
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(TooBig):
        await part.read()


_AIOHTTP_AGREES: list[tuple[str, str | None]] = [
    # An undecodable filename* is ignored; a plain filename beside it still serves.
    ("attachment; filename*=utf-8''%FF.txt", None),
    ("attachment; filename*=utf-8''%FF.txt; filename=\"plain.txt\"", "plain.txt"),
    ("attachment;; filename=x.txt", "x.txt"),
    ("; filename=x", None),
    ('attachment; "x"=1', None),
    ("attachment; filename", None),
    ("attachment; filename=", None),
    ('attachment; filename="a" x', None),
    ("attachment; name=x", None),
    # RFC 2231 continuations: joined up to the first gap, decoded with segment 0's charset.
    ("attachment; filename*0=a; filename*2=c", "a"),
    ("attachment; filename*0*=''%E2%82%AC; filename*1=b", "€b"),
    ("attachment; filename*0*=latin-1''%A3; filename*1*=%A3", "££"),
    ("attachment; filename*0*=us-ascii''%FF; filename*1=b", None),
]


def _filename(header: str, name: str = "filename") -> str | None:
    return content_disposition_filename(parse_content_disposition(header)[1], name)


def test_a_continuation_number_is_ascii_digits() -> None:
    """``filename*\u0661`` (an Arabic-Indic one) is no segment 1, though int() reads it as 1.

    A header holding it is refused whole (a parameter name is a token); the
    parameters of a header parsed elsewhere are held to the same rule.
    """
    assert _filename("attachment; filename*0=a; filename*1=b") == "ab"
    assert parse_content_disposition("attachment; filename*0=a; filename*\u0661=b") == (None, {})
    params = {"filename*0": "a", "filename*\u0661": "b"}
    assert content_disposition_filename(params, "filename") == "a"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="a b.txt"', "a b.txt"),
        ("attachment; filename=plain.txt", "plain.txt"),
        ('attachment; filename="a\\"q\\".txt"', 'a"q".txt'),
        ('form-data; name="f"; filename="semi;colon.txt"', "semi;colon.txt"),
        ("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "€ rates.txt"),
        ("attachment; filename*=iso-8859-1'en'%A3%20rates", "£ rates"),
        ("attachment; filename=\"fallback.txt\"; filename*=utf-8''%C3%A9.txt", "é.txt"),
        ("attachment; filename*=utf-8''%C3%A9.txt; filename=\"fallback.txt\"", "é.txt"),
        ('attachment; filename*0="foo."; filename*1="html"', "foo.html"),
        ("attachment; filename*0*=utf-8''%E2%82%AC; filename*1=.txt", "€.txt"),
        ('attachment; filename="first"; filename="twice"', None),
        ("attachment; filename*=nocharset", None),
        ("attachment; filename*=bogus-charset''abc", None),
        ('attachment; filename="unterminated', None),
        ("attachment filename=x", None),
        ("", None),
        *_AIOHTTP_AGREES,
        # Deliberately more lenient than aiohttp: an empty parameter, spaces around "=".
        ("attachment; ; filename=x.txt", "x.txt"),
        ("  inline  ;  filename = a.txt  ", "a.txt"),
        # Deliberately stricter: a continuation's ext-value needs a charset that is text.
        ("attachment; filename*0*=nocharset; filename*1=b", None),
        ("attachment; filename*0*=rot13''abc; filename*1=b", None),
    ],
)
def test_content_disposition_filenames(header: str, expected: str | None) -> None:
    """filename and filename* follow RFC 6266 / RFC 8187 (filename* wins)."""
    assert _filename(header) == expected


@pytest.mark.parametrize(("header", "expected"), _AIOHTTP_AGREES)
def test_content_disposition_filenames_match_aiohttp(header: str, expected: str | None) -> None:
    """On these, aiohttp.multipart's parser gives the same filename."""
    with warnings.catch_warnings():
        # aiohttp reports each malformed header with a warning as well.
        warnings.simplefilter("ignore", RuntimeWarning)
        _, params = aiohttp_multipart.parse_content_disposition(header)
    assert aiohttp_multipart.content_disposition_filename(params, "filename") == expected


def test_content_disposition_type_and_params() -> None:
    """The type is lower-cased, parameter names too; a trailing ';' is tolerated."""
    assert parse_content_disposition('Form-Data; NAME="x";') == ("form-data", {"name": "x"})


@pytest.mark.parametrize(
    ("params", "header"),
    [
        ({"name": "a b"}, 'form-data; name="a b"'),
        ({"name": 'q"uote'}, 'form-data; name="q\\"uote"'),
        ({"filename": "€.txt"}, "form-data; filename*=utf-8''%E2%82%AC.txt"),
    ],
)
def test_content_disposition_header_round_trips(params: dict[str, str], header: str) -> None:
    """Built headers parse back to the same values."""
    built = content_disposition_header("form-data", True, "utf-8", **params)
    assert built == header
    for key, value in params.items():
        assert _filename(built, key) == value


@pytest.mark.parametrize("bad", [{"name": "a\r\nb"}, {"bad key": "x"}])
def test_content_disposition_header_refuses_injection(bad: dict[str, str]) -> None:
    """CR/LF in values and non-token names are refused."""
    with pytest.raises(ValueError, match=r"not allowed|bad content"):
        content_disposition_header("form-data", True, "utf-8", **bad)


@pytest.mark.parametrize("disptype", ["", "form data", "a;b"])
def test_content_disposition_header_refuses_a_bad_type(disptype: str) -> None:
    """The disposition type must be a token."""
    with pytest.raises(ValueError, match="bad content disposition type"):
        content_disposition_header(disptype, name="x")


@pytest.mark.asyncio
async def test_part_name_and_filename_from_headers() -> None:
    """BodyPartReader.name and .filename read Content-Disposition."""
    raw = body(("Content-Disposition: form-data; name=\"up\"; filename*=utf-8''%C3%A9.bin", b"x"))
    part = await MultipartReader(CT, stream(raw)).next()
    assert isinstance(part, BodyPartReader)
    assert (part.name, part.filename) == ("up", "é.bin")


async def _first_part(raw: bytes) -> BodyPartReader:
    part = await MultipartReader(CT, stream(raw)).next()
    assert isinstance(part, BodyPartReader)
    return part


@pytest.mark.asyncio
async def test_part_iterates_as_chunks_then_stops() -> None:
    """``async for chunk in part`` gives the part's bytes, then ends (aiohttp's API)."""
    part = await _first_part(body(('Content-Disposition: form-data; name="f"', b"data")))
    assert repr(part) == "<BodyPartReader name='f' filename=None>"
    chunks = [chunk async for chunk in part]
    assert chunks == [b"data"]
    assert await part.next() is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "content", "expected"),
    [
        (
            "Content-Type: application/x-www-form-urlencoded",
            b"a=1&b=&a=%C3%A9\r\n",
            [("a", "1"), ("b", ""), ("a", "é")],
        ),
        ("Content-Type: application/x-www-form-urlencoded", b"", []),
        (
            "Content-Type: application/x-www-form-urlencoded; charset=latin-1",
            b"n=%E9",
            [("n", "é")],
        ),
    ],
)
async def test_part_form(headers: str, content: bytes, expected: list[tuple[str, str]]) -> None:
    """A urlencoded part parses into pairs, in its own charset, blank values kept."""
    part = await _first_part(body((headers, content)))
    assert await part.form() == expected


@pytest.mark.asyncio
async def test_part_form_undecodable_is_value_error() -> None:
    """Bytes the part's charset cannot decode are a ValueError naming the charset."""
    part = await _first_part(body(("Content-Type: application/x-www-form-urlencoded", b"\xff=1")))
    with pytest.raises(ValueError, match="cannot be decoded with utf-8"):
        await part.form()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "content", "message"),
    [
        ("Content-Transfer-Encoding: base64", b"not base64!", "Invalid base64"),
        ("Content-Transfer-Encoding: x-uuencode", b"data", "Unknown Content-Transfer-Encoding"),
        ("Content-Encoding: br", b"data", "Unknown Content-Encoding of a part: br"),
    ],
)
async def test_undecodable_part_is_a_multipart_error(
    headers: str, content: bytes, message: str
) -> None:
    """A part whose encodings cannot be undone raises MultipartError on decode."""
    part = await _first_part(body((headers, content)))
    with pytest.raises(MultipartError, match=message):
        await part.read(decode=True)
