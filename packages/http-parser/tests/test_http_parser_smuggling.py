"""A corpus of request-smuggling and malformed inputs, each with the answer it gets.

Every case is fed whole and byte by byte: the answer must not depend on the
split. An ``int`` answer means "accepted as exactly that many requests" (the
hidden request stays body bytes); a class means that error, with its status.
"""

from __future__ import annotations

import pytest

from weft.http_parser import (
    BadRequest,
    EndOfMessage,
    HeaderFieldsTooLarge,
    HttpParserError,
    NotImplementedCoding,
    PayloadTooLarge,
    RequestHead,
    RequestParser,
    RequestTargetTooLong,
    VersionNotSupported,
)

H = b"POST / HTTP/1.1\r\nHost: a\r\n"
SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"

Answer = type[HttpParserError] | int

CASES: list[tuple[str, bytes, Answer]] = [
    # CL.TE and TE.CL: both framings present
    ("cl-te", H + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", BadRequest),
    (
        "te-cl",
        H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        BadRequest,
    ),
    ("cl-te-zero", H + b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", BadRequest),
    # TE.TE: obfuscated Transfer-Encoding
    ("te-xchunked", H + b"Transfer-Encoding: xchunked\r\n\r\n", BadRequest),
    ("te-chunkedx", H + b"Transfer-Encoding: chunkedx\r\n\r\n", BadRequest),
    ("te-leading-space-name", H + b" Transfer-Encoding: chunked\r\n\r\n", BadRequest),
    ("te-space-before-colon", H + b"Transfer-Encoding : chunked\r\n\r\n", BadRequest),
    ("te-tab-before-colon", H + b"Transfer-Encoding\t: chunked\r\n\r\n", BadRequest),
    ("te-chunked-identity", H + b"Transfer-Encoding: chunked, identity\r\n\r\n", BadRequest),
    (
        "te-identity-chunked",
        H + b"Transfer-Encoding: identity, chunked\r\n\r\n",
        NotImplementedCoding,
    ),
    (
        "te-gzip-chunked",
        H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        NotImplementedCoding,
    ),
    ("te-chunked-twice-list", H + b"Transfer-Encoding: chunked, chunked\r\n\r\n", BadRequest),
    (
        "te-twice-lines",
        H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        BadRequest,
    ),
    (
        "te-then-gzip-line",
        H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        BadRequest,
    ),
    ("te-empty", H + b"Transfer-Encoding: \r\n\r\n", BadRequest),
    ("te-quoted", H + b'Transfer-Encoding: "chunked"\r\n\r\n', BadRequest),
    ("te-vertical-tab", H + b"Transfer-Encoding:\x0bchunked\r\n\r\n", BadRequest),
    ("te-form-feed", H + b"Transfer-Encoding: chunked\x0c\r\n\r\n", BadRequest),
    ("te-nul", H + b"Transfer-Encoding: chunked\x00\r\n\r\n", BadRequest),
    ("te-obs-fold", H + b"Transfer-Encoding:\r\n chunked\r\n\r\n", BadRequest),
    ("te-bare-cr", H + b"Transfer-Encoding: chunked\rX: y\r\n\r\n", BadRequest),
    ("te-bare-lf-line", H + b"X: y\nTransfer-Encoding: chunked\r\n\r\n", BadRequest),
    ("te-underscore-name", H + b"Transfer_Encoding: chunked\r\nContent-Length: 1\r\n\r\nx", 1),
    ("te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", BadRequest),
    # case and whitespace tricks that are valid and mean chunked
    ("te-upper", H + b"TRANSFER-ENCODING: CHUNKED\r\n\r\n0\r\n\r\n", 1),
    ("te-tab-ows", H + b"Transfer-Encoding:\tchunked\t\r\n\r\n0\r\n\r\n", 1),
    # Content-Length tricks
    ("cl-two-different", H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", BadRequest),
    ("cl-list-different", H + b"Content-Length: 1, 2\r\n\r\nab", BadRequest),
    # a repeated singleton is refused even with one value (README "Singleton fields")
    ("cl-list-same", H + b"Content-Length: 2, 2\r\n\r\nab", BadRequest),
    ("cl-two-same", H + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nab", BadRequest),
    ("cl-list-trailing-comma", H + b"Content-Length: 2,\r\n\r\nab", BadRequest),
    ("cl-two-same-case", H + b"Content-Length: 2\r\ncontent-length: 2\r\n\r\nab", BadRequest),
    (
        "ct-two",
        H + b"Content-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 0\r\n\r\n",
        BadRequest,
    ),
    ("ct-two-same", H + b"Content-Type: a/b\r\ncontent-type: a/b\r\n\r\n", BadRequest),
    ("ct-two-empty", H + b"Content-Type:\r\nContent-Type:\r\n\r\n", BadRequest),
    # non-ASCII in framing fields (CVE-2025-69224: U+212A KELVIN SIGN lowers to "k")
    ("te-kelvin", H + "Transfer-Encoding: chun\u212aed\r\n\r\n0\r\n\r\n".encode(), BadRequest),
    ("te-obs-text", H + b"Transfer-Encoding: chunked\xff\r\n\r\n0\r\n\r\n", BadRequest),
    (
        "connection-kelvin-http10",
        "POST / HTTP/1.0\r\nConnection: \u212aeep-alive\r\n\r\n".encode() + SMUGGLED,
        BadRequest,
    ),
    (
        "upgrade-kelvin",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
        b"Upgrade: websoc\xe2\x84\xaaet\r\n\r\n",
        BadRequest,
    ),
    ("cl-fullwidth-digit", H + "Content-Length: \uff12\r\n\r\nab".encode(), BadRequest),
    # an Upgrade field that names no protocol does not switch (the next request is read)
    (
        "upgrade-empty",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: \r\n\r\n" + SMUGGLED,
        2,
    ),
    (
        "upgrade-only-commas",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: , ,\r\n\r\n" + SMUGGLED,
        2,
    ),
    ("cl-plus", H + b"Content-Length: +2\r\n\r\nab", BadRequest),
    ("cl-minus", H + b"Content-Length: -2\r\n\r\nab", BadRequest),
    ("cl-hex", H + b"Content-Length: 0x2\r\n\r\nab", BadRequest),
    ("cl-inner-space", H + b"Content-Length: 1 2\r\n\r\nab", BadRequest),
    ("cl-empty", H + b"Content-Length: \r\n\r\n", BadRequest),
    ("cl-unicode-digit", H + "Content-Length: \u0661\r\n\r\nx".encode(), BadRequest),
    ("cl-overflow", H + b"Content-Length: 99999999999999999999999\r\n\r\n", BadRequest),
    ("cl-2-63", H + b"Content-Length: 9223372036854775808\r\n\r\n", BadRequest),
    ("cl-space-before-colon", H + b"Content-Length : 2\r\n\r\nab", BadRequest),
    ("cl-underscore", H + b"Content_Length: 2\r\n\r\nab", BadRequest),  # "ab" is the next request
    # chunk-size tricks
    ("chunk-0x", H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", BadRequest),
    (
        "chunk-space-semicolon",
        H + b"Transfer-Encoding: chunked\r\n\r\n5 ;\r\nhello\r\n0\r\n\r\n",
        BadRequest,
    ),
    (
        "chunk-leading-space",
        H + b"Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
        BadRequest,
    ),
    (
        "chunk-trailing-space",
        H + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        BadRequest,
    ),
    ("chunk-sign", H + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", BadRequest),
    (
        "chunk-empty-size",
        H + b"Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
        BadRequest,
    ),
    ("chunk-huge", H + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n", BadRequest),
    ("chunk-2-64", H + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", BadRequest),
    ("chunk-2-63", H + b"Transfer-Encoding: chunked\r\n\r\n8000000000000000\r\n", BadRequest),
    ("chunk-long-data", H + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", BadRequest),
    (
        "chunk-short-data",
        H + b"Transfer-Encoding: chunked\r\n\r\n4\r\nabc\r\n0\r\n\r\n",
        BadRequest,
    ),
    ("chunk-bare-lf", H + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", BadRequest),
    (
        "chunk-lf-after-data",
        H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
        BadRequest,
    ),
    (
        "chunk-ext-bad",
        H + b"Transfer-Encoding: chunked\r\n\r\n3;a b\r\nabc\r\n0\r\n\r\n",
        BadRequest,
    ),
    (
        "chunk-ext-nul",
        H + b"Transfer-Encoding: chunked\r\n\r\n3;a=\x00\r\nabc\r\n0\r\n\r\n",
        BadRequest,
    ),
    ("chunk-ext-ok", H + b'Transfer-Encoding: chunked\r\n\r\n3;a=b;c="d e"\r\nabc\r\n0\r\n\r\n', 1),
    ("chunk-upper-hex", H + b"Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", 1),
    ("chunk-trailer-te", H + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX y: z\r\n\r\n", BadRequest),
    # a request hidden in a body stays body
    ("hidden-in-cl-body", H + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 1),
    (
        "hidden-in-chunk",
        H
        + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(SMUGGLED)
        + SMUGGLED
        + b"\r\n0\r\n\r\n",
        1,
    ),
    ("pipelined-after-body", H + b"Content-Length: 1\r\n\r\nx" + SMUGGLED, 2),
    (
        "get-with-body",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED,
        1,
    ),
    # field names and values
    ("name-trailing-space", H + b"Host : a\r\n\r\n", BadRequest),
    ("name-nul", H + b"X\x00Y: z\r\n\r\n", BadRequest),
    ("name-empty", H + b": z\r\n\r\n", BadRequest),
    ("name-non-token", H + b"X(y): z\r\n\r\n", BadRequest),
    ("name-utf8", H + "Ä: z\r\n\r\n".encode(), BadRequest),
    ("value-nul", H + b"X: a\x00b\r\n\r\n", BadRequest),
    ("value-del", H + b"X: a\x7fb\r\n\r\n", BadRequest),
    ("value-esc", H + b"X: a\x1bb\r\n\r\n", BadRequest),
    ("no-colon", H + b"Xyz\r\n\r\n", BadRequest),
    ("obs-fold", H + b"X: a\r\n\tb\r\n\r\n", BadRequest),
    # Host
    ("host-missing", b"GET / HTTP/1.1\r\n\r\n", BadRequest),
    ("host-twice", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", BadRequest),
    ("host-userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", BadRequest),
    ("host-space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", BadRequest),
    ("host-slash", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", BadRequest),
    # request-target authority (absolute-form, authority-form): host[:port] only
    ("authority-port-not-digits", b"GET http://a:x/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("authority-two-ports", b"GET http://a:80:80/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("authority-open-bracket", b"GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("authority-empty-host", b"GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("authority-port-too-big", b"GET http://a:65536/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("connect-port-too-big", b"CONNECT a:99999 HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    # request-line
    ("line-two-spaces", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-tab", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-bare-lf", b"GET / HTTP/1.1\nHost: a\r\n\r\n", BadRequest),
    ("line-trailing-space", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", BadRequest),
    ("line-lowercase-http", b"GET / http/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-http2", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", VersionNotSupported),
    ("line-http09", b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", VersionNotSupported),
    ("line-fragment", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-nul-target", b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-method-nul", b"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    ("line-asterisk-get", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest),
    (
        "connect-with-body",
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 2\r\n\r\nab",
        BadRequest,
    ),
    # limits
    ("long-target", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", RequestTargetTooLong),
    ("long-field", H + b"X: " + b"a" * 9000 + b"\r\n\r\n", HeaderFieldsTooLarge),
    ("many-fields", H + b"X: a\r\n" * 200 + b"\r\n", HeaderFieldsTooLarge),
    ("big-body", H + b"Content-Length: 2000000\r\n\r\n", PayloadTooLarge),
]


def run(pieces: list[bytes]) -> Answer:
    parser = RequestParser(max_body_size=1_000_000)
    events: list[object] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except HttpParserError as exc:
        return type(exc)
    assert isinstance(events[-1], EndOfMessage)
    return sum(isinstance(e, RequestHead) for e in events)


@pytest.mark.parametrize(("data", "answer"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corpus(data: bytes, answer: Answer) -> None:
    """Each input gets its answer, fed whole or byte by byte."""
    assert run([data]) == answer
    assert run([data[i : i + 1] for i in range(len(data))]) == answer
    if not isinstance(answer, int):
        assert answer.status in (400, 413, 414, 431, 501, 505)


def test_corpus_ids_are_unique() -> None:
    """Each case has its own name."""
    assert len({c[0] for c in CASES}) == len(CASES)
