"""The head's size limits, counted as aiohttp's C parser counts them.

``max_line_size`` bounds the request-target (414) and ``max_field_size`` a
field's name and, on its own, its value (431): the value from its first byte
that is not SP or HTAB to the end of the line. aiohttp's C parser (llhttp)
counts its URL and a field's name and value the same way (with quirks that only
refuse more, see tests/test_integration_header_limits.py), so every head it
accepts under the same limits, weft accepts. The head as a whole stays bounded:
the method by 32 bytes, the version by 32, the field section by
``max_head_size``. The answer never depends on how the bytes were split.
"""

from __future__ import annotations

import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    BadRequest,
    EndOfMessage,
    HeaderFieldsTooLarge,
    HttpParserError,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
)

HOST = b"Host: h\r\n"


def outcome(data: bytes, pieces: list[bytes] | None = None, **limits: int) -> str:
    """The error class raised, or "ok" when the request (and its trailers) completed."""
    parser = RequestParser(**limits)
    events = []
    try:
        for piece in [data] if pieces is None else pieces:
            events += parser.feed(piece)
    except HttpParserError as exc:
        return type(exc).__name__
    assert isinstance(events[0], RequestHead)
    assert isinstance(events[-1], EndOfMessage)
    return "ok"


def every_way(data: bytes, **limits: int) -> str:
    """outcome() fed whole, in random pieces and (small heads) byte by byte: all agree.

    Whole, a head goes through the fast path; in pieces, through the scanner.
    """
    whole = outcome(data, None, **limits)
    rng = random.Random(data)
    for _ in range(3):
        cuts = sorted(rng.sample(range(1, len(data)), min(4, len(data) - 1)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert outcome(data, pieces, **limits) == whole, pieces
    if len(data) <= 2000:
        assert outcome(data, [data[i : i + 1] for i in range(len(data))], **limits) == whole
    return whole


def request(target: bytes = b"/", fields: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + HOST + fields + b"\r\n"


EXPECTED = {-1: "ok", 0: "ok", 1: None}  # None: the limit's error


@pytest.mark.parametrize("limit", [8, 100, 8190])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_field_name_at_its_limit(limit: int, delta: int) -> None:
    data = request(fields=b"N" * (limit + delta) + b": v\r\n")
    assert every_way(data, max_field_size=limit) == (EXPECTED[delta] or "HeaderFieldsTooLarge")


@pytest.mark.parametrize("limit", [8, 100, 8190])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_field_value_at_its_limit(limit: int, delta: int) -> None:
    """The value alone is counted: "Cookie: " and its name take none of its bytes."""
    data = request(fields=b"Cookie: " + b"v" * (limit + delta) + b"\r\n")
    assert every_way(data, max_field_size=limit) == (EXPECTED[delta] or "HeaderFieldsTooLarge")


@pytest.mark.parametrize("limit", [8, 100, 8190])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_request_target_at_its_limit(limit: int, delta: int) -> None:
    """The target alone is counted: the method and the version take none of its bytes."""
    data = request(target=b"/" + b"t" * (limit + delta - 1))
    assert every_way(data, max_line_size=limit) == (EXPECTED[delta] or "RequestTargetTooLong")


@pytest.mark.parametrize("limit", [17, 100])  # Transfer-Encoding has 17 bytes
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_trailer_value_at_its_limit(limit: int, delta: int) -> None:
    head = b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    data = head + b"0\r\nT: " + b"v" * (limit + delta) + b"\r\n\r\n"
    assert every_way(data, max_field_size=limit) == (EXPECTED[delta] or "HeaderFieldsTooLarge")


def test_a_name_and_a_value_each_at_the_limit_make_a_line_of_twice_it() -> None:
    field = b"N" * 8190 + b": " + b"v" * 8190 + b"\r\n"
    assert every_way(request(fields=field)) == "ok"
    assert every_way(request(fields=field * 3)) == "ok"
    assert every_way(request(fields=field * 4)) == "HeaderFieldsTooLarge"  # max_head_size


def test_whitespace_before_a_value_is_not_counted_whitespace_after_it_is() -> None:
    """As llhttp: it skips the OWS before the value and hands over the rest."""
    assert every_way(request(fields=b"X: \t \t" + b"v" * 10 + b"\r\n"), max_field_size=10) == "ok"
    assert every_way(request(fields=b"X:" + b"v" * 9 + b" \r\n"), max_field_size=10) == "ok"
    over = request(fields=b"X: " + b"v" * 10 + b" \r\n")
    assert every_way(over, max_field_size=10) == "HeaderFieldsTooLarge"
    with pytest.raises(HeaderFieldsTooLarge, match="the value of header 'X'"):
        RequestParser(max_field_size=10).feed(over)
    assert every_way(request(fields=b"X:" + b" " * 50 + b"\r\n"), max_field_size=10) == "ok"


def test_a_line_without_a_colon_is_a_name_until_one_comes() -> None:
    """No colon yet: the whole partial line would be the name, so it is refused when
    longer than the limit, before its end; a short one is a syntax error at its end."""
    parser = RequestParser(max_field_size=10)
    parser.feed(request()[:-2] + b"N" * 10)
    with pytest.raises(HeaderFieldsTooLarge, match="a header name is longer"):
        parser.feed(b"N")
    assert every_way(request(fields=b"N" * 10 + b"\r\n"), max_field_size=10) == "BadRequest"
    assert every_way(request(fields=b"N" * 11 + b"\r\n"), max_field_size=10) == (
        "HeaderFieldsTooLarge"
    )
    # The first colon ends the name: one further along is the value's.
    assert every_way(request(fields=b"N: " + b"v:" * 5 + b"\r\n"), max_field_size=10) == "ok"


def test_the_limits_come_before_the_syntax_of_a_line() -> None:
    bad_name = b"Ba d: v\r\n"
    assert every_way(request(fields=bad_name), max_field_size=10) == "BadRequest"
    assert every_way(request(fields=b"Ba d" * 3 + b": v\r\n"), max_field_size=10) == (
        "HeaderFieldsTooLarge"
    )
    bad_value = b"X: " + b"v" * 11 + b"\x01\r\n"
    assert every_way(request(fields=bad_value), max_field_size=10) == "HeaderFieldsTooLarge"
    bad_target = b"/" + b"t" * 10 + b"\x7f"
    assert every_way(request(target=bad_target), max_line_size=10) == "RequestTargetTooLong"
    assert every_way(request(target=b"/\x7f"), max_line_size=10) == "BadRequest"


def test_the_method_and_the_version_are_not_counted_against_max_line_size() -> None:
    method = b"M" * 32
    data = method + b" /" + b"t" * 9 + b" HTTP/1.1\r\n" + HOST + b"\r\n"
    assert every_way(data, max_line_size=10) == "ok"


def test_a_version_over_32_bytes_is_refused_before_the_line_ends() -> None:
    """What follows the target is bounded too, so the request-line stays bounded
    whatever max_line_size: 400 once it passes 32 bytes (HTTP/1.1 has 8)."""
    parser = RequestParser()
    parser.feed(b"GET / " + b"H" * 32)
    with pytest.raises(BadRequest, match="longer than 32 bytes"):
        parser.feed(b"H")
    assert every_way(b"GET / HTTP/1.1" + b"1" * 18 + b"\r\n" + HOST + b"\r\n") == "BadRequest"
    # The bound changes no answer the line would have had: a long version is malformed.
    assert every_way(b"GET / HTTP/1.1" + b"1" * 19 + b"\r\n" + HOST + b"\r\n") == "BadRequest"


def test_whitespace_before_values_is_bounded_by_max_head_size_in_bounded_memory() -> None:
    parser = RequestParser(max_head_size=65536)
    parser.feed(request()[:-2] + b"X:")
    tracemalloc.start()
    try:
        fed = 0
        with pytest.raises(HeaderFieldsTooLarge, match="max_head_size"):  # noqa: PT012
            while fed < 100:
                parser.feed(b" " * 1024)
                fed += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fed == 63  # the head's first 64 KiB
    assert peak < 512 * 1024


def test_response_fields_are_counted_the_same_way_the_status_line_whole() -> None:
    def parse(data: bytes, **limits: int) -> str:
        parser = ResponseParser(**limits)
        parser.expect_response("GET")
        try:
            events = parser.feed(data)
        except HttpParserError as exc:
            return type(exc).__name__
        assert isinstance(events[0], ResponseHead)
        return "ok"

    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: " + b"v" * 14 + b"\r\n\r\n"
    assert parse(ok, max_field_size=14) == "ok"  # Content-Length has 14 bytes
    assert parse(ok.replace(b"v" * 14, b"v" * 15), max_field_size=14) == "HeaderFieldsTooLarge"
    assert parse(b"HTTP/1.1 200 " + b"R" * 7 + b"\r\n\r\n", max_line_size=20) == "ok"
    assert parse(b"HTTP/1.1 200 " + b"R" * 8 + b"\r\n\r\n", max_line_size=20) == (
        "HeaderFieldsTooLarge"
    )
    # Before its end too.
    assert parse(b"HTTP/1.1 200 " + b"R" * 8, max_line_size=20) == "HeaderFieldsTooLarge"


# -- generated heads: the limits as a model, the split never matters

LIMIT = 12
_ows = st.sampled_from([b"", b" ", b"\t", b"  ", b" \t "])
_name = st.integers(1, LIMIT + 2).map(lambda n: b"N" * n)
_value = st.integers(0, LIMIT + 2).map(lambda n: b"v" * n)
_field = st.tuples(_name, _ows, _value, _ows)
_target = st.integers(1, LIMIT + 2).map(lambda n: b"/" + b"t" * (n - 1))


def _model(target: bytes, fields: list[tuple[bytes, bytes, bytes, bytes]]) -> str:
    """The answer the rule gives, in stream order: the target first, then each line."""
    if len(target) > LIMIT:
        return "RequestTargetTooLong"
    for name, _before, value, after in fields:
        if len(name) > LIMIT or len(value + after if value else b"") > LIMIT:
            return "HeaderFieldsTooLarge"
    return "ok"


@settings(max_examples=300)
@given(_target, st.lists(_field, max_size=4), st.integers(0, 4))
def test_generated_heads_are_refused_exactly_when_a_part_is_over_its_limit(
    target: bytes, fields: list[tuple[bytes, bytes, bytes, bytes]], host_at: int
) -> None:
    lines = [
        name + b":" + before + value + after + b"\r\n" for name, before, value, after in fields
    ]
    lines.insert(min(host_at, len(lines)), HOST)
    data = b"GET " + target + b" HTTP/1.1\r\n" + b"".join(lines) + b"\r\n"
    assert every_way(data, max_line_size=LIMIT, max_field_size=LIMIT) == _model(target, fields)
