"""The request parser's shortcuts for common heads give what the general rules give.

A whole head in one buffer is read by C-level regexes; the request-line of the
common form (a usual method, origin-form, HTTP/1.x, ending in CRLF) is split
into its parts by hand (split_origin_line), and a head whose only field is Host skips
the lookups of the fields it cannot have. These tests hold each shortcut to
the reference: ``parse_request_line`` (what the line-by-line scanner uses) for
the request-line, and the same head with one more, irrelevant, field for the
framing.
"""

from __future__ import annotations

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    BadRequest,
    HttpParserError,
    HttpVersion10,
    HttpVersion11,
    RequestHead,
    RequestParser,
    RequestTargetTooLong,
)
from weft.http_parser._request_line import NOT_SPLIT, parse_request_line, split_origin_line


def parse_one(data: bytes, **limits: int) -> RequestHead | type[HttpParserError]:
    try:
        events = RequestParser(**limits).feed(data)
    except HttpParserError as exc:
        return type(exc)
    head = events[0]
    assert isinstance(head, RequestHead)
    return head


def reference_line(line: bytes) -> tuple[object, ...] | type[HttpParserError]:
    try:
        return parse_request_line(line, 0, len(line))
    except HttpParserError as exc:
        return type(exc)


# Up to 32 bytes: a longer method is refused as it arrives, before the line is read.
_methods = st.sampled_from(
    ["GET", "POST", "CONNECT", "OPTIONS", "M-SEARCH", "get", "X" * 32, "G@T"]
)
_target_bytes = st.text(
    st.sampled_from([*"/?#*:@%aZ09-._~!$&'()+,;=[]\"<>{}|\\^`", "\x7f", "é", " "]),
    max_size=20,
)
_versions = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/1.9", "HTTP/2.0", "HTTP/0.9", "HTTP/1"])


@given(method=_methods, target=_target_bytes, version=_versions)
@example(method="GET", target="/a?b?c", version="HTTP/1.1")
@example(method="GET", target="/a?", version="HTTP/1.1")
@example(method="GET", target="/a#b", version="HTTP/1.1")
@example(method="GET", target="/a?b#c", version="HTTP/1.1")
@example(method="CONNECT", target="/a", version="HTTP/1.1")
@example(method="OPTIONS", target="*", version="HTTP/1.0")
@example(method="GET", target="http://h/p?q", version="HTTP/1.1")
def test_request_lines_read_as_the_reference_reads_them(
    method: str, target: str, version: str
) -> None:
    """Whatever the request-line, the parts (or the error class) are parse_request_line's."""
    line = f"{method} {target} {version}".encode()
    expected = reference_line(line)
    got = parse_one(line + b"\r\nHost: h\r\n\r\n")
    if isinstance(expected, type):
        assert got is expected
        return
    assert isinstance(got, RequestHead)
    assert (got.method, got.target, got.path, got.query_string, got.target_form) == expected[:5]
    assert got.version == expected[5]


def split_line(text: str) -> tuple[object, ...]:
    """split_origin_line as the parser calls it, for ``text`` as the parser decodes it."""
    ascii_text = len(text) == len(text.encode("utf-8", "surrogateescape"))
    return split_origin_line(text, ascii_text)


def test_the_hand_split_takes_only_lines_the_reference_splits_the_same_way() -> None:
    """What split_origin_line splits is what the general path gives; the rest it leaves."""
    for text in [
        "GET / HTTP/1.1\r\n\r\n",
        "GET /a?b=1&c=2 HTTP/1.0\r\n\r\n",
        "GET /a?b?c HTTP/1.1\r\n\r\n",
        "GET /a? HTTP/1.1\r\n\r\n",
        "PATCH /%20x HTTP/1.0\r\n\r\n",
        "OPTIONS /~!$&'()*+,;=:@[]\"<>{}|\\^` HTTP/1.1\r\nHost: h\r\n\r\n",
    ]:
        split = split_line(text)
        assert split != NOT_SPLIT, text
        line = text[: text.index("\r\n")].encode()
        reference = parse_request_line(line, 0, len(line))
        assert split == (*reference[:4], reference[5]), text
    for text in [
        "GET /a#b HTTP/1.1\r\n\r\n",  # a fragment: the general path refuses it
        "GET * HTTP/1.1\r\n\r\n",
        "GET http://h/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "GET / HTTP/1.1\n\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\n\r\n",
        "GET /\udce9 HTTP/1.1\r\n\r\n",  # a byte above 0x7f, decoded with surrogateescape
        "GET /a\tb HTTP/1.1\r\n\r\n",
        "GET /a\r\nHost: a b\r\n\r\n",  # no second space on the line: the next one's
        "CONNECT /a HTTP/1.1\r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "GETX / HTTP/1.1\r\n\r\n",
        "GET /\u00e9 HTTP/1.1\r\n\r\n",  # two bytes in UTF-8, one printable character
        "GET / HTTP/1.1\r\nX: \u00e9\r\n\r\n".replace("/ ", "/\u00e9 "),
        "PATCH /%20x HTTP/1.7\r\n\r\n",  # read as 1.1, by the general way
    ]:
        assert split_line(text) == NOT_SPLIT, text


# The target's characters, and "\udcff": the byte 0xff, as the parser decodes it.
_target_text = st.text(
    st.sampled_from([*"/?#%aZ09-._~!$&'()+,;=\"<>{}|\\^`", "\x7f", "é", " ", "\t", "\udcff"]),
    max_size=12,
)


@settings(max_examples=500)  # about one line in twenty-five is split
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE", "CONNECT", "TRACE", "G", "PUTS"]),
    target=st.one_of(_target_text, _target_text.map(lambda rest: "/" + rest)),
    version=_versions,
    end=st.sampled_from(["\r\n", "\n", "\r\nHost: a b\r\n", " x\r\n"]),
    field=st.sampled_from(["", "X: é\r\n", "X: \udcff\r\n"]),
)
def test_the_hand_split_agrees_with_the_reference_on_any_line(
    method: str, target: str, version: str, end: str, field: str
) -> None:
    """Any line split by hand is split as parse_request_line splits it, and is valid."""
    line = f"{method} {target} {version}"
    text = line + end + field + "\r\n"
    split = split_line(text)
    if split == NOT_SPLIT:
        return
    event("split")
    assert end.startswith("\r\n")
    reference = reference_line(line.encode("utf-8", "surrogateescape"))
    assert not isinstance(reference, type), line
    assert split == (*reference[:4], reference[5])
    assert reference[4] == "origin"


def test_the_target_limit_holds_on_the_common_line() -> None:
    """A target of max_line_size bytes passes, one more is 414, on the common line too."""
    ok = parse_one(b"GET /" + b"a" * 99 + b" HTTP/1.1\r\nHost: h\r\n\r\n", max_line_size=100)
    assert isinstance(ok, RequestHead)
    too_long = parse_one(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: h\r\n\r\n", max_line_size=100)
    assert too_long is RequestTargetTooLong


_FRAMING = (
    "version",
    "should_close",
    "chunked",
    "content_length",
    "upgrade",
    "expect_continue",
    "content_encoding",
    "target_form",
)


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.0",
        b"CONNECT h:443 HTTP/1.1",
        b"OPTIONS * HTTP/1.1",
        b"POST http://h/x HTTP/1.0",
    ],
)
def test_a_host_only_head_frames_as_with_another_field(line: bytes) -> None:
    """Host alone gives the framing it gives with an extra field the rules do not read."""
    alone = parse_one(line + b"\r\nHost: h:443\r\n\r\n")
    more = parse_one(line + b"\r\nHost: h:443\r\nX-Other: 1\r\n\r\n")
    assert isinstance(alone, RequestHead)
    assert isinstance(more, RequestHead)
    for name in _FRAMING:
        assert getattr(alone, name) == getattr(more, name), name
    assert list(alone.headers.items()) == [("Host", "h:443")]


def test_host_only_keep_alive_follows_the_version() -> None:
    """HTTP/1.0 closes without Connection: keep-alive; HTTP/1.1 keeps the connection."""
    http10 = parse_one(b"GET / HTTP/1.0\r\nHost: h\r\n\r\n")
    http11 = parse_one(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert isinstance(http10, RequestHead)
    assert isinstance(http11, RequestHead)
    assert (http10.version, http10.should_close) == (HttpVersion10, True)
    assert (http11.version, http11.should_close) == (HttpVersion11, False)
    parser = RequestParser()
    events = parser.feed(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\ntunnel")
    assert parser.switched
    assert parser.take_trailing_data() == b"tunnel"
    assert [type(e).__name__ for e in events] == ["RequestHead", "EndOfMessage"]


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ],
)
def test_bad_hosts_are_refused_on_the_short_path(data: bytes) -> None:
    """A head with little more than Host is judged by the same rules as any other."""
    assert parse_one(data) is BadRequest


_line_chars = st.sampled_from([*"aZ0-_:; =,", " ", "\t", "\r", "\n", "\x00", "\x01", "\x7f", "é"])
_field_lines = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["X", "x-y", "Accept", "A B", ""]), st.text(_line_chars, max_size=8)
        ).map(lambda nv: f"{nv[0]}:{nv[1]}"),
        st.text(_line_chars, max_size=10),
    ),
    max_size=4,
)


@given(lines=_field_lines)
@example(lines=["X: a\rb"])
@example(lines=["X: a\r", "Y: b"])
@example(lines=["X: a\nY: b"])
@example(lines=["X: a\x01"])
@example(lines=["X: a\tb"])
@example(lines=["X: a "])
@example(lines=["X:"])
@example(lines=["X:  "])
@example(lines=[" X: a"])
def test_short_and_long_heads_accept_the_same_fields(lines: list[str]) -> None:
    """A short head (one regex pass) and the same head made long (the translate pass)
    give the same fields, or the same error class, whatever bytes the lines hold."""
    section = "".join(f"{line}\r\n" for line in lines).encode("utf-8", "surrogateescape")
    short = b"GET / HTTP/1.1\r\nHost: h\r\n" + section + b"\r\n"
    padded = b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"p" * 300 + b"\r\n" + section + b"\r\n"
    assert len(short) <= 256 < len(padded)
    got_short, got_long = parse_one(short), parse_one(padded)
    if isinstance(got_short, RequestHead) and isinstance(got_long, RequestHead):
        fields = [(k, v) for k, v in got_long.headers.items() if k != "X-Pad"]
        assert list(got_short.headers.items()) == fields
        for name in _FRAMING:
            assert getattr(got_short, name) == getattr(got_long, name), name
    else:
        assert got_short == got_long
