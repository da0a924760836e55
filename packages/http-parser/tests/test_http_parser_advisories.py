"""aiohttp's server-side advisories that land in the parser: each one a regression test.

Each test names the advisory (or hardening item) of ``/work/shared/ADVISORIES.md``
it answers in its docstring; the README's "Security advisories" table points
from the advisory to the test. Everything is raw bytes in, typed errors or
events out, fed whole and one byte at a time where the split could matter.
nox runs this file against the compiled and the pure-Python builds.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from weft.http_parser import (
    BadRequest,
    BodyChunk,
    EndOfMessage,
    HeaderFieldsTooLarge,
    HttpParserError,
    RequestHead,
    RequestParser,
    RequestTargetTooLong,
    ResponseParser,
    WebSocketError,
    WebSocketReader,
)
from weft.http_parser.streams import BodyStream

HEAD = b"POST / HTTP/1.1\r\nHost: h\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: h\r\n\r\n"


def outcome(data: bytes, limits: dict[str, int], *, byte_by_byte: bool = False) -> str | int:
    """The error class's name, or the number of requests read (then EOF)."""
    parser = RequestParser(**limits)
    pieces = [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]
    heads = 0
    try:
        for piece in pieces:
            heads += sum(isinstance(e, RequestHead) for e in parser.feed(piece))
        parser.feed_eof()
    except HttpParserError as exc:
        return type(exc).__name__
    return heads


def feed_until_error(
    parser: RequestParser | ResponseParser, pieces: list[bytes]
) -> tuple[int, HttpParserError | None]:
    """How many pieces were fed without error, and the error that stopped the feeding."""
    for fed, piece in enumerate(pieces):
        try:
            parser.feed(piece)
        except HttpParserError as exc:
            return fed, exc
    return len(pieces), None


def both_ways(data: bytes, **limits: int) -> str | int:
    """outcome() fed whole and byte by byte, which must agree."""
    whole = outcome(data, limits)
    assert outcome(data, limits, byte_by_byte=True) == whole
    return whole


# -- 3: CR, LF and NUL in field names and values (GHSA-45c4-8wx5-qw6w, CVE-2023-37276)

_FORBIDDEN = [b"\r", b"\n", b"\x00"]


@pytest.mark.parametrize("byte", _FORBIDDEN, ids=["CR", "LF", "NUL"])
@pytest.mark.parametrize(
    "line",
    [b"X-A%sB: v", b"X-AB%s: v", b"X-AB: v%sw", b"X-AB: %sv", b"X-AB: v%s"],
    ids=["name-inner", "name-end", "value-inner", "value-start", "value-end"],
)
def test_cr_lf_nul_in_a_field_name_or_value_is_400(byte: bytes, line: bytes) -> None:
    """GHSA-45c4-8wx5-qw6w / CVE-2023-37276: a CR, LF or NUL anywhere in a field name
    or value is a 400, and the request pipelined behind it is never read."""
    data = HEAD + line % byte + b"\r\nContent-Length: 0\r\n\r\n" + SMUGGLED
    assert both_ways(data) == "BadRequest"


# -- 4: llhttp 9's smuggling fixes (GHSA-pjjw-qhg8-p2p9; node's CVE-2022-32213/-32214/-32215,
#       CVE-2022-35256, CVE-2023-30589), replayed

LLHTTP_9_CORPUS = [
    # CVE-2023-30589: CR alone used as the line delimiter
    pytest.param(b"GET / HTTP/1.1\rHost: h\r\n\r\n", id="cr-ends-request-line"),
    pytest.param(HEAD + b"Content-Length: 0\r\rX: y\r\n\r\n", id="cr-ends-field-line"),
    pytest.param(HEAD + b"Content-Length: 0\r\n\r" + SMUGGLED, id="cr-ends-head"),
    # CVE-2022-32214: LF alone used as the line delimiter
    pytest.param(b"GET / HTTP/1.1\nHost: h\n\n" + SMUGGLED, id="lf-only-head"),
    pytest.param(CHUNKED + b"3\nabc\r\n0\r\n\r\n", id="lf-after-chunk-size"),
    pytest.param(CHUNKED + b"3\r\nabc\n0\r\n\r\n", id="lf-after-chunk-data"),
    pytest.param(CHUNKED + b"0\r\n\n" + SMUGGLED, id="lf-ends-trailers"),
    # CVE-2022-32215 / CVE-2022-32213: Transfer-Encoding over several lines or obfuscated
    pytest.param(HEAD + b"Transfer-Encoding: gzip\r\n chunked\r\n\r\n0\r\n\r\n", id="te-obs-fold"),
    pytest.param(HEAD + b"Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n", id="te-suffix"),
    pytest.param(HEAD + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", id="te-vt"),
    # CVE-2022-35256: a field line not ended by CRLF
    pytest.param(HEAD + b"Content-Length: 3\r\nX: y\rZ: z\r\n\r\nabc", id="field-bare-cr"),
    # chunk framing llhttp 9 made strict
    pytest.param(CHUNKED + b"3\r\nabcXX0\r\n\r\n", id="chunk-data-not-crlf"),
    pytest.param(CHUNKED + b"3\rabc\r\n0\r\n\r\n", id="chunk-size-bare-cr"),
    pytest.param(CHUNKED + b"3;\rx\r\nabc\r\n0\r\n\r\n", id="chunk-ext-bare-cr"),
    pytest.param(CHUNKED + b"3 \r\nabc\r\n0\r\n\r\n", id="chunk-size-trailing-space"),
    pytest.param(HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", id="cl-differing"),
    pytest.param(HEAD + b"Content-Length : 0\r\n\r\n" + SMUGGLED, id="space-before-colon"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n\x00" + SMUGGLED, id="nul-between-requests"),
]


@pytest.mark.parametrize("data", LLHTTP_9_CORPUS)
def test_llhttp_9_smuggling_corpus_is_refused(data: bytes) -> None:
    """GHSA-pjjw-qhg8-p2p9 (llhttp 8.1.1 -> 9): each input llhttp 9 stopped accepting is
    a 400 here, whole or byte by byte, and no hidden request is ever read."""
    assert both_ways(data) == "BadRequest"


# -- 12: LF and CTLs in chunk extensions (GHSA-8495-4g3g-x7pr, CVE-2024-52304)


@pytest.mark.parametrize(
    "extension",
    [b";a\nb", b";a=b\n", b";a\n", b';a="x\ny"', b";a=\x01", b";\x7f", b";a=b\x0c", b";a\rb"],
    ids=["lf-in-name", "lf-after-value", "lf-ends-ext", "lf-in-quoted", "soh", "del", "ff", "cr"],
)
def test_lf_or_ctl_in_a_chunk_extension_is_400(extension: bytes) -> None:
    """GHSA-8495-4g3g-x7pr / CVE-2024-52304: a bare LF or any CTL in a chunk extension is
    a 400; the bytes after it are never read as a pipelined request."""
    data = CHUNKED + b"5" + extension + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED
    assert both_ways(data) == "BadRequest"


# -- 13: trailers parsed, bounded, and no way to smuggle (GHSA-9548-qrrj-x5pj, CVE-2025-53643)


def test_trailers_are_parsed_and_delivered_apart_from_the_head() -> None:
    """GHSA-9548-qrrj-x5pj / CVE-2025-53643: the trailer section is parsed as fields and
    given in EndOfMessage; a framing field in it does not reframe anything (the request
    pipelined after it is read as its own request)."""
    data = CHUNKED + b"0\r\nX-Sum: 1\r\nContent-Length: 40\r\n\r\n" + SMUGGLED
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        parser = RequestParser()
        events = [e for piece in pieces for e in parser.feed(piece)]
        heads = [e for e in events if isinstance(e, RequestHead)]
        assert [h.path for h in heads] == ["/", "/admin"]
        first_end = next(e for e in events if isinstance(e, EndOfMessage))
        assert dict(first_end.trailers) == {"X-Sum": "1", "Content-Length": "40"}
        assert "X-Sum" not in heads[0].headers


@pytest.mark.parametrize(
    "trailers",
    [
        SMUGGLED,  # a request-line where a field line must be
        b"X: y\n" + SMUGGLED,  # a bare LF to end the section early
        b"X : y\r\n\r\n",
        b"X: a\x00b\r\n\r\n",
        b"X: y\r\n z\r\n\r\n",
    ],
    ids=["request-line", "bare-lf", "space-before-colon", "nul", "obs-fold"],
)
def test_a_request_smuggled_through_trailers_is_400(trailers: bytes) -> None:
    """GHSA-9548-qrrj-x5pj / CVE-2025-53643: a trailer section that is not field lines
    ended by CRLF CRLF is a 400."""
    assert both_ways(CHUNKED + b"0\r\n" + trailers) == "BadRequest"


# -- 23: trailer limits (GHSA-w2fm-2cpv-w7v5, CVE-2026-22815)


def test_max_headers_and_max_field_size_apply_to_trailers() -> None:
    """GHSA-w2fm-2cpv-w7v5 / CVE-2026-22815: one more trailer line than max_headers, or
    a trailer line over max_field_size, is a 431 as it arrives, whole or byte by byte."""
    many = CHUNKED + b"0\r\n" + b"X: v\r\n" * 11 + b"\r\n"
    assert both_ways(many, max_headers=10) == "HeaderFieldsTooLarge"
    assert both_ways(CHUNKED + b"0\r\n" + b"X: v\r\n" * 10 + b"\r\n", max_headers=10) == 1
    long_line = CHUNKED + b"0\r\nX: " + b"v" * 200 + b"\r\n\r\n"
    assert both_ways(long_line, max_field_size=100) == "HeaderFieldsTooLarge"
    section = CHUNKED + b"0\r\n" + b"X: " + b"v" * 90 + b"\r\n" * 1 + b"Y: " + b"v" * 90 + b"\r\n"
    assert both_ways(section + b"\r\n", max_head_size=150) == "HeaderFieldsTooLarge"


def test_an_endless_trailer_section_is_cut_off_with_bounded_memory() -> None:
    """GHSA-w2fm-2cpv-w7v5 / CVE-2026-22815: trailer lines that never end are refused at
    line max_headers + 1; the parser holds no more than that section meanwhile."""
    parser = RequestParser(max_headers=100)
    parser.feed(CHUNKED + b"0\r\n")
    pieces = [b"X-Trailer: some value\r\n"] * 100_000
    tracemalloc.start()
    try:
        fed, error = feed_until_error(parser, pieces)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, HeaderFieldsTooLarge)
    assert fed == 100  # the 101st line is the one refused
    assert peak < 256 * 1024


# -- 30: max_line_size over many segments (GHSA-63hw-fmq6-xxg2, CVE-2026-54277)


@pytest.mark.parametrize(
    ("prefix", "error", "counted_from", "slack"),
    [
        (b"GET /", RequestTargetTooLong, 4, 1),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: ", HeaderFieldsTooLarge, 3, 1),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX", HeaderFieldsTooLarge, 0, 1),
        (CHUNKED + b"0\r\nX: ", HeaderFieldsTooLarge, 3, 1),
        (CHUNKED + b"5;", BadRequest, 0, 2),
    ],
    ids=["request-target", "field-value", "field-name", "trailer-value", "chunk-size-line"],
)
def test_a_line_arriving_one_byte_at_a_time_is_refused_once_it_passes_the_limit(
    prefix: bytes, error: type[HttpParserError], counted_from: int, slack: int
) -> None:
    """GHSA-63hw-fmq6-xxg2 / CVE-2026-54277: a line fed one byte per call is refused as
    soon as the part its limit bounds is longer than the limit (max_line_size: the
    request-target, from ``counted_from``; max_field_size: a field's name, or its
    value after the colon and the space; max_chunk_line_size: the chunk-size line,
    ``slack`` 2 as its limit lets one more byte in, its CR may be the next), and the
    parser's memory stays bounded by the limit, not by what the client sends."""
    limit = 100
    line_start = prefix.rfind(b"\n") + 1
    parser = RequestParser(max_line_size=limit, max_field_size=limit, max_chunk_line_size=limit)
    parser.feed(prefix[:line_start])
    line = prefix[line_start:] + b"a" * 1_000_000
    pieces = [line[i : i + 1] for i in range(2 * limit)]  # a client sends far more than this
    tracemalloc.start()
    try:
        fed, raised = feed_until_error(parser, pieces)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(raised) is error
    assert fed == counted_from + limit + slack - 1  # refused at the first byte over the limit
    assert peak < 64 * 1024


# -- 28 and #12302: the response parser refuses the same corpus (GHSA-63hf-3vf5-4wqf)


@pytest.mark.parametrize(
    "field",
    [b"X: a\x00b", b"X: a\rb", b"X: a\x01b", b"X: a\x7fb", b"X\x00: v", b"X : v", b"X: a\nY: b"],
    ids=["nul", "cr", "soh", "del", "nul-in-name", "space-before-colon", "bare-lf"],
)
def test_the_response_parser_refuses_ctl_in_fields_as_the_request_parser_does(
    field: bytes,
) -> None:
    """GHSA-63hf-3vf5-4wqf / CVE-2026-34520 and #12302: weft has no lenient mode, so
    responses get the request parser's strictness; NUL, CR, LF and the other CTLs in a
    response's fields are a BadRequest, exactly as in a request."""
    response = b"HTTP/1.1 200 OK\r\n" + field + b"\r\nContent-Length: 0\r\n\r\n"
    for pieces in ([response], [response[i : i + 1] for i in range(len(response))]):
        parser = ResponseParser()
        parser.expect_response("GET")
        assert isinstance(feed_until_error(parser, pieces)[1], BadRequest)
    assert both_ways(HEAD + field + b"\r\nContent-Length: 0\r\n\r\n") == "BadRequest"


# -- #13136: an error never carries bytes of the next pipelined request


@pytest.mark.parametrize(
    "bad",
    [b"GET / HTTP/1.1\nHost: h\r\n\r\n", b"GET / HTTP/1.1\r\nHost: h\r\nX: y\n"],
    ids=["bare-lf-request-line", "bare-lf-field-line"],
)
def test_a_bare_lf_error_holds_nothing_of_the_next_request(bad: bytes) -> None:
    """aiohttp #13136: a request refused for a bare LF gives an error whose message and
    events hold nothing of the request pipelined after it."""
    marker = b"GET /NEXT-REQUEST-MARKER HTTP/1.1\r\nHost: h\r\n\r\n"
    with pytest.raises(BadRequest) as info:
        RequestParser().feed(bad + marker)
    assert "MARKER" not in str(info.value)
    assert info.value.events == []


# -- 20: a body of 1-byte chunks (GHSA-g84x-mcqj-x9qq, CVE-2025-69229)


class _Flow:
    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False


@pytest.mark.asyncio
async def test_a_body_of_one_byte_chunks_pauses_reading_and_reads_in_few_calls() -> None:
    """GHSA-g84x-mcqj-x9qq / CVE-2025-69229: a chunked body sent as 1-byte chunks makes
    the body stream pause the connection at its high-water mark (so the chunks
    buffered are bounded by it, whatever the client sends), and the reader takes each
    batch in one readany() call, not one call (and one wake-up) per chunk."""
    high_water = 1024
    flow = _Flow()
    stream = BodyStream(flow, high_water=high_water)
    parser = RequestParser()
    assert isinstance(parser.feed(CHUNKED)[0], RequestHead)
    sent = 0
    reads = 0
    received = bytearray()
    total = 50_000
    while sent < total:
        # The connection feeds until the stream asks it to stop reading its socket.
        while not flow.paused and sent < total:
            for event in parser.feed(b"1\r\nx\r\n"):
                assert isinstance(event, BodyChunk)
                stream.feed_data(event.data)
            sent += 1
        assert len(stream._buffer) <= high_water + 1
        while stream._size:
            received += await stream.readany()
            reads += 1
    assert received == b"x" * total
    assert reads == -(-total // (high_water + 1))  # one read per batch, the last one short
    assert flow.pauses == total // (high_water + 1)


# -- 32: WebSocket frames over max_msg_size (GHSA-xcgm-r5h9-7989, CVE-2026-54274)

_MASK = b"\x01\x02\x03\x04"


def _frame_header(opcode: int, length: int, *, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return bytes((first, 0x80 | length)) + _MASK
    if length < 0x10000:
        return bytes((first, 0x80 | 126)) + length.to_bytes(2, "big") + _MASK
    return bytes((first, 0x80 | 127)) + length.to_bytes(8, "big") + _MASK


def _frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    masked = bytes(b ^ _MASK[i % 4] for i, b in enumerate(payload))
    return _frame_header(opcode, len(payload), fin=fin) + masked


@pytest.mark.parametrize("opcode", [1, 2], ids=["text", "binary"])
def test_a_frame_declaring_more_than_max_msg_size_is_1009_before_its_payload(opcode: int) -> None:
    """GHSA-xcgm-r5h9-7989 / CVE-2026-54274: a frame whose declared length passes
    max_msg_size is closed with 1009 on its header alone, whether it is the first
    frame or a continuation that pushes the message over; no payload is buffered."""
    limit = 1000
    with pytest.raises(WebSocketError) as info:
        WebSocketReader(max_msg_size=limit).feed(_frame_header(opcode, limit + 1))
    assert info.value.code == 1009
    reader = WebSocketReader(max_msg_size=limit)
    assert reader.feed(_frame(opcode, b"a" * 600, fin=False)) == []
    with pytest.raises(WebSocketError) as info:
        reader.feed(_frame_header(0, 401))  # the header only: the payload never comes
    assert info.value.code == 1009


@pytest.mark.parametrize("opcode", [1, 2], ids=["text", "binary"])
def test_tiny_fragments_cost_about_their_payload_in_memory(opcode: int) -> None:
    """GHSA-xcgm-r5h9-7989 / CVE-2026-54274 (aiohttp #13350): a message sent as many
    1-byte fragments holds memory in proportion to its payload (at most 4 bytes per
    payload byte), not ~28-42x it, text as binary; and it still arrives whole."""
    count = 20_000
    data = _frame(opcode, b"x", fin=False) + _frame(0, b"x", fin=False) * (count - 2)
    reader = WebSocketReader(max_msg_size=count)
    tracemalloc.start()
    try:
        for at in range(0, len(data), 65536):
            assert reader.feed(data[at : at + 65536]) == []
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 4 * count
    (message,) = reader.feed(_frame(0, b"y"))
    assert message.data == ("x" * (count - 1) + "y" if opcode == 1 else b"x" * (count - 1) + b"y")


# -- 18: the parser behaves the same under ``python -O`` (GHSA-jj3x-wxrx-4x23)


def _smuggling_corpus() -> list[bytes]:
    """The inputs of test_http_parser_smuggling.py's corpus (tests import in importlib mode)."""
    path = Path(__file__).with_name("test_http_parser_smuggling.py")
    spec = importlib.util.spec_from_file_location("_weft_smuggling_corpus", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [case[1] for case in module.CASES]


_CORPUS_SCRIPT = """
import json, sys
from weft.http_parser import HttpParserError, RequestHead, RequestParser
results = []
for hex_data in json.load(sys.stdin):
    data = bytes.fromhex(hex_data)
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        parser = RequestParser(max_body_size=1_000_000)
        heads = 0
        try:
            for piece in pieces:
                heads += sum(isinstance(e, RequestHead) for e in parser.feed(piece))
            parser.feed_eof()
            results.append(heads)
        except HttpParserError as exc:
            results.append(type(exc).__name__)
print(json.dumps([__debug__, results]))
"""


def _run_corpus(*flags: str) -> tuple[bool, list[object]]:
    corpus = [data.hex() for data in _smuggling_corpus()]
    done = subprocess.run(
        [sys.executable, *flags, "-c", _CORPUS_SCRIPT],
        input=json.dumps(corpus),
        capture_output=True,
        text=True,
        check=True,
    )
    debug, results = json.loads(done.stdout)
    return debug, results


def test_the_smuggling_corpus_gets_the_same_answers_under_python_dash_o() -> None:
    """GHSA-jj3x-wxrx-4x23 / CVE-2025-69227: no assert does real work in the parser;
    under ``python -O`` (asserts stripped) the whole smuggling corpus, fed whole and
    byte by byte, gets exactly the answers it gets without -O."""
    debug_plain, plain = _run_corpus()
    debug_optimized, optimized = _run_corpus("-O")
    assert (debug_plain, debug_optimized) == (True, False)
    assert optimized == plain
    assert len(plain) == 2 * len(_smuggling_corpus())
