"""The machine both parsers share: heads, bodies, chunks, trailers, EOF.

How it works, and what it promises
==================================

``feed(data)`` takes whatever bytes arrived and returns the events they
complete: a head, zero or more ``BodyChunk``, then an ``EndOfMessage``, then
the next message's head, and so on. The parser does no IO and keeps no clock;
the caller owns the socket and the timeouts. ``RequestParser`` and
``ResponseParser`` differ only in how a head is read and how its framing is
decided (the hooks at the bottom of ``MessageParser``); the body states below
are the same for both.

Invariant 1: the split does not matter. Any division of the same bytes into
``feed()`` calls gives the same heads and end-of-messages in the same order,
the same body bytes, and the same error class. Only the way the body is cut
into ``BodyChunk`` events follows the input (so that body bytes are never held
back or copied more than needed). Two things make this hold:

- A message's bytes are kept from its first byte until they are used, and
  every scan resumes where the previous one stopped, so nothing is read twice
  to a different result and a slow sender costs linear time.
- There is one reference for what is wrong with a head: ``SectionScanner``
  walks it line by line in stream order and raises the first error. The fast
  path (a whole head in one buffer, checked by C-level regexes) never raises
  on its own judgement about a field line: when it dislikes anything it hands
  the same bytes to the scanner. A partial head is checked by the scanner as
  its lines complete, and its unfinished last line against the limits, which
  are checked before syntax on every line, so "too long" is the answer whether
  or not the end of the line was seen.

Invariant 2: nothing the peer sends grows memory without bound. A
request-line by its method's 32 bytes, ``max_line_size`` for its target and
32 bytes for its version, a status line by ``max_line_size``, a field's
name and its value each by ``max_field_size``, the section (whitespace
around values included) by ``max_head_size`` and ``max_headers``, a chunk-size line by
``max_chunk_line_size``; body bytes are passed on as they arrive, never
buffered. Bytes after a message that closes the connection are dropped: they
must not be processed (RFC 9112 §9.6). ``feed(data, max_messages=n)`` is the
one exception, and the caller's choice: the bytes after the n-th message stay
buffered unparsed, so a caller that asks for it stops reading its socket
until it has room again.

Invariant 3: after an error the parser is finished. The error that ``feed``
raised is raised again (as a fresh instance of the same class) by every later
``feed``/``feed_eof``, so a caller that forgets to close cannot parse past
garbage. The error's ``events`` are the events completed earlier in the
failing call, for a caller that wants to act on them first.

Invariant 4: after a message that switches protocols (an Upgrade or CONNECT
request, a 101 response, a 2xx response to CONNECT) the parser stops reading
HTTP. The bytes that followed belong to the new protocol:
``take_trailing_data()`` returns them (and whatever later ``feed`` calls add).

Line endings: only CRLF ends a line. A bare LF is refused with 400 rather
than tolerated (RFC 9112 §2.2 allows either): a front-end that splits lines on
LF and a back-end that does not would see different messages in the same
bytes, which is the mechanism of request smuggling. A CR not followed by LF
is refused the same way.
"""

from __future__ import annotations

import operator
from typing import ClassVar, Final, Generic, TypeVar

from ._chunked import parse_chunk_size
from ._errors import BadRequest, HttpParserError, PayloadTooLarge
from ._fields import SectionScanner, build_fields, fast_fields
from ._types import END_OF_MESSAGE, BodyChunk, EndOfMessage, RequestHead, ResponseHead

__all__ = ["MessageParser"]

H = TypeVar("H", RequestHead, ResponseHead)

# States. Plain ints: the main loop compares them on every step.
HEAD: Final = 0  # waiting for (the rest of) a head
BODY: Final = 1  # Content-Length body: _remaining bytes to go
CHUNK_SIZE: Final = 2  # waiting for a chunk-size line
CHUNK_DATA: Final = 3  # inside a chunk: _remaining bytes to go
CHUNK_CRLF: Final = 4  # the CRLF after a chunk's data
TRAILERS: Final = 5  # the trailer section after the last chunk
UNTIL_EOF: Final = 6  # a response body delimited by the connection's close
SWITCHED: Final = 7  # after an upgrade or CONNECT: bytes are not HTTP any more
CLOSED: Final = 8  # after a message that closes the connection: bytes are dropped

_CR: Final = 13
_LF: Final = 10


def positive(name: str, value: int) -> int:
    if operator.index(value) < 1:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
    return value


class MessageParser(Generic[H]):
    """The shared machine; use RequestParser or ResponseParser."""

    __slots__ = (
        "_body_size",
        "_buf",
        "_current",
        "_eof",
        "_error",
        "_head_scanner",
        "_max_body_size",
        "_max_chunk_line",
        "_max_field_size",
        "_max_head_size",
        "_max_headers",
        "_max_line_size",
        "_remaining",
        "_skip_empty",
        "_state",
        "_trailer_scanner",
        "_trailing",
    )

    #: "request" or "response", for messages.
    _noun: ClassVar[str] = "message"
    #: Ignore empty lines before a start line (RFC 9112 §2.2, servers only).
    _skip_empty_lines: ClassVar[bool] = False

    def __init__(
        self,
        head_scanner: SectionScanner,
        *,
        max_line_size: int,
        max_field_size: int,
        max_headers: int,
        max_body_size: int | None,
        max_head_size: int,
        max_chunk_line_size: int,
    ) -> None:
        self._max_line_size = positive("max_line_size", max_line_size)
        self._max_field_size = positive("max_field_size", max_field_size)
        self._max_headers = positive("max_headers", max_headers)
        self._max_head_size = positive("max_head_size", max_head_size)
        self._max_chunk_line = positive("max_chunk_line_size", max_chunk_line_size)
        if max_body_size is not None and operator.index(max_body_size) < 0:
            raise ValueError(f"max_body_size must be None or an int >= 0, not {max_body_size!r}")
        self._max_body_size = max_body_size
        self._head_scanner = head_scanner
        # The class's setting as an instance slot: compiled, a slot is read
        # natively, a class attribute through a generic lookup per head.
        self._skip_empty = self._skip_empty_lines
        self._trailer_scanner = SectionScanner(
            max_line_size, max_field_size, max_headers, max_head_size, None
        )
        self._buf = b""
        self._state = HEAD
        self._remaining = 0
        self._body_size = 0
        self._current: H | None = None
        self._error: HttpParserError | None = None
        self._trailing = b""
        self._eof = False

    # -- the public surface

    def feed(
        self, data: bytes | bytearray | memoryview, max_messages: int = -1
    ) -> list[H | BodyChunk | EndOfMessage]:
        """Parse ``data`` (the next bytes from the peer); return the events completed.

        ``max_messages`` (>= 0) caps the heads returned: parsing stops at the
        start of the next head, whose bytes stay buffered (``head_pending``)
        until a later call, ``feed(b"")`` with room again, goes on from there.
        A caller that queues requests so holds no more than it has room for,
        whatever one read contains; it must stop feeding its socket while it
        passes 0, since what is buffered is not bounded by the limits then.

        Raises an HttpParserError subclass when the input is invalid; after
        that every call raises again.
        """
        if self._error is not None:
            self._raise_again()
        if type(data) is not bytes:
            data = bytes(data)
        state = self._state
        if state >= SWITCHED:
            if state == SWITCHED and data:
                self._trailing += data
            return []
        if self._eof:
            raise RuntimeError("feed() called after feed_eof()")
        buf = self._buf + data if self._buf else data
        events: list[H | BodyChunk | EndOfMessage] = []
        try:
            pos = self._run(buf, events, max_messages)
        except HttpParserError as exc:
            self._fail(exc, events)
            raise
        self._buf = buf[pos:]
        return events

    def feed_eof(self) -> list[H | BodyChunk | EndOfMessage]:
        """The peer closed its side. Raise BadRequest if a message is incomplete.

        A response whose body is delimited by the close ends here: the
        ``EndOfMessage`` is returned.
        """
        if self._error is not None:
            self._raise_again()
        self._eof = True
        state = self._state
        if state == UNTIL_EOF:
            self._state = CLOSED
            return [END_OF_MESSAGE]
        if state >= SWITCHED or (state == HEAD and self._buf in (b"", b"\r")):
            return []
        if state == HEAD:
            what = f"the {self._noun} head was complete"
        elif state == BODY:
            what = f"the body was complete ({self._remaining} more bytes were due)"
        else:
            what = "the chunked body was complete"
        exc = BadRequest(f"the connection was closed before {what}")
        self._fail(exc, [])
        raise exc

    @property
    def head_pending(self) -> bool:
        """True while the parser holds bytes of a head it has not returned yet.

        The start of a head that is still arriving, or heads held back by
        ``max_messages``; a lone CR (of the empty lines a server ignores
        before a request-line) does not count. A server starts its head clock
        when this becomes true.
        """
        return self._state == HEAD and self._buf != b"" and self._buf != b"\r"

    @property
    def switched(self) -> bool:
        """True once a message switched protocols: later bytes are not HTTP."""
        return self._state == SWITCHED

    def take_trailing_data(self) -> bytes:
        """The bytes received after the message that switched protocols (and clear them).

        They belong to the protocol the connection switched to. Empty unless
        ``switched``.
        """
        data = self._trailing
        self._trailing = b""
        return data

    # -- internals

    def _raise_again(self) -> None:
        error = self._error
        assert error is not None
        raise type(error)(f"the parser stopped at an earlier error: {error}")

    def _fail(self, exc: HttpParserError, events: list[H | BodyChunk | EndOfMessage]) -> None:
        exc.events = events  # type: ignore[assignment]  # list is invariant; read-only use
        self._error = exc
        self._buf = b""

    def _run(self, buf: bytes, events: list[H | BodyChunk | EndOfMessage], heads: int) -> int:
        """Parse ``buf`` from its start; return where the unused bytes begin.

        ``heads``: how many more heads may be returned (negative: no limit).
        """
        pos = 0
        end = len(buf)
        state = self._state
        while pos < end:
            if state == HEAD:
                if heads == 0:  # the caller has no room for another message
                    break
                scanner = self._head_scanner
                if scanner.searched == 0:
                    if self._skip_empty and buf[pos] == _CR:
                        # Empty lines before a request-line are ignored (RFC 9112 §2.2).
                        while buf.startswith(b"\r\n", pos):
                            pos += 2
                        if pos >= end - 1 and (pos == end or buf[pos] == _CR):
                            break
                    # The common case, a whole head in the buffer: no scanner call.
                    term = buf.find(b"\r\n\r\n", pos)
                    if term < 0:
                        term = scanner.find_end(buf, pos)
                else:
                    term = scanner.find_end(buf, pos)
                if term < 0:
                    break
                head = self._complete_head(buf, pos, term)
                scanner.reset()
                pos = term + 4
                events.append(head)
                heads -= 1
                self._current = head
                state = self._start_body(head, events)

            elif state in (BODY, CHUNK_DATA):
                remaining = self._remaining
                stop = pos + remaining
                if stop > end:
                    events.append(BodyChunk(buf[pos:] if pos else buf))
                    self._remaining = remaining - (end - pos)
                    pos = end
                    break
                # A feed that is all body is passed on as the same object (a
                # slice of the whole is not copied by CPython, but it is by mypyc).
                events.append(BodyChunk(buf if pos == 0 and stop == end else buf[pos:stop]))
                pos = stop
                self._remaining = 0
                if state == CHUNK_DATA:
                    state = CHUNK_CRLF
                else:
                    events.append(END_OF_MESSAGE)
                    state = self._next_state()

            elif state == CHUNK_SIZE:
                nl = buf.find(b"\n", pos)
                limit = self._max_chunk_line
                if nl < 0:
                    if end - pos > limit + 1:
                        raise _chunk_line_too_long(limit)
                    break
                crlf = nl > pos and buf[nl - 1] == _CR
                content_end = nl - 1 if crlf else nl
                if content_end - pos > limit:
                    raise _chunk_line_too_long(limit)
                if not crlf:
                    raise BadRequest(
                        "a chunk-size line ends in a bare LF, not CRLF (RFC 9112 §7.1)"
                    )
                size = parse_chunk_size(buf, pos, content_end)
                pos = nl + 1
                if size == 0:
                    state = TRAILERS
                    continue
                self._count_body(size)
                self._remaining = size
                state = CHUNK_DATA

            elif state == CHUNK_CRLF:
                if end - pos < 2:
                    if buf[pos] != _CR:
                        raise _no_crlf_after_chunk()
                    break
                if buf[pos] != _CR or buf[pos + 1] != _LF:
                    raise _no_crlf_after_chunk()
                pos += 2
                state = CHUNK_SIZE

            elif state == TRAILERS:
                if buf.startswith(b"\r\n", pos):
                    pos += 2
                    events.append(END_OF_MESSAGE)
                    state = self._next_state()
                    continue
                if pos == end - 1 and buf[pos] == _CR:
                    break
                scanner = self._trailer_scanner
                term = scanner.find_end(buf, pos)
                if term < 0:
                    break
                if pos >= 2:  # the last-chunk line's CRLF is still in buf
                    section, first, stop = buf, pos - 2, term + 2
                else:  # resumed: the section starts the buffer
                    section, first, stop = b"\r\n" + buf[: term + 2], 0, term + 4
                pairs = fast_fields(
                    section,
                    first,
                    stop,
                    self._max_field_size,
                    self._max_headers,
                    self._max_head_size,
                )
                if pairs is None:
                    scanner.reset()
                    scanner.scan(buf, pos, term + 4)
                    raise BadRequest("malformed trailer section")  # pragma: no cover
                scanner.reset()
                pos = term + 4
                events.append(EndOfMessage(build_fields(pairs)[0]))
                state = self._next_state()

            elif state == UNTIL_EOF:
                self._count_body(end - pos)
                events.append(BodyChunk(buf[pos:] if pos else buf))
                pos = end

            elif state == SWITCHED:
                self._trailing = buf[pos:]
                pos = end

            else:  # CLOSED: RFC 9112 §9.6, nothing after "close" is processed
                pos = end
        self._state = state
        return pos

    def _count_body(self, size: int) -> None:
        """Add ``size`` body bytes of a body whose length was not known at the head."""
        total = self._body_size + size
        max_body = self._max_body_size
        if max_body is not None and total > max_body:
            raise PayloadTooLarge(f"the body exceeds max_body_size={max_body} bytes")
        self._body_size = total

    def _body_by_length(self, length: int) -> int:
        """The state for a body of ``length`` bytes (length > 0)."""
        self._remaining = length
        return BODY

    def _chunked_body(self) -> int:
        self._body_size = 0
        return CHUNK_SIZE

    # -- the hooks the two parsers fill in

    def _complete_head(self, buf: bytes, start: int, term: int) -> H:
        """The head in ``buf[start:term + 4]``, complete; raise what is wrong with it."""
        raise NotImplementedError

    def _start_body(self, head: H, events: list[H | BodyChunk | EndOfMessage]) -> int:
        """The state after ``head``; append EndOfMessage when the message has no body."""
        raise NotImplementedError

    def _next_state(self) -> int:
        """The state after the current message is complete."""
        raise NotImplementedError


def _chunk_line_too_long(limit: int) -> BadRequest:
    return BadRequest(
        f"a chunk-size line (size and extensions) is longer than max_chunk_line_size={limit}"
    )


def _no_crlf_after_chunk() -> BadRequest:
    return BadRequest("chunk data is not followed by CRLF: the chunk size is wrong (RFC 9112 §7.1)")
