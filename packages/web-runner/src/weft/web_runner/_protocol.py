"""RequestHandler: one HTTP/1.1 connection, from bytes in to responses out.

Invariants:

* The parser runs in ``data_received``; each request head is queued with its
  body stream, and body bytes are fed to that stream as they arrive. The
  stream asks the connection to pause reading when the handler falls behind
  (BodyStream's high-water mark) and to resume when it catches up.
* One task per connection serves the queue in order, so pipelined requests
  are answered in the order they came (RFC 9112 §9.3.2), and no task is
  created per request.
* A parse error is queued like a request: the requests before it are
  answered first, then the error's status, then the connection closes
  (RFC 9112 §9.6: after a framing error nothing more can be trusted). A head
  timeout is queued the same way, as a 408.
* The connection closes after a response unless both sides keep it alive
  and the request body was fully read (so the next request's bytes are
  where the parser expects them).
* The client's FIN ends the connection, as in aiohttp: the transport closes,
  ``request.transport`` becomes None, the handler's writes fail with
  ConnectionResetError and nothing more is answered or started (the handler
  is cancelled only with ``handler_cancellation``). See ``eof_received``.

Timeouts (each None disables it, and so does 0 but for keepalive_timeout):

* ``keepalive_timeout``: an idle connection (no request queued or being
  answered, no head arriving) is closed after this many seconds. ``0`` is
  no keep-alive, as in aiohttp: the connection closes after each answer
  (which says ``Connection: close``) unless a request is already waiting
  behind it; ``None`` keeps idle connections open.
* ``read_head_timeout``: from the first byte of a request head (its first
  read after the previous message ended) the whole head must arrive within
  this many seconds, or the client gets 408 Request Timeout and the
  connection closes (slowloris). Time while the server itself holds reading
  paused does not count.
* ``read_body_timeout``: while a request body is incomplete, a gap of more
  than this many seconds between two reads fails the body: reads of
  ``request.content`` raise BodyReadTimeoutError, a handler that lets it
  escape answers 408, and the connection closes. Time while reading is
  paused (the handler is behind) does not count.

Lingering close (RFC 9112 §9.6): when the server ends a connection while the
client may still be sending (a parse error, a timeout, a body left unread),
it sends its response, half-closes (FIN, where the transport can), and reads
and discards whatever still arrives for at most ``lingering_time`` seconds or
until the client closes; only then does it close. Closing with unread bytes
would make the kernel answer with a reset, which can destroy the response
before the client reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from typing import TYPE_CHECKING, Final, NamedTuple, cast

from weft.http_parser import (
    BodyChunk,
    ContentDecoder,
    EndOfMessage,
    Event,
    HttpParserError,
    HttpVersion11,
    RequestHead,
    RequestParser,
    UnsupportedContentEncoding,
    serialize_response_head,
    supported_encodings,
)
from weft.http_parser.streams import EMPTY_BODY, BodyStream, DecodingBodyStream
from weft.web_core import (
    BaseRequest,
    Response,
    StreamResponse,
    StreamWriter,
    exception_response,
    is_response,
)
from weft.web_exceptions import HTTPException

from ._access_log import AbstractAccessLogger, AccessLogger
from ._access_log import access_logger as default_access_log
from ._error_page import internal_error_body
from ._errors import BodyReadTimeoutError, PayloadAccessError, RequestPayloadError
from ._handler_api import HandlerApiMixin
from ._upgrade import UpgradeMixin

if TYPE_CHECKING:
    from ._server import Server

__all__ = ["RequestHandler", "check_handler_options"]

# One instance, as aiohttp's: set on every body once its response is sent.
_PAYLOAD_ACCESS_ERROR = PayloadAccessError("the request body was read after the response")


class _Rejection(NamedTuple):
    """Takes the place of a request in the queue: answer with this status, then close."""

    status: int
    reason: str
    text: str
    log: str
    headers: tuple[tuple[str, str], ...] = ()


def _error_bytes(
    status: int,
    reason: str,
    text: str,
    headers: tuple[tuple[str, str], ...] = (),
    content_type: str = "text/plain",
) -> bytes:
    body = text.encode()
    head = serialize_response_head(
        status,
        reason,
        [
            ("Content-Type", f"{content_type}; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers,
            ("Connection", "close"),
        ],
        HttpVersion11,
    )
    return head + body


# A request: its head, its body as sent (the connection's to feed and discard)
# and the body the handler reads (the same stream, or its decoded view).
_Item = tuple[RequestHead, BodyStream, BodyStream] | _Rejection

# Pipelined requests waiting for their turn: above the high mark the connection
# stops reading, below the low mark it reads again, so a client that pipelines
# without reading its answers holds a bounded amount of memory.
_QUEUE_HIGH = 32
_QUEUE_LOW = 8

_TCP_FAMILIES: Final = (socket.AF_INET, socket.AF_INET6)

# How long after its accept a connection that has received nothing yet is
# still waited for at close() (the graceful shutdown): a client writes its
# first request as soon as its connect() returns, so the bytes may be in our
# socket, unread, when the shutdown begins. No other process will serve them
# (the kernel gave the connection to this one), and a proxy does not retry a
# request that failed on a fresh connection (nginx: 502). Past this, a
# connection that sent nothing is idle like any other (a browser's
# preconnect), so it cannot hold the shutdown.
_FIRST_REQUEST_GRACE: Final = 1.0


class _FromArguments:
    """The default of ``access_logger``: build it from the access_log* arguments."""

    def __repr__(self) -> str:
        return "<from access_log, access_log_class and access_log_format>"


_FROM_ARGUMENTS: Final = _FromArguments()


def check_handler_options(
    *, read_bufsize: int = 2**16, auto_decompress: bool = True, **_: object
) -> None:
    """Refuse RequestHandler options that cannot work, before any connection is made."""
    if read_bufsize < 1:
        raise ValueError(f"read_bufsize must be a positive number of bytes, not {read_bufsize!r}")


class RequestHandler(HandlerApiMixin, UpgradeMixin, asyncio.Protocol):
    """The asyncio protocol of one server connection.

    Made by a ``Server`` for each connection; the keyword arguments a Server,
    an AppRunner or ``run_app`` does not use itself come here. aiohttp's:

    * ``keepalive_timeout``, ``lingering_time``, ``max_line_size``,
      ``max_field_size``, ``max_headers``, ``debug``: see the module doc and
      the README.
    * ``tcp_keepalive`` (default True): set ``SO_KEEPALIVE`` on TCP
      connections, so the kernel finds peers that vanished.
    * ``logger``: where errors go (default: the Server's, ``weft.server``).
    * ``access_log_class``, ``access_log``, ``access_log_format``: the access
      log, when the handler is made directly (a Server builds the access
      logger once and passes it as ``access_logger``).
    * ``read_bufsize``: request body bytes buffered before reading from the
      socket pauses (default 64 KiB).
    * ``auto_decompress`` (default True, as aiohttp): a request body sent
      with a Content-Encoding (gzip, deflate, br, zstd where available) is
      decoded as the handler reads it (http-parser's DecodingBodyStream);
      an unsupported coding is 415. False: the body as sent.
    * ``timeout_ceil_threshold``: accepted and stored, no effect. aiohttp
      rounds its WebSocket heartbeat deadlines over this many seconds up to
      whole seconds; weft's timers fire when they are due.

    weft's own: ``read_head_timeout``, ``read_body_timeout``,
    ``lingering_body_size`` (unread request body drained to keep the
    connection), ``max_head_size`` (the header section's total bytes, 431
    beyond), ``handler_cancellation``, ``access_logger``.
    """

    __slots__ = (
        "_auto_decompress",
        "_body_handle",
        "_body_read_at",
        "_body_timeout",
        "_client_eof",
        "_close_requested",
        "_closing",
        "_drain_waiter",
        "_first_handle",
        "_fresh",
        "_handler_cancellation",
        "_handling",
        "_head_handle",
        "_head_timeout",
        "_idle_since",
        "_keepalive_handle",
        "_keepalive_timeout",
        "_last_request",
        "_linger",
        "_linger_handle",
        "_lingering",
        "_lingering_body_size",
        "_lingering_time",
        "_logging_enabled",
        "_loop",
        "_made_at",
        "_parse_failed",
        "_parser",
        "_payload",
        "_queue",
        "_queue_full",
        "_read_bufsize",
        "_reader_paused",
        "_reading_paused",
        "_server",
        "_task",
        "_tcp_keepalive",
        "_timeout_ceil_threshold",
        "_transport",
        "_upgraded",
        "_waiter",
        "_writing_paused",
        "access_log",
        "access_logger",
        "debug",
        "logger",
        "max_field_size",
        "max_headers",
        "max_line_size",
    )

    def __init__(
        self,
        server: Server,
        *,
        loop: asyncio.AbstractEventLoop,
        keepalive_timeout: float = 75.0,
        tcp_keepalive: bool = True,
        logger: logging.Logger | None = None,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        access_log: logging.Logger | None = default_access_log,
        access_log_format: str = AccessLogger.LOG_FORMAT,
        debug: bool = False,
        max_line_size: int = 8190,
        max_headers: int = 128,
        max_field_size: int = 8190,
        max_head_size: int = 2**16,
        lingering_time: float = 10.0,
        read_bufsize: int = 2**16,
        auto_decompress: bool = True,
        timeout_ceil_threshold: float = 5,
        read_head_timeout: float | None = 20.0,
        read_body_timeout: float | None = 60.0,
        lingering_body_size: int = 2**16,
        handler_cancellation: bool = False,
        access_logger: AbstractAccessLogger | _FromArguments | None = _FROM_ARGUMENTS,
    ) -> None:
        check_handler_options(read_bufsize=read_bufsize, auto_decompress=auto_decompress)
        if isinstance(access_logger, _FromArguments):
            access_logger = (
                None if access_log is None else access_log_class(access_log, access_log_format)
            )
        self._server = server
        self._loop = loop
        self._keepalive_timeout = keepalive_timeout
        self._tcp_keepalive = tcp_keepalive
        self._head_timeout = read_head_timeout or 0.0
        self._body_timeout = read_body_timeout or 0.0
        self._lingering_time = lingering_time
        self._lingering_body_size = lingering_body_size
        self._read_bufsize = read_bufsize
        self._auto_decompress = auto_decompress
        self._handler_cancellation = handler_cancellation
        self.logger: logging.Logger = server.logger if logger is None else logger
        self.debug = debug
        self.access_logger = access_logger
        self.access_log = None if access_logger is None else access_logger.logger
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._upgraded = None
        self._logging_enabled = False
        self._parser = RequestParser(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_head_size=max_head_size,
        )
        self._transport: asyncio.Transport | None = None
        self._queue: deque[_Item] = deque()
        self._payload: BodyStream | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        # One keep-alive timer, re-armed lazily: going idle only records the time
        # (no timer per request); when the timer fires it closes the connection or,
        # if a request came since, waits again until the newer deadline.
        self._keepalive_handle: asyncio.TimerHandle | None = None
        self._idle_since: float | None = None
        self._head_handle: asyncio.TimerHandle | None = None
        self._body_handle: asyncio.TimerHandle | None = None
        self._body_read_at = 0.0
        self._linger_handle: asyncio.TimerHandle | None = None
        # No request started yet: close() waits for the first one (_FIRST_REQUEST_GRACE).
        self._fresh = True
        self._made_at = 0.0
        self._first_handle: asyncio.TimerHandle | None = None
        self._handling = False
        self._closing = False
        self._lingering = False
        self._linger = False  # close politely: the client may still be sending
        self._parse_failed = False
        self._client_eof = False
        # The response in progress (or the next, when idle) is the connection's last:
        # close() (the graceful shutdown) or keep_alive(False) asked for it.
        self._last_request = False
        self._close_requested = False
        # Reading stops for either of two reasons, each with its own flag:
        # a body stream (or WebSocket) over its high-water mark asked for it,
        # or the pipeline queue is full (set at _QUEUE_HIGH, cleared at
        # _QUEUE_LOW). _reading_paused is the transport's state.
        self._reader_paused = False
        self._queue_full = False
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    # -- what requests and the writer see

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._transport

    @property
    def handling(self) -> bool:
        """True while a request is being answered."""
        return self._handling

    @property
    def keepalive_timeout(self) -> float:
        return self._keepalive_timeout

    async def drain(self) -> None:
        if self._writing_paused:
            if self._transport is None or self._transport.is_closing():
                raise ConnectionResetError("Connection lost")
            waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its API.
        self._transport = cast(asyncio.Transport, transport)
        self._made_at = self._loop.time()
        if self._tcp_keepalive:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in _TCP_FAMILIES:
                with contextlib.suppress(OSError):  # the socket closed already
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # Asked once per connection, as aiohttp does: a disabled logger costs nothing.
        self._logging_enabled = self.access_logger is not None and self.access_logger.enabled
        self._server.connection_made(self, self._transport)
        self._task = self._loop.create_task(self._serve())
        if self._server.shutting_down:
            # Accepted just before the sites stopped listening: its first request, if
            # it comes at once, is the only one answered (see _FIRST_REQUEST_GRACE).
            self.close()

    def data_received(self, data: bytes) -> None:
        if self._upgraded is not None:  # switched protocols (see _upgrade)
            self._upgraded.data_received(data)
            return
        if self._parse_failed or self._closing:
            return  # after an error, or while lingering: read and discard
        if self._close_requested and self._payload is None and not self._first_awaited():
            # Closing (close(), the graceful shutdown): the request in hand has
            # its whole body, and no request after it will be started.
            return
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        """Parse ``data`` (b"": what the parser held back) into the queue, up to its cap."""
        try:
            # The cap is hard: the parser stops before a head the queue has no
            # room for and keeps its bytes, however many one read holds (row 31).
            if not self._close_requested:
                room = max(_QUEUE_HIGH - len(self._queue), 0)
            else:  # the first request of a fresh connection still is, but only it
                room = 1 if self._first_awaited() else 0
            events = self._parser.feed(data, room)
        except HttpParserError as exc:
            # Requests completed before the error are answered first (exc.events).
            self._dispatch(exc.events)
            if self._payload is not None:
                # The error is in a request's body: that request answers it (its
                # reads raise RequestPayloadError), then the connection closes.
                failure = RequestPayloadError(str(exc), status=exc.status, reason=exc.reason)
                failure.__cause__ = exc
                self._payload.set_exception(failure)
                self._payload = None
                self._parse_failed = True
                self._cancel_read_timers()
                self.logger.debug("Bad request body: %s", exc)
                self._wake()
                return
            self._reject(
                _Rejection(exc.status, exc.reason, f"{exc.status}: {exc}", f"Bad request: {exc}"),
                exc,
            )
            return
        if events:
            self._dispatch(events)
            if self._queue:
                self._wake()
        if self._payload is not None:
            # Inside a body: restart the body clock (one timer per body, not per read).
            if self._body_timeout:
                self._body_read_at = self._loop.time()
                if self._body_handle is None:
                    self._body_handle = self._loop.call_later(
                        self._body_timeout, self._on_body_timeout
                    )
        elif (
            self._head_timeout
            and self._head_handle is None
            and self._parser.head_pending
            # a head that will not be parsed has no clock
            and (not self._close_requested or self._first_awaited())
        ):
            # The first bytes of a head arrived (alone, or after whole requests in
            # the same read): start the head clock. A head completed in this read
            # stopped the previous clock in _dispatch.
            self._head_handle = self._loop.call_later(self._head_timeout, self._on_head_timeout)

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is BodyChunk:
                assert self._payload is not None
                self._payload.feed_data(event.data)  # type: ignore[union-attr]
            elif kind is RequestHead:
                head: RequestHead = event  # type: ignore[assignment]
                if self._head_handle is not None:
                    self._head_handle.cancel()
                    self._head_handle = None
                content = self._payload = (
                    BodyStream(self, high_water=self._read_bufsize)
                    if head.chunked or head.content_length
                    else BodyStream.empty()
                )
                if head.content_encoding and self._auto_decompress and content is not EMPTY_BODY:
                    try:
                        decoder = ContentDecoder(head.content_encoding, max_size=None)
                    except UnsupportedContentEncoding as exc:
                        self._reject_coding(exc)
                        return
                    # Decoded as the handler reads it, a read buffer at a time;
                    # the handler's read() counts the decoded bytes against
                    # client_max_size.
                    content = DecodingBodyStream(content, decoder, step=self._read_bufsize)
                self._queue.append((head, self._payload, content))
                if len(self._queue) >= _QUEUE_HIGH:
                    self._queue_full = True
                    self._apply_reading()
            elif kind is EndOfMessage:
                if self._payload is not None and not self._payload.is_eof():
                    self._payload.feed_eof()
                self._payload = None
                if self._body_handle is not None:
                    self._body_handle.cancel()
                    self._body_handle = None

    def _reject_coding(self, exc: UnsupportedContentEncoding) -> None:
        """415 for a body in a coding we cannot undo (RFC 9110 §15.5.16), then close."""
        self._payload = None
        accept = ", ".join(supported_encodings())
        self._reject(
            _Rejection(
                exc.status,
                exc.reason,
                f"{exc.status}: {exc}",
                f"Unsupported request Content-Encoding: {exc}",
                (("Accept-Encoding", accept),),
            ),
            exc,
        )

    def _reject(self, rejection: _Rejection, exc: BaseException) -> None:
        """Stop parsing; answer ``rejection`` after the requests before it, then close."""
        self._parse_failed = True
        self._cancel_read_timers()
        if self._payload is not None:
            self._payload.set_exception(exc)
            self._payload = None
        self._queue.append(rejection)
        self._wake()
        observer = self._server.observer
        if observer is not None:
            observer.request_rejected(rejection.status)

    def eof_received(self) -> bool:
        if self._upgraded is not None:
            return self._upgraded_eof(self._upgraded)
        # As aiohttp (whose RequestHandler leaves eof_received to asyncio): the
        # client's FIN ends the connection. False makes asyncio close the
        # transport (after what is already buffered is written), and
        # connection_lost follows: request.transport becomes None and writes fail
        # with ConnectionResetError, which is how a streaming handler (SSE,
        # long-poll) learns that its client left. A handler that runs is
        # cancelled only with handler_cancellation; requests not started yet are
        # not started, and nothing more is answered. Lingering, the FIN is what
        # we waited for. RFC 9112 §9.6 lets a client half-close and still wait
        # for its answer, but aiohttp's users cannot rely on it, and a streaming
        # handler could not tell a half-close from a departure.
        self._client_eof = True
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closing = True
        if self._upgraded is not None:
            self._upgraded.connection_lost(exc)
        self._server.connection_lost(self, exc)
        for handle in (self._keepalive_handle, self._linger_handle, self._first_handle):
            if handle is not None:
                handle.cancel()
        self._cancel_read_timers()
        if self._payload is not None:
            self._payload.set_exception(ConnectionResetError("Connection lost"))
            self._payload = None
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ConnectionResetError("Connection lost"))
        if self._task is not None and (not self._handling or self._handler_cancellation):
            self._task.cancel()
        self._transport = None

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- FlowControl, for the body streams

    def pause_reading(self) -> None:
        self._reader_paused = True
        self._apply_reading()

    def resume_reading(self, resume_parser: bool = True) -> None:
        # resume_parser is aiohttp's; weft resumes its parser when the queue drains.
        self._reader_paused = False
        self._apply_reading()

    def _apply_reading(self) -> None:
        """Pause or resume the transport as the two reasons to pause say."""
        transport = self._transport
        if transport is None:
            return
        if self._reader_paused or self._queue_full:
            if not self._reading_paused and not self._lingering:
                self._reading_paused = True
                transport.pause_reading()
        elif self._reading_paused:
            self._reading_paused = False
            self._body_read_at = self._loop.time()  # the body clock restarts now
            transport.resume_reading()

    def _queue_drained(self) -> None:
        """The queue is down to _QUEUE_LOW: parse what the parser held back, then read."""
        self._queue_full = False
        if (
            self._parser.head_pending
            and self._upgraded is None
            and not (self._parse_failed or self._closing)
        ):
            self._feed(b"")  # may fill the queue again (and keep reading paused)
        self._apply_reading()

    # -- timeouts

    def _cancel_read_timers(self) -> None:
        if self._head_handle is not None:
            self._head_handle.cancel()
            self._head_handle = None
        if self._body_handle is not None:
            self._body_handle.cancel()
            self._body_handle = None

    def _on_head_timeout(self) -> None:
        self._head_handle = None
        if self._parse_failed or self._closing or self._payload is not None:
            return
        if self._reading_paused:
            # We hold reading (an earlier body is not consumed): not the client's fault.
            self._head_handle = self._loop.call_later(self._head_timeout, self._on_head_timeout)
            return
        text = (
            "408: Request Timeout\n\n"
            f"The request head did not arrive within {self._head_timeout:g} s"
        )
        self._reject(
            _Rejection(408, "Request Timeout", text, "Request head timed out"),
            TimeoutError("Request head timed out"),
        )

    def _on_body_timeout(self) -> None:
        self._body_handle = None
        payload = self._payload
        if payload is None or self._parse_failed or self._closing:
            return
        now = self._loop.time()
        if self._reading_paused:
            self._body_read_at = now
        deadline = self._body_read_at + self._body_timeout
        if now < deadline:
            self._body_handle = self._loop.call_at(deadline, self._on_body_timeout)
            return
        # The parser is mid-body: nothing after this can be parsed, so the connection ends.
        self._parse_failed = True
        self._linger = True
        self._payload = None
        payload.set_exception(
            BodyReadTimeoutError(
                f"No request body data for {self._body_timeout:g} s (read_body_timeout)"
            )
        )
        self.logger.debug("Request body timed out")

    def _on_keepalive_timeout(self) -> None:
        self._keepalive_handle = None
        idle_since = self._idle_since
        # Not idle (a request is waiting or being answered) or a head on its way
        # (the head timer's business): the next idle period arms the timer again.
        if idle_since is None or self._handling or self._queue or self._head_handle is not None:
            return
        deadline = idle_since + self._keepalive_timeout
        if self._loop.time() < deadline:  # idle again since the timer was armed
            self._keepalive_handle = self._loop.call_at(deadline, self._on_keepalive_timeout)
            return
        self._close()
        self._wake()

    # -- the connection's task

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close(self) -> None:
        self._closing = True
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        if self._transport is not None:
            self._transport.close()

    def _end(self) -> None:
        """Close when the connection's task ends: at once, or lingering (see the module doc)."""
        transport = self._transport
        self._queue.clear()  # a rejection queued behind a request that ended the connection
        if self._server.shutting_down:
            # The last answer of a connection the graceful shutdown let finish: the
            # client may have sent more already (pipelined, or before it read
            # Connection: close), and a close over unread bytes is a reset that can
            # destroy that answer before the client reads it.
            self._linger = True
        if (
            not (self._linger or self._parse_failed)
            or self._client_eof
            or not self._lingering_time
            or self._closing
            or transport is None
            or transport.is_closing()
        ):
            self._close()
            return
        self._closing = self._lingering = True
        self._cancel_read_timers()
        if self._keepalive_handle is not None:
            self._keepalive_handle.cancel()
            self._keepalive_handle = None
        try:
            if transport.can_write_eof():
                transport.write_eof()  # FIN once the response is flushed
        except (NotImplementedError, OSError):  # pragma: no cover (transport-specific)
            pass
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        self._linger_handle = self._loop.call_later(self._lingering_time, self._close)

    def close_if_idle(self) -> bool:
        """Close now unless a request is being answered, or a fresh connection's
        first request is coming (see ``_FIRST_REQUEST_GRACE``): no other request
        parsed but not yet started is started (close(), the graceful shutdown)."""
        if self._lingering or not (self._handling or self._first_coming()):
            self._close()
            self._wake()
            return True
        return False

    def _first_awaited(self) -> bool:
        """True while the connection may still parse its first request."""
        return self._fresh and not self._queue

    def _first_coming(self) -> bool:
        """At close(): whether a fresh connection is not idle yet (its first request
        arrived, is arriving, or may still arrive within the grace)."""
        if not self._fresh:
            return False
        if self._queue or self._parser.head_pending:
            # Answered with Connection: close; a head still arriving is bounded
            # by read_head_timeout, as any head.
            return True
        remaining = self._made_at + _FIRST_REQUEST_GRACE - self._loop.time()
        if remaining <= 0:
            return False
        if self._first_handle is None:
            self._first_handle = self._loop.call_later(remaining, self._on_first_request_grace)
        return True

    def _on_first_request_grace(self) -> None:
        self._first_handle = None
        if self._fresh and not self._queue and not self._parser.head_pending:
            self._close()  # nothing came: idle after all
            self._wake()

    def force_close(self) -> None:
        self._close()
        if self._task is not None:
            self._task.cancel()

    async def _serve(self) -> None:
        loop = self._loop
        try:
            while not self._closing:
                if not self._queue:
                    self._waiter = loop.create_future()
                    if self._keepalive_timeout:
                        self._idle_since = loop.time()
                        if self._keepalive_handle is None:
                            self._keepalive_handle = loop.call_at(
                                self._idle_since + self._keepalive_timeout,
                                self._on_keepalive_timeout,
                            )
                    await self._waiter
                    self._idle_since = None
                    continue
                item = self._queue.popleft()
                if self._queue_full and len(self._queue) <= _QUEUE_LOW:
                    self._queue_drained()
                if isinstance(item, _Rejection):
                    self._write_raw(item.status, item.reason, item.text, item.headers)
                    self.logger.debug("Error handling request from %s: %s", self._peer(), item.log)
                    break
                if not await self._answer(*item):
                    break
                self.resume_declined_upgrade()
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a bug: log it rather than leave a silent close
            self.logger.exception("Unhandled error on the connection", exc_info=exc)
        finally:
            self._end()

    async def _answer(self, head: RequestHead, payload: BodyStream, content: BodyStream) -> bool:
        """Answer one request; True when the connection may serve another.

        ``payload`` is the body as sent, ``content`` what the handler reads
        (its decoded view with auto_decompress): an unread body is discarded
        from ``payload``, so it is never decoded (advisory row 33).
        """
        self._handling = True
        self._fresh = False
        start = self._loop.time() if self._logging_enabled else 0.0
        request: BaseRequest | None = None
        try:
            writer = StreamWriter(self)
            try:
                request = self._server.request_factory(
                    head, content, self, writer, self._task, self._loop
                )
            except Exception as exc:  # a custom request_factory that fails
                return self._abort(exc, writer, payload, head)
            try:
                result: object = await self._server.request_handler(request)
                if isinstance(result, HTTPException):
                    result = exception_response(result)
                if not is_response(result):
                    # As aiohttp: the handler's mistake is logged, the client gets a
                    # plain 500, and the connection, which nothing broke, is kept.
                    self.logger.error(
                        "Missing return statement on request handler"
                        if result is None
                        else f"Web-handler should return a response instance, got {result!r}"
                    )
                    result = Response(status=500, text="500: Internal Server Error")
                response = result
            except HTTPException as exc:
                response = exception_response(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if writer.output_size or writer.chunked:
                    return self._abort(exc, writer, payload, head)
                if isinstance(exc, BodyReadTimeoutError):
                    response = Response(status=408, text=f"408: Request Timeout\n\n{exc}")
                    response.force_close()
                elif isinstance(exc, (RequestPayloadError, HttpParserError)):
                    # HttpParserError: the body failed to decode (400, or 413 past a cap).
                    text = f"{exc.status}: {exc}"
                    response = Response(status=exc.status, reason=exc.reason, text=text)
                    response.force_close()
                elif isinstance(exc, TimeoutError):
                    # As aiohttp: a timeout the handler let escape (a backend it waited
                    # on) is a gateway's, 504 with no body. Logged as aiohttp logs it:
                    # the line at ERROR, the traceback at DEBUG and only with debug=True.
                    self.log_debug("Request handler timed out.", exc_info=exc)
                    self.logger.error("Error handling request from %s", self._peer())
                    response = Response(status=504, content_type="text/plain")
                    response.force_close()
                else:
                    response = self._internal_error(exc, head)
            if head.expect_continue and payload.total_bytes == 0 and not payload.is_eof():
                # The handler answered without asking for the body (no "100 Continue"
                # went out): the client may not send it at all, so don't wait for it.
                response.force_close()
            elif self._unread_exceeds_discard(head, payload):
                # The rest of the body will not be drained: say so in this response,
                # or the client sends its next request on a connection that is about
                # to close, and that request is lost (read as body, then dropped).
                response.force_close()
            elif not response.prepared and (
                self._last_request or (self._keepalive_timeout == 0 and not self._queue)
            ):
                # The connection's last answer (the graceful shutdown, close(),
                # keep_alive(False); keepalive_timeout=0 with nothing pipelined): said in
                # it, so the client sends its next request on a new connection.
                # (A response the handler prepared itself went out as it was.)
                response.force_close()
            try:
                await response.prepare(request)
                await response.write_eof()
            except ConnectionError:
                return False
            except Exception as exc:  # an on_response_prepare callback, a body that fails
                return self._abort(exc, writer, payload, head)
            self._server.requests_count += 1
            if self._logging_enabled:
                self._log_access(request, response, self._loop.time() - start)
            keep_alive = bool(response.keep_alive) and not head.should_close
            if keep_alive and not payload.is_eof():
                keep_alive = await self._discard_body(payload)
            if not payload.is_eof():
                self._linger = True
            # close() and keep_alive(False) ask to close once answered.
            if self._keepalive_timeout == 0 and not self._queue:
                return False  # as aiohttp: no keep-alive, but pipelined requests are answered
            return keep_alive and not self._closing and not self._last_request
        finally:
            self._handling = False
            # A task the handler left behind must not read what belongs to the next request.
            payload.set_exception(_PAYLOAD_ACCESS_ERROR)
            if content is not payload:
                content.set_exception(_PAYLOAD_ACCESS_ERROR)
            if request is not None:
                request._finish()

    def _log_access(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        assert self.access_logger is not None
        try:
            self.access_logger.log(request, response, time)
        except Exception:
            self.logger.exception("Error in the access logger")

    def _unread_exceeds_discard(self, head: RequestHead, payload: BodyStream) -> bool:
        """Whether ``_discard_body`` would give up on what is left of this body."""
        if payload.is_eof():
            return payload.buffered_bytes > self._lingering_body_size
        if head.content_length is None:
            return True  # chunked, still arriving: its length is unknown
        unread = head.content_length - payload.total_bytes + payload.buffered_bytes
        return unread > self._lingering_body_size

    async def _discard_body(self, payload: BodyStream) -> bool:
        """Read an unread body up to a limit so the next request can be parsed."""
        remaining = self._lingering_body_size
        try:
            while remaining > 0:
                chunk = await payload.readany()
                if not chunk:
                    return True
                remaining -= len(chunk)
        except Exception:  # the body failed: reset, bad chunk, timeout
            return False
        return payload.at_eof()

    def _peer(self) -> str | None:
        """The client's address as ``request.remote`` gives it (there may be no request)."""
        transport = self._transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        if isinstance(peer, (list, tuple)):
            return str(peer[0])
        return None if peer is None else str(peer)

    def _internal_error_body(self, exc: BaseException, head: RequestHead) -> tuple[str, str]:
        """Log ``exc`` with aiohttp's line; the 500's (text, content type) for ``head``."""
        self.logger.exception("Error handling request from %s", self._peer(), exc_info=exc)
        return internal_error_body(head.headers.get("Accept", ""), exc, self.debug)

    def _abort(
        self, exc: Exception, writer: StreamWriter, payload: BodyStream, head: RequestHead
    ) -> bool:
        """End a response that failed on its way out; the connection closes.

        Nothing sent yet (a prepared stream may have left chunked framing on the
        writer): a whole 500 goes straight to the transport.  Part of the
        response already out: the only honest end is the close.
        """
        if writer.output_size:
            self.logger.exception("Error handling request from %s", self._peer(), exc_info=exc)
        else:
            text, content_type = self._internal_error_body(exc, head)
            self._write_raw(500, "Internal Server Error", text, content_type=content_type)
        self._linger = not payload.is_eof()
        return False

    def _internal_error(self, exc: BaseException, head: RequestHead) -> StreamResponse:
        text, content_type = self._internal_error_body(exc, head)
        response = Response(status=500, text=text, content_type=content_type)
        response.force_close()
        return response

    def _write_raw(
        self,
        status: int,
        reason: str,
        text: str,
        headers: tuple[tuple[str, str], ...] = (),
        content_type: str = "text/plain",
    ) -> None:
        """Send a whole error response straight to the transport (then the caller closes)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_error_bytes(status, reason, text, headers, content_type))

    def __repr__(self) -> str:
        state = "handling" if self._handling else "idle"
        return f"<RequestHandler {state} queued={len(self._queue)}>"
