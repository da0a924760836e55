"""The incremental HTTP/1.1 request parser.

How it works, and what it promises
==================================

``RequestParser.feed(data)`` takes whatever bytes arrived and returns the
events they complete: a ``RequestHead``, zero or more ``BodyChunk``, then an
``EndOfMessage``, then the next request's head, and so on. The parser does no
IO and keeps no clock; the caller owns the socket and the timeouts.

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

Invariant 2: nothing the peer sends grows memory without bound. The
request-line is bounded by ``max_line_size``, each field line by
``max_field_size``, the section by ``max_head_size`` and ``max_headers``, a
chunk-size line by ``max_chunk_line_size``; body bytes are passed on as they
arrive, never buffered. Bytes after a ``Connection: close`` request are
dropped: the server must not process them (RFC 9112 §9.6).

Invariant 3: after an error the parser is finished. The error that ``feed``
raised is raised again (as a fresh instance of the same class) by every later
``feed``/``feed_eof``, so a caller that forgets to close cannot parse past
garbage. The error's ``events`` are the events completed earlier in the
failing call, for a server that wants to answer them first.

Invariant 4: after an Upgrade request (``Connection: upgrade`` plus an
``Upgrade`` header, HTTP/1.1) or a CONNECT, the parser stops reading HTTP once
that request's message is complete. The bytes that followed belong to the
new protocol: ``take_trailing_data()`` returns them (and whatever later
``feed`` calls add). If the server declines the upgrade and answers normally,
``resume_http()`` goes back to parsing HTTP from those bytes.

Line endings: only CRLF ends a line. A bare LF is refused with 400 rather
than tolerated (RFC 9112 §2.2 allows either): a front-end that splits lines on
LF and a back-end that does not would see different requests in the same
bytes, which is the mechanism of request smuggling. A CR not followed by LF
is refused the same way.
"""

from __future__ import annotations

import operator

from ._chunked import parse_chunk_size
from ._errors import BadRequest, HttpParserError, PayloadTooLarge
from ._fields import SectionScanner, build_fields, fast_fields
from ._head import build_head
from ._request_line import REQUEST_LINE, parse_request_line, request_line_from_match
from ._types import BodyChunk, EndOfMessage, Event, RequestHead

__all__ = ["RequestParser"]

# States. Plain ints: the main loop compares them on every step.
_HEAD = 0  # waiting for (the rest of) a request head
_BODY = 1  # Content-Length body: _remaining bytes to go
_CHUNK_SIZE = 2  # waiting for a chunk-size line
_CHUNK_DATA = 3  # inside a chunk: _remaining bytes to go
_CHUNK_CRLF = 4  # the CRLF after a chunk's data
_TRAILERS = 5  # the trailer section after the last chunk
_SWITCHED = 6  # after an upgrade or CONNECT: bytes are not HTTP any more
_CLOSED = 7  # after a request with Connection: close: bytes are dropped

_CR = 13
_LF = 10


def _positive(name: str, value: int) -> int:
    if operator.index(value) < 1:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
    return value


class RequestParser:
    """Turns the bytes a client sends into request events (sans-IO).

    >>> parser = RequestParser()
    >>> events = parser.feed(b"POST /x HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 2\\r\\n\\r\\nhi")
    >>> [type(e).__name__ for e in events]
    ['RequestHead', 'BodyChunk', 'EndOfMessage']

    Limits: ``max_line_size`` bounds the request-line (414), ``max_field_size``
    each header or trailer line, ``max_headers`` their number and
    ``max_head_size`` their total bytes (431); ``max_body_size`` the body
    (413, raised at the head when Content-Length says so);
    ``max_chunk_line_size`` a chunk-size line with its extensions (400).
    """

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
        "_state",
        "_trailer_scanner",
        "_trailing",
    )

    def __init__(
        self,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_body_size: int | None = None,
        max_head_size: int = 65536,
        max_chunk_line_size: int = 4096,
    ) -> None:
        self._max_line_size = _positive("max_line_size", max_line_size)
        self._max_field_size = _positive("max_field_size", max_field_size)
        self._max_headers = _positive("max_headers", max_headers)
        self._max_head_size = _positive("max_head_size", max_head_size)
        self._max_chunk_line = _positive("max_chunk_line_size", max_chunk_line_size)
        if max_body_size is not None and operator.index(max_body_size) < 0:
            raise ValueError(f"max_body_size must be None or an int >= 0, not {max_body_size!r}")
        self._max_body_size = max_body_size
        self._head_scanner = SectionScanner(
            max_line_size, max_field_size, max_headers, max_head_size, parse_request_line
        )
        self._trailer_scanner = SectionScanner(
            max_line_size, max_field_size, max_headers, max_head_size, None
        )
        self._buf = b""
        self._state = _HEAD
        self._remaining = 0
        self._body_size = 0
        self._current: RequestHead | None = None
        self._error: HttpParserError | None = None
        self._trailing = b""
        self._eof = False

    # -- the public surface

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Parse ``data`` (the next bytes from the client); return the events completed.

        Raises an HttpParserError subclass when the input is invalid; after
        that every call raises again.
        """
        if self._error is not None:
            self._raise_again()
        if type(data) is not bytes:
            data = bytes(data)
        state = self._state
        if state >= _SWITCHED:
            if state == _SWITCHED and data:
                self._trailing += data
            return []
        if self._eof:
            raise RuntimeError("feed() called after feed_eof()")
        buf = self._buf + data if self._buf else data
        events: list[Event] = []
        try:
            pos = self._run(buf, events)
        except HttpParserError as exc:
            self._fail(exc, events)
            raise
        self._buf = buf[pos:]
        return events

    def feed_eof(self) -> list[Event]:
        """The client closed its side. Raise BadRequest if a request is incomplete."""
        if self._error is not None:
            self._raise_again()
        self._eof = True
        state = self._state
        if state >= _SWITCHED or (state == _HEAD and self._buf in (b"", b"\r")):
            return []
        if state == _HEAD:
            what = "the request head was complete"
        elif state == _BODY:
            what = f"the body was complete ({self._remaining} more bytes were due)"
        else:
            what = "the chunked body was complete"
        exc = BadRequest(f"the connection was closed before {what}")
        self._fail(exc, [])
        raise exc

    @property
    def switched(self) -> bool:
        """True once an upgrade or CONNECT request is complete: later bytes are not HTTP."""
        return self._state == _SWITCHED

    def take_trailing_data(self) -> bytes:
        """The bytes received after an upgrade or CONNECT request (and clear them).

        They belong to the protocol the connection switched to. Empty unless
        ``switched``.
        """
        data = self._trailing
        self._trailing = b""
        return data

    def resume_http(self) -> list[Event]:
        """Go on parsing HTTP/1.1 after an upgrade or CONNECT request the server declined.

        Parses the bytes that followed that request and returns their events.
        """
        if self._error is not None:
            self._raise_again()
        if self._state != _SWITCHED:
            raise RuntimeError(
                "resume_http() is only for a parser stopped by an upgrade or CONNECT"
            )
        head = self._current
        assert head is not None
        self._state = _CLOSED if head.should_close else _HEAD
        data = self.take_trailing_data()
        return self.feed(data) if data else []

    # -- internals

    def _raise_again(self) -> None:
        error = self._error
        assert error is not None
        raise type(error)(f"the parser stopped at an earlier error: {error}")

    def _fail(self, exc: HttpParserError, events: list[Event]) -> None:
        exc.events = events
        self._error = exc
        self._buf = b""

    def _run(self, buf: bytes, events: list[Event]) -> int:
        """Parse ``buf`` from its start; return where the unused bytes begin."""
        pos = 0
        end = len(buf)
        state = self._state
        while pos < end:
            if state == _HEAD:
                scanner = self._head_scanner
                if scanner.searched == 0:
                    # Empty lines before a request-line are ignored (RFC 9112 §2.2).
                    while buf.startswith(b"\r\n", pos):
                        pos += 2
                    if pos >= end - 1 and (pos == end or buf[pos] == _CR):
                        break
                term = scanner.find_end(buf, pos)
                if term < 0:
                    break
                head = self._complete_head(buf, pos, term)
                scanner.reset()
                pos = term + 4
                events.append(head)
                self._current = head
                if head.chunked:
                    state = _CHUNK_SIZE
                    self._body_size = 0
                elif head.content_length:
                    state = _BODY
                    self._remaining = head.content_length
                else:
                    events.append(EndOfMessage())
                    state = self._next_state(head)

            elif state in (_BODY, _CHUNK_DATA):
                remaining = self._remaining
                stop = pos + remaining
                if stop > end:
                    events.append(BodyChunk(buf[pos:]))
                    self._remaining = remaining - (end - pos)
                    pos = end
                    break
                events.append(BodyChunk(buf[pos:stop]))
                pos = stop
                self._remaining = 0
                if state == _CHUNK_DATA:
                    state = _CHUNK_CRLF
                else:
                    events.append(EndOfMessage())
                    state = self._next_state(self._current)

            elif state == _CHUNK_SIZE:
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
                    state = _TRAILERS
                    continue
                total = self._body_size + size
                max_body = self._max_body_size
                if max_body is not None and total > max_body:
                    raise PayloadTooLarge(
                        f"the chunked body exceeds max_body_size={max_body} bytes"
                    )
                self._body_size = total
                self._remaining = size
                state = _CHUNK_DATA

            elif state == _CHUNK_CRLF:
                if end - pos < 2:
                    if buf[pos] != _CR:
                        raise _no_crlf_after_chunk()
                    break
                if buf[pos] != _CR or buf[pos + 1] != _LF:
                    raise _no_crlf_after_chunk()
                pos += 2
                state = _CHUNK_SIZE

            elif state == _TRAILERS:
                if buf.startswith(b"\r\n", pos):
                    pos += 2
                    events.append(EndOfMessage())
                    state = self._next_state(self._current)
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
                state = self._next_state(self._current)

            elif state == _SWITCHED:
                self._trailing = buf[pos:]
                pos = end

            else:  # _CLOSED: RFC 9112 §9.6, nothing after "close" is processed
                pos = end
        self._state = state
        return pos

    def _next_state(self, head: RequestHead | None) -> int:
        """The state after ``head``'s message is complete."""
        assert head is not None
        if head.upgrade or head.method == "CONNECT":
            return _SWITCHED
        if head.should_close:
            return _CLOSED
        return _HEAD

    def _complete_head(self, buf: bytes, start: int, term: int) -> RequestHead:
        """The RequestHead of ``buf[start:term + 4]``, a complete head."""
        line_end = buf.find(b"\r\n", start)
        if line_end - start <= self._max_line_size:
            match = REQUEST_LINE.fullmatch(buf, start, line_end)
            if match is not None:
                line = request_line_from_match(match)
                pairs = (
                    fast_fields(
                        buf,
                        line_end,
                        term + 2,
                        self._max_field_size,
                        self._max_headers,
                        self._max_head_size,
                    )
                    if line_end < term
                    else []
                )
                if pairs is not None:
                    return build_head(line, pairs, self._max_body_size)
        # Not the common case: the reference scanner says what is wrong.
        scanner = self._head_scanner
        scanner.reset()
        scanner.scan(buf, start, term + 4)
        raise BadRequest("malformed request head")  # pragma: no cover


def _chunk_line_too_long(limit: int) -> BadRequest:
    return BadRequest(
        f"a chunk-size line (size and extensions) is longer than max_chunk_line_size={limit}"
    )


def _no_crlf_after_chunk() -> BadRequest:
    return BadRequest("chunk data is not followed by CRLF: the chunk size is wrong (RFC 9112 §7.1)")
