"""Parsing valid requests: heads, bodies, connection rules, target forms, upgrades."""

from __future__ import annotations

import gc

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from weft.http_parser import (
    BadRequest,
    BodyChunk,
    EndOfMessage,
    Event,
    HttpVersion10,
    HttpVersion11,
    RequestHead,
    RequestParser,
)


def parse(data: bytes, **limits: int) -> list[Event]:
    return RequestParser(**limits).feed(data)


def heads(events: list[Event]) -> list[RequestHead]:
    return [e for e in events if isinstance(e, RequestHead)]


def body(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyChunk))


def only_head(data: bytes) -> RequestHead:
    events = parse(data)
    assert isinstance(events[0], RequestHead)
    return events[0]


def test_simple_get() -> None:
    """A GET yields its head and an EndOfMessage with no body."""
    events = parse(b"GET /a%20b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
    assert len(events) == 2
    head, end = events
    assert isinstance(head, RequestHead)
    assert isinstance(end, EndOfMessage)
    assert head.method == "GET"
    assert head.target == "/a%20b?x=1&y=2"
    assert head.path == "/a%20b"
    assert head.query_string == "x=1&y=2"
    assert head.version == HttpVersion11
    assert isinstance(head.headers, CIMultiDictProxy)
    assert head.headers["host"] == "example.com"
    assert head.raw_headers == ((b"Host", b"example.com"), (b"Accept", b"*/*"))
    assert not head.should_close
    assert not head.chunked
    assert head.content_length is None
    assert not head.upgrade
    assert not head.expect_continue
    assert head.content_encoding is None
    assert len(end.trailers) == 0


def test_header_values_are_stripped_and_repeats_kept() -> None:
    """Field values lose surrounding whitespace; repeated fields keep their order."""
    head = only_head(
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A:  one \t\r\nx-a:two\r\nX-Empty:\r\nX-Sp:   \r\n\r\n"
    )
    assert head.headers.getall("X-A") == ["one", "two"]
    assert head.headers["X-Empty"] == ""
    assert head.headers["X-Sp"] == ""
    assert head.raw_headers[1] == (b"X-A", b"one")


def test_obs_text_values_decode_as_utf8_with_surrogateescape() -> None:
    """Non-ASCII bytes in values decode as UTF-8 and survive undecodable bytes."""
    head = only_head(b"GET / HTTP/1.1\r\nHost: h\r\nX-N: caf\xc3\xa9 \xff\r\n\r\n")
    assert head.headers["X-N"] == "café \udcff"
    assert head.raw_headers[1] == (b"X-N", b"caf\xc3\xa9 \xff")


def test_url_is_lazy_and_cached() -> None:
    """url is built from path and query on first access and then reused."""
    head = only_head(b"GET /p%2Fq?a=%20 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head._url is None
    url = head.url
    assert url is head.url
    assert url.raw_path == "/p%2Fq"
    assert url.raw_query_string == "a=%20"


@pytest.mark.parametrize(
    ("request_line", "path", "query", "form", "url"),
    [
        (b"GET /x?y HTTP/1.1", "/x", "y", "origin", URL("/x?y")),
        (b"GET /x? HTTP/1.1", "/x", "", "origin", URL("/x")),
        (b"GET http://a.example:8080/p?q=1 HTTP/1.1", "/p", "q=1", "absolute", None),
        (b"GET http://a.example HTTP/1.1", "/", "", "absolute", None),
        (b"CONNECT a.example:443 HTTP/1.1", "a.example:443", "", "authority", None),
        (b"CONNECT [::1]:443 HTTP/1.1", "[::1]:443", "", "authority", None),
        (b"OPTIONS * HTTP/1.1", "*", "", "asterisk", None),
    ],
)
def test_target_forms(
    request_line: bytes, path: str, query: str, form: str, url: URL | None
) -> None:
    """Each request-target form yields the right path, query string and url."""
    head = only_head(request_line + b"\r\nHost: h\r\n\r\n")
    assert head.path == path
    assert head.query_string == query
    assert head.target_form == form
    if url is not None:
        assert head.url == url
    if form == "absolute":
        assert head.url.host == "a.example"
        assert head.url.raw_path == path
    if form == "authority":
        assert head.url.raw_authority == path
    if form == "asterisk":
        assert str(head.url) == "*"


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        (b"1.1", None, False),
        (b"1.1", b"close", True),
        (b"1.1", b"Close", True),
        (b"1.1", b"keep-alive", False),
        (b"1.1", b"foo, CLOSE", True),
        (b"1.1", b"keep-alive, close", True),
        (b"1.0", None, True),
        (b"1.0", b"keep-alive", False),
        (b"1.0", b"Keep-Alive", False),
        (b"1.0", b"x,  keep-alive ,y", False),
        (b"1.0", b"keep-alive, close", True),
    ],
)
def test_keep_alive_rules(version: bytes, connection: bytes | None, should_close: bool) -> None:
    """should_close follows the version and the Connection tokens (RFC 9112 §9.3)."""
    data = b"GET / HTTP/" + version + b"\r\nHost: h\r\n"
    if connection is not None:
        data += b"Connection: " + connection + b"\r\n"
    head = only_head(data + b"\r\n")
    assert head.should_close is should_close
    assert head.version == (HttpVersion10 if version == b"1.0" else HttpVersion11)


def test_connection_tokens_across_repeated_fields() -> None:
    """Connection tokens are collected from every Connection line."""
    head = only_head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: close\r\n\r\n")
    assert head.should_close


def test_http_1_minor_above_1_is_processed_as_1_1() -> None:
    """HTTP/1.2 is handled as HTTP/1.1 (RFC 9110 §2.5)."""
    head = only_head(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n")
    assert head.version == HttpVersion11


def test_http10_without_host_is_accepted() -> None:
    """Host is only required in HTTP/1.1 requests."""
    head = only_head(b"GET / HTTP/1.0\r\n\r\n")
    assert head.version == HttpVersion10
    assert "Host" not in head.headers


def test_empty_host_is_accepted() -> None:
    """An empty Host value is valid (RFC 9112 §3.2)."""
    assert only_head(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").headers["Host"] == ""


@pytest.mark.parametrize(
    ("expect", "version", "expected"),
    [
        (b"100-continue", b"1.1", True),
        (b"100-Continue", b"1.1", True),
        (b"100-continue", b"1.0", False),
        (b"something-else", b"1.1", False),
    ],
)
def test_expect_continue(expect: bytes, version: bytes, expected: bool) -> None:
    """expect_continue is set by Expect: 100-continue in HTTP/1.1 only (RFC 9110 §10.1.1)."""
    head = only_head(b"PUT / HTTP/" + version + b"\r\nHost: h\r\nExpect: " + expect + b"\r\n\r\n")
    assert head.expect_continue is expected


def test_content_encoding_is_reported_lowercased() -> None:
    """content_encoding is the Content-Encoding value, lowercased."""
    head = only_head(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: GZip\r\n\r\n")
    assert head.content_encoding == "gzip"


def test_content_length_body() -> None:
    """A Content-Length body arrives as BodyChunk events, then EndOfMessage."""
    events = parse(b"POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.content_length == 5
    assert events[1:] == [BodyChunk(b"hello"), EndOfMessage()]


def test_content_length_zero_has_no_body_events() -> None:
    """Content-Length: 0 ends the message at the head."""
    events = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    assert [type(e) for e in events] == [RequestHead, EndOfMessage]


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 3\r\nContent-Length: 3\r\n",
        b"Content-Length: 3, 3\r\n",
        b"Content-Length: 3,3\r\n",
        b"Content-Length: 3\r\nContent-Length: 4\r\n",
    ],
)
def test_repeated_content_length_is_refused_even_with_one_value(fields: bytes) -> None:
    """Content-Length is a singleton: twice, or as a list, is 400 whatever the values.

    RFC 9110 §8.6 lets a recipient fold identical values; weft refuses instead,
    as aiohttp does, since a hop that does not fold frames the body differently.
    """
    data = b"POST / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\nabc"
    with pytest.raises(BadRequest, match="Content-Length"):
        parse(data)


def test_content_length_with_many_leading_zeros_is_its_value() -> None:
    """``1*DIGIT`` allows leading zeros, however many: 30 zeros then 3 is 3."""
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + b"0" * 30 + b"3\r\n\r\nabc"
    assert body(parse(data)) == b"abc"


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Type: text/plain\r\nContent-Type: application/json\r\n",
        b"Content-Type: text/plain\r\ncontent-type: text/plain\r\n",
    ],
)
def test_repeated_content_type_is_refused(fields: bytes) -> None:
    """Content-Type is a singleton: two fields, equal or not, are 400 (which one is the body?)."""
    data = b"POST / HTTP/1.1\r\nHost: h\r\n" + fields + b"Content-Length: 2\r\n\r\n{}"
    with pytest.raises(BadRequest, match="Content-Type"):
        parse(data)


def test_one_content_type_with_commas_is_accepted() -> None:
    """A single Content-Type whose parameters hold commas is not a repeat."""
    head = only_head(b'GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a/b; x="1,2"\r\n\r\n')
    assert head.headers["Content-Type"] == 'a/b; x="1,2"'


def test_body_arriving_in_pieces() -> None:
    """Body bytes are passed on as they arrive, without waiting for the whole body."""
    parser = RequestParser()
    first = parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab")
    assert first[1:] == [BodyChunk(b"ab")]
    assert parser.feed(b"cd") == [BodyChunk(b"cd")]
    assert parser.feed(b"ef") == [BodyChunk(b"ef"), EndOfMessage()]


def test_body_chunk_is_not_copied_when_a_feed_is_all_body() -> None:
    """A feed() that is all body comes back as the very same bytes object."""
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n")
    data = b"12345678"
    (chunk, _end) = parser.feed(data)
    assert isinstance(chunk, BodyChunk)
    assert chunk.data is data


def test_chunked_body_with_extensions_and_trailers() -> None:
    """Chunk extensions are accepted and skipped; trailers arrive in EndOfMessage."""
    data = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n"
        b'1 ; a ; b = "q\\"uoted"\r\n \r\n'
        b"A\r\n0123456789\r\n"
        b"0;last\r\nDigest: sha-256=abc\r\nX-Trailer: 1\r\n\r\n"
    )
    events = parse(data)
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.chunked
    assert head.content_length is None
    assert body(events) == b"hello 0123456789"
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert list(end.trailers.items()) == [("Digest", "sha-256=abc"), ("X-Trailer", "1")]


def test_chunked_is_case_insensitive_and_lists_may_have_empty_elements() -> None:
    """Transfer-Encoding: ', Chunked' is chunked."""
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , Chunked\r\n\r\n0\r\n\r\n"
    events = parse(data)
    assert [type(e) for e in events] == [RequestHead, EndOfMessage]


def test_chunked_without_trailers() -> None:
    """A chunked body ending in 0 CRLF CRLF has empty trailers."""
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    events = parse(data)
    assert events[1:] == [BodyChunk(b"abc"), EndOfMessage()]


def test_pipelined_requests_in_one_feed() -> None:
    """Several requests in one feed() come out in order."""
    data = (
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
        b"POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n"
        b"GET /4 HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    events = parse(data)
    assert [h.path for h in heads(events)] == ["/1", "/2", "/3", "/4"]
    assert [type(e).__name__ for e in events] == [
        "RequestHead",
        "EndOfMessage",
        "RequestHead",
        "BodyChunk",
        "EndOfMessage",
        "RequestHead",
        "BodyChunk",
        "EndOfMessage",
        "RequestHead",
        "EndOfMessage",
    ]


def test_partial_next_request_waits() -> None:
    """The start of a pipelined request is kept until the rest arrives."""
    parser = RequestParser()
    events = parser.feed(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTT")
    assert [h.path for h in heads(events)] == ["/1"]
    events = parser.feed(b"P/1.1\r\nHost: h\r\n\r\n")
    assert [h.path for h in heads(events)] == ["/2"]


def test_empty_lines_before_a_request_are_ignored() -> None:
    """CRLFs before a request-line are skipped (RFC 9112 §2.2)."""
    events = parse(b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert [h.path for h in heads(events)] == ["/"]


def test_bytes_after_connection_close_are_dropped() -> None:
    """Nothing after a request with Connection: close is parsed (RFC 9112 §9.6)."""
    parser = RequestParser()
    events = parser.feed(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    assert len(heads(events)) == 1
    assert parser.feed(b"garbage") == []
    assert parser.feed_eof() == []


def test_upgrade_stops_http_parsing_and_keeps_trailing_data() -> None:
    """After an Upgrade request the following bytes are handed over, not parsed."""
    parser = RequestParser()
    events = parser.feed(
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
        b"Upgrade: websocket\r\n\r\n\x81\x05hello"
    )
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.upgrade
    assert events[1:] == [EndOfMessage()]
    assert parser.switched
    assert parser.feed(b"\x81\x00") == []
    assert parser.take_trailing_data() == b"\x81\x05hello\x81\x00"
    assert parser.take_trailing_data() == b""
    assert parser.feed_eof() == []


def test_upgrade_needs_both_connection_token_and_header() -> None:
    """upgrade is False without the Connection token or without the Upgrade header."""
    assert not only_head(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").upgrade
    assert not only_head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n").upgrade
    assert not only_head(
        b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    ).upgrade


@pytest.mark.parametrize("upgrade", [b"", b",", b" , ,", b"\t"])
def test_an_empty_upgrade_field_does_not_switch_protocols(upgrade: bytes) -> None:
    """``Upgrade`` = #protocol: a field naming no protocol has nothing to switch to (RFC 9110
    §7.8), so the request is plain HTTP and the next one is parsed."""
    parser = RequestParser()
    events = parser.feed(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade:" + upgrade + b"\r\n\r\n"
        b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    heads = [e for e in events if isinstance(e, RequestHead)]
    assert [h.path for h in heads] == ["/", "/next"]
    assert not heads[0].upgrade
    assert not parser.switched


def test_an_upgrade_field_with_a_protocol_among_empty_elements_switches() -> None:
    """``Upgrade: , websocket`` names a protocol: it switches."""
    head = only_head(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: , websocket\r\n\r\n"
    )
    assert head.upgrade


@pytest.mark.parametrize(
    "line",
    [
        b"GET http://h.example:x/ HTTP/1.1",
        b"GET http://h:80:80/ HTTP/1.1",
        b"GET http://[::1/ HTTP/1.1",
        b"GET http://[::1]x/ HTTP/1.1",
        b"GET http://:80/ HTTP/1.1",
        b"GET http://h:99999/ HTTP/1.1",
        b"GET http://h:0000000000000000000000000065536/ HTTP/1.1",
        b"GET http://h%2/ HTTP/1.1",
        b"GET http://[g::1]/ HTTP/1.1",
        b"CONNECT h:99999 HTTP/1.1",
        b"CONNECT [::1:443 HTTP/1.1",
        b"CONNECT :443 HTTP/1.1",
    ],
)
def test_a_target_authority_that_is_not_host_port_is_refused(line: bytes) -> None:
    """An absolute-form or authority-form target's authority is host[:port] (RFC 9112
    §3.2.2-3.2.3, RFC 3986 §3.2.2-3.2.3), the port at most 65535, the host not empty."""
    with pytest.raises(BadRequest, match=r"authority|CONNECT"):
        parse(line + b"\r\nHost: h\r\n\r\n")


@pytest.mark.parametrize(
    ("target", "port"),
    [
        (b"http://h.example:65535/", 65535),
        (b"http://h.example:/", 80),
        (b"http://h.example:0080/x", 80),
        (b"http://[::1]:8080/", 8080),
        (b"http://[v1.x]/", 80),
        (b"http://h%41.example/", 80),
        (b"https://1.2.3.4/", 443),
    ],
)
def test_a_valid_target_authority_is_accepted_and_gives_a_url(target: bytes, port: int) -> None:
    """Every authority the parser accepts is one ``RequestHead.url`` can build a URL from."""
    head = only_head(b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head.target_form == "absolute"
    assert head.url.port == port
    assert head.url.host is not None


def test_connect_port_65535_is_accepted() -> None:
    """The largest port is fine in an authority-form target."""
    assert only_head(b"CONNECT h:65535 HTTP/1.1\r\nHost: h\r\n\r\n").target_form == "authority"


def test_upgrade_with_body_switches_after_the_body() -> None:
    """An upgrade request's own body is parsed before the switch."""
    parser = RequestParser()
    events = parser.feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n"
        b"Content-Length: 3\r\n\r\nabcNEW"
    )
    assert events[1:] == [BodyChunk(b"abc"), EndOfMessage()]
    assert parser.take_trailing_data() == b"NEW"


def test_connect_switches_to_a_tunnel() -> None:
    """After a CONNECT request the bytes belong to the tunnel."""
    parser = RequestParser()
    events = parser.feed(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01")
    assert [type(e) for e in events] == [RequestHead, EndOfMessage]
    assert parser.switched
    assert parser.take_trailing_data() == b"\x16\x03\x01"


def test_resume_http_after_a_declined_upgrade() -> None:
    """resume_http() parses the bytes after a declined upgrade as HTTP again."""
    parser = RequestParser()
    parser.feed(
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
        b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    events = parser.resume_http()
    assert [h.path for h in heads(events)] == ["/next"]
    assert not parser.switched


def test_resume_http_needs_a_switched_parser() -> None:
    """resume_http() on a parser that did not switch is a usage error."""
    with pytest.raises(RuntimeError):
        RequestParser().resume_http()


def test_feed_eof_between_requests_is_clean() -> None:
    """feed_eof() after complete requests returns no events."""
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n\r")
    assert parser.feed_eof() == []


@pytest.mark.parametrize(
    "partial",
    [
        b"GET / HTTP/1.1\r\nHost: h\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
    ],
)
def test_feed_eof_inside_a_message_raises(partial: bytes) -> None:
    """feed_eof() in the middle of a request raises BadRequest."""
    parser = RequestParser()
    parser.feed(partial)
    with pytest.raises(BadRequest, match="closed before"):
        parser.feed_eof()


def test_feed_after_feed_eof_is_a_usage_error() -> None:
    """feed() after feed_eof() raises RuntimeError."""
    parser = RequestParser()
    parser.feed_eof()
    with pytest.raises(RuntimeError):
        parser.feed(b"GET / HTTP/1.1\r\n")


def test_feed_accepts_bytearray_and_memoryview() -> None:
    """feed() takes any bytes-like object."""
    parser = RequestParser()
    assert len(parser.feed(bytearray(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"))) == 2
    assert len(parser.feed(memoryview(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"))) == 2


def test_limits_must_be_positive() -> None:
    """Limits that are not positive ints are refused at construction."""
    with pytest.raises(ValueError, match="max_line_size"):
        RequestParser(max_line_size=0)
    with pytest.raises(ValueError, match="max_body_size"):
        RequestParser(max_body_size=-1)


def test_events_compare_by_value() -> None:
    """Events are equal when their contents are, and have useful reprs."""
    assert BodyChunk(b"a") == BodyChunk(b"a")
    assert BodyChunk(b"a") != BodyChunk(b"b")
    assert EndOfMessage() == EndOfMessage()
    assert repr(BodyChunk(b"a")) == "BodyChunk(b'a')"
    head = only_head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head == only_head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert "GET /" in repr(head)


def test_max_messages_stops_before_the_next_head_and_keeps_its_bytes() -> None:
    """feed(data, max_messages=n) returns at most n heads, each with its whole body if
    it arrived; the rest stays buffered, and feed(b"") with room goes on from there, so
    any caps give the same requests in the same order (row 31's hard queue cap)."""
    one = b"POST /%d HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
    data = b"".join(one % i for i in range(7)) + b"GET /partial HTT"
    parser = RequestParser()
    events = parser.feed(data, 2)
    assert [h.path for h in heads(events)] == ["/0", "/1"]
    assert isinstance(events[-1], EndOfMessage)  # the second body is complete
    assert body(events) == b"abab"
    assert parser.head_pending
    assert parser.feed(b"", 0) == []  # no room: nothing parsed, nothing lost
    assert parser.feed(b"P/1.1\r\nHost: h\r\n", 0) == []
    events = parser.feed(b"", 3)
    assert [h.path for h in heads(events)] == ["/2", "/3", "/4"]
    events = parser.feed(b"\r\n")  # no limit: the rest, the partial head completed
    assert [h.path for h in heads(events)] == ["/5", "/6", "/partial"]
    assert not parser.head_pending


def test_max_messages_counts_heads_of_messages_without_a_body() -> None:
    """Thousands of tiny pipelined requests in one feed: the cap holds exactly."""
    data = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" * 5000
    parser = RequestParser()
    total = 0
    while True:
        got = len(heads(parser.feed(b"", 32) if total else parser.feed(data, 32)))
        assert got <= 32
        if not got:
            break
        total += got
    assert total == 5000
    assert not parser.head_pending


@pytest.mark.parametrize(
    ("data", "pending"),
    [
        (b"", False),
        (b"\r", False),  # a lone CR of the empty lines before a request-line
        (b"G", True),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\nG", True),  # a head after a whole request
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na", False),  # in a body
    ],
)
def test_head_pending_says_whether_a_head_has_begun(data: bytes, pending: bool) -> None:
    """head_pending is true exactly while bytes of a head not yet returned are held."""
    parser = RequestParser()
    parser.feed(data)
    assert parser.head_pending is pending


def test_an_ended_message_leaves_no_head_in_the_parser() -> None:
    # An idle keep-alive connection keeps its parser: the last head (its fields)
    # must not stay alive with it until the next request.
    parser = RequestParser()
    for data in (b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n", POST_WITH_BODY):
        events = parser.feed(data)
        head = events[0]
        assert isinstance(head, RequestHead)
        assert isinstance(events[-1], EndOfMessage)
        assert parser not in gc.get_referrers(head)
    # A message that switches protocols keeps its head: resume_http() needs it.
    upgrade = b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    events = parser.feed(upgrade)
    assert parser in gc.get_referrers(events[0])


POST_WITH_BODY = b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
