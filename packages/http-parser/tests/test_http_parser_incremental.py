"""Property tests: how the input is split into feed() calls never changes the result."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    Event,
    HttpParserError,
    RequestHead,
    RequestParser,
)

# -- strategies: requests built from parts, mostly valid, sometimes subtly not

TCHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VALUE_BYTES = bytes(range(0x20, 0x7F)) + b"\t\x80\xc3\xa9\xff"
NASTY = [b"\r", b"\n", b"\x00", b"\x01", b"\x7f", b" ", b"\t", b":", b"\r\n", b"\r\n "]


def _bytes_from(alphabet: bytes, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(list(alphabet)), min_size=min_size, max_size=max_size).map(
        bytes
    )


names = _bytes_from(TCHARS, 1, 10)
values = _bytes_from(VALUE_BYTES, 0, 20)


@st.composite
def field_lines(draw: st.DrawFn, nasty: bool) -> bytes:
    name = draw(names)
    value = draw(values)
    ows1 = draw(st.sampled_from([b"", b" ", b"\t", b"  "]))
    ows2 = draw(st.sampled_from([b"", b"", b" ", b"\t "]))
    line = name + b":" + ows1 + value + ows2
    if nasty and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(NASTY)) + line[at:]
    return line + b"\r\n"


@st.composite
def bodies(draw: st.DrawFn, nasty: bool) -> tuple[bytes, bytes]:
    """(framing header lines, body bytes)."""
    kind = draw(st.sampled_from(["none", "length", "chunked"]))
    if kind == "none":
        return b"", b""
    if kind == "length":
        data = draw(st.binary(max_size=40))
        return b"Content-Length: %d\r\n" % len(data), data
    chunks = draw(st.lists(st.binary(min_size=1, max_size=20), max_size=4))
    out = b""
    for chunk in chunks:
        ext = draw(st.sampled_from([b"", b";a", b";a=b", b' ; x = "y z"', b';n="\\""']))
        size = draw(st.sampled_from([b"%x", b"%X", b"0%x"])) % len(chunk)
        out += size + ext + b"\r\n" + chunk + b"\r\n"
    out += b"0" + draw(st.sampled_from([b"", b";end"])) + b"\r\n"
    out += b"".join(draw(st.lists(field_lines(nasty), max_size=3)))
    out += b"\r\n"
    return b"Transfer-Encoding: chunked\r\n", out


@st.composite
def requests(draw: st.DrawFn, nasty: bool) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"OPTIONS", b"X-CUSTOM"]))
    target = draw(st.sampled_from([b"/", b"/a/b?c=d", b"/%20x?", b"http://h.example/p?q", b"*"]))
    if target == b"*":
        method = b"OPTIONS"
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]))
    framing, body = draw(bodies(nasty))
    if version == b"HTTP/1.0" and framing.startswith(b"Transfer"):
        version = b"HTTP/1.1"
    lines = draw(st.lists(field_lines(nasty), max_size=6))
    lines.insert(draw(st.integers(0, len(lines))), b"Host: h.example\r\n")
    if version == b"HTTP/1.0":
        lines.append(b"Connection: keep-alive\r\n")
    lines.insert(draw(st.integers(0, len(lines))), framing)
    prefix = draw(st.sampled_from([b"", b"", b"\r\n"]))
    return (
        prefix
        + method
        + b" "
        + target
        + b" "
        + version
        + b"\r\n"
        + b"".join(lines)
        + b"\r\n"
        + body
    )


def streams(nasty: bool) -> st.SearchStrategy[bytes]:
    return st.lists(requests(nasty), min_size=1, max_size=3).map(b"".join)


# -- running the parser


def normalise(events: list[Event]) -> list[object]:
    """Events as comparable values, with adjacent body chunks merged."""
    out: list[object] = []
    for event in events:
        if isinstance(event, BodyChunk):
            if out and isinstance(out[-1], bytes):
                out[-1] += event.data
            else:
                out.append(event.data)
        elif isinstance(event, RequestHead):
            out.append(("head", event._key(), list(event.headers.items())))
        else:
            assert isinstance(event, EndOfMessage)
            out.append(("end", list(event.trailers.items())))
    return out


def run(pieces: list[bytes]) -> tuple[list[object], type[HttpParserError] | None]:
    parser = RequestParser(max_line_size=60, max_field_size=40, max_headers=8, max_head_size=200)
    events: list[Event] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except HttpParserError as exc:
        message = str(exc)
        assert "malformed request head" not in message, "fast and reference readers disagree"
        assert "malformed trailer section" not in message, "fast and reference readers disagree"
        return normalise(events + exc.events), type(exc)
    return normalise(events), None


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = []
    last = 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(nasty=False), cuts=st.lists(st.integers(0, 2000), max_size=12))
def test_valid_streams_split_anywhere_give_the_same_events(data: bytes, cuts: list[int]) -> None:
    """Valid pipelined requests give identical events however the bytes are split."""
    whole = run([data])
    assert run(split(data, cuts)) == whole


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(nasty=True), cuts=st.lists(st.integers(0, 2000), max_size=12))
def test_any_stream_split_anywhere_gives_the_same_result(data: bytes, cuts: list[int]) -> None:
    """Valid or not, the events and the error class do not depend on the split."""
    assert run(split(data, cuts)) == run([data])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(nasty=True))
def test_byte_by_byte_gives_the_same_result(data: bytes) -> None:
    """Feeding one byte at a time (the scanner's path) agrees with one feed (the fast path)."""
    assert run([data[i : i + 1] for i in range(len(data))]) == run([data])


@settings(max_examples=200)
@given(data=streams(nasty=False))
def test_valid_streams_parse_without_error(data: bytes) -> None:
    """The generator's valid requests are accepted with their bodies intact."""
    parser = RequestParser()
    events = parser.feed(data) + parser.feed_eof()
    assert isinstance(events[0], RequestHead)
    assert isinstance(events[-1], EndOfMessage)


@settings(max_examples=200)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_random_bytes_never_crash(data: bytes, cuts: list[int]) -> None:
    """Arbitrary bytes either parse or raise an HttpParserError, the same for any split."""
    assert run(split(b"GET / HTTP/1.1\r\n" + data, cuts)) == run([b"GET / HTTP/1.1\r\n" + data])
