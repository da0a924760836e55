"""StreamResponse / Response / json_response: construction, framing and the bytes sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from web_core_support import FakeTransport, get, make_request, parse_response, send

from weft.web_core import (
    BytesPayload,
    FileResponse,
    Response,
    ResponseKey,
    StreamResponse,
    StringPayload,
    is_response,
    json_response,
)
from weft.web_core import __version__ as web_core_version

# -- construction: text, body, content_type, charset


def test_defaults() -> None:
    """A bare Response is 200 OK, without body, typed application/octet-stream."""
    resp = Response()
    assert (resp.status, resp.reason) == (200, "OK")
    assert resp.body is None
    assert resp.text is None
    assert resp.content_type == "application/octet-stream"
    assert resp.charset is None
    assert resp.content_length == 0


def test_text_is_utf8_text_plain() -> None:
    """text= gives text/plain; charset=utf-8 and the UTF-8 bytes as body."""
    resp = Response(text="héllo")
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == "héllo".encode()
    assert resp.text == "héllo"
    assert resp.content_length == 6


def test_text_with_content_type_and_charset() -> None:
    """text= with content_type and charset encodes with that charset."""
    resp = Response(text="é", content_type="text/html", charset="latin-1")
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    assert resp.body == b"\xe9"
    assert resp.text == "é"


def test_content_types_seen_before_give_the_same_header_and_checks() -> None:
    """The remembered Content-Type values are those built anew; a bad one is refused each time."""
    for _ in range(2):
        for content_type, charset, header in [
            (None, None, "text/plain; charset=utf-8"),
            ("text/html", None, "text/html; charset=utf-8"),
            ("text/html", "utf-8", "text/html; charset=utf-8"),
            ("text/html", "latin-1", "text/html; charset=latin-1"),
            ("application/json", None, "application/json; charset=utf-8"),
        ]:
            resp = Response(text="x", content_type=content_type, charset=charset)
            assert resp.headers["Content-Type"] == header
        with pytest.raises(ValueError, match="control character"):
            Response(text="x", content_type="text/html\r\nX-Evil: 1")


class _AnyType(str):
    """A str whose equality is not its text's: never served a remembered value."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash("text/html")


def test_a_content_type_str_subclass_is_not_taken_for_a_remembered_one() -> None:
    assert Response(text="x", content_type="text/html").content_type == "text/html"
    resp = Response(text="x", content_type=_AnyType("text/csv"))
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_text_with_content_type_header_uses_its_charset() -> None:
    """text= with a Content-Type header encodes with the header's charset."""
    resp = Response(text="é", headers={"Content-Type": "text/csv; charset=latin-1"})
    assert resp.body == b"\xe9"
    assert resp.content_type == "text/csv"


def test_body_with_content_type_and_charset() -> None:
    """body= with content_type and charset keeps the bytes and writes both in the header."""
    resp = Response(body=b"{}", content_type="application/json", charset="utf-8")
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.body == b"{}"


@pytest.mark.asyncio
async def test_body_str_is_a_string_payload() -> None:
    """A str body is aiohttp's StringPayload: UTF-8, typed text/plain; charset=utf-8."""
    response = Response(body="ü")
    assert isinstance(response.body, StringPayload)
    assert await response.body.as_bytes() == b"\xc3\xbc"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == "ü"
    assert response.content_length is None  # as aiohttp: known once prepared


def test_body_bytearray_is_kept_and_memoryview_is_a_payload() -> None:
    """A bytearray body is kept as it is; a memoryview becomes a BytesPayload (aiohttp's)."""
    assert Response(body=bytearray(b"ab")).body == bytearray(b"ab")
    body = Response(body=memoryview(b"cd")).body
    assert isinstance(body, BytesPayload)
    assert body.size == 2


def test_body_and_text_together_is_value_error() -> None:
    """body= and text= together raise ValueError (as aiohttp)."""
    with pytest.raises(ValueError, match="body and text"):
        Response(body=b"a", text="a")


def test_charset_inside_content_type_is_value_error() -> None:
    """A charset written inside content_type raises ValueError (as aiohttp)."""
    with pytest.raises(ValueError, match="charset"):
        Response(text="a", content_type="text/plain; charset=utf-8")


@pytest.mark.parametrize(
    "kwargs", [{"content_type": "text/html"}, {"charset": "utf-8"}], ids=["content_type", "charset"]
)
def test_content_type_header_plus_params_is_value_error(kwargs: dict[str, Any]) -> None:
    """A Content-Type header plus content_type or charset raises ValueError (as aiohttp)."""
    with pytest.raises(ValueError, match="Content-Type"):
        Response(body=b"x", headers={"Content-Type": "text/plain"}, **kwargs)


def test_bad_text_and_body_types() -> None:
    """A non-str text raises TypeError; a body no payload takes, ValueError (aiohttp's)."""
    with pytest.raises(TypeError):
        Response(text=b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unsupported body type"):
        Response(body=123)


def test_text_setter_on_bare_response() -> None:
    """Setting .text on a bare Response makes it text/plain; charset=utf-8."""
    resp = Response()
    resp.text = "ok"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == b"ok"


def test_content_type_setter_keeps_charset() -> None:
    """Changing content_type keeps the charset; changing charset keeps the type."""
    resp = Response(text="x")
    resp.content_type = "text/html"
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    resp.charset = "latin-1"
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    resp.charset = None
    assert resp.headers["Content-Type"] == "text/html"


def test_charset_on_octet_stream_is_runtime_error() -> None:
    """A charset without a content type first raises RuntimeError."""
    with pytest.raises(RuntimeError, match="content_type"):
        StreamResponse().charset = "utf-8"


def test_response_content_length_is_read_only() -> None:
    """Response.content_length is computed from the body; setting it raises."""
    resp = Response(body=b"abc")
    assert resp.content_length == 3
    with pytest.raises(RuntimeError):
        resp.content_length = 5


def test_response_is_a_mutable_mapping_by_identity() -> None:
    """A response stores per-response values and compares by identity."""
    key = ResponseKey("k", int)
    resp = StreamResponse()
    resp[key] = 1
    assert list(resp.items()) == [(key, 1)]
    del resp[key]
    assert len(resp) == 0
    assert resp
    assert resp != StreamResponse()
    assert hash(resp) == hash(resp)


def test_storage_never_written_reads_as_empty() -> None:
    key = ResponseKey("k", int)
    resp, untouched = StreamResponse(), StreamResponse()
    assert (len(resp), list(resp), resp.get(key), key in resp) == (0, [], None, False)
    with pytest.raises(KeyError):
        del resp[key]
    resp[key] = 1
    assert (resp[key], len(untouched), key in untouched) == (1, 0, False)


# -- status


@pytest.mark.parametrize("status", [0, 99, 1000, -200])
def test_set_status_out_of_range(status: int) -> None:
    """A status outside 100..999 raises ValueError."""
    with pytest.raises(ValueError, match="status"):
        StreamResponse(status=status)


def test_reason_with_newline_is_value_error() -> None:
    """A reason with CR or LF raises ValueError (response splitting)."""
    with pytest.raises(ValueError, match="reason"):
        StreamResponse(status=200, reason="OK\r\nX: y")


CTLS_BUT_HTAB = [chr(c) for c in (*range(0x09), *range(0x0A, 0x20), 0x7F)]


@pytest.mark.parametrize("ctl", CTLS_BUT_HTAB, ids=lambda c: f"0x{ord(c):02x}")
def test_control_characters_are_refused_where_they_are_set(ctl: str) -> None:
    """Every CTL but HTAB is a ValueError naming the header at the point it is set.

    aiohttp refuses them only when the head is written (#12689); refusing at the
    setter points at the line that set it. CVE-2026-34519 (splitting via reason).
    """
    with pytest.raises(ValueError, match="reason"):
        StreamResponse(reason=f"OK{ctl}")
    with pytest.raises(ValueError, match="reason"):
        Response().set_status(200, f"OK{ctl}")
    with pytest.raises(ValueError, match="'X-Custom'"):
        Response(headers={"X-Custom": f"a{ctl}b"})
    with pytest.raises(ValueError, match="'Content-Type'"):
        Response(text="hi", content_type=f"text/x{ctl}")
    with pytest.raises(ValueError, match="'Content-Type'"):
        Response(body=b"hi", content_type="text/plain", charset=f"utf{ctl}8")
    response = Response(text="hi")
    with pytest.raises(ValueError, match="'Content-Type'"):
        response.content_type = f"text/html{ctl}"
    with pytest.raises(ValueError, match="'Content-Type'"):
        response.charset = f"utf{ctl}8"
    with pytest.raises(ValueError, match="'Last-Modified'"):
        response.last_modified = f"Mon, 01 Jan 2024{ctl}"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"  # nothing changed


@pytest.mark.asyncio
async def test_a_control_character_set_through_headers_is_refused_before_writing() -> None:
    """The raw headers mapping cannot check; prepare() refuses before a byte is written."""
    response = Response(text="hi")
    response.headers["X-Late"] = "a\x01b"
    request, transport = make_request(get())
    with pytest.raises(ValueError, match="'X-Late'"):
        await response.prepare(request)
    assert transport.data == b""


def test_htab_is_allowed_in_values_and_reasons() -> None:
    response = Response(reason="Fine\tindeed", headers={"X-Tab": "a\tb"})
    assert response.reason == "Fine\tindeed"
    assert response.headers["X-Tab"] == "a\tb"


def test_status_and_reason_defaults() -> None:
    """The standard reason phrase is used unless one is given."""
    resp = StreamResponse(status=404)
    assert resp.reason == "Not Found"
    resp.set_status(418, "Short and stout")
    assert (resp.status, resp.reason) == (418, "Short and stout")


@pytest.mark.asyncio
async def test_custom_reason_on_the_wire() -> None:
    """A custom reason goes into the status line."""
    ex = await send(Response(status=299, reason="Fine Thanks"))
    assert ex.transport.data.startswith(b"HTTP/1.1 299 Fine Thanks\r\n")


@pytest.mark.asyncio
async def test_set_status_after_prepare_is_runtime_error() -> None:
    """The status cannot change once the head is prepared."""
    resp = StreamResponse()
    request, _ = make_request(get())
    await resp.prepare(request)
    with pytest.raises(RuntimeError, match="status"):
        resp.set_status(500)


# -- the bytes sent


@pytest.mark.asyncio
async def test_head_and_small_body_in_one_write() -> None:
    """A small Response leaves as one transport.write: head and body together."""
    ex = await send(Response(text="hello"))
    assert len(ex.transport.nonempty_writes) == 1
    assert ex.transport.nonempty_writes[0].endswith(b"\r\n\r\nhello")
    assert ex.parsed.body == b"hello"


@pytest.mark.asyncio
async def test_large_body_is_written_apart_from_the_head() -> None:
    """A large body leaves in its own write, not copied into one buffer with the head."""
    body = b"x" * (1024 * 1024)
    ex = await send(Response(body=body))
    writes = ex.transport.nonempty_writes
    assert len(writes) == 2
    assert writes[0].endswith(b"\r\n\r\n")
    assert writes[1] == body
    assert ex.parsed.body == body


@pytest.mark.asyncio
async def test_large_chunk_is_framed_without_copying() -> None:
    """A large streamed write goes out as chunk header, the data as is, CRLF."""
    from weft.web_core.test_utils import MockTransport, make_mocked_request

    request = make_mocked_request("GET", "/")
    response = StreamResponse()
    await response.prepare(request)
    data = b"y" * (64 * 1024)
    await response.write(data)
    await response.write_eof()
    transport = request.transport
    assert isinstance(transport, MockTransport)
    assert transport.writes[1:] == [b"10000\r\n", data, b"\r\n", b"0\r\n\r\n"]
    assert b"Transfer-Encoding: chunked\r\n" in transport.writes[0]


@pytest.mark.asyncio
async def test_content_length_date_and_server() -> None:
    """A Response sends Content-Length, an IMF-fixdate Date and a Server header.

    Server names web-core's own release, read from the package, never typed by hand.
    """
    ex = await send(Response(body=b"abc"))
    headers = ex.parsed.headers
    assert ex.parsed.status == 200
    assert headers["Content-Length"] == "3"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Date"].endswith(" GMT")
    assert parsedate_to_datetime(headers["Date"]).tzinfo is not None
    assert headers["Server"] == f"weft/{web_core_version}"
    assert "Connection" not in headers
    assert "Transfer-Encoding" not in headers


@pytest.mark.asyncio
async def test_user_date_and_server_are_kept() -> None:
    """Date and Server headers set by the handler are not overwritten."""
    resp = Response(headers={"Date": "Thu, 01 Jan 2004 00:00:00 GMT", "Server": "mine"})
    ex = await send(resp)
    assert ex.parsed.headers.getall("Date") == ["Thu, 01 Jan 2004 00:00:00 GMT"]
    assert ex.parsed.headers.getall("Server") == ["mine"]


@pytest.mark.asyncio
async def test_empty_response_has_length_zero_and_no_type() -> None:
    """An empty Response sends Content-Length: 0 and no default Content-Type."""
    ex = await send(Response())
    assert ex.parsed.headers["Content-Length"] == "0"
    assert "Content-Type" not in ex.parsed.headers
    assert ex.parsed.body == b""


@pytest.mark.asyncio
async def test_head_keeps_length_and_sends_no_body() -> None:
    """A HEAD answer keeps the GET's Content-Length but sends no body bytes."""
    ex = await send(Response(text="hello"), get(method="HEAD"))
    assert ex.parsed.headers["Content-Length"] == "5"
    assert ex.parsed.raw_body == b""
    assert ex.response.body_length == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("cls", [Response, StreamResponse])
async def test_204_has_no_body_and_no_framing(cls: type[StreamResponse]) -> None:
    """A 204 carries no body, no Content-Length and no Transfer-Encoding."""
    resp = cls(status=204)
    if isinstance(resp, Response):
        resp.body = b"ignored"
    ex = await send(resp)
    assert ex.parsed.status == 204
    assert ex.parsed.raw_body == b""
    assert "Content-Length" not in ex.parsed.headers
    assert "Transfer-Encoding" not in ex.parsed.headers


@pytest.mark.asyncio
async def test_304_has_no_body() -> None:
    """A 304 sends no body bytes and no Transfer-Encoding."""
    ex = await send(StreamResponse(status=304))
    assert ex.parsed.status == 304
    assert ex.parsed.raw_body == b""
    assert "Transfer-Encoding" not in ex.parsed.headers
    ex = await send(Response(status=304))
    assert ex.parsed.raw_body == b""
    assert "Content-Length" not in ex.parsed.headers


@pytest.mark.asyncio
async def test_http10_keep_alive_is_confirmed() -> None:
    """An HTTP/1.0 keep-alive request gets Connection: keep-alive and an HTTP/1.0 status line."""
    ex = await send(Response(text="x"), get("/", "Connection: keep-alive", version="1.0"))
    assert ex.parsed.version == "HTTP/1.0"
    assert ex.parsed.headers["Connection"] == "keep-alive"
    assert ex.response.keep_alive is True


@pytest.mark.asyncio
async def test_http10_without_keep_alive_closes_silently() -> None:
    """A plain HTTP/1.0 request gets no Connection header and the connection closes."""
    ex = await send(Response(text="x"), get(version="1.0"))
    assert "Connection" not in ex.parsed.headers
    assert ex.response.keep_alive is False


@pytest.mark.asyncio
async def test_http11_close_request_gets_connection_close() -> None:
    """An HTTP/1.1 request with Connection: close gets Connection: close."""
    ex = await send(Response(text="x"), get("/", "Connection: close"))
    assert ex.parsed.headers["Connection"] == "close"
    assert ex.response.keep_alive is False


@pytest.mark.asyncio
async def test_force_close_sends_connection_close() -> None:
    """force_close() on an HTTP/1.1 keep-alive request sends Connection: close."""
    resp = Response(text="x")
    resp.force_close()
    ex = await send(resp)
    assert ex.parsed.headers["Connection"] == "close"
    assert resp.keep_alive is False


@pytest.mark.asyncio
async def test_chunked_stream_response() -> None:
    """A streamed HTTP/1.1 body is sent as valid chunked coding, ended by the last chunk."""
    request, transport = make_request(get())
    resp = StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(b"ab")
    await resp.write(b"")
    await resp.write(bytearray(b"cde"))
    await resp.write(memoryview(b"f"))
    await resp.write_eof()
    _, _, raw = transport.data.partition(b"\r\n\r\n")
    assert raw == b"2\r\nab\r\n3\r\ncde\r\n1\r\nf\r\n0\r\n\r\n"
    parsed = parse_response(transport.data)
    assert parsed.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in parsed.headers
    assert parsed.headers["Content-Type"] == "application/octet-stream"
    assert parsed.body == b"abcdef"
    assert resp.body_length == 6
    # The head, the writes and the last chunk, made without the loop turning, left
    # in one write (the head first).
    assert len(transport.nonempty_writes) == 1
    assert transport.nonempty_writes[0].startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.asyncio
async def test_stream_without_length_is_chunked_on_http11() -> None:
    """A StreamResponse without a length is chunked on HTTP/1.1 even if not asked."""
    request, transport = make_request(get())
    resp = StreamResponse()
    await resp.prepare(request)
    await resp.write(b"data")
    await resp.write_eof(b"end")
    parsed = parse_response(transport.data)
    assert parsed.headers["Transfer-Encoding"] == "chunked"
    assert parsed.headers["Content-Type"] == "application/octet-stream"
    assert parsed.body == b"dataend"
    assert resp.keep_alive is True


@pytest.mark.asyncio
async def test_stream_with_content_length_is_raw() -> None:
    """A StreamResponse with a content length sends the bytes as they are."""
    request, transport = make_request(get())
    resp = StreamResponse()
    resp.content_length = 4
    await resp.prepare(request)
    await resp.write(b"ab")
    await resp.write(b"cd")
    await resp.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.headers["Content-Length"] == "4"
    assert "Transfer-Encoding" not in parsed.headers
    assert parsed.raw_body == b"abcd"


@pytest.mark.asyncio
async def test_http10_stream_without_length_closes() -> None:
    """An HTTP/1.0 streamed body without a length is not chunked and ends with the connection."""
    request, transport = make_request(get("/", "Connection: keep-alive", version="1.0"))
    resp = StreamResponse()
    await resp.prepare(request)
    await resp.write(b"one")
    await resp.write_eof(b"two")
    parsed = parse_response(transport.data)
    assert "Transfer-Encoding" not in parsed.headers
    assert "Content-Length" not in parsed.headers
    assert parsed.headers.get("Connection", "close") != "keep-alive"
    assert parsed.raw_body == b"onetwo"
    assert resp.keep_alive is False


@pytest.mark.asyncio
async def test_chunked_on_http10_is_runtime_error() -> None:
    """enable_chunked_encoding() for an HTTP/1.0 request fails at prepare."""
    request, _ = make_request(get(version="1.0"))
    resp = StreamResponse()
    resp.enable_chunked_encoding()
    with pytest.raises(RuntimeError, match="chunked"):
        await resp.prepare(request)


def test_chunked_and_content_length_exclude_each_other() -> None:
    """Chunked coding and a content length cannot both be set."""
    resp = StreamResponse()
    resp.content_length = 3
    with pytest.raises(RuntimeError):
        resp.enable_chunked_encoding()
    resp.content_length = None
    resp.enable_chunked_encoding()
    assert resp.chunked
    with pytest.raises(RuntimeError):
        resp.content_length = 3


@pytest.mark.asyncio
async def test_write_before_prepare_is_runtime_error() -> None:
    """write(), drain() and write_eof() before prepare() raise RuntimeError."""
    resp = StreamResponse()
    with pytest.raises(RuntimeError, match="prepare"):
        await resp.write(b"x")
    with pytest.raises(RuntimeError):
        await resp.drain()
    with pytest.raises(RuntimeError):
        await resp.write_eof()


@pytest.mark.asyncio
async def test_write_after_eof_and_bad_data() -> None:
    """write() after write_eof() is a RuntimeError; non-bytes data is a TypeError."""
    request, transport = make_request(get())
    resp = StreamResponse()
    await resp.prepare(request)
    with pytest.raises(TypeError):
        await resp.write("text")  # type: ignore[arg-type]
    await resp.write_eof()
    written = transport.data
    await resp.write_eof()
    assert transport.data == written
    with pytest.raises(RuntimeError, match="write_eof"):
        await resp.write(b"x")


@pytest.mark.asyncio
async def test_prepare_is_idempotent() -> None:
    """prepare() twice sends one head; after write_eof() it returns None."""
    request, transport = make_request(get())
    resp = Response(text="x")
    writer = await resp.prepare(request)
    assert writer is not None
    assert await resp.prepare(request) is writer
    await resp.write_eof()
    assert await resp.prepare(request) is None
    assert transport.data.count(b"HTTP/1.1") == 1


@pytest.mark.asyncio
async def test_response_write_eof_takes_no_data() -> None:
    """Response.write_eof(data) is refused: the body is set up front."""
    request, _ = make_request(get())
    resp = Response(text="x")
    await resp.prepare(request)
    with pytest.raises(ValueError, match="body"):
        await resp.write_eof(b"more")


@pytest.mark.asyncio
async def test_write_to_closing_transport_raises() -> None:
    """Writing to a closing transport raises ConnectionResetError."""
    transport = FakeTransport()
    request, _ = make_request(get(), transport=transport)
    resp = StreamResponse()
    await resp.prepare(request)
    transport.closing = True
    with pytest.raises(ConnectionResetError):
        await resp.write(b"x")


# -- cookies


@pytest.mark.asyncio
async def test_set_cookie_and_del_cookie_produce_set_cookie_headers() -> None:
    """set_cookie and del_cookie each produce one Set-Cookie header, as aiohttp's."""
    resp = Response(text="x")
    resp.set_cookie("session", "abc", httponly=True, max_age=10, samesite="Lax")
    resp.set_cookie("theme", "dark", path="/app", secure=True)
    resp.del_cookie("old")
    ex = await send(resp)
    values = ex.parsed.headers.getall("Set-Cookie")
    assert values == [
        "session=abc; HttpOnly; Max-Age=10; Path=/; SameSite=Lax",
        "theme=dark; Path=/app; Secure",
        'old=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
    ]


def test_cookies_match_aiohttp() -> None:
    """The Set-Cookie values equal those aiohttp builds for the same calls."""
    from aiohttp import web as aioweb

    ours, theirs = Response(), aioweb.Response()
    for resp in (ours, theirs):
        resp.set_cookie("a", "1", domain="example.com", expires="Wed, 21 Oct 2015 07:28:00 GMT")
        resp.set_cookie("b", "two words", httponly=True)
        resp.del_cookie("c", path="/x")
    assert ours.cookies.header_values() == [m.OutputString() for m in theirs.cookies.values()]


# -- json_response


@pytest.mark.asyncio
async def test_json_response_from_data() -> None:
    """json_response(data) sends json.dumps(data) as application/json; charset=utf-8."""
    ex = await send(json_response({"a": [1, "é"]}, status=201, headers={"X-A": "1"}))
    assert ex.parsed.status == 201
    assert ex.parsed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert ex.parsed.headers["X-A"] == "1"
    assert json.loads(ex.parsed.body) == {"a": [1, "é"]}


def test_json_response_text_body_and_dumps() -> None:
    """text= is sent as is, body= as bytes without charset, dumps= serializes data."""
    assert json_response(text='{"x": 1}').body == b'{"x": 1}'
    by_body = json_response(body=b"[1]")
    assert by_body.body == b"[1]"
    assert by_body.headers["Content-Type"] == "application/json"
    custom = json_response({"b": 1, "a": 2}, dumps=lambda d: json.dumps(d, sort_keys=True))
    assert custom.body == b'{"a": 2, "b": 1}'
    assert json_response([], content_type="application/vnd.x+json").content_type == (
        "application/vnd.x+json"
    )


def test_json_response_none_is_null() -> None:
    """json_response(None) serializes None, as aiohttp: the body is 'null'."""
    assert json_response(None).body == b"null"
    assert json_response().body is None


@pytest.mark.parametrize("kwargs", [{"text": "1"}, {"body": b"1"}], ids=["text", "body"])
def test_json_response_data_with_text_or_body_is_value_error(kwargs: dict[str, Any]) -> None:
    """data together with text or body raises ValueError."""
    with pytest.raises(ValueError, match="only one of data, text, or body"):
        json_response({"a": 1}, **kwargs)


def test_json_response_unserializable_data_raises() -> None:
    """Data that json.dumps refuses raises its TypeError."""
    with pytest.raises(TypeError):
        json_response({"a": object()})


def test_json_bytes_response() -> None:
    """json_bytes_response uses a bytes encoder as the body, typed application/json."""
    from weft.web_core import json_bytes_response

    response = json_bytes_response({"a": 1}, dumps=lambda d: b'{"a":1}')
    assert response.body == b'{"a":1}'
    assert response.content_type == "application/json"
    with pytest.raises(ValueError, match="only one of data or body"):
        json_bytes_response({"a": 1}, dumps=lambda d: b"", body=b"x")


@pytest.mark.asyncio
async def test_typed_header_setters_refuse_changes_after_the_head_is_sent() -> None:
    """After prepare(), content type, length, cookies, validators and codings raise
    RuntimeError (they would never be sent); before, they work."""
    import datetime

    from weft.web_core.test_utils import make_mocked_request

    response = StreamResponse()
    response.content_type = "text/plain"
    response.set_cookie("a", "1")
    await response.prepare(make_mocked_request("GET", "/"))
    attempts: list[Callable[[], object]] = [
        lambda: setattr(response, "content_type", "text/html"),
        lambda: setattr(response, "charset", "latin-1"),
        lambda: setattr(response, "content_length", 3),
        lambda: setattr(response, "last_modified", datetime.datetime.now(datetime.UTC)),
        lambda: setattr(response, "etag", "abc"),
        lambda: response.set_cookie("b", "2"),
        lambda: response.del_cookie("a"),
        lambda: response.enable_compression(),
        lambda: response.set_status(404),
    ]
    for attempt in attempts:
        with pytest.raises(RuntimeError, match="after the headers are sent"):
            attempt()


def test_is_response_is_isinstance() -> None:
    """is_response(x) answers isinstance(x, StreamResponse), for every class, every time."""

    class Custom(Response):
        pass

    class NotOne(dict[str, Any]):
        pass

    for _ in range(2):  # the second round is answered from the cache
        for obj in (StreamResponse(), Response(), Custom(), json_response({}), FileResponse(".")):
            assert is_response(obj)
        for other in (NotOne(), None, "text", b"bytes", {"status": 200}):
            assert not is_response(other)


@pytest.mark.asyncio
async def test_a_status_that_converts_to_int_is_taken_as_aiohttp_takes_it() -> None:
    """aiohttp sets int(status): "200" works, in the constructors and set_status(),
    compiled or not (the compiled build checks annotations at the call)."""
    from http import HTTPStatus

    from weft.web_core import json_response

    assert Response(status="201", text="x").status == 201  # type: ignore[arg-type]
    assert StreamResponse(status=HTTPStatus.ACCEPTED).status == 202
    assert json_response({}, status="404").status == 404  # type: ignore[arg-type]
    response = StreamResponse()
    response.set_status("418")  # type: ignore[arg-type]
    assert (response.status, response.reason) == (418, "I'm a Teapot")
    with pytest.raises(ValueError, match="Invalid status code"):
        Response(status="99")  # type: ignore[arg-type]
