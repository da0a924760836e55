"""Bytes that cannot start a request are refused as they arrive, not at a line end.

A TLS ClientHello on the plain port, an SSH banner's binary cousins, a port
scanner's probe: none of them has to send CRLF, and a parser that waits for
one holds the connection until a timeout. The method is a token (RFC 9110
§9), so the first byte before the first SP that is not a tchar settles it;
a run of token bytes longer than MAX_METHOD_SIZE does too. Empty lines
before the request-line are still skipped (RFC 9112 §2.2).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.http_parser import (
    BadRequest,
    HttpParserError,
    RequestHead,
    RequestParser,
)
from weft.http_parser._request_line import MAX_METHOD_SIZE

TCHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Bytes that can be neither in a method nor end one; CR waits (it may be the
# CR of a CRLF), LF ends the line and is judged as a line end (bare LF).
NOT_IN_A_METHOD = bytes(b for b in range(256) if b not in TCHARS and b not in b" \r\n")
CLIENT_HELLO = bytes.fromhex("16030100f4010000f00303") + bytes(32)
REQUEST = b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n"


def outcome(parser: RequestParser, pieces: list[bytes]) -> tuple[str, int]:
    """("error class", bytes fed when it was raised) or ("ok", heads completed)."""
    heads = fed = 0
    for piece in pieces:
        fed += len(piece)
        try:
            heads += sum(isinstance(e, RequestHead) for e in parser.feed(piece))
        except HttpParserError as exc:
            return type(exc).__name__, fed
    return "ok", heads


def one_by_one(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_a_tls_client_hello_is_refused_at_its_first_byte() -> None:
    parser = RequestParser()
    with pytest.raises(BadRequest, match="TLS handshake bytes on a plain-HTTP port"):
        parser.feed(CLIENT_HELLO[:1] + CLIENT_HELLO[1:2])
    with pytest.raises(BadRequest):  # the parser is finished (an error is final)
        parser.feed(CLIENT_HELLO[2:])


def test_a_lone_0x16_is_refused_without_waiting_for_more() -> None:
    with pytest.raises(BadRequest, match="byte 0x16 cannot be part of a method"):
        RequestParser().feed(b"\x16")


@given(st.sampled_from(list(NOT_IN_A_METHOD)), st.binary(max_size=20))
def test_a_byte_that_cannot_begin_a_method_is_refused_at_once(byte: int, rest: bytes) -> None:
    assert outcome(RequestParser(), [bytes([byte]), rest]) == ("BadRequest", 1)


@given(
    st.lists(st.sampled_from(list(TCHARS)), min_size=1, max_size=MAX_METHOD_SIZE).map(bytes),
    st.sampled_from(list(NOT_IN_A_METHOD + b"\r")),
    st.binary(min_size=1, max_size=5),
)
def test_a_bad_byte_inside_the_method_is_refused_when_it_arrives(
    method: bytes, byte: int, rest: bytes
) -> None:
    """After any valid method prefix, a non-token byte is refused once it is seen.

    A CR is judged once the next byte shows it is not the CR of a CRLF.
    """
    pieces = [*one_by_one(method), bytes([byte]), rest]
    kind, fed = outcome(RequestParser(), pieces)
    assert kind == "BadRequest"
    assert fed == len(method) + 1 + (len(rest) if byte == 0x0D else 0)


def test_a_method_longer_than_the_limit_is_refused_at_the_byte_past_it() -> None:
    method = b"X" * (MAX_METHOD_SIZE + 1)
    assert outcome(RequestParser(), one_by_one(method)) == ("BadRequest", MAX_METHOD_SIZE + 1)
    # Whole, the same: a request-line of that method is refused for its method.
    with pytest.raises(BadRequest, match=f"longer than {MAX_METHOD_SIZE} bytes"):
        RequestParser().feed(method + b" / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_a_method_of_the_limit_is_a_request() -> None:
    method = b"X" * MAX_METHOD_SIZE
    (head, _end) = RequestParser().feed(method + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert isinstance(head, RequestHead)
    assert head.method == method.decode()
    assert outcome(RequestParser(), one_by_one(method + b" / HTTP/1.1\r\nHost: x\r\n\r\n")) == (
        "ok",
        1,
    )


@given(st.integers(1, len(REQUEST)))
def test_every_prefix_of_a_valid_request_waits_for_more(length: int) -> None:
    """Early refusal never refuses a request that is merely incomplete."""
    parser = RequestParser()
    events = []
    for piece in one_by_one(REQUEST[:length]):
        events += parser.feed(piece)
    assert bool(events) == (length == len(REQUEST))


def test_empty_lines_before_a_request_line_are_still_skipped() -> None:
    assert outcome(RequestParser(), one_by_one(b"\r\n\r\n" + REQUEST)) == ("ok", 1)
    assert outcome(RequestParser(), [b"\r\n\r\n" + REQUEST]) == ("ok", 1)


def test_garbage_after_empty_lines_is_refused_at_its_first_byte() -> None:
    assert outcome(RequestParser(), [b"\r\n", b"\r\n", b"\x16", b"\x03"]) == ("BadRequest", 5)


def test_garbage_after_a_pipelined_request_is_refused_with_the_request_kept() -> None:
    parser = RequestParser()
    with pytest.raises(BadRequest) as caught:
        parser.feed(REQUEST + b"\x16\x03\x01")
    assert [type(event).__name__ for event in caught.value.events] == [
        "RequestHead",
        "EndOfMessage",
    ]


def test_the_method_is_judged_before_the_target_limit_and_the_limit_before_its_bytes() -> None:
    """max_line_size bounds the target only: a 40-byte run of token bytes is no method
    (400) even under a 10-byte limit; a target over the limit is 414 whatever bytes
    it holds past it. Fed whole or byte by byte."""
    line = b"GETX" * 10
    for pieces in ([line], one_by_one(line)):
        assert outcome(RequestParser(max_line_size=10), pieces)[0] == "BadRequest"
    for pieces in ([b"GET /" + b"a" * 10 + b"\x16"], one_by_one(b"GET /" + b"a" * 10 + b"\x16")):
        assert outcome(RequestParser(max_line_size=10), pieces)[0] == "RequestTargetTooLong"


# One stream, every split: the same error class (invariant 1 of _parser), with
# small limits so that the method limit and max_line_size meet.
start_bytes = st.lists(
    st.sampled_from([b"G", b"E", b"T", b"x", b" ", b"/", b"\r", b"\n", b"\x16", b"\x00", b"\xff"]),
    max_size=45,
).map(b"".join)


@given(start_bytes, st.sampled_from([8, 20, 32, 33, 8190]), st.data())
def test_the_split_never_changes_the_answer_to_a_start(
    data: bytes, max_line_size: int, draw: st.DataObject
) -> None:
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=6)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    whole = outcome(RequestParser(max_line_size=max_line_size), [data])
    assert outcome(RequestParser(max_line_size=max_line_size), pieces)[0] == whole[0]
    assert outcome(RequestParser(max_line_size=max_line_size), one_by_one(data))[0] == whole[0]
