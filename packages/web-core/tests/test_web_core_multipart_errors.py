"""How forms and multipart bodies fail: aiohttp's exception types, and a 400 or 413, never a 500.

tests/test_integration_multipart_differential.py holds the same behaviours
against aiohttp over real sockets; these pin each one in memory.
"""

from __future__ import annotations

import gzip
import pickle

import pytest
from web_core_support import exchange, make_request

from weft.http_parser.streams import BodyStream
from weft.web_core import (
    Application,
    BodyPartReader,
    MultipartError,
    MultipartHeadersTooLarge,
    MultipartReader,
    MultipartTooManyParts,
    Request,
    Response,
)
from weft.web_core._content_disposition import parse_content_disposition
from weft.web_exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

BOUNDARY = "err-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def part(headers: str, content: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"


def end() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


def field(name: str, content: bytes, extra: str = "") -> bytes:
    headers = f'Content-Disposition: form-data; name="{name}"' + (f"\r\n{extra}" if extra else "")
    return part(headers, content)


def post(body: bytes, content_type: str = MULTIPART, path: str = "/") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def stream(data: bytes) -> BodyStream:
    body = BodyStream()
    body.feed_data(data)
    body.feed_eof()
    return body


# -- the exception types


def test_multipart_error_is_a_value_error_and_a_400() -> None:
    """MultipartError is what aiohttp raises (ValueError) and what weft answers (400)."""
    exc = MultipartError("bad body")
    assert isinstance(exc, ValueError)
    assert isinstance(exc, HTTPBadRequest)
    assert exc.status == 400
    assert str(exc) == "bad body"
    assert exc.text == "bad body"
    assert isinstance(MultipartHeadersTooLarge("x"), MultipartError)
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is MultipartError
    assert str(copy) == "bad body"


def test_too_many_parts_is_a_413() -> None:
    """MultipartTooManyParts is a MultipartError and an HTTPRequestEntityTooLarge (413)."""
    exc = MultipartTooManyParts("too many")
    assert isinstance(exc, MultipartError)
    assert isinstance(exc, HTTPRequestEntityTooLarge)
    assert isinstance(exc, ValueError)
    assert exc.status == 413
    assert str(exc) == "too many"


# -- post(): the same except clauses as under aiohttp


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (part("Content-Disposition: form-data", b"1") + end(), "no name"),
        (part("Content-Type: text/plain", b"1") + end(), "no name"),
        (
            part(
                'Content-Disposition: form-data; name="n"\r\nContent-Type: multipart/mixed; '
                "boundary=inner",
                b"--inner\r\nX: 1\r\n\r\nx\r\n--inner--",
            )
            + end(),
            "multipart()",
        ),
        (field("a", b"\xff\xfe") + end(), "not valid utf-8"),
        (b"", "boundary"),
    ],
)
async def test_post_of_a_malformed_form_raises_a_value_error(body: bytes, message: str) -> None:
    """A part without a name, a nested multipart, undecodable text, an empty body: aiohttp
    raises ValueError; weft's error is one too, and a 400 with a message."""
    request, _ = make_request(post(body))
    with pytest.raises(ValueError, match=message) as info:
        await request.post()
    assert isinstance(info.value, HTTPBadRequest)
    assert info.value.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "raw",
    [
        post(field("a", b"1", "Content-Type: text/plain; charset=x-nope") + end()),
        post(b"a=1", "application/x-www-form-urlencoded; charset=x-nope"),
    ],
)
async def test_an_unknown_charset_is_a_lookup_error_and_a_400(raw: bytes) -> None:
    """An unknown charset: aiohttp lets codecs' LookupError escape; weft's is one, and a 400."""
    request, _ = make_request(raw)
    with pytest.raises(LookupError) as info:
        await request.post()
    assert isinstance(info.value, HTTPBadRequest)
    assert "x-nope" in str(info.value)


@pytest.mark.asyncio
async def test_an_undecodable_urlencoded_form_is_a_value_error() -> None:
    """An urlencoded form that is not valid in its charset: a ValueError, a 400."""
    request, _ = make_request(post(b"a=\xff", "application/x-www-form-urlencoded"))
    with pytest.raises(ValueError, match="utf-8") as info:
        await request.post()
    assert isinstance(info.value, HTTPBadRequest)


@pytest.mark.asyncio
async def test_a_malformed_part_from_multipart_answers_400() -> None:
    """A handler iterating request.multipart() that lets the reader's error escape answers
    400 with the reason (aiohttp: 500)."""

    async def handler(request: Request) -> Response:
        async for item in await request.multipart():
            assert isinstance(item, BodyPartReader)
            await item.read(decode=True)
        return Response(text="read")

    app = Application()
    app.router.add_post("/", handler)
    bad = field("a", b"abc", "Content-Transfer-Encoding: base64") + end()
    result = await exchange(app, post(bad))
    assert result.parsed.status == 400
    assert b"base64" in result.parsed.body


@pytest.mark.asyncio
async def test_too_many_fields_from_post_is_a_413() -> None:
    """More fields than client_max_fields: HTTPRequestEntityTooLarge, as aiohttp."""
    app = Application(client_max_fields=2)
    request, _ = make_request(post(field("a", b"1") * 3 + end()), app)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()
    assert info.value.status == 413


# -- the reader's limits and headers


@pytest.mark.asyncio
@pytest.mark.parametrize(("length", "ok"), [(8188, True), (8189, False)])
async def test_the_header_line_limit_counts_the_crlf(length: int, ok: bool) -> None:
    """max_field_size bounds a part header line with its CRLF, as aiohttp's readline does:
    8188 bytes and CRLF pass the default 8190, one more is MultipartHeadersTooLarge."""
    line = "X-Long: " + "v" * (length - len("X-Long: "))
    reader = MultipartReader({"Content-Type": MULTIPART}, stream(field("a", b"1", line) + end()))
    if ok:
        item = await reader.next()
        assert isinstance(item, BodyPartReader)
        assert len(item.headers["X-Long"]) == length - len("X-Long: ")
    else:
        with pytest.raises(MultipartHeadersTooLarge, match="8190"):
            await reader.next()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name", ["Content-Type", "content-length", "Content-Disposition", "Content-Transfer-Encoding"]
)
async def test_a_repeated_singleton_part_header_is_refused(name: str) -> None:
    """Two Content-Type (or another singleton) headers in a part: aiohttp's header parser
    refuses them; weft too, and also two Content-Disposition or Content-Transfer-Encoding."""
    headers = f'Content-Disposition: form-data; name="a"\r\n{name}: x\r\n{name}: y'
    if name == "Content-Disposition":
        headers = 'Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data'
    reader = MultipartReader({"Content-Type": MULTIPART}, stream(part(headers, b"1") + end()))
    with pytest.raises(MultipartError, match="two"):
        await reader.next()


@pytest.mark.asyncio
async def test_other_repeated_part_headers_are_kept() -> None:
    """A repeat of a header that may repeat keeps both values."""
    body = field("a", b"1", "X-Tag: 1\r\nX-Tag: 2") + end()
    item = await MultipartReader({"Content-Type": MULTIPART}, stream(body)).next()
    assert isinstance(item, BodyPartReader)
    assert item.headers.getall("X-Tag") == ["1", "2"]


@pytest.mark.asyncio
async def test_a_part_inflating_past_the_limit_raises_the_size_error() -> None:
    """A Content-Encoding part that inflates past client_max_size raises max_size_error_cls
    (413 from a request), as aiohttp's read(decode=True) does; not a 400."""
    data = gzip.compress(b"\0" * 100_000)
    body = f"--{BOUNDARY}\r\nContent-Encoding: gzip\r\n\r\n".encode() + data + b"\r\n" + end()
    reader = MultipartReader(
        {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"},
        stream(body),
        client_max_size=1000,
        max_size_error_cls=HTTPRequestEntityTooLarge,
    )
    item = await reader.next()
    assert isinstance(item, BodyPartReader)
    with pytest.raises(HTTPRequestEntityTooLarge):
        await item.read(decode=True)


@pytest.mark.parametrize(
    ("header", "params"),
    [
        ('form-data; name="f"; filename="/etc/passwd"', {"name": "f", "filename": "etc/passwd"}),
        ('form-data; name="f"; filename="\\\\\\\\srv\\\\x"', {"name": "f", "filename": "srv\\x"}),
        ('form-data; name="/a"', {"name": "a"}),
        # A bare /abs is no token: aiohttp drops the whole header, weft reads it leniently.
        ("form-data; name=f; filename=/abs", {"name": "f", "filename": "abs"}),
        ("form-data; filename*=utf-8''%2Fabs", {"filename*": "/abs"}),
    ],
)
def test_leading_slashes_are_stripped_from_plain_values(
    header: str, params: dict[str, str]
) -> None:
    """aiohttp strips leading ``/`` and ``\\`` from plain parameter values (a filename is
    never an absolute path); weft reads the same names and filenames. An RFC 8187
    ``filename*`` is kept as sent, as in aiohttp."""
    assert parse_content_disposition(header) == ("form-data", params)


@pytest.mark.asyncio
async def test_a_long_charset_field_is_refused() -> None:
    """A first _charset_ field over 31 bytes is no charset: a MultipartError (aiohttp raises
    a RuntimeError, which weft.web users could not name)."""
    body = field("_charset_", b"x" * 40) + field("a", b"1") + end()
    reader = MultipartReader({"Content-Type": MULTIPART}, stream(body))
    with pytest.raises(MultipartError, match="_charset_"):
        await reader.next()


@pytest.mark.asyncio
async def test_a_corrupt_compressed_part_is_a_multipart_error() -> None:
    """A gzip part that does not inflate is a malformed body (400), not a crash."""
    body = f"--{BOUNDARY}\r\nContent-Encoding: gzip\r\n\r\n".encode() + b"not gzip\r\n" + end()
    reader = MultipartReader(
        {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}, stream(body)
    )
    item = await reader.next()
    assert isinstance(item, BodyPartReader)
    with pytest.raises(MultipartError, match="gzip"):
        await item.read(decode=True)


@pytest.mark.asyncio
async def test_readline_at_a_truncated_body_is_a_multipart_error() -> None:
    """readline() of a part whose body ends before the closing delimiter: a MultipartError."""
    body = f"--{BOUNDARY}\r\nX: 1\r\n\r\nno end".encode()
    reader = MultipartReader({"Content-Type": MULTIPART}, stream(body))
    item = await reader.next()
    assert isinstance(item, BodyPartReader)
    with pytest.raises(MultipartError, match="closing boundary"):
        await item.readline()
