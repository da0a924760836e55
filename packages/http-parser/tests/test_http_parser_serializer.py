"""The serializer: status lines, heads, chunked encoding, and refusing injection."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    HeaderInjectionError,
    HttpVersion10,
    RequestHead,
    RequestParser,
    encode_chunk,
    encode_last_chunk,
    reason_phrase,
    serialize_request_head,
    serialize_response_head,
)


def test_reason_phrases_follow_the_registry() -> None:
    """reason_phrase gives the IANA registry's phrases, RFC 9110 names included."""
    assert reason_phrase(200) == "OK"
    assert reason_phrase(404) == "Not Found"
    assert reason_phrase(413) == "Content Too Large"
    assert reason_phrase(421) == "Misdirected Request"
    assert reason_phrase(425) == "Too Early"
    assert reason_phrase(451) == "Unavailable For Legal Reasons"
    assert reason_phrase(418) == "I'm a Teapot"


def test_every_python_http_status_has_a_phrase() -> None:
    """Every status Python knows has a registered phrase here too."""
    for status in HTTPStatus:
        assert reason_phrase(status.value), status


def test_unregistered_status_has_empty_phrase_and_bad_status_raises() -> None:
    """An unregistered 3-digit status has an empty phrase; others raise ValueError."""
    assert reason_phrase(299) == ""
    with pytest.raises(ValueError, match="three-digit"):
        reason_phrase(1000)
    with pytest.raises(ValueError, match="three-digit"):
        reason_phrase(99)


def test_response_head() -> None:
    """A response head is the status line, the fields and an empty line."""
    head = serialize_response_head(
        200, None, [("Content-Type", "text/plain"), ("Content-Length", "2")]
    )
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"


def test_response_head_custom_reason_version_and_status() -> None:
    """A custom reason, HTTP/1.0 and an unregistered status are written as given."""
    assert serialize_response_head(200, "Fine", [], HttpVersion10) == b"HTTP/1.0 200 Fine\r\n\r\n"
    assert serialize_response_head(299, None, []) == b"HTTP/1.1 299 \r\n\r\n"
    assert serialize_response_head(404, "Not Found", []) == b"HTTP/1.1 404 Not Found\r\n\r\n"


def test_response_head_rejects_bad_status() -> None:
    """A status outside 100..999 is a ValueError."""
    with pytest.raises(ValueError, match="three-digit"):
        serialize_response_head(42, "x", [])
    with pytest.raises(ValueError, match="three-digit"):
        serialize_response_head(1000, None, [])


def test_response_head_values_are_utf8() -> None:
    """Non-ASCII values are encoded as UTF-8."""
    assert serialize_response_head(200, None, [("X", "café")]).endswith(b"X: caf\xc3\xa9\r\n\r\n")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X", "a\r\nSet-Cookie: evil=1"),
        ("X", "a\nb"),
        ("X", "a\rb"),
        ("X", "a\x00b"),
        ("X\r\nY", "v"),
        ("X Y", "v"),
        ("X:", "v"),
        ("", "v"),
        ("Café", "v"),
    ],
)
def test_header_injection_is_refused(name: str, value: str) -> None:
    """CR, LF or NUL in a value, or a name that is not a token, raise HeaderInjectionError."""
    with pytest.raises(HeaderInjectionError):
        serialize_response_head(200, None, [("Ok", "1"), (name, value)])
    with pytest.raises(HeaderInjectionError):
        serialize_request_head("GET", "/", [(name, value)])
    with pytest.raises(HeaderInjectionError):
        encode_last_chunk([(name, value)])


@pytest.mark.parametrize("reason", ["OK\r\nX: y", "a\nb", "a\x00"])
def test_reason_injection_is_refused(reason: str) -> None:
    """A reason holding CR, LF or NUL raises HeaderInjectionError."""
    with pytest.raises(HeaderInjectionError):
        serialize_response_head(200, reason, [])


def test_request_head() -> None:
    """A request head is the request-line, the fields and an empty line."""
    assert (
        serialize_request_head("POST", "/x?y=1", [("Host", "h"), ("Content-Length", "0")])
        == b"POST /x?y=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("method", "target"), [("G T", "/"), ("GET", "/a b"), ("GET", "/\r\n"), ("GET", "")]
)
def test_request_line_injection_is_refused(method: str, target: str) -> None:
    """A method that is not a token or a target with whitespace is refused."""
    with pytest.raises(HeaderInjectionError):
        serialize_request_head(method, target, [])


def test_chunk_encoding() -> None:
    """encode_chunk frames data with its hex size; empty data gives nothing."""
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert encode_chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert encode_chunk(b"") == b""
    assert encode_last_chunk() == b"0\r\n\r\n"
    assert encode_last_chunk([]) == b"0\r\n\r\n"
    assert encode_last_chunk([("Digest", "x")]) == b"0\r\nDigest: x\r\n\r\n"


fields = st.lists(
    st.tuples(
        st.text("abcXYZ-_0123456789!#$%&'*+.^`|~", min_size=1, max_size=10),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20).map(
            lambda s: s.strip()
        ),
    ),
    max_size=6,
)


@given(
    fields=fields,
    chunks=st.lists(st.binary(max_size=50), max_size=5),
    trailers=fields,
)
def test_round_trip_through_the_parser(
    fields: list[tuple[str, str]], chunks: list[bytes], trailers: list[tuple[str, str]]
) -> None:
    """A serialized chunked request parses back to the same fields, body and trailers."""
    fields = [
        (n, v)
        for n, v in fields
        if n.lower() not in {"host", "content-length", "transfer-encoding"}
    ]
    trailers = [(n, v) for n, v in trailers]
    headers = [("Host", "h"), *fields, ("Transfer-Encoding", "chunked")]
    data = serialize_request_head("PUT", "/r?x=1", headers)
    data += b"".join(encode_chunk(c) for c in chunks) + encode_last_chunk(trailers)
    events = RequestParser().feed(data)
    head = events[0]
    assert isinstance(head, RequestHead)
    assert list(head.headers.items()) == headers
    assert b"".join(e.data for e in events if isinstance(e, BodyChunk)) == b"".join(chunks)
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert list(end.trailers.items()) == trailers


def test_response_head_accepts_any_iterable_of_pairs() -> None:
    """headers may be a generator or a multidict's items()."""
    gen = ((k, v) for k, v in [("A", "1"), ("B", "2")])
    assert (
        serialize_response_head(204, None, gen)
        == b"HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\n\r\n"
    )


def test_chunk_header_frames_data_like_encode_chunk() -> None:
    """chunk_header(len) + data + CRLF is encode_chunk(data); sizes below 1 are refused."""
    from weft.http_parser import chunk_header, encode_chunk

    data = b"x" * 300
    assert chunk_header(len(data)) + data + b"\r\n" == encode_chunk(data)
    assert chunk_header(255) == b"ff\r\n"
    with pytest.raises(ValueError, match="at least one byte"):
        chunk_header(0)
