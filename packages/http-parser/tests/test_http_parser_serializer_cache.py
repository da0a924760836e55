"""The serializer's remembered lines: what is served from them is what would be built anew.

Field lines are checked and encoded once and remembered under their (name,
value); status lines of registered statuses are built at import. These tests
hold the remembered bytes to the bytes built from scratch, for the same and
for different values, and the injection checks to every line that is not a
hit (README "Speed", "the head serializer").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, istr

from weft.http_parser import (
    HeaderInjectionError,
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    _serializer,
    encode_last_chunk,
    reason_phrase,
    serialize_request_head,
    serialize_response_head,
)
from weft.http_parser._status import REASON_PHRASES


@pytest.fixture(autouse=True)
def _empty_table() -> Iterator[None]:
    _serializer._LINES.clear()
    yield
    _serializer._LINES.clear()


def reference(status: int, reason: str, fields: list[tuple[str, str]], version: str) -> bytes:
    lines = [f"HTTP/{version} {status} {reason}\r\n", *(f"{n}: {v}\r\n" for n, v in fields)]
    return ("".join(lines) + "\r\n").encode("utf-8")


def test_a_remembered_line_is_served_for_its_own_value_only() -> None:
    """The same name with another value is a miss: each head gets its own bytes."""
    for value in ["13", "14", "13", "130", "1", "13"]:
        head = serialize_response_head(200, None, [("Content-Length", value)])
        assert head == f"HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n".encode()


def test_the_name_is_sent_as_given_whatever_was_remembered() -> None:
    """Names are remembered by their exact text: another case is another line."""
    for name in ["X-Id", "x-id", "X-ID", "X-Id"]:
        assert serialize_response_head(200, None, [(name, "1")]).endswith(
            f"\r\n{name}: 1\r\n\r\n".encode()
        )


def test_date_line_rolls_over_at_the_second() -> None:
    """A Date line is remembered for its second; the next second's value is its own line."""
    first = "Sun, 06 Dec 2026 11:50:22 GMT"
    second = "Sun, 06 Dec 2026 11:50:23 GMT"
    for date in [first, first, second, second, first]:
        head = serialize_response_head(200, None, [("Date", date), ("Server", "weft")])
        assert head == f"HTTP/1.1 200 OK\r\nDate: {date}\r\nServer: weft\r\n\r\n".encode()
    assert _serializer._LINES[("Date", second)] == f"Date: {second}\r\n".encode()


def test_the_table_stays_bounded() -> None:
    """A new value every second (or every response) never grows it past its bound."""
    for n in range(3 * _serializer._LINES_MAX):
        date = f"Sun, 06 Dec 2026 {n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d} GMT"
        head = serialize_response_head(200, None, [("Date", date), ("X-Seq", str(n))])
        assert head == reference(200, "OK", [("Date", date), ("X-Seq", str(n))], "1.1")
        assert len(_serializer._LINES) <= _serializer._LINES_MAX


def test_a_long_value_is_not_remembered_but_still_sent_and_checked() -> None:
    """Values over _LINE_VALUE_MAX are encoded every time (memory stays small)."""
    long = "v" * (_serializer._LINE_VALUE_MAX + 1)
    assert serialize_response_head(200, None, [("X", long)]).endswith(f"X: {long}\r\n\r\n".encode())
    assert ("X", long) not in _serializer._LINES
    with pytest.raises(HeaderInjectionError, match="'X'"):
        serialize_response_head(200, None, [("X", long + "\r\nY: z")])


@pytest.mark.parametrize("ctl", ["\r", "\n", "\x00", "\x01", "\x7f", "\r\nSet-Cookie: a=1"])
def test_an_injection_is_refused_after_the_clean_line_was_remembered(ctl: str) -> None:
    """A remembered ("X", "a") does not let ("X", "a" + CTL ...) through."""
    assert serialize_response_head(200, None, [("X", "a")]).endswith(b"X: a\r\n\r\n")
    with pytest.raises(HeaderInjectionError, match="'X'"):
        serialize_response_head(200, None, [("X", "a" + ctl)])
    with pytest.raises(HeaderInjectionError, match="'X'"):
        serialize_response_head(200, None, [("X", "a"), ("X", "a" + ctl)])
    with pytest.raises(HeaderInjectionError, match="'X'"):
        encode_last_chunk([("X", "a" + ctl)])
    assert not any(ctl in str(key) for key in _serializer._LINES)


def test_a_refused_line_is_refused_every_time() -> None:
    """Nothing of a refused line is remembered."""
    for _ in range(3):
        with pytest.raises(HeaderInjectionError):
            serialize_response_head(200, None, [("X", "a\nb")])
        with pytest.raises(HeaderInjectionError):
            serialize_response_head(200, None, [("X Y", "v")])
    assert _serializer._LINES == {}


def test_istr_and_str_names_give_the_same_bytes() -> None:
    """multidict's items() (istr names) and plain tuples share the remembered lines."""
    headers: CIMultiDict[str] = CIMultiDict()
    headers[istr("Content-Type")] = "text/plain; charset=utf-8"
    headers["Server"] = "weft"
    expected = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nServer: weft\r\n\r\n"
    assert serialize_response_head(200, None, headers.items()) == expected
    assert serialize_response_head(200, None, list(headers.items())) == expected
    assert serialize_response_head(200, "OK", [(str(k), v) for k, v in headers.items()]) == expected


class _Loose(str):
    """A str whose equality is not its text's: it must never be remembered."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash("Server")


def test_only_text_keys_are_remembered() -> None:
    """A str subclass with its own equality, or a non-tuple pair, is checked and sent, not kept."""
    assert serialize_response_head(200, None, [("X-A", _Loose("1"))]).endswith(b"X-A: 1\r\n\r\n")
    assert _serializer._LINES == {}
    head = serialize_response_head(200, None, [("Server", "weft")])
    assert head.endswith(b"Server: weft\r\n\r\n")
    assert list(_serializer._LINES) == [("Server", "weft")]


@pytest.mark.parametrize("status", sorted(REASON_PHRASES))
def test_every_prebuilt_status_line_is_its_own_status(status: int) -> None:
    """Each registered status gets its own line, with its phrase, a custom one, or HTTP/1.0."""
    phrase = reason_phrase(status)
    fields = [("Content-Length", "0")]
    for reason in (None, phrase):
        assert serialize_response_head(status, reason, fields) == reference(
            status, phrase, fields, "1.1"
        )
        assert serialize_response_head(status, reason, fields, HttpVersion(1, 1)) == reference(
            status, phrase, fields, "1.1"
        )
        assert serialize_response_head(status, reason, fields, HttpVersion10) == reference(
            status, phrase, fields, "1.0"
        )
    assert serialize_response_head(status, "Fine", fields, HttpVersion11) == reference(
        status, "Fine", fields, "1.1"
    )
    assert serialize_response_head(status, "", fields) == reference(status, "", fields, "1.1")


def test_unregistered_status_and_custom_reason_are_checked() -> None:
    """Outside the prebuilt lines, the start line is built and checked each time."""
    assert serialize_response_head(299, None, []) == b"HTTP/1.1 299 \r\n\r\n"
    assert serialize_response_head(299, "Mine", []) == b"HTTP/1.1 299 Mine\r\n\r\n"
    assert serialize_response_head(200, "OK", [], HttpVersion(1, 2)) == b"HTTP/1.2 200 OK\r\n\r\n"
    for reason in ["OK\r\nX: y", "O\x00K"]:
        with pytest.raises(HeaderInjectionError, match="start line"):
            serialize_response_head(200, reason, [])
        with pytest.raises(HeaderInjectionError, match="start line"):
            serialize_response_head(299, reason, [])


_names = st.sampled_from(["Server", "Date", "X-A", "x-a", "Content-Length", "ETag"])
_values = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x17F, exclude_categories=["Cs"]), max_size=8
)


@given(heads=st.lists(st.lists(st.tuples(_names, _values), max_size=5), min_size=1, max_size=6))
def test_remembered_heads_equal_heads_built_anew(heads: list[list[tuple[str, str]]]) -> None:
    """Whatever was remembered before, a head is the reference bytes or, if a value holds a
    CTL other than HTAB, HeaderInjectionError: the same answer with a cold or a warm table."""
    for fields in heads * 2:
        bad = any((c < " " and c != "\t") or c == "\x7f" for _, v in fields for c in v)
        if bad:
            with pytest.raises(HeaderInjectionError):
                serialize_response_head(200, None, fields)
            with pytest.raises(HeaderInjectionError):
                serialize_request_head("GET", "/", fields)
        else:
            assert serialize_response_head(200, None, fields) == reference(200, "OK", fields, "1.1")
            request = serialize_request_head("GET", "/", fields)
            assert request == reference(200, "OK", fields, "1.1").replace(
                b"HTTP/1.1 200 OK", b"GET / HTTP/1.1", 1
            )
