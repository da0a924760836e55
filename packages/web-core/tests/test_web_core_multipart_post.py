"""BaseRequest.post() and multipart() on in-memory requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from tempfile import SpooledTemporaryFile

import pytest
from web_core_support import FakeProtocol, FakeTransport, make_request

from weft.http_parser import RequestHead, RequestParser
from weft.http_parser.streams import BodyStream
from weft.web_core import BodyPartReader, FileField, MultipartReader, Request, StreamWriter
from weft.web_exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

BOUNDARY = "----formboundary42"


def post(body: bytes, content_type: str, *headers: str, method: str = "POST") -> bytes:
    """Raw bytes of a request with ``body``."""
    lines = [
        f"{method} /form HTTP/1.1",
        "Host: example.com",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *headers,
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + body


def form_data(*fields: tuple[str, bytes]) -> bytes:
    """A multipart/form-data body of (part headers, content) fields."""
    out = bytearray()
    for headers, content in fields:
        out += f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return bytes(out + f"--{BOUNDARY}--\r\n".encode())


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.mark.asyncio
async def test_urlencoded_form() -> None:
    """An urlencoded body becomes a MultiDictProxy of str, blank values kept."""
    request, _ = make_request(
        post(b"a=1&b=x+y&a=%C3%A9&empty=", "application/x-www-form-urlencoded")
    )
    form = await request.post()
    assert list(form.items()) == [("a", "1"), ("b", "x y"), ("a", "é"), ("empty", "")]
    assert await request.post() is form  # cached


@pytest.mark.asyncio
async def test_urlencoded_form_with_charset() -> None:
    """The Content-Type charset decodes the form."""
    body = b"name=caf%E9"
    request, _ = make_request(post(body, "application/x-www-form-urlencoded; charset=latin-1"))
    assert (await request.post())["name"] == "café"


@pytest.mark.asyncio
async def test_multipart_form_fields_and_files() -> None:
    """Text fields are str, other fields bytes, fields with a filename FileField."""
    body = form_data(
        ('Content-Disposition: form-data; name="title"', "héllo".encode()),
        ('Content-Disposition: form-data; name="blob"\r\nContent-Type: application/x-bin', b"\x00"),
        (
            'Content-Disposition: form-data; name="up"; filename="a.txt"\r\n'
            "Content-Type: text/plain",
            b"file content",
        ),
        (
            "Content-Disposition: form-data; name=\"up\"; filename*=utf-8''%E2%82%AC.bin",
            b"second",
        ),
        (
            'Content-Disposition: form-data; name="b64"\r\nContent-Transfer-Encoding: base64',
            base64.b64encode(b"decoded"),
        ),
    )
    request, _ = make_request(post(body, MULTIPART))
    form = await request.post()
    assert form["title"] == "héllo"
    assert form["blob"] == b"\x00"
    assert form["b64"] == "decoded"
    first, second = form.getall("up")
    assert isinstance(first, FileField)
    assert (first.name, first.filename, first.content_type) == ("up", "a.txt", "text/plain")
    assert first.file.read() == b"file content"
    assert first.headers["Content-Type"] == "text/plain"
    assert isinstance(second, FileField)
    assert (second.filename, second.content_type) == ("€.bin", "application/octet-stream")
    assert second.file.read() == b"second"
    first.file.close()
    second.file.close()


@pytest.mark.asyncio
async def test_large_files_are_spooled_to_disk() -> None:
    """A file above 1 MiB rolls over to a temporary file on disk; smaller ones stay in memory."""
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB
    body = form_data(
        ('Content-Disposition: form-data; name="big"; filename="big.bin"', big),
        ('Content-Disposition: form-data; name="small"; filename="small.bin"', b"tiny"),
    )
    request, _ = make_request(post(body, MULTIPART), client_max_size=10 * 1024**2)
    form = await request.post()
    big_field, small_field = form["big"], form["small"]
    assert isinstance(big_field, FileField)
    assert isinstance(small_field, FileField)
    assert isinstance(big_field.file, SpooledTemporaryFile)
    assert big_field.file._rolled  # type: ignore[attr-defined]
    assert isinstance(small_field.file, SpooledTemporaryFile)
    assert not small_field.file._rolled  # type: ignore[attr-defined]
    assert hashlib.sha256(big_field.file.read()).digest() == hashlib.sha256(big).digest()
    big_field.file.close()
    small_field.file.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "content_type"),
    [
        ("GET", "application/x-www-form-urlencoded"),
        ("HEAD", MULTIPART),
        ("POST", "application/json"),
        ("POST", "text/plain"),
    ],
)
async def test_other_bodies_give_an_empty_form(method: str, content_type: str) -> None:
    """post() is empty for methods without a form and for other content types."""
    request, _ = make_request(post(b"a=1", content_type, method=method))
    form = await request.post()
    assert len(form) == 0
    assert await request.read() == b"a=1"  # the body was left unread


@pytest.mark.asyncio
async def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    """A Content-Length above client_max_size answers 413 without reading a byte."""
    body = form_data(('Content-Disposition: form-data; name="f"', b"x" * 5000))
    request, _ = make_request(post(body, MULTIPART), client_max_size=1000)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()
    assert info.value.status == 413
    assert not request.content.at_eof()


def streaming_request(head: bytes, client_max_size: int) -> tuple[Request, BodyStream]:
    """A request whose body the test feeds itself (the client is still sending)."""
    parsed = RequestParser().feed(head)[0]
    assert isinstance(parsed, RequestHead)
    protocol = FakeProtocol(FakeTransport())
    content = BodyStream()
    request = Request(
        parsed,
        content,
        protocol,
        StreamWriter(protocol),
        None,
        asyncio.get_running_loop(),
        client_max_size=client_max_size,
    )
    return request, content


@pytest.mark.asyncio
@pytest.mark.parametrize("filename", ['; filename="f.bin"', ""])
async def test_chunked_body_over_the_limit_stops_while_reading(filename: str) -> None:
    """A body of unknown length gets 413 once it passes client_max_size, before it ends."""
    head = (
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: {MULTIPART}\r\n\r\n"
    ).encode()
    request, content = streaming_request(head, client_max_size=100_000)
    content.feed_data(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"{filename}\r\n\r\n'.encode()
    )
    for _ in range(30):
        content.feed_data(b"x" * 10_000)  # 300 kB so far, and no end of body
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.post()


@pytest.mark.asyncio
async def test_urlencoded_body_over_the_limit() -> None:
    """An urlencoded body above client_max_size is a 413 too."""
    request, _ = make_request(
        post(b"a=" + b"x" * 2000, "application/x-www-form-urlencoded"), client_max_size=1000
    )
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.post()


@pytest.mark.asyncio
async def test_too_many_fields() -> None:
    """More fields than client_max_fields (1000) answer 413, for both encodings."""
    urlencoded = "&".join(f"f{i}=1" for i in range(1001)).encode()
    request, _ = make_request(post(urlencoded, "application/x-www-form-urlencoded"))
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()
    assert info.value.text == "Maximum number of form fields 1000 exceeded."
    fields = [(f'Content-Disposition: form-data; name="f{i}"', b"1") for i in range(1001)]
    request, _ = make_request(post(form_data(*fields), MULTIPART))
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()
    assert info.value.text == "Maximum number of form fields 1000 exceeded."


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        form_data(("Content-Type: text/plain", b"no name")),
        form_data(('Content-Disposition: form-data; name="t"', b"\xff\xfe not utf-8")),
        form_data(
            (
                'Content-Disposition: form-data; name="n"\r\n'
                "Content-Type: multipart/mixed; boundary=inner",
                b"--inner--",
            )
        ),
        f"--{BOUNDARY}\r\nbroken header\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
        b"no boundary at all",
    ],
)
async def test_malformed_multipart_is_a_400(body: bytes) -> None:
    """A form the server cannot read is a 400, never a 500."""
    request, _ = make_request(post(body, MULTIPART))
    with pytest.raises(HTTPBadRequest):
        await request.post()


@pytest.mark.asyncio
async def test_bad_boundary_is_a_400() -> None:
    """A boundary that breaks RFC 2046 is a 400."""
    request, _ = make_request(post(b"x", "multipart/form-data; boundary=" + "b" * 80))
    with pytest.raises(HTTPBadRequest) as info:
        await request.post()
    assert "boundary" in (info.value.text or "")


@pytest.mark.asyncio
async def test_multipart_returns_a_streaming_reader() -> None:
    """multipart() gives a MultipartReader over request.content."""
    body = form_data(('Content-Disposition: form-data; name="a"', b"1"))
    request, _ = make_request(post(body, MULTIPART))
    reader = await request.multipart()
    assert isinstance(reader, MultipartReader)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert (part.name, await part.text()) == ("a", "1")
    assert await reader.next() is None
