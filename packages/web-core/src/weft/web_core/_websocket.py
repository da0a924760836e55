"""WebSocketResponse: aiohttp.web's server-side WebSocket on weft.http_parser's codec.

``prepare()`` validates the opening handshake (``ws_server_handshake``),
writes ``101 Switching Protocols`` through the request's writer and asks the
connection to hand it every later byte (``_upgrade.UpgradableProtocol``).

Invariants:

1. **No reader task.** The connection's ``data_received`` feeds the bytes to
   a sans-IO ``WebSocketReader``; whole messages are queued for
   ``receive()``. Protocol work that needs no application decision happens
   right there, whether or not the application is reading: PINGs are
   answered (``autoping``), a peer's CLOSE is answered and the transport
   closed (``autoclose``) — unless messages sent before it still wait for
   ``receive()``: then it is answered when ``receive()`` returns it, so the
   handler's answers to those messages go out first (Autobahn 7.1.1, and
   aiohttp's order) — and a protocol violation is answered with a close
   frame carrying its code (1002, 1007, 1009) and the transport closed.
2. **Writes never interleave.** A frame is encoded and handed to
   ``transport.write`` in one synchronous step, so any number of tasks may
   send at once (and the deflate context sees messages in wire order); each
   send then waits for the transport to drain (backpressure). Drains are
   serialized by a lock because the connection keeps one drain waiter.
3. **Reading has flow control.** When more than ``_HIGH_WATER`` bytes of
   messages wait for ``receive()``, the connection stops reading; it resumes
   once the application has taken them.
4. **Closing completes in both directions.** ``close()`` sends a close frame,
   waits up to ``timeout`` seconds for the peer's, then closes the
   transport; ``close_code`` is the peer's code, or 1006 (ABNORMAL_CLOSURE)
   when the connection ended without one. The runner calls ``write_eof()``
   (hence ``close()``) when the handler returns.

States (aiohttp's): ``closed`` once we sent a close frame or the connection
is gone; *closing* once the peer's close (or a failure) was received. After
the queued messages, ``receive()`` returns CLOSING while only the peer has
closed, then CLOSED.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, Self, TypeVar, overload

from weft.http_parser import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketEncoder,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketReader,
    WebSocketVersionError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    WSServerHandshake,
    ws_server_handshake,
)
from weft.web_exceptions import HTTPBadRequest, HTTPUpgradeRequired

from ._response import StreamResponse
from ._upgrade import UpgradableProtocol
from ._ws_heartbeat import Heartbeat

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._writer import StreamWriter

__all__ = ["WSMessageTypeError", "WebSocketReady", "WebSocketResponse"]

#: receive() after CLOSED this many times raises (aiohttp's THRESHOLD_CONNLOST_ACCESS).
_CONNLOST_LIMIT: Final = 5
#: Bytes of queued messages above which the connection stops reading (invariant 3).
_HIGH_WATER: Final = 2**17
_LOW_WATER: Final = 2**15

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_CLOSE: Final = WSMsgType.CLOSE

# aiohttp 3.14's type parameter: whether TEXT data is str (the default) or bytes. Only
# Python 3.13's TypeVar takes a default; mypy reads the first branch whatever the version.
if TYPE_CHECKING or sys.version_info >= (3, 13):
    _DecodeText = TypeVar("_DecodeText", bound=bool, covariant=True, default=Literal[True])
else:
    _DecodeText = TypeVar("_DecodeText", bound=bool, covariant=True)


@dataclass(frozen=True, slots=True)
class WebSocketReady:
    """What ``can_prepare()`` found: true when the request is a valid WebSocket upgrade."""

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


class WSMessageTypeError(TypeError):
    """``receive_str()``/``receive_bytes()``/``receive_json()`` got another kind of message."""


def _reason(message: bytes | str) -> str:
    return message.decode("utf-8") if isinstance(message, (bytes, bytearray)) else message


def _write_pending(transport: asyncio.Transport) -> bool:
    """Whether ``transport`` holds bytes it has not sent yet.

    When it holds none, what was written went out whole and writing is not
    paused (asyncio and uvloop pause above the high-water mark and resume on
    the way down, when the buffer drains), so a send need not wait: the
    drain's lock and coroutines were most of what a small message cost.
    """
    try:
        return transport.get_write_buffer_size() > 0
    except NotImplementedError:  # a transport that cannot tell: wait as before
        return True


class _Receiver:
    """What the connection hands bytes to after the switch (keeps those methods off the API)."""

    __slots__ = ("_ws",)

    def __init__(self, ws: WebSocketResponse[Any]) -> None:
        self._ws = ws

    @property
    def close_code(self) -> int | None:
        """The WebSocket's ``close_code``: the connection reports it once it has ended."""
        return self._ws._close_code

    def data_received(self, data: bytes) -> None:
        self._ws._feed(data)

    def eof_received(self) -> None:
        pass  # the connection closes; connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self._ws._connection_lost(exc)


class WebSocketResponse(StreamResponse, Generic[_DecodeText]):
    """A WebSocket endpoint, with aiohttp.web's API::

    async def handler(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    ``decode_text=False`` (aiohttp 3.14) gives TEXT messages whose data is the
    bytes received, not checked as UTF-8; the type says so:
    ``WebSocketResponse[Literal[False]]``, whose ``receive_str()`` returns bytes.
    """

    @overload
    def __init__(
        self: WebSocketResponse[Literal[True]],
        *,
        timeout: float = ...,
        receive_timeout: float | None = ...,
        autoclose: bool = ...,
        autoping: bool = ...,
        heartbeat: float | None = ...,
        protocols: Iterable[str] = ...,
        compress: bool = ...,
        max_msg_size: int = ...,
        writer_limit: int = ...,
        decode_text: Literal[True] = ...,
    ) -> None: ...

    @overload
    def __init__(
        self: WebSocketResponse[Literal[False]],
        *,
        timeout: float = ...,
        receive_timeout: float | None = ...,
        autoclose: bool = ...,
        autoping: bool = ...,
        heartbeat: float | None = ...,
        protocols: Iterable[str] = ...,
        compress: bool = ...,
        max_msg_size: int = ...,
        writer_limit: int = ...,
        decode_text: Literal[False],
    ) -> None: ...

    @overload
    def __init__(
        self: WebSocketResponse[bool],
        *,
        timeout: float = ...,
        receive_timeout: float | None = ...,
        autoclose: bool = ...,
        autoping: bool = ...,
        heartbeat: float | None = ...,
        protocols: Iterable[str] = ...,
        compress: bool = ...,
        max_msg_size: int = ...,
        writer_limit: int = ...,
        decode_text: bool = ...,
    ) -> None: ...

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Iterable[str] = (),
        compress: bool = True,
        max_msg_size: int = 4 * 1024 * 1024,
        writer_limit: int = 2**16,
        decode_text: bool = True,
    ) -> None:
        super().__init__(status=101)
        # Set here, not as a class attribute: compiled code reads StreamResponse's
        # own slot, which a subclass's class attribute does not reach (README).
        self._length_check = False
        if heartbeat is not None and heartbeat <= 0:
            raise ValueError("heartbeat must be a positive number of seconds (or None)")
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0 (0: no limit)")
        self._protocols = tuple(protocols)
        self._timeout = timeout
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._compress: bool | int = compress
        self._max_msg_size = max_msg_size
        self._writer_limit = writer_limit  # accepted for aiohttp parity; drains go by the transport
        self._decode_text = decode_text
        self._ws_protocol: str | None = None
        self._reader: WebSocketReader | None = None
        self._encoder: WebSocketEncoder | None = None
        self._transport: asyncio.Transport | None = None
        self._connection: UpgradableProtocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._messages: deque[WSMessage] = deque()
        self._queued = 0  # bytes of the queued messages
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._waiting = False
        self._closed = False  # we sent a close frame, or the connection is gone
        self._closing = False  # the peer's close (or a failure) was received
        self._close_code: int | None = None
        self._close_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._conn_lost = 0
        self._drain_lock = asyncio.Lock()
        self._heartbeat_timer: Heartbeat | None = None
        self._answer_close = False  # a peer's close waits in the queue for its answer

    # -- the opening handshake

    def _handshake(self, request: BaseRequest) -> WSServerHandshake:
        try:
            return ws_server_handshake(
                request, protocols=self._protocols, compress=bool(self._compress)
            )
        except WebSocketVersionError as exc:
            raise HTTPUpgradeRequired(headers=dict(exc.headers), text=str(exc)) from None
        except WebSocketHandshakeError as exc:
            raise HTTPBadRequest(text=str(exc)) from None

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Whether ``request`` is a WebSocket upgrade this response accepts, and the protocol."""
        if self._encoder is not None:
            raise RuntimeError("Already started")
        try:
            handshake = self._handshake(request)
        except (HTTPBadRequest, HTTPUpgradeRequired):
            return WebSocketReady(False, None)
        return WebSocketReady(True, handshake.protocol)

    async def prepare(self, request: BaseRequest) -> StreamWriter | None:
        """Answer the handshake with 101 and take over the connection.

        HTTPBadRequest (400) for a request that is not a valid WebSocket
        upgrade, HTTPUpgradeRequired (426, with ``Sec-WebSocket-Version: 13``)
        for another protocol version; nothing is sent before they are raised.
        """
        if self._payload_writer is not None:
            return self._payload_writer
        handshake = self._handshake(request)
        connection = request.protocol
        if not isinstance(connection, UpgradableProtocol):
            raise RuntimeError(
                f"the connection ({type(connection).__name__}) cannot switch protocols: "
                "serve the application with weft.web_runner (or implement "
                "weft.web_core.UpgradableProtocol)"
            )
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Connection lost")
        self.set_status(101)
        self._headers.update(handshake.headers)
        self.force_close()
        writer = await super().prepare(request)
        assert writer is not None
        loop = self._loop = asyncio.get_running_loop()
        params = handshake.compress
        self._compress = params.server_max_window_bits if params is not None else 0
        self._ws_protocol = handshake.protocol
        self._reader = WebSocketReader(
            max_msg_size=self._max_msg_size, compress=params, decode_text=self._decode_text
        )
        self._encoder = WebSocketEncoder(compress=params)
        self._transport = transport
        self._connection = connection
        self._close_waiter = loop.create_future()
        await writer.send_headers()
        connection.switch_protocol(_Receiver(self))
        if self._heartbeat is not None and not self._closed:
            self._heartbeat_timer = Heartbeat(
                self._heartbeat, loop, self._send_ping, self._pong_not_received
            )
        return writer

    # -- state

    @property
    def prepared(self) -> bool:
        return self._payload_writer is not None

    @property
    def closed(self) -> bool:
        """True once a close frame was sent or the connection is gone."""
        return self._closed

    @property
    def close_code(self) -> int | None:
        """The peer's close code (0: it sent none), 1006 without a close, or the error's code."""
        return self._close_code

    @property
    def ws_protocol(self) -> str | None:
        """The subprotocol agreed in the handshake, or None."""
        return self._ws_protocol

    @property
    def compress(self) -> bool | int:
        """Before prepare(): the ``compress`` argument; after: the window bits agreed, 0 if none."""
        return self._compress

    def exception(self) -> BaseException | None:
        """The error that ended the connection (protocol violation, timeout, reset), or None."""
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (``peername``, ``sslcontext``, ...), as the transport's."""
        transport = self._transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    # -- the receiving side (called by the connection through _Receiver)

    def _feed(self, data: bytes) -> None:
        reader = self._reader
        assert reader is not None
        if self._closed and self._closing:
            return  # failed or fully closed: nothing more is read
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.data_received()
        try:
            messages = reader.feed(data)
        except WebSocketError as exc:
            for message in exc.messages:
                self._on_message(message)
            self._fail(exc)
            return
        for message in messages:
            self._on_message(message)

    def _on_message(self, msg: WSMessage) -> None:
        kind = msg.type
        if kind is _PING:
            if self._autoping:
                assert self._encoder is not None
                self._write_now(self._encoder.pong(msg.data))
                return
        elif kind is _PONG:
            if self._autoping:
                return
        elif kind is _CLOSE:
            self._peer_closed(msg)
            return
        elif self._closed:
            return  # data after our close frame: nobody reads it any more
        self._enqueue(msg)

    def _peer_closed(self, msg: WSMessage) -> None:
        self._closing = True
        self._cancel_heartbeat()
        if self._closed:  # the answer to our close frame
            if self._close_code is None:
                self._close_code = msg.data
            self._wake_closer()
            return
        self._close_code = msg.data
        if self._autoclose:
            if self._messages:
                # The handler has not read the messages ahead of the close yet: answer when
                # receive() returns it, so answers to them still go out (aiohttp's order;
                # RFC 6455 §5.5.1 lets an endpoint finish its messages first).
                self._answer_close = True
            else:
                self._answer_peer_close(msg.data)
        self._enqueue(msg)

    def _answer_peer_close(self, code: int) -> None:
        # Answer with the peer's code (RFC 6455 §5.5.1: "typically echos"), then close.
        self._closed = True
        assert self._encoder is not None
        self._write_now(self._encoder.close(code or None))
        self._close_transport()

    def _fail(self, exc: BaseException, code: int | None = None) -> None:
        """End the connection after an error; ``code``: the close frame to send first."""
        if self._exception is None:
            self._exception = exc
        if code is None and isinstance(exc, WebSocketError):
            code = exc.code
        self._closing = True
        self._cancel_heartbeat()
        if self._close_code is None or code is not None:
            self._close_code = code if code is not None else WSCloseCode.ABNORMAL_CLOSURE
        if code is not None and not self._closed:
            assert self._encoder is not None
            reason = str(exc).encode("utf-8")[:123].decode("utf-8", "ignore")
            self._write_now(self._encoder.close(code, reason))
        self._closed = True
        self._close_transport()
        self._enqueue(WSMessage(WSMsgType.ERROR, exc, None))
        self._wake_closer()

    def _connection_lost(self, exc: BaseException | None) -> None:
        self._transport = None
        self._cancel_heartbeat()
        if self._close_code is None:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        if exc is not None and self._exception is None and not self._closing:
            self._exception = exc
        self._closed = self._closing = True
        self._wake_closer()
        self._wake()

    def _enqueue(self, msg: WSMessage) -> None:
        self._messages.append(msg)
        if msg.type is _TEXT or msg.type is _BINARY:
            self._queued += len(msg.data)
            if self._queued > _HIGH_WATER and not self._paused and self._connection is not None:
                self._paused = True
                self._connection.pause_reading()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_closer(self) -> None:
        waiter = self._close_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message: TEXT, BINARY, CLOSE, CLOSING, CLOSED, ERROR (and PING/PONG
        without autoping). Raises TimeoutError after ``timeout`` (or ``receive_timeout``).
        """
        if self._reader is None:
            raise RuntimeError("Call .prepare() first")
        if self._waiting:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        timeout = timeout or self._receive_timeout
        while True:
            if self._messages:
                msg = self._messages.popleft()
                if msg.type is _CLOSE and self._answer_close:
                    self._answer_close = False
                    if not self._closed:
                        self._answer_peer_close(msg.data)
                if msg.type is _TEXT or msg.type is _BINARY:
                    self._queued -= len(msg.data)
                    if self._paused and self._queued <= _LOW_WATER:
                        self._paused = False
                        if self._connection is not None and self._transport is not None:
                            self._connection.resume_reading()
                return msg
            if self._closed:
                self._conn_lost += 1
                if self._conn_lost >= _CONNLOST_LIMIT:
                    raise RuntimeError("WebSocket connection is closed.")
                return WS_CLOSED_MESSAGE
            if self._closing:
                return WS_CLOSING_MESSAGE
            assert self._loop is not None
            waiter = self._waiter = self._loop.create_future()
            self._waiting = True
            try:
                if timeout:
                    async with asyncio.timeout(timeout):
                        await waiter
                else:
                    await waiter
            finally:
                self._waiting = False
                self._waiter = None

    @overload
    async def receive_str(
        self: WebSocketResponse[Literal[True]], *, timeout: float | None = None
    ) -> str: ...

    @overload
    async def receive_str(
        self: WebSocketResponse[Literal[False]], *, timeout: float | None = None
    ) -> bytes: ...

    @overload
    async def receive_str(
        self: WebSocketResponse[bool], *, timeout: float | None = None
    ) -> str | bytes: ...

    async def receive_str(self, *, timeout: float | None = None) -> str | bytes:
        """The next message, which must be TEXT (else WSMessageTypeError): bytes with
        ``decode_text=False``."""
        msg = await self.receive(timeout)
        if msg.type is not _TEXT:
            raise WSMessageTypeError(f"Received message {msg.type}:{msg.data!r} is not TEXT")
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """The next message, which must be BINARY (else WSMessageTypeError)."""
        msg = await self.receive(timeout)
        if msg.type is not _BINARY:
            raise WSMessageTypeError(f"Received message {msg.type}:{msg.data!r} is not BINARY")
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        """The next TEXT message parsed by ``loads``."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (_CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    # -- the sending side

    def _write_now(self, data: bytes) -> None:
        """Write a control frame the protocol owes the peer (no drain: it is small)."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def _close_transport(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def _drain(self) -> None:
        writer = self._payload_writer
        assert writer is not None
        async with self._drain_lock:
            await writer.drain()

    def _encoder_or_raise(self) -> WebSocketEncoder:
        encoder = self._encoder
        if encoder is None:
            raise RuntimeError("Call .prepare() first")
        return encoder

    async def _send(self, frame: bytes) -> None:
        transport = self._transport
        if self._closed or transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        transport.write(frame)
        if _write_pending(transport) or self._drain_lock.locked():
            await self._drain()

    async def send_frame(
        self, message: bytes, opcode: WSMsgType | int, compress: int | None = None
    ) -> None:
        """Send one message or control frame with ``opcode`` (payload already encoded)."""
        encoder = self._encoder_or_raise()
        flag = None if compress is None else bool(compress)
        await self._send(encoder.message(bytes(message), int(opcode), compress=flag))

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message (``compress=False``/0: uncompressed, when deflate is on)."""
        encoder = self._encoder_or_raise()
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        flag = None if compress is None else bool(compress)
        await self._send(encoder.text(data, compress=flag))

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message."""
        encoder = self._encoder_or_raise()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        flag = None if compress is None else bool(compress)
        await self._send(encoder.binary(bytes(data), compress=flag))

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], bytes]
    ) -> None:
        """Send ``dumps(data)`` (an encoder that returns bytes) as a BINARY message."""
        await self.send_bytes(dumps(data), compress=compress)

    async def ping(self, message: bytes | str = b"") -> None:
        """Send a PING (at most 125 bytes)."""
        encoder = self._encoder_or_raise()
        data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        await self._send(encoder.ping(data))

    async def pong(self, message: bytes | str = b"") -> None:
        """Send an unsolicited PONG (at most 125 bytes)."""
        encoder = self._encoder_or_raise()
        data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        await self._send(encoder.pong(data))

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("Cannot call .write() for websocket")

    async def write_eof(self, data: bytes = b"") -> None:
        """End the response: the closing handshake (the runner calls it after the handler)."""
        if self._eof_sent:
            return
        if self._payload_writer is None:
            raise RuntimeError("Response has not been started")
        await self.close()
        self._eof_sent = True

    # -- closing

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Send a close frame, wait up to ``timeout`` for the peer's, close the connection.

        False when already closed. ValueError for a code that may not be sent
        (1000-1003, 1007-1014, 3000-4999 may) or a message over 123 bytes.
        """
        encoder = self._encoder_or_raise()
        if self._closed:
            return False
        frame = encoder.close(code, _reason(message))
        self._closed = True
        self._cancel_heartbeat()
        try:
            transport = self._transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("Cannot write to closing transport")
            transport.write(frame)
            if drain:
                await self._drain()
        except (asyncio.CancelledError, TimeoutError):
            self._abort()
            raise
        except Exception as exc:
            self._exception = exc
            self._abort()
            return True
        if self._closing:  # the peer closed first (or the connection failed)
            self._close_transport()
            return True
        if self._waiting:
            self._messages.append(WS_CLOSING_MESSAGE)  # wake the receive() in progress
            self._wake()
        else:
            self._messages.clear()  # unread messages are dropped, as aiohttp's close() does
            self._queued = 0
        waiter = self._close_waiter
        assert waiter is not None
        try:
            async with asyncio.timeout(self._timeout):
                await waiter
        except asyncio.CancelledError:
            self._abort()
            raise
        except TimeoutError as exc:
            self._exception = exc
            self._abort()
            return True
        self._close_transport()
        return True

    def _abort(self) -> None:
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._closed = self._closing = True
        self._close_transport()

    # -- heartbeat (the timers are in _ws_heartbeat)

    def _send_ping(self) -> None:
        assert self._encoder is not None
        self._write_now(self._encoder.ping())

    def _pong_not_received(self) -> None:
        if self._closed:
            return
        assert self._heartbeat_timer is not None
        exc = TimeoutError(f"No PONG received after {self._heartbeat_timer.pong_timeout} seconds")
        self._exception = exc
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._closed = self._closing = True
        self._close_transport()
        if self._waiting:
            self._enqueue(WSMessage(WSMsgType.ERROR, exc, None))
        else:
            # aiohttp's receive() answers CLOSED once the heartbeat failed: what the
            # handler had not read yet is dropped, as close() drops it.
            self._messages.clear()
            self._queued = 0
        self._wake_closer()

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.stop()
