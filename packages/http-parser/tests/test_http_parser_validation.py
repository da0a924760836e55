"""Every validation rule: bytes in, a typed error with the right status out."""

from __future__ import annotations

import pytest

from weft.http_parser import (
    BadRequest,
    HeaderFieldsTooLarge,
    HttpParserError,
    NotImplementedCoding,
    PayloadTooLarge,
    RequestHead,
    RequestParser,
    RequestTargetTooLong,
    VersionNotSupported,
)

H = b"Host: h\r\n"
CHUNKED = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"

# (id, bytes, error class); each row is one rule of the README's table.
CASES: list[tuple[str, bytes, type[HttpParserError]]] = [
    # request-line
    ("method not a token", b"G(T / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("method with NUL", b"G\x00T / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("TLS ClientHello", b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03", BadRequest),
    ("leading space", b" GET / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("method over 32 bytes", b"A" * 33 + b" / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("two spaces", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("tab separator", b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("missing version", b"GET /\r\n" + H + b"\r\n", BadRequest),
    ("space in target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("non-ASCII target", b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("control in target", b"GET /a\x01 HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("fragment in target", b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("relative target", b"GET a/b HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("asterisk not OPTIONS", b"GET * HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("CONNECT origin-form", b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("CONNECT no port", b"CONNECT h HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute no host", b"GET http:///x HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute userinfo", b"GET http://u@h/x HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("lowercase version", b"GET / http/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute port not digits", b"GET http://h:x/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute port too big", b"GET http://h:65536/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute empty host", b"GET http://:80/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute bad IP literal", b"GET http://[::1/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("absolute bad percent", b"GET http://h%zz/ HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    ("CONNECT port too big", b"CONNECT h:99999 HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    # singleton fields (README "Singleton fields")
    (
        "Content-Length twice",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\n" * 2 + b"\r\nx",
        BadRequest,
    ),
    (
        "Content-Length list",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1, 1\r\n\r\nx",
        BadRequest,
    ),
    (
        "Content-Type twice",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Type: a/b\r\n" * 2 + b"\r\n",
        BadRequest,
    ),
    # non-ASCII bytes in framing fields (CVE-2025-69224)
    (
        "TE non-ASCII",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chun\xe2\x84\xaaed\r\n\r\n",
        BadRequest,
    ),
    (
        "Connection non-ASCII",
        b"GET / HTTP/1.1\r\n" + H + b"Connection: clos\xc3\xa9\r\n\r\n",
        BadRequest,
    ),
    (
        "Upgrade non-ASCII",
        b"GET / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: h\xc2\xb2c\r\n\r\n",
        BadRequest,
    ),
    (
        "Content-Length non-ASCII digit",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \xd9\xa1\r\n\r\n",
        BadRequest,
    ),
    ("version garbage", b"GET / HTTP/1.x\r\n" + H + b"\r\n", BadRequest),
    ("version two-digit minor", b"GET / HTTP/1.10\r\n" + H + b"\r\n", BadRequest),
    ("version no minor", b"GET / HTTP/1\r\n" + H + b"\r\n", BadRequest),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n", VersionNotSupported),
    ("HTTP/3", b"GET / HTTP/3\r\n" + H + b"\r\n", VersionNotSupported),
    ("HTTP/0.9", b"GET / HTTP/0.9\r\n" + H + b"\r\n", VersionNotSupported),
    ("h2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", VersionNotSupported),
    # line endings
    ("bare LF after request-line", b"GET / HTTP/1.1\n" + H + b"\r\n", BadRequest),
    ("bare LF after field", b"GET / HTTP/1.1\r\nHost: h\n\r\n", BadRequest),
    ("bare LF as end of head", b"GET / HTTP/1.1\r\nHost: h\r\n\n", BadRequest),
    ("bare CR in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", BadRequest),
    ("bare CR ends value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", BadRequest),
    ("bare CR in request-line", b"GET /\r HTTP/1.1\r\n" + H + b"\r\n", BadRequest),
    # field lines
    ("space before colon", b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", BadRequest),
    ("tab before colon", b"GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", BadRequest),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", BadRequest),
    ("obs-fold tab", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", BadRequest),
    ("no colon", b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", BadRequest),
    ("empty name", b"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", BadRequest),
    ("bad name char", b"GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", BadRequest),
    ("non-ASCII name", b"GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", BadRequest),
    ("NUL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", BadRequest),
    ("control in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x1bb\r\n\r\n", BadRequest),
    ("DEL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", BadRequest),
    # Host
    ("Host missing in 1.1", b"GET / HTTP/1.1\r\nX: y\r\n\r\n", BadRequest),
    ("Host repeated", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", BadRequest),
    ("Host repeated 1.0", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", BadRequest),
    ("Host with path", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", BadRequest),
    ("Host with space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", BadRequest),
    ("Host with userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", BadRequest),
    ("Host bad port", b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", BadRequest),
    # framing
    (
        "TE with CL",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        BadRequest,
    ),
    (
        "TE in HTTP/1.0",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        BadRequest,
    ),
    (
        "chunked not last",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        BadRequest,
    ),
    ("TE only gzip", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", BadRequest),
    (
        "chunked twice",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        BadRequest,
    ),
    ("TE empty", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n", BadRequest),
    (
        "TE with params",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n",
        BadRequest,
    ),
    (
        "unknown coding",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        NotImplementedCoding,
    ),
    (
        "unknown coding 2",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: foo\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        NotImplementedCoding,
    ),
    ("CL sign", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", BadRequest),
    ("CL negative", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -3\r\n\r\n", BadRequest),
    ("CL hex", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\n", BadRequest),
    ("CL float", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3.0\r\n\r\n", BadRequest),
    ("CL empty", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", BadRequest),
    ("CL inner space", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", BadRequest),
    (
        "CL unicode digit",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \xd9\xa3\r\n\r\n",
        BadRequest,
    ),
    (
        "CL overflow",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",
        BadRequest,
    ),
    (
        "CL differing",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        BadRequest,
    ),
    (
        "CL differing list",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n",
        BadRequest,
    ),
    (
        "CONNECT with body",
        b"CONNECT h:1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
        BadRequest,
    ),
    # chunked coding
    ("chunk size not hex", CHUNKED + b"g\r\n", BadRequest),
    ("chunk size empty", CHUNKED + b"\r\n", BadRequest),
    ("chunk size signed", CHUNKED + b"+5\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk size 0x", CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk size space", CHUNKED + b"5 \r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk size leading space", CHUNKED + b" 5\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk size too long", CHUNKED + b"00000000000000001\r\nx\r\n0\r\n\r\n", BadRequest),
    ("chunk size overflow", CHUNKED + b"ffffffffffffffff\r\n", BadRequest),
    ("chunk ext no name", CHUNKED + b"5;\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk ext bad value", CHUNKED + b"5;a=b c\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk ext open quote", CHUNKED + b'5;a="b\r\nhello\r\n0\r\n\r\n', BadRequest),
    ("chunk ext NUL", CHUNKED + b"5;a\x00\r\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk line too long", CHUNKED + b"5;" + b"a" * 5000 + b"\r\n", BadRequest),
    ("chunk line bare LF", CHUNKED + b"5\nhello\r\n0\r\n\r\n", BadRequest),
    ("chunk data too long", CHUNKED + b"5\r\nhello!\r\n0\r\n\r\n", BadRequest),
    ("chunk data bare LF", CHUNKED + b"5\r\nhello\n0\r\n\r\n", BadRequest),
    ("trailer bad", CHUNKED + b"0\r\nBad Trailer\r\n\r\n", BadRequest),
    ("trailer bare LF", CHUNKED + b"0\r\nX: y\n\r\n", BadRequest),
    ("trailer end bare LF", CHUNKED + b"0\r\n\n", BadRequest),
    ("trailer obs-fold", CHUNKED + b"0\r\nX: y\r\n z\r\n\r\n", BadRequest),
]


@pytest.mark.parametrize(("data", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(data: bytes, error: type[HttpParserError]) -> None:
    """Each malformed request raises its typed error, which carries the right status."""
    parser = RequestParser()
    with pytest.raises(error) as info:
        parser.feed(data)
    assert type(info.value) is error
    assert info.value.status == error.status
    assert str(info.value)


@pytest.mark.parametrize(("data", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_byte_by_byte(data: bytes, error: type[HttpParserError]) -> None:
    """The same error is raised when the request arrives one byte at a time."""
    parser = RequestParser()

    def feed_bytes() -> None:
        for i in range(len(data)):
            parser.feed(data[i : i + 1])
        parser.feed_eof()

    with pytest.raises(error):
        feed_bytes()


def test_statuses() -> None:
    """The error classes carry 400, 414, 431, 413, 501 and 505."""
    assert BadRequest.status == 400
    assert RequestTargetTooLong.status == 414
    assert HeaderFieldsTooLarge.status == 431
    assert PayloadTooLarge.status == 413
    assert NotImplementedCoding.status == 501
    assert VersionNotSupported.status == 505


def test_request_target_limit() -> None:
    """A request-target over max_line_size is 414, complete or not."""
    line = b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n"
    with pytest.raises(RequestTargetTooLong):
        RequestParser(max_line_size=100).feed(line + H + b"\r\n")
    with pytest.raises(RequestTargetTooLong):
        RequestParser(max_line_size=100).feed(b"GET /" + b"a" * 200)


def test_request_target_at_the_limit_is_accepted() -> None:
    """A request-target of exactly max_line_size bytes is accepted: the method and
    the version around it are not counted (aiohttp's C parser counts its URL)."""
    line = b"GET /" + b"a" * 99 + b" HTTP/1.1"
    events = RequestParser(max_line_size=100).feed(line + b"\r\n" + H + b"\r\n")
    assert isinstance(events[0], RequestHead)
    assert len(events[0].target) == 100


def test_field_value_limit() -> None:
    """A header value over max_field_size is 431, complete or not; the name and the
    colon do not count against it."""
    field = b"X: " + b"v" * 101
    with pytest.raises(HeaderFieldsTooLarge, match="value of header 'X'"):
        RequestParser(max_field_size=100).feed(b"GET / HTTP/1.1\r\n" + H + field + b"\r\n\r\n")
    with pytest.raises(HeaderFieldsTooLarge, match="value of header 'X'"):
        RequestParser(max_field_size=100).feed(b"GET / HTTP/1.1\r\n" + H + field)
    ok = b"X: " + b"v" * 100
    events = RequestParser(max_field_size=100).feed(b"GET / HTTP/1.1\r\n" + H + ok + b"\r\n\r\n")
    assert isinstance(events[0], RequestHead)


def test_header_count_limit() -> None:
    """More than max_headers header lines is 431."""
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    with pytest.raises(HeaderFieldsTooLarge, match="max_headers"):
        RequestParser(max_headers=10).feed(b"GET / HTTP/1.1\r\n" + H + fields + b"\r\n")
    events = RequestParser(max_headers=11).feed(b"GET / HTTP/1.1\r\n" + H + fields + b"\r\n")
    assert isinstance(events[0], RequestHead)


def test_header_section_size_limit() -> None:
    """A header section over max_head_size is 431, complete or not."""
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 50) for i in range(30))
    with pytest.raises(HeaderFieldsTooLarge, match="max_head_size"):
        RequestParser(max_head_size=1000).feed(b"GET / HTTP/1.1\r\n" + H + fields + b"\r\n")
    with pytest.raises(HeaderFieldsTooLarge, match="max_head_size"):
        RequestParser(max_head_size=1000).feed(b"GET / HTTP/1.1\r\n" + H + fields)


def test_trailer_limits() -> None:
    """Trailer sections are bounded like header sections."""
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    with pytest.raises(HeaderFieldsTooLarge):
        RequestParser(max_headers=5).feed(CHUNKED + b"0\r\n" + fields + b"\r\n")


def test_body_limit_with_content_length_raises_at_the_head() -> None:
    """A Content-Length over max_body_size is 413 before any body arrives."""
    parser = RequestParser(max_body_size=10)
    with pytest.raises(PayloadTooLarge):
        parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")
    events = RequestParser(max_body_size=10).feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
    )
    assert len(events) == 3


def test_body_limit_with_chunked() -> None:
    """A chunked body growing over max_body_size is 413 at the chunk that crosses it."""
    parser = RequestParser(max_body_size=10)
    events = parser.feed(CHUNKED + b"6\r\nabcdef\r\n")
    assert len(events) == 2
    with pytest.raises(PayloadTooLarge) as info:
        parser.feed(b"5\r\n")
    assert info.value.status == 413


def test_parser_refuses_input_after_an_error() -> None:
    """After an error every feed() and feed_eof() raises the same class again."""
    parser = RequestParser()
    with pytest.raises(BadRequest):
        parser.feed(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n")
    with pytest.raises(BadRequest, match="earlier error"):
        parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    with pytest.raises(BadRequest, match="earlier error"):
        parser.feed_eof()


def test_error_carries_events_completed_before_it() -> None:
    """The error keeps the events the failing feed() had completed (an earlier request)."""
    parser = RequestParser()
    with pytest.raises(BadRequest) as info:
        parser.feed(b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\r\nHost : h\r\n\r\n")
    kinds = [type(e).__name__ for e in info.value.events]
    assert kinds == ["RequestHead", "EndOfMessage"]


def test_limits_are_checked_before_syntax_on_a_line() -> None:
    """An overlong line is 431 even if it is also malformed, split or not."""
    line = b"Bad Name: " + b"v" * 200 + b"\r\n"
    data = b"GET / HTTP/1.1\r\n" + H + line + b"\r\n"
    with pytest.raises(HeaderFieldsTooLarge):
        RequestParser(max_field_size=100).feed(data)
