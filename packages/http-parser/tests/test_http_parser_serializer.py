"""The serializer: status lines, heads, chunked encoding, and refusing injection."""

from __future__ import annotations

from collections.abc import Callable
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
    check_field,
    check_reason,
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


#: RFC 9110 §5.5: a field value holds no CTL (0x00-0x1F, 0x7F) but HTAB.
CTLS_BUT_HTAB = [chr(c) for c in [*range(0x09), *range(0x0A, 0x20), 0x7F]]


@pytest.mark.parametrize("ctl", CTLS_BUT_HTAB, ids=lambda c: f"0x{ord(c):02x}")
def test_every_ctl_but_htab_in_a_value_is_refused_naming_the_header(ctl: str) -> None:
    """Any RFC 9110 CTL but HTAB in a value raises HeaderInjectionError (a ValueError) that
    names the header, in response and request heads and in trailers (aiohttp #12689)."""
    fields = [("Ok", "1"), ("X-Bad", f"a{ctl}b"), ("Later", "2")]
    serializers: list[Callable[[], bytes]] = [
        lambda: serialize_response_head(200, None, fields),
        lambda: serialize_response_head(200, "Fine", fields),
        lambda: serialize_request_head("GET", "/", fields),
        lambda: encode_last_chunk(fields),
    ]
    for serialize in serializers:
        with pytest.raises(HeaderInjectionError, match="'X-Bad'") as info:
            serialize()
        assert isinstance(info.value, ValueError)
        assert f"0x{ord(ctl):02x}" in str(info.value)


@pytest.mark.parametrize("ctl", CTLS_BUT_HTAB, ids=lambda c: f"0x{ord(c):02x}")
def test_check_field_and_check_reason_refuse_what_the_serializer_refuses(ctl: str) -> None:
    """The one-field checks a framework runs where its user sets a header or a reason."""
    with pytest.raises(HeaderInjectionError, match=f"'X-Bad'.*0x{ord(ctl):02x}"):
        check_field("X-Bad", f"a{ctl}b")
    with pytest.raises(HeaderInjectionError, match=f"reason phrase.*0x{ord(ctl):02x}"):
        check_reason(f"Fine{ctl}")
    with pytest.raises(HeaderInjectionError, match="header name"):
        check_field(f"X{ctl}", "v")
    check_field("X-Good", "a\tb caf\u00e9")  # HTAB and obs-text pass
    check_reason("Not\tFound")


@pytest.mark.parametrize("ctl", [*CTLS_BUT_HTAB, "\t"], ids=lambda c: f"0x{ord(c):02x}")
def test_every_ctl_in_a_name_is_refused(ctl: str) -> None:
    """A name holding any CTL, HTAB included, is not a token: HeaderInjectionError."""
    with pytest.raises(HeaderInjectionError, match="header name"):
        serialize_response_head(200, None, [(f"X{ctl}Y", "v")])


def test_htab_and_obs_text_in_values_are_allowed() -> None:
    """HTAB and non-ASCII (sent as UTF-8) are valid in a value; C1 controls are obs-text."""
    head = serialize_response_head(200, None, [("X", "a\tb"), ("Y", "caf\u00e9\u0085")])
    assert head == b"HTTP/1.1 200 OK\r\nX: a\tb\r\nY: caf\xc3\xa9\xc2\x85\r\n\r\n"
    assert encode_last_chunk([("X", "a\tb")]) == b"0\r\nX: a\tb\r\n\r\n"


def test_many_fields_are_checked() -> None:
    """The check holds for a head with more field lines than any cache of line ends."""
    fields = [(f"X-{i}", "v") for i in range(300)]
    assert serialize_response_head(200, None, fields).count(b"\r\n") == 302
    with pytest.raises(HeaderInjectionError, match="'X-299'"):
        serialize_response_head(200, None, [*fields[:-1], ("X-299", "\x01")])


@pytest.mark.parametrize("reason", ["OK\r\nX: y", "a\nb", "a\x00", "a\x01", "a\x7f", "a\x1b"])
def test_reason_injection_is_refused(reason: str) -> None:
    """A reason holding a CTL other than HTAB raises HeaderInjectionError."""
    with pytest.raises(HeaderInjectionError, match="start line"):
        serialize_response_head(200, reason, [])


def test_reason_may_hold_htab() -> None:
    """reason-phrase allows HTAB (RFC 9112 §4)."""
    assert serialize_response_head(200, "a\tb", []) == b"HTTP/1.1 200 a\tb\r\n\r\n"


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
