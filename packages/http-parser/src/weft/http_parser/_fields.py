"""Field sections: the header lines of a head and the trailer lines of a chunked body.

Two readers share one grammar (RFC 9112 §5, RFC 9110 §5.5)::

    field-line   = field-name ":" OWS field-value OWS CRLF
    field-name   = token
    field-value  = *( VCHAR / obs-text / SP / HTAB )   (no CTL but HTAB)

``fast_fields`` checks a complete section with two C-level regex passes and
gives up (returns None) on anything unusual: a bad line, a limit reached.
``fast_head_fields`` does the same for a request head's section, decoded,
a line at a time: lines read before are known by their text.
``SectionScanner`` is the reference: it walks a section line by line as its
bytes arrive and raises the *first* error in stream order. When the fast
reader gives up, the parser runs the scanner over the same bytes, so the
error raised never depends on how the input was split into ``feed()`` calls
or on which reader saw it. The two readers accept exactly the same sections;
the tests hold them to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, cast

from multidict import CIMultiDict, CIMultiDictProxy

from ._errors import BadRequest, HeaderFieldsTooLarge, HttpParserError, RequestTargetTooLong
from ._token import TCHAR_BYTES, TOKEN_STR
from ._types import RawHeaders

__all__ = [
    "TCHAR",
    "TOKEN",
    "SectionScanner",
    "build_fields",
    "check_field_line",
    "fast_fields",
    "fast_head_fields",
    "known_field_lines",
    "read_field_line",
    "over_field_limit",
]

TCHAR: Final = TCHAR_BYTES
_VCHAR_OBS: Final = rb"\x21-\x7e\x80-\xff"
TOKEN: Final = re.compile(rb"[%s]++" % TCHAR)

# Possessive quantifiers keep both regexes linear on hostile input.
_VALUE: Final = rb"[ \t]*+((?:[%s]++(?:[ \t]++[%s]++)*+)?+)[ \t]*+" % (_VCHAR_OBS, _VCHAR_OBS)
_FIELD: Final = re.compile(rb"([%s]++):%s\r\n" % (TCHAR, _VALUE))
_SECTION: Final = re.compile(rb"(?:[%s]++:%s\r\n)++" % (TCHAR, _VALUE.replace(b"(", b"(?:", 1)))
# The common case: a value without trailing whitespace, so no group is needed to strip it.
_CHAINED_FIELD: Final = re.compile(
    rb"\r\n([%s]++):[ \t]*+((?:[^\x00-\x08\x0a-\x1f\x7f]*[^\x00-\x20\x7f])?+)(?=\r\n)" % TCHAR
)
_BAD_VALUE_BYTE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
#: The classes as module constants: compiled, these are C statics, not a
#: lookup in the module's globals per head.
_CIMULTIDICT: Final = CIMultiDict
_PROXY: Final = CIMultiDictProxy
#: Field lines read before (see known_field_lines): text -> (name, value).
#: Emptied when full, so lines seen once do not keep out the common ones.
#: (Typed ``object``: compiled, a ``tuple[str, str]`` taken out of it is
#: unpacked into a C struct, and packed into a new tuple to go into a list.)
_KNOWN_LINES: Final[dict[str, object]] = {}
_KNOWN_LINES_MAX: Final = 512
#: Longer lines are read each time (a cookie, a token: rarely the same twice).
_KNOWN_LINE_SIZE: Final = 256
#: Field names read before (see read_field_line), emptied when full.
_KNOWN_NAMES: Final[set[str]] = set()
_KNOWN_NAMES_MAX: Final = 256


def _text_pattern(pattern: bytes) -> re.Pattern[str]:
    """The same regex for text decoded as UTF-8 with surrogateescape.

    Decoding is exact at ASCII bytes (CR, LF, colon, SP, HTAB, CTLs), so only
    the obs-text range has to grow: a byte 0x80-0xff becomes a non-ASCII code
    point or a lone surrogate, and every one of those is obs-text.
    """
    return re.compile(pattern.decode("ascii").replace(r"\x80-\xff", r"\x80-\U0010ffff"))


#: One field line, without its CRLF, in decoded text.
_LINE_TEXT: Final = _text_pattern(rb"([%s]++):%s" % (TCHAR, _VALUE))

_CR: Final = 13
_SP: Final = 32
_OWS: Final = re.compile(rb"[ \t]*+")
#: The longest version part of a request-line accepted before its end: the
#: version has 8 bytes, longer is malformed; the bound keeps the line bounded.
MAX_VERSION_SIZE: Final = 32
#: A run of tchar; matches (possibly empty) wherever it starts.
_TCHARS: Final = re.compile(rb"[%s]*+" % TCHAR)


def fast_fields(
    buf: bytes, start: int, end: int, max_field_size: int, max_count: int, max_size: int
) -> list[tuple[bytes, bytes]] | None:
    """The (name, value) pairs of a complete section, or None ("let the scanner decide").

    ``buf[start:end]`` is the CRLF before the first field line followed by the
    field lines, each ending in CRLF. One regex pass finds "CRLF field-line"
    pairs; each match runs up to the first CR after it, so when there are as
    many matches as CRLFs but the last, every line matched, and matched lines
    hold no CTL (so no bare CR or LF). A line with trailing whitespace does not
    match the first regex and goes through the second, slower, one.
    """
    size = end - start - 2
    if size > max_size:
        return None
    pairs: list[tuple[bytes, bytes]] = _CHAINED_FIELD.findall(buf, start, end)
    if len(pairs) != buf.count(b"\r\n", start, end) - 1:
        if _SECTION.fullmatch(buf, start + 2, end) is None:
            return None
        pairs = _FIELD.findall(buf, start + 2, end)
    if len(pairs) > max_count:
        return None
    if size > max_field_size + 2 and over_field_limit(
        buf[start + 2 : end - 2].split(b"\r\n"), max_field_size
    ):
        return None
    return pairs


def fast_head_fields(
    head: bytes, text: str, line_end: int, max_field_size: int, max_count: int, max_size: int
) -> CIMultiDictProxy[str] | None:
    """fast_fields for a whole request head, already decoded: the fields, or None.

    ``head`` is the head from its request-line to the empty line that ends it,
    ``text`` the same decoded as UTF-8 with surrogateescape, ``line_end`` the
    offset of the CRLF that ends the request-line (the same in both, since
    the request-line is ASCII). The field section is decoded once, with the
    request-line; its lines are read by ``known_field_lines`` into the
    (name, value) strings that go straight into the CIMultiDict; the raw
    bytes are rebuilt from them only when asked for
    (``RequestHead.raw_headers``). Limits are checked on the bytes.
    """
    size = len(head) - 4 - line_end
    if size > max_size:
        return None
    pairs = known_field_lines(text, line_end + 2, len(text) - 2)
    if pairs is None or len(pairs) > max_count:
        return None
    if size > max_field_size + 2 and over_field_limit(
        head[line_end + 2 : len(head) - 4].split(b"\r\n"), max_field_size
    ):
        return None
    return _PROXY(_CIMULTIDICT(pairs))


def known_field_lines(text: str, start: int, stop: int) -> list[tuple[str, str]] | None:
    """The (name, value) pairs of ``text[start:stop]``, field lines each ending in
    CRLF; None when one is not a field line (the scanner then says why).

    A server reads the same lines again and again (its Host, the clients'
    Accept and User-Agent): a line read before is looked up by its text
    (``_KNOWN_LINES``), which costs a hash of the line; a new one is read by
    ``read_field_line``. A line holds no CRLF, so a bare CR or LF in it stays
    in it, and a line that holds one is never read as a field line, so it is
    never known.
    """
    pairs: list[object] = []
    known = _KNOWN_LINES
    while start < stop:
        end = text.find("\r\n", start, stop)
        if end < 0:
            return None
        line = text[start:end]
        pair = known.get(line)
        if pair is None:
            # (Kept as an object: narrowed to a tuple, compiled code unpacks it.)
            pair = cast(object, read_field_line(line))
            if pair is None:
                return None
            if end - start <= _KNOWN_LINE_SIZE:
                if len(known) >= _KNOWN_LINES_MAX:
                    known.clear()  # lines seen once (a trace id, a length) come and go
                known[line] = pair
        pairs.append(pair)
        start = end + 2
    return cast("list[tuple[str, str]]", pairs)


def read_field_line(line: str) -> tuple[str, str] | None:
    """``line`` (decoded, without its CRLF) as (name, value), OWS stripped; None if
    it is not a field line.

    The common line is settled without a regex, whose set-up costs more than
    such a line's whole reading: a value that is all printable characters
    holds no CTL (no HTAB either), and a name seen before is a token
    (``_KNOWN_NAMES``). Anything else (an HTAB or a non-printable character
    in the value, a new name) is decided by the field-line regex.
    """
    colon = line.find(":")
    if colon > 0:
        name = line[:colon]
        value = line[colon + 1 :].strip(" \t")
        if value.isprintable():
            if name in _KNOWN_NAMES:
                return name, value
            if TOKEN_STR.fullmatch(name) is not None:
                if len(_KNOWN_NAMES) >= _KNOWN_NAMES_MAX:
                    _KNOWN_NAMES.clear()
                _KNOWN_NAMES.add(name)
                return name, value
            return None
    match = _LINE_TEXT.fullmatch(line)
    return None if match is None else (match.group(1), match.group(2))


def over_field_limit(lines: list[bytes], limit: int) -> bool:
    """Whether a name or a value of ``lines`` (field lines, each with its colon) is over ``limit``.

    Counted as SectionScanner counts them: the name up to the colon, the value
    from its first byte that is not SP or HTAB to the end of the line.
    """
    for line in lines:
        if len(line) > limit:
            name, _, value = line.partition(b":")
            if len(name) > limit or len(value.lstrip(b" \t")) > limit:
                return True
    return False


def build_fields(pairs: list[tuple[bytes, bytes]]) -> tuple[CIMultiDictProxy[str], RawHeaders]:
    """Decoded fields (names as ASCII, values as UTF-8 with surrogateescape) and raw pairs."""
    fields = CIMultiDict(
        [
            (name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
            for name, value in pairs
        ]
    )
    return CIMultiDictProxy(fields), tuple(pairs)


def check_field_line(line: bytes) -> None:
    """Raise BadRequest saying what is wrong with ``line`` (a field line without its CRLF)."""
    if line[:1] in (b" ", b"\t"):
        raise BadRequest(
            "a header line starts with whitespace: obsolete line folding is not "
            "accepted (RFC 9112 §5.2); send the value on one line"
        )
    name, colon, value = line.partition(b":")
    if not colon:
        raise BadRequest(f"header line {line[:64]!r} has no colon (expected 'Name: value')")
    if not name:
        raise BadRequest(f"header line {line[:64]!r} has an empty field name")
    if name[-1:] in (b" ", b"\t"):
        raise BadRequest(
            f"whitespace between header name {name.rstrip()[:64]!r} and the colon "
            "is not allowed (RFC 9112 §5.1)"
        )
    if TOKEN.fullmatch(name) is None:
        raise BadRequest(
            f"invalid character in header name {name[:64]!r}: a name must be a token "
            "(RFC 9110 §5.1)"
        )
    bad = _BAD_VALUE_BYTE.search(value)
    if bad is not None:
        byte = bad[0]
        shown = name.decode("latin-1")
        if byte == b"\r":
            raise BadRequest(
                f"CR not followed by LF in the value of header {shown!r} "
                "(a bare CR is only allowed as part of CRLF, RFC 9112 §2.2)"
            )
        if byte == b"\x00":
            raise BadRequest(f"NUL byte in the value of header {shown!r} (RFC 9110 §5.5)")
        raise BadRequest(
            f"control character 0x{byte[0]:02x} in the value of header {shown!r} "
            "(only HTAB is allowed, RFC 9110 §5.5)"
        )


class SectionScanner:
    """Validates a head or a trailer section line by line, in stream order.

    ``find_end`` is called with the section's start each time more bytes have
    arrived; it looks for the empty line only in the new bytes, validates the
    lines completed since the last call and checks the partial last line
    against the limits, so a client sending a head byte by byte costs linear
    time and a head over a limit is refused before it is complete.
    """

    __slots__ = (
        "_check_request_line",
        "_line_error",
        "_line_name",
        "_max_count",
        "_max_field",
        "_max_line",
        "_max_method",
        "_max_size",
        "count",
        "line",
        "lines",
        "searched",
        "size",
    )

    def __init__(
        self,
        max_line_size: int,
        max_field_size: int,
        max_count: int,
        max_size: int,
        check_request_line: Callable[[bytes, int, int], object] | None,
        line_error: type[HttpParserError] = RequestTargetTooLong,
        line_name: str = "request-target",
        max_method: int = 0,
    ) -> None:
        self._max_line = max_line_size
        self._max_field = max_field_size
        self._max_count = max_count
        self._max_size = max_size
        self._check_request_line = check_request_line
        # Raised for a request-target, or a status line, over max_line_size.
        self._line_error = line_error
        self._line_name = line_name
        # > 0: the start line is a request-line, whose method is checked as it
        # arrives (see _check_method); 0 for a status line or a trailer section.
        self._max_method = max_method
        self.reset()

    def reset(self) -> None:
        """Forget the previous section."""
        self.searched = 0  # bytes from the section start searched for the empty line
        self.line = 0  # offset from the section start of the first unchecked line
        self.lines = 0  # lines checked, the request-line included
        self.count = 0  # field lines checked
        self.size = 0  # bytes of the field lines checked, CRLFs included

    def find_end(self, buf: bytes, start: int) -> int:
        """Index in ``buf`` of the CRLFCRLF that ends the section at ``start``, or -1."""
        searched = self.searched
        end = buf.find(b"\r\n\r\n", start + searched - 3 if searched > 3 else start)
        if end >= 0:
            return end
        self.searched = len(buf) - start
        self.scan(buf, start, len(buf))
        return -1

    def scan(self, buf: bytes, start: int, stop: int) -> None:
        """Check the lines of ``buf[start:stop]`` not yet checked; raise the first error.

        Stops at the empty line that ends a section. Past the last complete
        line, checks the partial line against the limits.
        """
        pos = start + self.line
        while True:
            nl = buf.find(b"\n", pos, stop)
            if nl < 0:
                break
            crlf = nl > pos and buf[nl - 1] == _CR
            content_end = nl - 1 if crlf else nl
            if content_end == pos and crlf and (self.lines or self._check_request_line is None):
                return  # the empty line: the section is complete
            self._check_line(buf, pos, content_end, crlf)
            pos = nl + 1
            self.line = pos - start
        tail = stop - pos
        if tail and buf[stop - 1] == _CR:
            tail -= 1
        if self.lines == 0 and self._check_request_line is not None:
            if self._max_method:
                self._check_request_limits(buf, pos, pos + tail)
            elif tail > self._max_line:
                raise self._line_too_long()
        else:
            self._check_field_limits(buf, pos, pos + tail)
            if self.size + tail > self._max_size:
                raise HeaderFieldsTooLarge(
                    f"the header section is larger than max_head_size={self._max_size} bytes"
                )

    def _check_line(self, buf: bytes, start: int, end: int, crlf: bool) -> None:
        length = end - start
        if self.lines == 0 and self._check_request_line is not None:
            if self._max_method:
                self._check_request_limits(buf, start, end)
            elif length > self._max_line:
                raise self._line_too_long()
            if not crlf:
                raise _bare_lf()
            self._check_request_line(buf, start, end)
            self.lines = 1
            return
        self._check_field_limits(buf, start, end)
        if not crlf:
            raise _bare_lf()
        self.size += length + 2
        if self.size > self._max_size:
            raise HeaderFieldsTooLarge(
                f"the header section is larger than max_head_size={self._max_size} bytes"
            )
        self.count += 1
        if self.count > self._max_count:
            raise HeaderFieldsTooLarge(f"more than max_headers={self._max_count} header lines")
        check_field_line(bytes(buf[start:end]))
        self.lines += 1

    def _check_field_limits(self, buf: bytes, start: int, end: int) -> None:
        """Refuse the field line ``buf[start:end]`` (complete or not) over max_field_size.

        The name and the value are bounded each on its own, as aiohttp's C
        parser bounds them (its pure-Python one bounds the whole line, which
        refuses more): the name up to the colon, or the whole line while no
        colon has come; the value from its first byte that is not SP or HTAB
        to the end of the line, so the whitespace after it counts, as in
        aiohttp, and a partial line's count only grows as its bytes arrive.
        The whitespace before the value and the line as a whole are bounded
        by max_head_size.
        """
        limit = self._max_field
        if end - start <= limit:
            return
        colon = buf.find(b":", start, end)
        if colon < 0 or colon - start > limit:
            raise HeaderFieldsTooLarge(f"a header name is longer than max_field_size={limit} bytes")
        value = _OWS.match(buf, colon + 1, end)
        if value is not None and end - value.end() > limit:
            shown = bytes(buf[start:colon])[:64].decode("latin-1")
            raise HeaderFieldsTooLarge(
                f"the value of header {shown!r} is longer than max_field_size={limit} bytes"
            )

    def _check_request_limits(self, buf: bytes, start: int, end: int) -> None:
        """Refuse the request-line ``buf[start:end]`` (complete or not) over a limit.

        The method is checked first (see _check_method); then the target,
        the bytes from the SP after the method to the next SP, is bounded by
        max_line_size (414), as aiohttp bounds its URL; then what follows,
        the version, by MAX_VERSION_SIZE (400: "HTTP/1.1" has 8 bytes), so
        the whole line stays bounded. Each count only grows as bytes arrive,
        so the answer is the same whether or not the line's end was seen.
        """
        method_end = self._check_method(buf, start, end)
        if method_end < 0:
            return
        target = method_end + 1
        target_end = buf.find(b" ", target, min(end, target + self._max_line + 1))
        if target_end < 0:
            if end - target > self._max_line:
                raise self._line_too_long()
            return
        if end - target_end - 1 > MAX_VERSION_SIZE:
            raise BadRequest(
                f"the HTTP version {bytes(buf[target_end + 1 : end])[:20]!r}... is longer "
                f"than {MAX_VERSION_SIZE} bytes: expected 'HTTP/1.1' or 'HTTP/1.0'"
            )

    def _check_method(self, buf: bytes, start: int, stop: int) -> int:
        """Refuse ``buf[start:stop]``, the start of a request-line, if no method can begin it.

        A byte that cannot be in a token before the first SP, or a method over
        ``max_method`` bytes, is refused as soon as it arrives rather than at
        the line's end: a TLS ClientHello or another protocol's bytes sent to
        this port may never send a line end, and would hold the connection
        until a timeout. Returns the index of the SP after the method, or -1
        while it has not come.
        """
        stop = min(stop, start + self._max_method + 1)
        match = _TCHARS.match(buf, start, stop)
        end = match.end() if match is not None else start
        if end - start > self._max_method:
            raise BadRequest(
                f"the method {bytes(buf[start:end])[:50]!r}... is longer than "
                f"{self._max_method} bytes: this is not an HTTP request"
            )
        if end < stop:
            if end == start or buf[end] != _SP:
                raise BadRequest(
                    f"byte 0x{buf[end]:02x} cannot be part of a method (a token, RFC 9110 §9): "
                    + _not_http(bytes(buf[start:stop]))
                )
            return end
        return -1

    def _line_too_long(self) -> HttpParserError:
        return self._line_error(
            f"the {self._line_name} is longer than max_line_size={self._max_line} bytes"
        )


def _not_http(start: bytes) -> str:
    if start.startswith(b"\x16\x03"):
        return "TLS handshake bytes on a plain-HTTP port (use http://, or serve TLS)"
    return f"{start[:50]!r} is not the start of an HTTP request"


def _bare_lf() -> BadRequest:
    return BadRequest(
        "a line ends in a bare LF: lines must end in CRLF (RFC 9112 §2.2); bare LF is "
        "refused because parsers that accept it and ones that do not would frame "
        "the same bytes differently (request smuggling)"
    )
