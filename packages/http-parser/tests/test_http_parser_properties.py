"""Hypothesis properties: serializer and parsers agree, splits do not matter, no crashes.

Requests and responses are built by the serializer (``serialize_*_head``,
``encode_chunk``, ``encode_last_chunk``) and parsed back; the parsed messages
must be the ones built. Responses are also fed in random pieces and as random
bytes (the request parser's split and fuzz properties live in
test_http_parser_incremental.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    HttpParserError,
    RequestHead,
    RequestParser,
    ResponseEvent,
    ResponseHead,
    ResponseParser,
    encode_chunk,
    encode_last_chunk,
    serialize_request_head,
    serialize_response_head,
)

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
names = st.text(LETTERS, min_size=1, max_size=12).map(lambda s: "X-" + s)
values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\té€"),
    max_size=30,
).map(lambda s: s.strip(" \t"))
fields = st.lists(st.tuples(names, values), max_size=8)
segments = st.text("abcxyz019-._~%", max_size=8)


@dataclass
class Built:
    """A message as built: its framing fields, body and trailers."""

    fields: list[tuple[str, str]]
    body: bytes
    trailers: list[tuple[str, str]]
    chunked: bool


@st.composite
def bodies(draw: st.DrawFn, eof_allowed: bool) -> tuple[list[tuple[str, str]], bytes, Built]:
    """(framing fields, the encoded body, what was built)."""
    extra = draw(fields)
    kinds = ["length", "chunked", "none"] + (["eof"] if eof_allowed else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return [], b"", Built(extra, b"", [], False)
    if kind in ("length", "eof"):
        data = draw(st.binary(max_size=200))
        framing = [("Content-Length", str(len(data)))] if kind == "length" else []
        return framing, data, Built(extra, data, [], False)
    chunks = draw(st.lists(st.binary(min_size=1, max_size=60), max_size=5))
    trailers = draw(st.lists(st.tuples(names, values), max_size=3))
    encoded = b"".join(map(encode_chunk, chunks)) + encode_last_chunk(trailers or None)
    return (
        [("Transfer-Encoding", "chunked")],
        encoded,
        Built(extra, b"".join(chunks), trailers, True),
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, str, str, Built]:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "X-Y"]))
    target = "/" + "/".join(draw(st.lists(segments, max_size=3)))
    if draw(st.booleans()):
        target += "?" + draw(segments)
    framing, encoded, built = draw(bodies(eof_allowed=False))
    head = [("Host", "example.com"), *built.fields, *framing]
    built.fields = head
    return serialize_request_head(method, target, head) + encoded, method, target, built


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, int, str, Built]:
    status = draw(st.integers(200, 599).filter(lambda s: s not in (204, 304)))
    reason = draw(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20))
    framing, encoded, built = draw(bodies(eof_allowed=True))
    built.fields = [*built.fields, *framing]
    return serialize_response_head(status, reason, built.fields) + encoded, status, reason, built


def body_and_end(events: list[object]) -> tuple[bytes, list[tuple[str, str]]]:
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    body = b"".join(e.data for e in events if isinstance(e, BodyChunk))
    return body, list(end.trailers.items())


@settings(max_examples=300)
@given(message=requests())
def test_serialized_requests_parse_back(message: tuple[bytes, str, str, Built]) -> None:
    """A request built by the serializer parses to the same method, target, fields, body."""
    data, method, target, built = message
    parser = RequestParser()
    events: list[object] = [*parser.feed(data), *parser.feed_eof()]
    head = events[0]
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.chunked) == (method, target, built.chunked)
    assert list(head.headers.items()) == built.fields
    assert body_and_end(events) == (built.body, built.trailers)


@settings(max_examples=300)
@given(message=responses())
def test_serialized_responses_parse_back(message: tuple[bytes, int, str, Built]) -> None:
    """A response built by the serializer parses to the same status, reason, fields, body."""
    data, status, reason, built = message
    parser = ResponseParser()
    parser.expect_response("GET")
    events: list[object] = [*parser.feed(data), *parser.feed_eof()]
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status, head.reason.strip(" \t"), head.chunked) == (
        status,
        reason.strip(" \t"),
        built.chunked,
    )
    assert list(head.headers.items()) == built.fields
    assert body_and_end(events) == (built.body, built.trailers)


# -- responses in pieces and as noise


def normalise(events: list[ResponseEvent]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, BodyChunk):
            if out and isinstance(out[-1], bytes):
                out[-1] += event.data
            else:
                out.append(event.data)
        elif isinstance(event, ResponseHead):
            out.append(("head", event._key()))
        else:
            out.append(("end", list(event.trailers.items())))
    return out


def run(pieces: list[bytes], methods: list[str]) -> tuple[list[object], type[Exception] | None]:
    parser = ResponseParser(max_line_size=80, max_field_size=60, max_headers=8, max_head_size=300)
    for method in methods:
        parser.expect_response(method)
    events: list[ResponseEvent] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except HttpParserError as exc:
        error: HttpParserError | None = exc
        events += exc.events  # type: ignore[arg-type]  # typed for requests, holds response events
    else:
        error = None
    # "malformed response head" would mean the fast and reference readers disagree.
    assert error is None or "malformed response head" not in str(error)
    return normalise(events), None if error is None else type(error)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=st.lists(responses(), min_size=1, max_size=3),
    methods=st.lists(st.sampled_from(["GET", "HEAD", "POST"]), min_size=3, max_size=3),
    informational=st.booleans(),
    cuts=st.lists(st.integers(0, 1500), max_size=10),
)
def test_response_streams_split_anywhere_give_the_same_events(
    stream: list[tuple[bytes, int, str, Built]],
    methods: list[str],
    informational: bool,
    cuts: list[int],
) -> None:
    """Pipelined responses (some to HEAD, some after a 100) give the same events in any split."""
    data = b"".join(m[0] for m in stream)
    if informational:
        data = b"HTTP/1.1 100 Continue\r\n\r\n" + data
    whole = run([data], methods)
    assert run(split(data, cuts), methods) == whole
    assert run([data[i : i + 1] for i in range(len(data))], methods) == whole


@settings(max_examples=300)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_random_bytes_after_a_status_line_never_crash(data: bytes, cuts: list[int]) -> None:
    """Noise after a status line raises only HttpParserError, the same for any split."""
    data = b"HTTP/1.1 200 OK\r\n" + data
    assert run(split(data, cuts), ["GET"]) == run([data], ["GET"])


@settings(max_examples=300)
@given(data=st.binary(max_size=200))
def test_random_bytes_never_crash_either_parser(data: bytes) -> None:
    """Arbitrary bytes never raise anything but HttpParserError, in either parser."""
    run([data], ["GET", "HEAD"])
    parser = RequestParser()
    try:
        parser.feed(data)
        parser.feed_eof()
    except HttpParserError:
        pass
