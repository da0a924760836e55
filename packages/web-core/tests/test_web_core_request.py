"""BaseRequest / Request: what a handler reads from the request line, headers and body."""

from __future__ import annotations

import json
import ssl
from typing import Any
from unittest import mock
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web_core_support import PEER, FakeProtocol, FakeTransport, get, make_request
from yarl import URL

from weft.http_parser import HttpVersion10, HttpVersion11
from weft.web_core import Application, BaseRequest, Request, RequestKey
from weft.web_exceptions import HTTPRequestEntityTooLarge


def post(body: bytes, *headers: str, path: str = "/submit") -> bytes:
    """Raw bytes of a POST with a Content-Length body."""
    lines = [f"POST {path} HTTP/1.1", "Host: example.com", *headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*chunks: bytes, path: str = "/upload") -> bytes:
    """Raw bytes of a POST with a chunked body."""
    head = f"POST {path} HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return head.encode() + body


# -- request line and URL


@pytest.mark.asyncio
async def test_method_version_and_paths() -> None:
    """method, version, raw_path (as sent) and path (decoded) come from the request line."""
    request, _ = make_request(get("/caf%C3%A9/a%20b?x=1&y=%20z", method="DELETE"))
    assert isinstance(request, BaseRequest)
    assert request.method == "DELETE"
    assert request.version == HttpVersion11
    assert request.raw_path == "/caf%C3%A9/a%20b?x=1&y=%20z"
    assert request.path == "/café/a b"
    assert request.path_qs == "/caf%C3%A9/a%20b?x=1&y=%20z"


@pytest.mark.asyncio
async def test_rel_url_and_url() -> None:
    """rel_url is the path and query; url adds scheme and Host."""
    request, _ = make_request(get("/a/b?x=1"))
    assert request.rel_url == URL("/a/b?x=1")
    assert not request.rel_url.is_absolute()
    assert request.url == URL("http://example.com/a/b?x=1")
    assert request.url.host == "example.com"


@pytest.mark.asyncio
async def test_query_and_query_string() -> None:
    """query is a multidict of decoded pairs; query_string is the decoded query."""
    request, _ = make_request(get("/?a=1&b=x%20y&a=2&c="))
    assert request.query.getall("a") == ["1", "2"]
    assert request.query["b"] == "x y"
    assert request.query["c"] == ""
    assert request.query_string == "a=1&b=x y&a=2&c="


@pytest.mark.asyncio
async def test_no_query() -> None:
    """A target without '?' has an empty query and query_string."""
    request, _ = make_request(get("/plain"))
    assert request.query_string == ""
    assert len(request.query) == 0


@given(
    st.dictionaries(
        st.text("abcxyz", min_size=1, max_size=5), st.text(min_size=0, max_size=8), max_size=4
    )
)
@pytest.mark.asyncio
async def test_query_roundtrips_any_text(pairs: dict[str, str]) -> None:
    """Any text values, percent-encoded in the target, come back decoded in query."""
    target = "/q?" + urlencode(pairs, quote_via=quote)
    request, _ = make_request(get(target))
    assert dict(request.query) == pairs


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12))
@pytest.mark.asyncio
async def test_path_is_decoded_raw_path_is_not(segment: str) -> None:
    """Any percent-encoded path segment is decoded in path and kept as sent in raw_path."""
    encoded = quote(segment, safe="")
    request, _ = make_request(get("/" + encoded))
    assert request.raw_path == "/" + encoded
    assert request.path == URL.build(path="/" + encoded, encoded=True).path


# -- headers, host, scheme, remote


@pytest.mark.asyncio
async def test_headers_and_raw_headers() -> None:
    """headers is case-insensitive and keeps repeats; raw_headers keeps the bytes as sent."""
    request, _ = make_request(get("/", "X-Token: abc", "Accept: a", "accept: b"))
    assert request.headers["x-token"] == "abc"
    assert request.headers.getall("ACCEPT") == ["a", "b"]
    assert (b"X-Token", b"abc") in request.raw_headers
    assert (b"accept", b"b") in request.raw_headers


@pytest.mark.asyncio
async def test_host_from_header() -> None:
    """host is the Host header, port included."""
    request, _ = make_request(b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
    assert request.host == "example.com:8080"
    assert request.url == URL("http://example.com:8080/")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("sockname", "host"),
    [
        (("192.0.2.1", 8080), "192.0.2.1"),
        (("2001:db8::1", 8080, 0, 0), "[2001:db8::1]"),
        ("/run/app.sock", "/run/app.sock"),
        (None, ""),
    ],
    ids=["ipv4", "ipv6", "unix", "unknown"],
)
async def test_host_without_header_is_the_local_address(sockname: object, host: str) -> None:
    """Without a Host header (HTTP/1.0) host is where the request arrived, as aiohttp 3.14."""
    transport = FakeTransport({"sockname": sockname})
    request, _ = make_request(b"GET /x HTTP/1.0\r\n\r\n", transport=transport)
    assert request.host == host
    assert request.version == HttpVersion10


@pytest.mark.asyncio
async def test_scheme_http_and_https() -> None:
    """scheme is http, or https when the transport has an SSL context."""
    plain, _ = make_request(get())
    assert (plain.scheme, plain.secure) == ("http", False)
    tls = FakeTransport({"peername": PEER, "sslcontext": ssl.create_default_context()})
    secure, _ = make_request(get("/s"), transport=tls)
    assert (secure.scheme, secure.secure) == ("https", True)
    assert secure.url == URL("https://example.com/s")


@pytest.mark.asyncio
async def test_remote_from_peername() -> None:
    """remote is the peer's IP for TCP, the path for a Unix socket, None when unknown."""
    tcp, _ = make_request(get())
    assert tcp.remote == PEER[0]
    unix, _ = make_request(get(), transport=FakeTransport({"peername": "/run/app.sock"}))
    assert unix.remote == "/run/app.sock"
    unknown, _ = make_request(get(), transport=FakeTransport({}))
    assert unknown.remote is None


class InfoProtocol(FakeProtocol):
    """A connection whose class reads the transport's extra info itself, as
    web-runner's does (its ``transport`` first sends the answers it holds)."""

    def __init__(self, transport: FakeTransport) -> None:
        super().__init__(transport)
        self.asked: list[str] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        self.asked.append(name)
        assert self.transport is not None
        return self.transport.get_extra_info(name, default)


@pytest.mark.asyncio
async def test_the_connections_addresses_are_read_through_the_protocols_own_reader() -> None:
    protocol = InfoProtocol(FakeTransport({"peername": PEER, "sockname": ("10.0.0.1", 80)}))
    request, _ = make_request(b"GET / HTTP/1.0\r\n\r\n", protocol=protocol)
    assert (request.remote, request.host, request.scheme) == (PEER[0], "10.0.0.1", "http")
    assert request.get_extra_info("nothing", 7) == 7
    assert protocol.asked == ["peername", "sockname", "sslcontext", "nothing"]


@pytest.mark.asyncio
async def test_a_mock_protocols_made_up_attributes_are_not_its_reader() -> None:
    # make_mocked_request-style: a Mock answers every attribute; only its transport counts.
    protocol = mock.Mock()
    protocol.transport = FakeTransport()
    request, _ = make_request(get(), protocol=protocol)
    assert request.remote == PEER[0]
    assert request.get_extra_info("peername") == PEER
    protocol.get_extra_info.assert_not_called()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("raw", "keep_alive"),
    [
        (get(), True),
        (get("/", "Connection: close"), False),
        (get(version="1.0"), False),
        (get("/", "Connection: keep-alive", version="1.0"), True),
    ],
)
async def test_keep_alive(raw: bytes, keep_alive: bool) -> None:
    """keep_alive follows the version and the Connection header (RFC 9112 §9.3)."""
    request, _ = make_request(raw)
    assert request.keep_alive is keep_alive


@pytest.mark.asyncio
async def test_cookies() -> None:
    """cookies maps the Cookie header's names to values (read-only); none gives {}."""
    request, _ = make_request(get("/", 'Cookie: a=1; b="two"; session=xyz'))
    assert dict(request.cookies) == {"a": "1", "b": "two", "session": "xyz"}
    with pytest.raises(TypeError):
        request.cookies["c"] = "3"  # type: ignore[index]
    bare, _ = make_request(get())
    assert dict(bare.cookies) == {}


# -- content headers


@pytest.mark.asyncio
async def test_content_type_default_and_charset() -> None:
    """content_type defaults to application/octet-stream; charset is None without one."""
    request, _ = make_request(get())
    assert request.content_type == "application/octet-stream"
    assert request.charset is None
    assert request.content_length is None


@pytest.mark.asyncio
async def test_content_type_parsed() -> None:
    """content_type is the lower-cased media type; charset its parameter."""
    request, _ = make_request(post(b"{}", 'Content-Type: Application/JSON; Charset="UTF-8"'))
    assert request.content_type == "application/json"
    assert request.charset == "UTF-8"
    assert request.content_length == 2


# -- the body


@pytest.mark.asyncio
async def test_no_body() -> None:
    """A GET without a body: no body exists, nothing to read, read() gives b''."""
    request, _ = make_request(get())
    assert request.body_exists is False
    assert request.can_read_body is False
    assert await request.read() == b""


@pytest.mark.asyncio
async def test_read_text_json() -> None:
    """read() returns the body (cached); text() and json() decode it."""
    request, _ = make_request(post(b'{"a": [1, "\xc3\xa9"]}', "Content-Type: application/json"))
    assert request.body_exists is True
    readable_before = request.can_read_body
    body = await request.read()
    readable_after = request.can_read_body
    assert (readable_before, readable_after) == (True, False)
    assert body == b'{"a": [1, "\xc3\xa9"]}'
    assert await request.read() is body
    assert await request.text() == '{"a": [1, "é"]}'
    assert await request.json() == {"a": [1, "é"]}
    assert await request.json(loads=lambda s: len(s)) == 15


@pytest.mark.asyncio
async def test_text_uses_charset() -> None:
    """text() decodes with the Content-Type charset."""
    request, _ = make_request(post(b"caf\xe9", "Content-Type: text/plain; charset=latin-1"))
    assert await request.text() == "café"


@pytest.mark.asyncio
async def test_chunked_body_is_read() -> None:
    """A chunked body exists and reads whole."""
    request, _ = make_request(chunked(b"hello ", b"world"))
    assert request.body_exists is True
    assert request.content_length is None
    assert await request.read() == b"hello world"


@pytest.mark.asyncio
async def test_declared_length_above_limit_is_413_before_reading() -> None:
    """A Content-Length above client_max_size answers 413 before any byte is read."""
    request, _ = make_request(post(b"x" * 11), client_max_size=10)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.read()
    assert info.value.status == 413
    assert (info.value.max_size, info.value.actual_size) == (10, 11)
    assert request.content.total_bytes == 11
    assert await request.content.read() == b"x" * 11  # nothing was consumed


@pytest.mark.asyncio
async def test_app_client_max_size_applies() -> None:
    """Requests made by an Application carry its client_max_size."""
    request, _ = make_request(post(b"abcd"), Application(client_max_size=3))
    assert request.client_max_size == 3
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.text()


@pytest.mark.asyncio
async def test_chunked_body_growing_past_limit_is_413() -> None:
    """A chunked body that grows past client_max_size answers 413 while reading."""
    request, _ = make_request(chunked(b"12345", b"67890", b"abc"), client_max_size=8)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.read()
    assert info.value.max_size == 8
    assert info.value.actual_size > 8


@pytest.mark.asyncio
async def test_body_at_the_limit_is_accepted() -> None:
    """A body of exactly client_max_size bytes is read; 0 disables the limit."""
    at_limit, _ = make_request(chunked(b"12345", b"678"), client_max_size=8)
    assert await at_limit.read() == b"12345678"
    unlimited, _ = make_request(post(b"y" * 100), client_max_size=0)
    assert len(await unlimited.read()) == 100


@pytest.mark.asyncio
async def test_release_discards_the_body() -> None:
    """release() reads and drops the rest of the body."""
    request, _ = make_request(post(b"0123456789"))
    assert await request.content.read(3) == b"012"
    await request.release()
    assert request.content.at_eof()
    assert request.can_read_body is False


# -- storage and connection


@pytest.mark.asyncio
async def test_per_request_storage() -> None:
    """A request is a mutable mapping for per-request values, compared by identity.
    (A str key warns, once per process: test_web_core_key_warnings.py.)"""
    user, n = RequestKey("user", str), RequestKey("n", int)
    request, _ = make_request(get())
    assert request
    request[user] = "ann"
    request[n] = 1
    assert list(request.items()) == [(user, "ann"), (n, 1)]
    del request[n]
    assert len(request) == 1
    assert list(request) == [user]
    other, _ = make_request(get())
    assert request != other
    assert {request: 1}[request] == 1


@pytest.mark.asyncio
async def test_storage_never_written_reads_as_empty() -> None:
    """Before its first value a request stores nothing (the dict is made by that write)."""
    user = RequestKey("user", str)
    request, _ = make_request(get())
    assert (len(request), list(request), request.get(user), user in request) == (0, [], None, False)
    with pytest.raises(KeyError):
        request[user]
    with pytest.raises(KeyError):
        del request[user]
    untouched, _ = make_request(get())
    request[user] = "ann"
    assert (request[user], len(untouched), untouched.get(user)) == ("ann", 0, None)
    del request[user]
    with pytest.raises(KeyError):
        del request[user]
    assert len(request) == 0


@pytest.mark.asyncio
async def test_connection_properties() -> None:
    """transport, protocol, loop, task and repr describe the connection."""
    request, transport = make_request(get("/r?x"))
    assert request.transport is transport
    assert request.protocol.transport is transport
    assert request.task is None
    assert request.loop.is_running()
    assert repr(request) == "<Request GET /r?x >"


@pytest.mark.asyncio
async def test_match_info_before_routing_is_runtime_error() -> None:
    """match_info before the request is routed raises RuntimeError."""
    request, _ = make_request(get())
    assert isinstance(request, Request)
    with pytest.raises(RuntimeError, match="routed"):
        _ = request.match_info


@pytest.mark.asyncio
async def test_json_error_propagates() -> None:
    """json() on a body that is not JSON raises json.JSONDecodeError."""
    request, _ = make_request(post(b"not json"))
    with pytest.raises(json.JSONDecodeError):
        await request.json()
