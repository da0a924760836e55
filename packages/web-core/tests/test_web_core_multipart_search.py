"""The multipart reader's delimiter search answers as bytes.find does, on any body."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from weft.web_core._multipart import _CR_PROBES, _find_delimiter

DELIMITER = b"\r\n--boundary"

# Bodies built from pieces that make the search work: CRs alone, CRLFs, near misses
# of the delimiter, the delimiter itself, and plain bytes.
PIECES = st.sampled_from(
    [b"\r", b"\r\n", b"\r\n-", b"\r\n--", b"\r\n--boundar", DELIMITER, b"x", b"boundary", b"\n"]
)
BODIES = st.lists(st.one_of(PIECES, st.binary(max_size=8)), max_size=60).map(b"".join)


@given(BODIES, st.integers(min_value=0, max_value=600))
def test_it_finds_what_bytes_find_finds(body: bytes, end: int) -> None:
    buf = bytearray(body)
    assert _find_delimiter(buf, DELIMITER, end) == buf.find(DELIMITER, 0, end)


def test_a_delimiter_past_the_window_is_not_found() -> None:
    buf = bytearray(b"x" * 10 + DELIMITER)
    assert _find_delimiter(buf, DELIMITER, 10 + len(DELIMITER) - 1) == -1
    assert _find_delimiter(buf, DELIMITER, 10 + len(DELIMITER)) == 10


def test_many_carriage_returns_before_the_delimiter() -> None:
    # More CRs than the probes: the search goes on with bytes.find from the last one.
    body = b"\r\n-" * (_CR_PROBES * 3) + DELIMITER + b"--"
    buf = bytearray(body)
    assert _find_delimiter(buf, DELIMITER, len(body)) == body.find(DELIMITER)
