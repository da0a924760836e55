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
  (RFC 9112 §9.6: after a framing error nothing more can be trusted).
* The connection closes after a response unless both sides keep it alive
  and the request body was fully read (so the next request's bytes are
  where the parser expects them).
"""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from typing import TYPE_CHECKING

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    Event,
    HttpParserError,
    HttpVersion11,
    RequestHead,
    RequestParser,
    serialize_response_head,
)
from weft.http_parser.streams import BodyStream
from weft.web_core import Response, StreamResponse, StreamWriter, exception_response
from weft.web_exceptions import HTTPException

if TYPE_CHECKING:
    from ._server import Server

__all__ = ["RequestHandler"]

# A parse error takes the place of a request in the queue.
_Item = tuple[RequestHead, BodyStream] | HttpParserError


def _error_bytes(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    head = serialize_response_head(
        status,
        reason,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
        HttpVersion11,
    )
    return head + body


class RequestHandler(asyncio.Protocol):
    """The asyncio protocol of one server connection."""

    def __init__(
        self,
        server: Server,
        *,
        loop: asyncio.AbstractEventLoop,
        keepalive_timeout: float = 75.0,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        lingering_body_size: int = 2**16,
        handler_cancellation: bool = False,
        debug: bool = False,
    ) -> None:
        self._server = server
        self._loop = loop
        self._keepalive_timeout = keepalive_timeout
        self._lingering_body_size = lingering_body_size
        self._handler_cancellation = handler_cancellation
        self._debug = debug
        self._parser = RequestParser(
            max_line_size=max_line_size, max_field_size=max_field_size, max_headers=max_headers
        )
        self._transport: asyncio.Transport | None = None
        self._queue: deque[_Item] = deque()
        self._payload: BodyStream | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._keepalive_handle: asyncio.TimerHandle | None = None
        self._handling = False
        self._closing = False
        self._parse_failed = False
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

    async def drain(self) -> None:
        if self._writing_paused:
            if self._transport is None or self._transport.is_closing():
                raise ConnectionResetError("Connection lost")
            waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connection_made(self)
        self._task = self._loop.create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        if self._parse_failed or self._closing:
            return
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            # Requests completed before the error are answered first (exc.events).
            self._dispatch(exc.events)
            self._parse_failed = True
            if self._payload is not None:
                self._payload.set_exception(exc)
                self._payload = None
            self._queue.append(exc)
            self._wake()
            return
        if events:
            self._dispatch(events)
            if self._queue:
                self._wake()

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is BodyChunk:
                assert self._payload is not None
                self._payload.feed_data(event.data)  # type: ignore[union-attr]
            elif kind is RequestHead:
                head: RequestHead = event  # type: ignore[assignment]
                if head.chunked or head.content_length:
                    self._payload = BodyStream(self)
                else:
                    self._payload = BodyStream.empty()
                self._queue.append((head, self._payload))
            elif kind is EndOfMessage:
                if self._payload is not None and not self._payload.is_eof():
                    self._payload.feed_eof()
                self._payload = None

    def eof_received(self) -> bool:
        # A half-closed client may still wait for its answer (RFC 9112 §9.6), unless
        # handler_cancellation asks, as in aiohttp, to treat its FIN as a disconnect:
        # returning False closes the transport, and connection_lost cancels the handler.
        if self._payload is not None:
            self._payload.set_exception(ConnectionResetError("Client closed before the body ended"))
            self._payload = None
        if not self._handling and not self._queue:
            self._close()
        return not self._handler_cancellation

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closing = True
        self._server.connection_lost(self)
        if self._keepalive_handle is not None:
            self._keepalive_handle.cancel()
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
        if not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()

    # -- the connection's task

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def close_if_idle(self) -> bool:
        """Close now if no request is being answered or waiting (graceful shutdown)."""
        if not self._handling and not self._queue:
            self._close()
            self._wake()
            return True
        return False

    def force_close(self) -> None:
        self._close()
        if self._task is not None:
            self._task.cancel()

    def _on_keepalive_timeout(self) -> None:
        self._keepalive_handle = None
        if not self._handling and not self._queue:
            self._close()
            self._wake()

    async def _serve(self) -> None:
        loop = self._loop
        try:
            while not self._closing:
                if not self._queue:
                    self._waiter = loop.create_future()
                    if self._keepalive_timeout:
                        self._keepalive_handle = loop.call_later(
                            self._keepalive_timeout, self._on_keepalive_timeout
                        )
                    await self._waiter
                    if self._keepalive_handle is not None:
                        self._keepalive_handle.cancel()
                        self._keepalive_handle = None
                    continue
                item = self._queue.popleft()
                if isinstance(item, HttpParserError):
                    self._answer_parse_error(item)
                    break
                if not await self._answer(*item):
                    break
        except asyncio.CancelledError:
            pass
        finally:
            self._close()

    async def _answer(self, head: RequestHead, payload: BodyStream) -> bool:
        """Answer one request; True when the connection may serve another."""
        self._handling = True
        try:
            writer = StreamWriter(self)
            request = self._server.request_factory(
                head, payload, self, writer, self._task, self._loop
            )
            try:
                result: object = await self._server.request_handler(request)
                if isinstance(result, HTTPException):
                    result = exception_response(result)
                if not isinstance(result, StreamResponse):
                    raise TypeError(
                        f"Web-handler should return a response instance, got {result!r}"
                    )
                response = result
            except HTTPException as exc:
                response = exception_response(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if writer.output_size:
                    # Part of a response is already out: the only honest end is a close.
                    self._server.logger.exception("Error after the response started", exc_info=exc)
                    return False
                if writer.chunked:
                    # A streaming response was prepared (nothing sent yet) and left chunked
                    # framing on the writer: send the 500 around it, then close.
                    self._write_raw(500, "Internal Server Error", self._internal_error_text(exc))
                    return False
                response = self._internal_error(exc)
            try:
                await response.prepare(request)
                await response.write_eof()
            except ConnectionError:
                return False
            self._server.requests_count += 1
            keep_alive = bool(response.keep_alive) and not head.should_close
            if keep_alive and not payload.is_eof():
                keep_alive = await self._discard_body(payload)
            return keep_alive and not self._closing
        finally:
            self._handling = False

    async def _discard_body(self, payload: BodyStream) -> bool:
        """Read an unread body up to a limit so the next request can be parsed."""
        remaining = self._lingering_body_size
        try:
            while remaining > 0:
                chunk = await payload.readany()
                if not chunk:
                    return True
                remaining -= len(chunk)
        except (ConnectionError, HttpParserError):
            return False
        return payload.at_eof()

    def _internal_error_text(self, exc: BaseException) -> str:
        self._server.logger.exception("Error handling request", exc_info=exc)
        text = "500 Internal Server Error\n\nServer got itself in trouble"
        if self._debug:
            text += "\n\n" + "".join(traceback.format_exception(exc))
        return text

    def _internal_error(self, exc: BaseException) -> StreamResponse:
        response = Response(status=500, text=self._internal_error_text(exc))
        response.force_close()
        return response

    def _write_raw(self, status: int, reason: str, text: str) -> None:
        """Send a whole error response straight to the transport (then the caller closes)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_error_bytes(status, reason, text))

    def _answer_parse_error(self, exc: HttpParserError) -> None:
        self._write_raw(exc.status, exc.reason, f"{exc.status}: {exc}")
        self._server.logger.debug("Bad request: %s", exc)

    def __repr__(self) -> str:
        state = "handling" if self._handling else "idle"
        return f"<RequestHandler {state} queued={len(self._queue)}>"
