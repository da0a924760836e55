"""The incremental HTTP/1.1 response parser, for clients and proxies.

It runs on the machine of ``_parser`` (same invariants as the request
parser). What a response's framing depends on that the bytes do not say is
the method of the request it answers: a response to HEAD has no body, a 2xx
to CONNECT opens a tunnel. So the caller tells the parser, once per request
sent and in the order sent, with ``expect_response(method)``; responses are
matched to them in that order, which is exactly HTTP/1.1 pipelining
(RFC 9112 §9.3.2). A 1xx head (but 101) is interim: it does not use up the
request, its final response follows.
"""

from __future__ import annotations

from collections import deque

from ._errors import BadRequest, HeaderFieldsTooLarge
from ._fields import SectionScanner, build_fields, fast_fields
from ._parser import CLOSED, HEAD, SWITCHED, UNTIL_EOF, MessageParser
from ._response_head import (
    CHUNKED,
    INFORMATIONAL,
    LENGTH,
    NO_BODY,
    STATUS_LINE,
    SWITCH,
    interpret_response,
    parse_status_line,
    status_line_from_match,
)
from ._types import END_OF_MESSAGE, ResponseEvent, ResponseHead

__all__ = ["ResponseParser"]


class ResponseParser(MessageParser[ResponseHead]):
    """Turns the bytes a server sends into response events (sans-IO).

    >>> parser = ResponseParser()
    >>> parser.expect_response("GET")
    >>> events = parser.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nhi")
    >>> [type(e).__name__ for e in events], events[0].status
    (['ResponseHead', 'BodyChunk', 'EndOfMessage'], 200)

    Call ``expect_response(method)`` for every request sent, before its
    response can arrive; a response with no request awaiting it is an error.
    A body delimited by the close of the connection ends with ``feed_eof()``.
    A 101 response, or a 2xx to CONNECT, is followed by ``EndOfMessage`` and
    then the parser is ``switched``: ``take_trailing_data()`` gives the bytes
    of the new protocol.

    Limits as for RequestParser; ``max_line_size`` bounds the status-line
    (HeaderFieldsTooLarge). The errors are the request parser's classes: the
    class says what was wrong, ``status`` what a server would answer to such
    a request (a proxy answers 502 Bad Gateway to any of them).
    """

    __slots__ = ("_framing", "_methods")

    _noun = "response"

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
                parse_status_line,
                HeaderFieldsTooLarge,
                "status-line",
            ),
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_body_size=max_body_size,
            max_head_size=max_head_size,
            max_chunk_line_size=max_chunk_line_size,
        )
        self._methods: deque[str] = deque()
        self._framing = NO_BODY

    def expect_response(self, method: str) -> None:
        """Announce a request sent with ``method``; its response is the next unmatched one."""
        # ASCII only: upper() with Unicode rules maps some letters to ASCII ones
        # (U+017F LONG S to "S"), and the method decides the response's framing.
        if not method or not method.isascii():
            raise ValueError(f"method must be a non-empty ASCII str such as 'GET', not {method!r}")
        self._methods.append(method.upper())

    @property
    def pending(self) -> int:
        """How many requests announced with expect_response() still await a response."""
        return len(self._methods)

    # -- the hooks

    def _complete_head(self, buf: bytes, start: int, term: int) -> ResponseHead:
        line_end = buf.find(b"\r\n", start)
        if line_end - start <= self._max_line_size:
            match = STATUS_LINE.fullmatch(buf, start, line_end)
            if match is not None:
                line = status_line_from_match(match)
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
                    methods = self._methods
                    if not methods:
                        raise BadRequest(
                            "a response arrived but no request awaits one: the server sent "
                            "more responses than requests (or expect_response() was not "
                            "called for a request)"
                        )
                    headers, raw = build_fields(pairs)
                    head, framing = interpret_response(
                        line, headers, raw, methods[0], self._max_body_size
                    )
                    if framing != INFORMATIONAL:
                        methods.popleft()
                    self._framing = framing
                    return head
        # Not the common case: the reference scanner says what is wrong.
        scanner = self._head_scanner
        scanner.reset()
        scanner.scan(buf, start, term + 4)
        raise BadRequest("malformed response head")  # pragma: no cover

    def _start_body(self, head: ResponseHead, events: list[ResponseEvent]) -> int:
        framing = self._framing
        if framing == LENGTH:
            assert head.content_length is not None
            return self._body_by_length(head.content_length)
        if framing == CHUNKED:
            return self._chunked_body()
        if framing == INFORMATIONAL:
            return HEAD
        if framing in (NO_BODY, SWITCH):
            events.append(END_OF_MESSAGE)
            return self._next_state()
        self._body_size = 0  # UNTIL_CLOSE
        return UNTIL_EOF

    def _next_state(self) -> int:
        head = self._current
        assert head is not None
        if self._framing == SWITCH:
            return SWITCHED
        if head.should_close:
            return CLOSED
        return HEAD
