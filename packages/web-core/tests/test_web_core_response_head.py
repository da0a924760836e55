"""When the head leaves, chunked coding asked late, and Content-Type / ETag / cookie
values, each as aiohttp 3.14 has them."""

from __future__ import annotations

import asyncio

import pytest
from web_core_support import get, make_request, parse_response, send

from weft.web_core import ETag, Response, StreamResponse
from weft.web_exceptions import HTTPFound

# -- the head goes out at prepare(), by the time the loop turns


@pytest.mark.asyncio
async def test_a_stream_response_sends_its_head_at_prepare() -> None:
    """After prepare() and before any write, once the handler waits for anything (the
    loop turns), the whole head is on the transport (an event stream's client sees it)."""
    request, transport = make_request(get())
    response = StreamResponse(headers={"X-A": "1"})
    response.content_type = "text/event-stream"
    await response.prepare(request)
    await asyncio.sleep(0)
    assert transport.data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.data.endswith(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in transport.data
    await response.write(b"data: 1\n\n")
    await response.write_eof()
    assert parse_response(transport.data).body == b"data: 1\n\n"


@pytest.mark.asyncio
async def test_force_close_before_the_first_write_still_sends_the_head() -> None:
    """force_close() then write_eof() without writing: a complete, empty chunked answer."""
    request, transport = make_request(get())
    response = StreamResponse()
    await response.prepare(request)
    response.force_close()
    await response.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.status == 200
    assert parsed.body == b""


@pytest.mark.asyncio
async def test_a_response_holds_its_head_for_its_body() -> None:
    """A Response (known body) still leaves as one write, head and body together."""
    request, transport = make_request(get())
    response = Response(text="whole")
    await response.prepare(request)
    assert transport.data == b""
    await response.write_eof()
    assert len(transport.nonempty_writes) == 1


# -- enable_chunked_encoding() after prepare()


@pytest.mark.asyncio
async def test_enable_chunked_encoding_after_prepare_sets_the_flag_only() -> None:
    """As aiohttp: accepted after prepare() (aiohttp-sse does it); the wire is what
    prepare() chose, chunked already for a response without a length."""
    request, transport = make_request(get())
    response = StreamResponse()
    await response.prepare(request)
    response.enable_chunked_encoding()
    assert response.chunked
    await response.write(b"abc")
    await response.write_eof()
    assert transport.data.endswith(b"3\r\nabc\r\n0\r\n\r\n")


@pytest.mark.asyncio
async def test_enable_chunked_encoding_after_prepare_with_a_length_is_refused() -> None:
    """A Content-Length already sent: RuntimeError, as before prepare() (aiohttp's)."""
    request, transport = make_request(get())
    response = StreamResponse()
    response.content_length = 3
    await response.prepare(request)
    with pytest.raises(RuntimeError, match="content length is set"):
        response.enable_chunked_encoding()
    await response.write(b"abc")
    await response.write_eof()
    assert parse_response(transport.data).headers["Content-Length"] == "3"


# -- Content-Type, charset


@pytest.mark.parametrize(
    ("raw", "ctype", "charset"),
    [
        ("text/html", "text/html", None),
        ("not a type", "application/octet-stream", None),
        ("garbage", "application/octet-stream", None),
        ("", "application/octet-stream", None),
        ("a/b/c", "application/octet-stream", None),
        ('TEXT/HTML; Charset="KOI8-R"', "text/html", "KOI8-R"),
        ("text/plain; charset", "text/plain", ""),
    ],
)
def test_content_type_reads_as_aiohttp(raw: str, ctype: str, charset: str | None) -> None:
    """An invalid media type reads as application/octet-stream (aiohttp's fallback)."""
    response = StreamResponse(headers={"Content-Type": raw})
    assert (response.content_type, response.charset) == (ctype, charset)


def test_charset_is_lower_cased_and_other_parameters_kept() -> None:
    """resp.charset = "KOI8-R" writes charset=koi8-r; content_type / charset setters
    keep the other parameters (aiohttp regenerates the line from all of them)."""
    response = Response(text="x")
    response.charset = "KOI8-R"
    assert response.headers["Content-Type"] == "text/plain; charset=koi8-r"
    stream = StreamResponse(headers={"Content-Type": 'text/html; level="1"'})
    stream.charset = "UTF-8"
    assert stream.headers["Content-Type"] == "text/html; level=1; charset=utf-8"
    stream.content_type = "text/plain"
    assert stream.headers["Content-Type"] == "text/plain; level=1; charset=utf-8"
    stream.charset = None
    assert stream.headers["Content-Type"] == "text/plain; level=1"


def test_charset_on_an_invalid_content_type_is_refused() -> None:
    """An invalid type reads as application/octet-stream, so a charset is refused (aiohttp)."""
    response = StreamResponse()
    response.content_type = "not a type"
    assert response.headers["Content-Type"] == "not a type"  # sent as set, as aiohttp
    with pytest.raises(RuntimeError, match="octet-stream"):
        response.charset = "utf-8"


# -- ETag and cookies


@pytest.mark.parametrize(
    ("value", "header"),
    [
        ("abc", '"abc"'),
        (ETag("abc", is_weak=True), 'W/"abc"'),
        (ETag("*", is_weak=True), "*"),
        ("a\x80", '"a\x80"'),
        ("W/x", '"W/x"'),
    ],
)
def test_etag_values_aiohttp_accepts(value: str | ETag, header: str) -> None:
    """The values aiohttp's ETag setter takes, written as it writes them."""
    response = StreamResponse()
    response.etag = value
    assert response.headers["ETag"] == header


@pytest.mark.parametrize(
    "value",
    ["a b", 'a"b', "", "\t", ETag(123), 123, b"abc"],  # type: ignore[arg-type]
)
def test_etag_values_aiohttp_refuses(value: object) -> None:
    """ValueError for what aiohttp refuses: non-etagc characters, non-str values."""
    response = StreamResponse()
    with pytest.raises(ValueError, match="etag"):
        response.etag = value  # type: ignore[assignment]


@pytest.mark.asyncio
async def test_set_cookie_takes_an_int_version() -> None:
    """set_cookie(version=1), as aiohttp's oldest docs show: Version=1 is sent."""
    response = Response(text="x")
    response.set_cookie("a", "b", version=1)
    sent = await send(response)
    assert sent.parsed.headers["Set-Cookie"] == "a=b; Path=/; Version=1"
    exc = HTTPFound("/")
    exc.set_cookie("c", "d", version=1)
    assert exc.cookies["c"]["version"] == 1
