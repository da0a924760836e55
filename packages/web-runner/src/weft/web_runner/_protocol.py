"""RequestHandler: the asyncio glue of one HTTP/1.1 server connection.

The connection's rules (parsing, the pipeline queue, flow control, every
timeout, keep-alive, lingering close, the graceful shutdown's "no new
request") are ``_connection.Connection``'s, with no IO and no clock; its
module doc has the states and the transitions. This module only carries
events to it (bytes, EOF, the timer, the handler's end) with
``loop.time()``, and performs the actions it returns: writes, pauses and
resumes reading, feeds body streams, arms the connection's one timer, wakes
the connection's task and closes.

One task per connection serves the queue in order, so pipelined requests are
answered in the order they came (RFC 9112 §9.3.2), and no task is created per
request. The task runs the handler (``_answer``) and turns what escapes it
into an answer: an ``HTTPException`` its response, a body error its status
(408, 400, 413), a ``TimeoutError`` 504, anything else aiohttp's 500.

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

The client's FIN ends the connection, as in aiohttp: the transport closes,
``request.transport`` becomes None, the handler's writes fail with
ConnectionResetError and nothing more is answered or started (the handler
is cancelled only with ``handler_cancellation``); see
``Connection.eof_received``.

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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, cast, final

from weft.http_parser import (
    ContentDecoder,
    HttpParserError,
    HttpVersion11,
    RequestHead,
    RequestParser,
    serialize_response_head,
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
from ._compiled import mypyc_attr
from ._connection import (
    CLOSE,
    HANDLING,
    PAUSE_READING,
    QUEUE_HIGH,
    RESUME_READING,
    UPGRADE_PENDING,
    WAKE,
    WRITE_EOF,
    Action,
    ArmTimer,
    BodyFailure,
    Connection,
    EndBody,
    FailBody,
    FeedBody,
    Item,
    Rejection,
)
from ._error_page import internal_error_body
from ._errors import BodyReadTimeoutError, PayloadAccessError, RequestPayloadError
from ._outbox import PIPELINE_BATCH, Outbox, WriterPort
from ._upgrade import UpgradeHandling

if TYPE_CHECKING:
    from ._server import Server

__all__ = ["HANDLER_KEYWORDS", "RequestCount", "RequestHandler", "check_handler_options"]

# One instance, as aiohttp's: set on every body once its response is sent.
_PAYLOAD_ACCESS_ERROR = PayloadAccessError("the request body was read after the response")

# The pipeline's cap, where the tests of GHSA-4fvr-rgm6-gqmc look for it.
_QUEUE_HIGH: Final = QUEUE_HIGH

_NO_BODY: Final = (EMPTY_BODY, EMPTY_BODY)

# What each answer uses from the sibling distributions, as module constants:
# compiled, a Final name is a C static, an imported one a lookup in the
# module's dict on every use.
_EMPTY_BODY: Final = EMPTY_BODY
_IS_RESPONSE: Final = is_response
_RESPONSE: Final = Response
_STREAM_WRITER: Final = StreamWriter


@final
class RequestCount:
    """A server's ``requests_count``: its connections add to it natively."""

    def __init__(self) -> None:
        self.count = 0


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


_TCP_FAMILIES: Final = (socket.AF_INET, socket.AF_INET6)

#: Bytes asked of the socket per read on asyncio's own (selector) loop, whose
#: transports read with ``sock.recv(max_size)``: a new bytes object of that
#: size, shrunk to what came. At asyncio's 256 KiB, above glibc's initial
#: mmap threshold (128 KiB), each read is an ``mmap``, an ``mremap`` and an
#: ``munmap`` with a page fault, until the process happens to free a large
#: block, which raises the threshold: seen in bench_ws's server (14 µs of a
#: WebSocket echo's 35), not in bench_server's. Below the initial threshold
#: the buffer comes from the heap whatever the process did before. (uvloop
#: reads into one buffer of its own and has no ``max_size``.)
READ_SIZE: Final = 64 * 1024


class _FromArguments:
    """The default of ``access_logger``: build it from the access_log* arguments."""

    def __repr__(self) -> str:
        return "<from access_log, access_log_class and access_log_format>"


_FROM_ARGUMENTS: Final = _FromArguments()


#: The keyword arguments of ``RequestHandler()``, by name: the Server checks the
#: ones it is given against them. Written out because the compiled class has no
#: signature to read (tests/test_web_runner_handler_keywords.py keeps it equal
#: to ``__init__``'s).
HANDLER_KEYWORDS: Final = frozenset(
    {
        "keepalive_timeout",
        "tcp_keepalive",
        "logger",
        "access_log_class",
        "access_log",
        "access_log_format",
        "debug",
        "max_line_size",
        "max_headers",
        "max_field_size",
        "max_head_size",
        "lingering_time",
        "read_bufsize",
        "auto_decompress",
        "timeout_ceil_threshold",
        "read_head_timeout",
        "read_body_timeout",
        "lingering_body_size",
        "handler_cancellation",
        "access_logger",
    }
)


def check_handler_options(
    *, read_bufsize: int = 2**16, auto_decompress: bool = True, **_: object
) -> None:
    """Refuse RequestHandler options that cannot work, before any connection is made."""
    if read_bufsize < 1:
        raise ValueError(f"read_bufsize must be a positive number of bytes, not {read_bufsize!r}")


@mypyc_attr(allow_interpreted_subclasses=True)
class RequestHandler(UpgradeHandling):
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
        "_drain_waiter",
        "_handler_cancellation",
        "_keepalive_timeout",
        "_lingering_body_size",
        "_outbox",
        "_port",
        "_read_bufsize",
        "_request_factory",
        "_request_handler",
        "_requests",
        "_tcp_keepalive",
        "_timeout_ceil_threshold",
        "_timer",
        "_waiter",
        "_writer",
        "access_log",
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
        # As aiohttp's: the server's handler and request factory, taken once.
        self._request_factory = server.request_factory
        self._request_handler = server.request_handler
        self._requests = server._requests
        self._loop = loop
        self._keepalive_timeout = keepalive_timeout
        self._tcp_keepalive = tcp_keepalive
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
        parser = RequestParser(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_head_size=max_head_size,
        )
        self._core: Connection[BodyStream] = Connection(
            parser,
            self._make_body,
            _NO_BODY,
            keepalive_timeout=keepalive_timeout,
            read_head_timeout=read_head_timeout,
            read_body_timeout=read_body_timeout,
            lingering_time=lingering_time,
        )
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None  # the core's one timer
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._outbox: Outbox | None = None  # made by the first answer
        self._port: WriterPort | None = None  # made by the first answer
        self._writer: StreamWriter | None = None  # the answer's, while it is answered

    # -- what requests and the writer see

    @property
    def transport(self) -> asyncio.Transport | None:
        self._send_kept()
        return self._transport

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's extra info; unlike ``transport``, sends nothing first
        (what a request reads of its connection: the client's address, TLS)."""
        transport = self._transport
        return default if transport is None else transport.get_extra_info(name, default)

    def _send_kept(self) -> None:
        """Send what is kept to be written together, before the transport is used
        otherwise: the answers of a pipelined batch (the outbox), then the answer's
        stream writes (web-core's writer keeps them until the loop turns)."""
        outbox = self._outbox
        if outbox is not None:
            outbox.flush()
        writer = self._writer
        if writer is not None and writer.keeping:
            with contextlib.suppress(ConnectionError):
                writer.flush()

    @property
    def handling(self) -> bool:
        """True while a request is being answered."""
        return self._core.handling

    @property
    def keepalive_timeout(self) -> float:
        return self._keepalive_timeout

    @property
    def _queue(self) -> list[Item[BodyStream]]:
        """The requests parsed and not yet started (the core's)."""
        return self._core.queue

    async def drain(self) -> None:
        if self._writing_paused:
            if self._transport is None or self._transport.is_closing():
                raise ConnectionResetError("Connection lost")
            waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    def _make_body(self, head: RequestHead) -> tuple[BodyStream, BodyStream]:
        """A request's body as sent, and the body its handler reads."""
        payload = BodyStream(self, high_water=self._read_bufsize)
        if head.content_encoding and self._auto_decompress:
            # Decoded as the handler reads it, a read buffer at a time; the
            # handler's read() counts the decoded bytes against client_max_size.
            # An unsupported coding raises here: the core answers 415.
            decoder = ContentDecoder(head.content_encoding, max_size=None)
            return payload, DecodingBodyStream(payload, decoder, step=self._read_bufsize)
        return payload, payload

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its API.
        self._transport = cast(asyncio.Transport, transport)
        if isinstance(getattr(type(transport), "max_size", None), int):  # see READ_SIZE
            cast(Any, transport).max_size = READ_SIZE
        self._core.connection_made(self._loop.time())
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
            # it comes at once, is the only one answered (see FIRST_REQUEST_GRACE).
            self.close()

    def data_received(self, data: bytes) -> None:
        if self._upgraded is not None:  # switched protocols (see _upgrade)
            self._upgraded.data_received(data)
            return
        for action in self._core.data_received(data, self._loop.time()):
            # The two common actions of a read, without the general dispatch: a
            # request arrived and a piece of a body (a small one ends with it).
            if action is WAKE:
                self._wake_task()
            elif type(action) is FeedBody:
                self._feed_body(action)
            else:
                self._perform(action)

    def eof_received(self) -> bool:
        if self._upgraded is not None:
            return self._upgraded_eof(self._upgraded)
        # The core closes the transport (see Connection.eof_received); False says
        # the same to asyncio, and connection_lost follows: request.transport
        # becomes None, and the handler is cancelled only with handler_cancellation.
        self._dispatch(self._core.eof_received())
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._upgraded is not None:
            self._upgraded.connection_lost(exc)
            self._report_upgraded_close(self._upgraded)
        self._server.connection_lost(self, exc)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._outbox is not None:
            self._outbox.discard()
        self._dispatch(self._core.connection_lost())
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ConnectionResetError("Connection lost"))
        if self._task is not None and (not self._core.handling or self._handler_cancellation):
            self._task.cancel()
        self._transport = None

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- FlowControl, for the body streams and the upgraded protocol

    def pause_reading(self) -> None:
        self._dispatch(self._core.pause_consumer())

    def resume_reading(self, resume_parser: bool = True) -> None:
        # resume_parser is aiohttp's; weft resumes its parser when the queue drains.
        self._dispatch(self._core.resume_consumer(self._loop.time()))

    # -- the core's actions

    def _dispatch(self, actions: Sequence[Action[BodyStream]]) -> None:
        """Perform the core's actions, in order."""
        for action in actions:
            self._perform(action)

    def _perform(self, action: Action[BodyStream]) -> None:
        """Perform one of the core's actions."""
        if action is WAKE:
            self._wake_task()
            return
        kind = type(action)
        if kind is FeedBody:
            self._feed_body(action)  # type: ignore[arg-type]
        elif kind is EndBody:
            action.body.feed_eof()  # type: ignore[union-attr]
        elif kind is ArmTimer:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(action.at, self._on_timer)  # type: ignore[union-attr]
        elif kind is FailBody:
            self._fail_body(action)  # type: ignore[arg-type]
        elif kind is Rejection:
            # The core queued a rejection (the parser's error, a 415, the
            # head timeout's 408): one is-not-None check when nothing observes.
            observer = self._server.observer
            if observer is not None:
                observer.request_rejected(action.status)  # type: ignore[union-attr]
        elif (transport := self._transport) is not None:
            self._use_transport(transport, action)

    def _use_transport(self, transport: asyncio.Transport, action: Action[BodyStream]) -> None:
        """Pause or resume reading, half-close or close (after what is kept)."""
        self._send_kept()
        if action is PAUSE_READING:
            transport.pause_reading()
        elif action is RESUME_READING:
            transport.resume_reading()
        elif action is CLOSE:
            transport.close()
        else:
            assert action is WRITE_EOF
            try:
                if transport.can_write_eof():
                    transport.write_eof()  # FIN once the response is flushed
            except (NotImplementedError, OSError):  # pragma: no cover (transport-specific)
                pass

    def _wake_task(self) -> None:
        """The connection's task, waiting for a request, goes on (WAKE)."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            # (A try costs nothing compiled; contextlib.suppress makes an object per call.)
            try:  # noqa: SIM105
                waiter.set_result(None)
            except asyncio.InvalidStateError:  # cancelled with the task: nothing to wake
                pass

    @staticmethod
    def _feed_body(action: FeedBody[BodyStream]) -> None:
        body = action.body
        body.feed_data(action.data)
        if action.end:
            body.feed_eof()

    def _fail_body(self, action: FailBody[BodyStream]) -> None:
        why = action.why
        exc: BaseException
        if why is BodyFailure.BAD_FRAMING:
            error = action.error
            assert error is not None
            # The request answers it (its reads raise), then the connection closes.
            exc = RequestPayloadError(str(error), status=error.status, reason=error.reason)
            exc.__cause__ = error
            self.logger.debug("Bad request body: %s", error)
        elif why is BodyFailure.TIMEOUT:
            timeout = self._core.body_timeout
            exc = BodyReadTimeoutError(
                f"No request body data for {timeout:g} s (read_body_timeout)"
            )
            self.logger.debug("Request body timed out")
        elif why is BodyFailure.PEER_CLOSED:
            exc = ConnectionResetError("Client closed before the body ended")
        else:
            exc = ConnectionResetError("Connection lost")
        action.body.set_exception(exc)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch(self._core.timer_fired(self._loop.time()))

    # -- the connection's task

    def close_if_idle(self) -> bool:
        """Close now unless a request is being answered, or a fresh connection's
        first request is coming (see ``FIRST_REQUEST_GRACE`` in ``_connection``): no
        other request parsed but not yet started is started (close(), the graceful
        shutdown)."""
        self._dispatch(self._core.close(self._loop.time()))
        return not self._core.serving

    def force_close(self) -> None:
        self._dispatch(self._core.force_close())
        if self._task is not None:
            self._task.cancel()

    async def _serve(self) -> None:
        loop = self._loop
        core = self._core
        in_a_row = 0  # queued requests answered since the loop last turned
        try:
            while True:
                item = core.take()
                if item is None:
                    actions = core.idle(self._loop.time())
                    if actions:
                        self._dispatch(actions)
                    if not core.serving:
                        break
                    self._waiter = loop.create_future()
                    await self._waiter
                    in_a_row = 0
                    continue
                if core.refill:  # the queue is down to its low mark
                    self._dispatch(core.refill_queue(self._loop.time()))
                if isinstance(item, Rejection):
                    self._write_raw(item.status, item.reason, item.text, item.headers)
                    self.logger.debug("Error handling request from %s: %s", self._peer(), item.log)
                    break
                head, payload, content = item
                if not await self._answer(head, payload, content):
                    break
                if core.read is UPGRADE_PENDING:
                    self.resume_declined_upgrade()
                elif core.queue:
                    # Pipelined requests wait: at most PIPELINE_BATCH are answered
                    # before the loop turns. A turn that answered every queued
                    # request of every connection would hold off new connections
                    # (uvloop accepts one per turn) and every other client; one per
                    # turn would write each answer alone (see _outbox).
                    in_a_row += 1
                    if in_a_row >= PIPELINE_BATCH:
                        in_a_row = 0
                        await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a bug: log it rather than leave a silent close
            self.logger.exception("Unhandled error on the connection", exc_info=exc)
        finally:
            transport = self._transport
            self._dispatch(
                core.task_ended(
                    loop.time(),
                    shutting_down=self._server.shutting_down,
                    writable=transport is not None and not transport.is_closing(),
                )
            )

    async def _answer(self, head: RequestHead, payload: BodyStream, content: BodyStream) -> bool:
        """Answer one request; True when the connection may serve another.

        ``payload`` is the body as sent, ``content`` what the handler reads
        (its decoded view with auto_decompress): an unread body is discarded
        from ``payload``, so it is never decoded (advisory row 33).
        """
        start = self._loop.time() if self._logging_enabled else 0.0
        request: BaseRequest | None = None
        response: StreamResponse
        port = self._port
        if port is None:
            port = self._port = WriterPort(self)
        writer = self._writer = _STREAM_WRITER(port)
        try:
            try:
                request = self._request_factory(head, content, self, writer, self._task, self._loop)
            except Exception as exc:  # a custom request_factory that fails
                return self._abort(exc, writer, payload, head)
            try:
                result: object = await self._request_handler(request)
                if _IS_RESPONSE(result):
                    response = result
                elif isinstance(result, HTTPException):  # not a response: an Exception
                    response = exception_response(result)
                else:
                    # As aiohttp: the handler's mistake is logged, the client gets a
                    # plain 500, and the connection, which nothing broke, is kept.
                    self.logger.error(
                        "Missing return statement on request handler"
                        if result is None
                        else f"Web-handler should return a response instance, got {result!r}"
                    )
                    response = Response(status=500, text="500: Internal Server Error")
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
                    if (observer := self._server.observer) is not None:
                        observer.request_rejected(408)
                elif isinstance(exc, (RequestPayloadError, HttpParserError)):
                    # HttpParserError: the body failed to decode (400, or 413 past a cap).
                    text = f"{exc.status}: {exc}"
                    response = Response(status=exc.status, reason=exc.reason, text=text)
                    response.force_close()
                    if (observer := self._server.observer) is not None:
                        observer.request_rejected(exc.status)
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
            if (
                payload is not _EMPTY_BODY  # (nothing to continue: the head is not read)
                and head.expect_continue
                and payload.total_bytes == 0
                and not payload.is_eof()
            ):
                # The handler answered without asking for the body (no "100 Continue"
                # went out): the client may not send it at all, so don't wait for it.
                response.force_close()
            elif payload is not _EMPTY_BODY and self._unread_exceeds_discard(head, payload):
                # The rest of the body will not be drained: say so in this response,
                # or the client sends its next request on a connection that is about
                # to close, and that request is lost (read as body, then dropped).
                response.force_close()
            elif self._core.last_answer and not response.prepared:
                # The connection's last answer (the graceful shutdown, close(),
                # keep_alive(False); keepalive_timeout=0 with nothing pipelined): said in
                # it, so the client sends its next request on a new connection.
                # (A response the handler prepared itself went out as it was.)
                response.force_close()
            whole = response if isinstance(response, _RESPONSE) else None
            outbox: Outbox | None = None
            if whole is not None and self._transport is not None:
                # Its head and body, written here, leave through the outbox when the
                # loop turns (see _outbox); streams, files and WebSockets write to the
                # transport itself.
                outbox = self._outbox
                if outbox is None:
                    flusher = self._server.flusher(self._loop)
                    outbox = self._outbox = Outbox(self._transport, flusher)
                outbox.open = True
            try:
                if whole is not None and whole._send_whole(request):
                    if self._writing_paused:
                        await self.drain()
                else:
                    await response.prepare(request)
                    await response.write_eof()
            except ConnectionError:
                return False
            except Exception as exc:  # an on_response_prepare callback, a body that fails
                return self._abort(exc, writer, payload, head)
            finally:
                if outbox is not None:
                    outbox.open = False
            self._requests.count += 1
            if self._logging_enabled:
                self._log_access(request, response, self._loop.time() - start)
            keep_alive = bool(response.keep_alive) and not head.should_close
            complete = payload is _EMPTY_BODY or payload.is_eof()  # (a GET's, always at its end)
            if keep_alive and not complete:
                keep_alive = await self._discard_body(payload)
                complete = payload.is_eof()
            # close() and keep_alive(False) ask to close once answered.
            return self._core.answered(keep_alive, complete)
        finally:
            # A stream's writes are kept until the loop turns (web-core's writer):
            # what a handler wrote before it failed goes out before the close.
            if writer.keeping:
                with contextlib.suppress(ConnectionError):
                    writer.flush()
            self._writer = None
            if self._core.answer is HANDLING:  # it gave up: an error, a cancellation
                self._core.answer_ended(payload.is_eof())
            if payload is not _EMPTY_BODY:  # the shared empty body ignores it
                # A task the handler left behind must not read what belongs to the
                # next request.
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
        self._send_kept()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_error_bytes(status, reason, text, headers, content_type))

    def __repr__(self) -> str:
        state = "handling" if self._core.handling else "idle"
        return f"<RequestHandler {state} queued={len(self._queue)}>"
