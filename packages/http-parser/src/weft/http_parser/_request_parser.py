"""The incremental HTTP/1.1 request parser.

The machine it runs on, and the invariants it keeps (the split of the input
does not matter, memory is bounded, an error is final), are described in
``_parser``. This module adds what is particular to requests: the
request-line, the framing rules of ``_head``, empty lines skipped before a
request-line (RFC 9112 §2.2), and the hand-over after an Upgrade request
(``Connection: upgrade`` plus an ``Upgrade`` header, HTTP/1.1) or a CONNECT:
the parser stops reading HTTP once that request is complete, and if the
server declines, ``resume_http()`` goes back to parsing HTTP from the bytes
that followed.
"""

from __future__ import annotations

from typing import Final

from multidict import CIMultiDict, CIMultiDictProxy

from ._errors import BadRequest
from ._fields import SectionScanner, fast_head_fields
from ._head import build_head, interpret
from ._parser import CLOSED, HEAD, SWITCHED, MessageParser
from ._request_line import (
    MAX_METHOD_SIZE,
    REQUEST_LINE_TEXT,
    parse_request_line,
    request_line_from_match,
    split_origin_line,
)
from ._types import END_OF_MESSAGE, Event, RequestHead

__all__ = ["RequestParser"]

_NO_FIELDS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())


class RequestParser(MessageParser[RequestHead]):
    """Turns the bytes a client sends into request events (sans-IO).

    >>> parser = RequestParser()
    >>> events = parser.feed(b"POST /x HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 2\\r\\n\\r\\nhi")
    >>> [type(e).__name__ for e in events]
    ['RequestHead', 'BodyChunk', 'EndOfMessage']

    Limits: ``max_line_size`` bounds the request-target (414), ``max_field_size``
    the name and, separately, the value of each header or trailer field,
    ``max_headers`` their number and ``max_head_size`` their total bytes
    (431), as aiohttp's C parser counts (its pure-Python parser, and weft
    before, bounded whole lines); ``max_body_size`` the body
    (413, raised at the head when Content-Length says so);
    ``max_chunk_line_size`` a chunk-size line with its extensions (400).
    """

    __slots__ = ()

    _noun = "request"
    _skip_empty_lines = True

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
        super().__init__(
            SectionScanner(
                max_line_size,
                max_field_size,
                max_headers,
                max_head_size,
                parse_request_line,
                max_method=MAX_METHOD_SIZE,
            ),
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_body_size=max_body_size,
            max_head_size=max_head_size,
            max_chunk_line_size=max_chunk_line_size,
        )

    def resume_http(self) -> list[Event]:
        """Go on parsing HTTP/1.1 after an upgrade or CONNECT request the server declined.

        Parses the bytes that followed that request and returns their events.
        """
        if self._error is not None:
            self._raise_again()
        if self._state != SWITCHED:
            raise RuntimeError(
                "resume_http() is only for a parser stopped by an upgrade or CONNECT"
            )
        head = self._current
        assert head is not None
        self._state = CLOSED if head.should_close else HEAD
        data = self.take_trailing_data()
        return self.feed(data) if data else []

    # -- the hooks

    def _start_body(self, head: RequestHead, events: list[Event]) -> int:
        if head.chunked:
            return self._chunked_body()
        length = head.content_length
        if length:
            return self._body_by_length(length)
        events.append(END_OF_MESSAGE)
        return self._next_state()

    def _next_state(self) -> int:
        head = self._current
        assert head is not None
        if head.upgrade or head.method == "CONNECT":
            return SWITCHED
        if head.should_close:
            return CLOSED
        # The message is over: an idle keep-alive connection keeps no head
        # (its fields, ~800 bytes, were held until the next request).
        self._current = None
        return HEAD

    def _complete_head(self, buf: bytes, start: int, term: int) -> RequestHead:
        end = term + 4
        # Usually the whole buffer is the head (a request without a body).
        head = buf if start == 0 and end == len(buf) else buf[start:end]
        text = head.decode("utf-8", "surrogateescape")
        method, target, path, query, version = split_origin_line(text, len(text) == len(head))
        if method:
            # The common request-line, split by hand.
            if len(target) <= self._max_line_size:
                # The line is method SP target " HTTP/1.x" CRLF, so its CRLF
                # starts 1 + 9 characters after the method and the target.
                fields = self._fields(head, text, len(method) + len(target) + 10)
                if fields is not None:
                    return interpret(
                        method,
                        target,
                        path,
                        query,
                        "origin",
                        version,
                        fields,
                        None,
                        self._max_body_size,
                    )
        else:
            match = REQUEST_LINE_TEXT.match(text)
            if match is not None:
                line_end = match.end()
                if match.end(2) - match.start(2) <= self._max_line_size and text.startswith(
                    "\r\n", line_end
                ):
                    line = request_line_from_match(match)
                    fields = self._fields(head, text, line_end)
                    if fields is not None:
                        return build_head(line, fields, self._max_body_size)
        # Not the common case: the reference scanner says what is wrong.
        scanner = self._head_scanner
        scanner.reset()
        scanner.scan(buf, start, end)
        raise BadRequest("malformed request head")  # pragma: no cover

    def _fields(self, head: bytes, text: str, line_end: int) -> CIMultiDictProxy[str] | None:
        """The fields of ``head`` after its request-line (CRLF at ``line_end``), or None."""
        if line_end == len(head) - 4:
            return _NO_FIELDS
        return fast_head_fields(
            head, text, line_end, self._max_field_size, self._max_headers, self._max_head_size
        )
