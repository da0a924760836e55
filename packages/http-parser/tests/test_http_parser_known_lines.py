"""A request head's field lines, read one at a time and known by their text.

``read_field_line`` settles the common line (printable value, a name seen
before) without a regex; ``known_field_lines`` remembers the lines it read.
Both are held to the field-line grammar as the bytes-level regex states it
(``_FIELD``, which the trailer reader and the scanner's limits share): the
same pair for a valid line, None for any other, whatever was read before.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from weft.http_parser import RequestHead, RequestParser
from weft.http_parser._fields import (
    _FIELD,
    _KNOWN_LINE_SIZE,
    _KNOWN_LINES,
    _KNOWN_LINES_MAX,
    _KNOWN_NAMES,
    _KNOWN_NAMES_MAX,
    known_field_lines,
    read_field_line,
)

# Every class of character the grammar tells apart: tchar, separators, SP and
# HTAB, CR and LF, other CTLs, DEL, printable and non-printable non-ASCII, and
# a lone surrogate (an invalid UTF-8 byte, decoded with surrogateescape).
_CHARS = st.sampled_from(
    [
        *'aZ0-_!~:;,= ("',
        "\t",
        "\r",
        "\n",
        "\x00",
        "\x1f",
        "\x7f",
        "é",
        "\x85",
        "\xa0",
        "\u2028",
        "\udcff",
    ]
)
_LINES = st.one_of(
    st.text(_CHARS, max_size=12),
    st.tuples(
        st.sampled_from(["Host", "x-y", "A B", "", "é", "X\t"]), st.text(_CHARS, max_size=8)
    ).map(lambda nv: f"{nv[0]}:{nv[1]}"),
)


def reference(line: str) -> tuple[str, str] | None:
    """The field-line grammar on the line's bytes, as the parser receives them."""
    raw = line.encode("utf-8", "surrogateescape")
    match = _FIELD.fullmatch(raw + b"\r\n")
    if match is None:
        return None
    name, value = match.groups()
    return name.decode("ascii"), value.decode("utf-8", "surrogateescape")


@given(line=_LINES)
@example(line="X: a\tb")
@example(line="X:\t a \t")
@example(line="X: a\x85")
@example(line="X: \udcff")
@example(line="X: a\rb")
@example(line="X: a\nb")
@example(line=": a")
@example(line="X :a")
@example(line="X:")
def test_a_line_reads_as_the_grammar_reads_it(line: str) -> None:
    assert read_field_line(line) == reference(line)
    # Again, now that its name may be known.
    assert read_field_line(line) == reference(line)


@given(lines=st.lists(_LINES, max_size=5))
def test_a_section_reads_as_its_lines_do_before_and_after_they_are_known(
    lines: list[str],
) -> None:
    text = "\r\n" + "".join(f"{line}\r\n" for line in lines) + "\r\n"
    expected = [reference(line) for line in lines]
    want = None if None in expected else expected
    for _ in range(2):  # the second time, the good lines are known
        assert known_field_lines(text, 2, len(text) - 2) == want


def test_a_bad_line_is_never_known() -> None:
    _KNOWN_LINES.clear()
    for line in ["X: a\rb", "X: a\x00", "A B: c", ": c", "X: a\nY: b"]:
        text = f"\r\n{line}\r\n\r\n"
        assert known_field_lines(text, 2, len(text) - 2) is None
        assert line not in _KNOWN_LINES


def test_the_known_lines_and_names_stay_bounded() -> None:
    for i in range(3 * _KNOWN_LINES_MAX):
        text = f"\r\nX-{i}: {i}\r\n\r\n"
        assert known_field_lines(text, 2, len(text) - 2) == [(f"X-{i}", str(i))]
        assert len(_KNOWN_LINES) <= _KNOWN_LINES_MAX
        assert len(_KNOWN_NAMES) <= _KNOWN_NAMES_MAX


def test_a_long_line_is_read_each_time_not_kept() -> None:
    long_line = "Cookie: " + "c" * _KNOWN_LINE_SIZE
    text = f"\r\n{long_line}\r\n\r\n"
    assert known_field_lines(text, 2, len(text) - 2) == [("Cookie", "c" * _KNOWN_LINE_SIZE)]
    assert long_line not in _KNOWN_LINES


def test_known_lines_give_each_request_its_own_headers() -> None:
    """Two requests with the same lines get equal, separate fields (nothing shared is mutable)."""
    parser = RequestParser()
    head = b"GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
    first, second = parser.feed(head)[0], parser.feed(head)[0]
    assert isinstance(first, RequestHead)
    assert isinstance(second, RequestHead)
    assert list(first.headers.items()) == list(second.headers.items())
    assert list(first.headers.items()) == [("Host", "h"), ("Accept", "*/*")]
    assert first.headers is not second.headers
