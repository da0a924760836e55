"""ResponseParser: framing by method and status, 1xx, pipelining, EOF bodies, errors."""

from __future__ import annotations

import pytest

from weft.http_parser import (
    BadRequest,
    BodyChunk,
    EndOfMessage,
    HeaderFieldsTooLarge,
    HttpParserError,
    HttpVersion10,
    HttpVersion11,
    NotImplementedCoding,
    PayloadTooLarge,
    ResponseEvent,
    ResponseHead,
    ResponseParser,
    VersionNotSupported,
)


def parse(data: bytes, *methods: str, eof: bool = False, **limits: int) -> list[ResponseEvent]:
    parser = ResponseParser(**limits)
    for method in methods or ("GET",):
        parser.expect_response(method)
    events = parser.feed(data)
    if eof:
        events += parser.feed_eof()
    return events


def body_of(events: list[ResponseEvent]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyChunk))


def test_content_length_response() -> None:
    """A Content-Length response gives head, body and end, with its fields."""
    events = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status, head.reason, head.version) == (200, "OK", HttpVersion11)
    assert head.headers["x-a"] == "b"
    assert head.raw_headers == ((b"Content-Length", b"5"), (b"X-A", b"b"))
    assert head.content_length == 5
    assert not head.chunked
    assert not head.should_close
    assert not head.upgrade
    assert body_of(events) == b"hello"
    assert isinstance(events[-1], EndOfMessage)


def test_chunked_response_with_trailers() -> None:
    """A chunked response's chunks are joined and its trailers delivered."""
    events = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nDigest: d\r\n\r\n"
    )
    head, end = events[0], events[-1]
    assert isinstance(head, ResponseHead)
    assert head.chunked
    assert body_of(events) == b"abcde"
    assert isinstance(end, EndOfMessage)
    assert end.trailers["Digest"] == "d"


def test_body_until_eof() -> None:
    """Without length or chunking the body runs to the close, and should_close is set."""
    parser = ResponseParser()
    parser.expect_response("GET")
    events = parser.feed(b"HTTP/1.1 200 OK\r\n\r\nsome")
    events += parser.feed(b" data")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.should_close
    last: ResponseEvent = events[-1]
    assert not isinstance(last, EndOfMessage)
    events += parser.feed_eof()
    assert body_of(events) == b"some data"
    assert isinstance(events[-1], EndOfMessage)


def test_body_until_eof_respects_max_body_size() -> None:
    """A close-delimited body larger than max_body_size is refused with 413."""
    parser = ResponseParser(max_body_size=4)
    parser.expect_response("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\nabc")
    with pytest.raises(PayloadTooLarge):
        parser.feed(b"de")


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", 200), ("GET", 204), ("GET", 304), ("HEAD", 404)],
)
def test_responses_without_body(method: str, status: int) -> None:
    """HEAD responses, 204 and 304 have no body whatever Content-Length says."""
    data = b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status
    events = parse(data + b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", method, "GET")
    assert [type(e) for e in events] == [
        ResponseHead,
        EndOfMessage,
        ResponseHead,
        BodyChunk,
        EndOfMessage,
    ]
    first = events[0]
    assert isinstance(first, ResponseHead)
    assert first.content_length == 10


def test_informational_heads_precede_the_final_response() -> None:
    """1xx heads are delivered without EndOfMessage and do not use up the request."""
    parser = ResponseParser()
    parser.expect_response("POST")
    events = parser.feed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    )
    statuses = [e.status for e in events if isinstance(e, ResponseHead)]
    assert statuses == [100, 103, 201]
    assert [type(e) for e in events][-2:] == [ResponseHead, EndOfMessage]
    assert sum(isinstance(e, EndOfMessage) for e in events) == 1
    assert parser.pending == 0


def test_pipelined_responses_match_requests_in_order() -> None:
    """Responses are framed by the method of the request each answers, in order."""
    events = parse(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        "HEAD",
        "GET",
    )
    assert [type(e) for e in events] == [
        ResponseHead,
        EndOfMessage,
        ResponseHead,
        BodyChunk,
        EndOfMessage,
    ]


def test_response_without_a_request_is_an_error() -> None:
    """A response nobody asked for (or a missing expect_response) is refused."""
    parser = ResponseParser()
    with pytest.raises(BadRequest, match="no request awaits"):
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def test_switching_protocols() -> None:
    """A 101 ends HTTP: EndOfMessage, then the rest is the new protocol's bytes."""
    parser = ResponseParser()
    parser.expect_response("GET")
    events = parser.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.upgrade
    assert isinstance(events[1], EndOfMessage)
    assert parser.switched
    assert parser.feed(b"more") == []
    assert parser.take_trailing_data() == b"\x81\x00more"


def test_connect_tunnel() -> None:
    """A 2xx to CONNECT opens a tunnel even with a Content-Length."""
    parser = ResponseParser()
    parser.expect_response("CONNECT")
    events = parser.feed(b"HTTP/1.1 200 Connection Established\r\n\r\nTLS")
    assert [type(e) for e in events] == [ResponseHead, EndOfMessage]
    assert parser.switched
    assert parser.take_trailing_data() == b"TLS"


def test_connect_refused_has_a_body() -> None:
    """A non-2xx answer to CONNECT is an ordinary response."""
    events = parse(b"HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nno", "CONNECT")
    assert body_of(events) == b"no"


@pytest.mark.parametrize(
    ("line", "version", "status", "reason"),
    [
        (b"HTTP/1.1 200 OK", HttpVersion11, 200, "OK"),
        (b"HTTP/1.0 404 Not Found", HttpVersion10, 404, "Not Found"),
        (b"HTTP/1.1 200", HttpVersion11, 200, ""),
        (b"HTTP/1.1 200 ", HttpVersion11, 200, ""),
        (b"HTTP/1.1 599 \xc3\xa9 t\tab", HttpVersion11, 599, "\xe9 t\tab"),
    ],
)
def test_status_lines(line: bytes, version: object, status: int, reason: str) -> None:
    """Status lines with and without reasons parse; the reason is kept as sent."""
    head = parse(line + b"\r\nContent-Length: 0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead)
    assert (head.version, head.status, head.reason) == (version, status, reason)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"HTTP/1.1 20 OK", BadRequest),
        (b"HTTP/1.1 099 X", BadRequest),
        (b"HTTP/1.1 2000 X", BadRequest),
        (b"HTTP/1.1  200 OK", BadRequest),
        (b"http/1.1 200 OK", BadRequest),
        (b"HTTP/1.1 200 O\x00K", BadRequest),
        (b"HTTP/2.0 200 OK", VersionNotSupported),
        (b"HTTP/3 200 OK", VersionNotSupported),
        (b"ICY 200 OK", BadRequest),
    ],
)
def test_bad_status_lines(line: bytes, error: type[HttpParserError]) -> None:
    """Malformed status lines are refused with the matching error class."""
    with pytest.raises(error):
        parse(line + b"\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", BadRequest),
        (b"Transfer-Encoding: gzip\r\n", NotImplementedCoding),
        (b"Transfer-Encoding: gzip, chunked\r\n", NotImplementedCoding),
        (b"Transfer-Encoding: chunked, chunked\r\n", BadRequest),
        (b"Content-Length: 1\r\nContent-Length: 2\r\n", BadRequest),
        (b"Content-Length: -1\r\n", BadRequest),
        (b"Bad Name: x\r\n", BadRequest),
        (b"X: a\r\n b\r\n", BadRequest),
    ],
)
def test_bad_framing(fields: bytes, error: type[HttpParserError]) -> None:
    """The request parser's framing rules hold for responses too."""
    with pytest.raises(error):
        parse(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n")


def test_transfer_encoding_in_http10_response() -> None:
    """An HTTP/1.0 response with Transfer-Encoding has faulty framing."""
    with pytest.raises(BadRequest, match=r"HTTP/1\.0"):
        parse(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")


@pytest.mark.parametrize(
    ("data", "close"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", False),
    ],
)
def test_keep_alive(data: bytes, close: bool) -> None:
    """should_close follows the version and the Connection tokens."""
    head = parse(data)[0]
    assert isinstance(head, ResponseHead)
    assert head.should_close is close


def test_bytes_after_a_closing_response_are_dropped() -> None:
    """After a Connection: close response nothing more is parsed."""
    parser = ResponseParser()
    parser.expect_response("GET")
    parser.expect_response("GET")
    events = parser.feed(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\ngarbage\r\n\r\n"
    )
    assert len(events) == 2


def test_limits() -> None:
    """Over-long status lines and header sections are refused (431)."""
    with pytest.raises(HeaderFieldsTooLarge, match="status-line"):
        parse(b"HTTP/1.1 200 " + b"x" * 100 + b"\r\n\r\n", max_line_size=50)
    with pytest.raises(HeaderFieldsTooLarge):
        parse(b"HTTP/1.1 200 OK\r\nX: " + b"y" * 100 + b"\r\n\r\n", max_field_size=50)
    with pytest.raises(PayloadTooLarge):
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", max_body_size=10)


def test_incomplete_response_at_eof() -> None:
    """A connection closed inside a length-delimited body is an error."""
    parser = ResponseParser()
    parser.expect_response("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    with pytest.raises(BadRequest, match="closed"):
        parser.feed_eof()


def test_content_encoding_is_reported() -> None:
    """content_encoding is the lowercased Content-Encoding value."""
    head = parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: GZip\r\nContent-Length: 0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead)
    assert head.content_encoding == "gzip"


def test_expect_response_needs_a_method() -> None:
    """expect_response('') is a usage error."""
    with pytest.raises(ValueError, match="method"):
        ResponseParser().expect_response("")


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 2\r\nContent-Length: 2\r\n",
        b"Content-Length: 2, 2\r\n",
        b"Content-Type: a/b\r\nContent-Type: a/b\r\nContent-Length: 2\r\n",
    ],
)
def test_a_repeated_singleton_field_in_a_response_is_refused(fields: bytes) -> None:
    """Content-Length and Content-Type are singletons in responses too: a repeat is 400,
    even with one value (a proxy relaying it could frame or label the body differently)."""
    with pytest.raises(BadRequest, match=r"Content-(Length|Type)"):
        parse(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nab")


def test_an_empty_upgrade_in_a_101_still_switches() -> None:
    """A 101 switches whatever its Upgrade field says: the server already has (RFC 9110 §15.2.2)."""
    events = parse(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: \r\nConnection: upgrade\r\n\r\n")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.upgrade
