"""The test client's WebSocket: ``TestClient.ws_connect(path)``, with aiohttp's client API.

A small client on weft.http_parser's codec (the handshake helpers, a
masking ``WebSocketEncoder`` and a client ``WebSocketReader``) over asyncio
streams. One task reads frames into a queue and answers PINGs (``autoping``);
``receive()`` answers a server's CLOSE (``autoclose``); ``close()`` sends a
close frame and waits up to ``timeout`` for the server's. Enough to test
WebSocket handlers without a third-party client; it does not aim at speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from weft.http_parser import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    EndOfMessage,
    HttpParserError,
    ResponseHead,
    ResponseParser,
    WebSocketEncoder,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketReader,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    serialize_request_head,
    ws_client_headers,
    ws_generate_key,
    ws_verify_response,
)

from ._response import (
    AwaitOrEnter,
    ClientConnectionError,
    ClientResponseError,
    RequestInfo,
)

__all__ = ["ClientWebSocketResponse", "WSServerHandshakeError", "ws_connect"]


class WSServerHandshakeError(ClientResponseError):
    """The server did not accept the WebSocket upgrade (``status`` is its answer)."""


class ClientWebSocketResponse:
    """A client WebSocket: ``send_str``/``receive``/``close``/``async for``, as aiohttp's."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ws_reader: WebSocketReader,
        encoder: WebSocketEncoder,
        *,
        protocol: str | None,
        compress: int,
        trailing: bytes,
        autoclose: bool,
        autoping: bool,
        timeout: float,
        receive_timeout: float | None,
    ) -> None:
        self._stream = reader
        self._writer = writer
        self._ws_reader = ws_reader
        self._encoder = encoder
        self._protocol = protocol
        self._compress = compress
        self._autoclose = autoclose
        self._autoping = autoping
        self._timeout = timeout
        self._receive_timeout = receive_timeout
        self._queue: asyncio.Queue[WSMessage] = asyncio.Queue()
        self._closed = False
        self._closing = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._task = asyncio.get_running_loop().create_task(self._read(trailing))

    # -- reading

    async def _read(self, data: bytes) -> None:
        try:
            while True:
                if data:
                    try:
                        messages = self._ws_reader.feed(data)
                    except WebSocketError as exc:
                        for message in exc.messages:
                            self._queue.put_nowait(message)
                        self._queue.put_nowait(WSMessage(WSMsgType.ERROR, exc, None))
                        return
                    for message in messages:
                        if message.type is WSMsgType.PING and self._autoping:
                            self._write(self._encoder.pong(message.data))
                        elif message.type is WSMsgType.PONG and self._autoping:
                            pass
                        else:
                            self._queue.put_nowait(message)
                data = await self._stream.read(2**16)
                if not data:
                    self._queue.put_nowait(WS_CLOSED_MESSAGE)
                    return
        except (ConnectionError, OSError) as exc:
            self._queue.put_nowait(WSMessage(WSMsgType.ERROR, exc, None))

    def _write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message (TEXT, BINARY, CLOSE, CLOSED, ERROR; PING/PONG without autoping)."""
        if self._closed:
            return WS_CLOSED_MESSAGE
        if self._closing:
            return WS_CLOSING_MESSAGE
        async with asyncio.timeout(timeout or self._receive_timeout):
            msg = await self._queue.get()
        if msg.type is WSMsgType.CLOSE:
            self._closing = True
            self._close_code = msg.data
            if self._autoclose and not self._closed:
                await self._finish(msg.data or None)
        elif msg.type is WSMsgType.ERROR:
            self._exception = msg.data
            code = msg.data.code if isinstance(msg.data, WebSocketError) else None
            self._close_code = code or WSCloseCode.ABNORMAL_CLOSURE
            await self._finish(code)
        elif msg.type is WSMsgType.CLOSED:
            self._close_code = self._close_code or WSCloseCode.ABNORMAL_CLOSURE
            await self._finish(None, send=False)
        return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise TypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT")
        return str(msg.data)

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.BINARY:
            raise TypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY")
        return bytes(msg.data)

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> ClientWebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    # -- sending

    async def _send(self, frame: bytes) -> None:
        if self._closed or self._writer.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        self._writer.write(frame)
        await self._writer.drain()

    async def send_str(self, data: str, compress: int | None = None) -> None:
        flag = None if compress is None else bool(compress)
        await self._send(self._encoder.text(data, compress=flag))

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None:
        flag = None if compress is None else bool(compress)
        await self._send(self._encoder.binary(bytes(data), compress=flag))

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        await self.send_str(dumps(data), compress=compress)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType | int, compress: int | None = None
    ) -> None:
        flag = None if compress is None else bool(compress)
        await self._send(self._encoder.message(bytes(message), int(opcode), compress=flag))

    async def ping(self, message: bytes = b"") -> None:
        await self._send(self._encoder.ping(message))

    async def pong(self, message: bytes = b"") -> None:
        await self._send(self._encoder.pong(message))

    # -- state and closing

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def protocol(self) -> str | None:
        return self._protocol

    @property
    def compress(self) -> int:
        return self._compress

    def exception(self) -> BaseException | None:
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._writer.get_extra_info(name, default)

    async def _finish(self, code: int | None, *, send: bool = True) -> None:
        """Answer (or not) and close the connection; the server spoke last."""
        self._closed = True
        if send:
            with contextlib.suppress(ValueError):
                self._write(self._encoder.close(code))
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._task.cancel()
        self._writer.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self._writer.wait_closed()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bool:
        """Send a close frame, wait up to ``timeout`` for the server's, close. False if closed."""
        if self._closed:
            return False
        reason = message.decode("utf-8") if isinstance(message, bytes) else message
        frame = self._encoder.close(code, reason)
        self._closed = True
        try:
            self._write(frame)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self._exception = exc
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            await self._shutdown()
            return True
        if not self._closing:
            try:
                async with asyncio.timeout(self._timeout):
                    while True:
                        msg = await self._queue.get()
                        if msg.type is WSMsgType.CLOSE:
                            self._close_code = msg.data
                            break
                        if msg.type in (WSMsgType.CLOSED, WSMsgType.ERROR):
                            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                            break
            except TimeoutError as exc:
                self._exception = exc
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        await self._shutdown()
        return True


async def ws_connect(
    url: URL,
    *,
    protocols: Iterable[str] = (),
    timeout: float = 10.0,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    headers: Mapping[str, str] | None = None,
    origin: str | None = None,
    compress: int = 15,
    max_msg_size: int = 4 * 1024 * 1024,
) -> ClientWebSocketResponse:
    """Open a WebSocket to ``url`` (``http://`` or ``ws://``; no TLS)."""
    if url.scheme not in ("http", "ws"):
        raise ValueError(f"ws_connect() speaks plain ws:// and http:// only, not {url.scheme}")
    host, port = url.raw_host or "127.0.0.1", url.port or 80
    protocols = tuple(protocols)
    key = ws_generate_key()
    fields: CIMultiDict[str] = CIMultiDict(headers or {})
    fields.setdefault("Host", f"{host}:{port}")
    if origin is not None:
        fields["Origin"] = origin
    fields.extend(ws_client_headers(key, protocols=protocols, compress=bool(compress)))
    target = url.raw_path_qs or "/"
    info = RequestInfo(url, "GET", CIMultiDictProxy(fields), url)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise ClientConnectionError(f"Cannot connect to {host}:{port}: {exc}") from exc
    try:
        writer.write(serialize_request_head("GET", target, fields.items()))
        parser = ResponseParser()
        parser.expect_response("GET")
        head: ResponseHead | None = None
        async with asyncio.timeout(timeout):
            while not parser.switched:
                data = await reader.read(2**16)
                events = parser.feed_eof() if not data else parser.feed(data)
                for event in events:
                    if isinstance(event, ResponseHead):
                        head = event
                    elif (
                        isinstance(event, EndOfMessage) and head is not None and head.status != 101
                    ):
                        raise WSServerHandshakeError(
                            info, status=head.status, message=head.reason, headers=head.headers
                        )
                if not data:
                    raise ClientConnectionError("Server disconnected during the handshake")
        assert head is not None
        try:
            agreed = ws_verify_response(head, key, protocols=protocols, compress=bool(compress))
        except WebSocketHandshakeError as exc:
            raise WSServerHandshakeError(
                info, status=head.status, message=str(exc), headers=head.headers
            ) from None
    except HttpParserError as exc:
        writer.close()
        raise ClientConnectionError(f"Invalid handshake response: {exc}") from exc
    except BaseException:
        writer.close()
        raise
    params = agreed.compress
    return ClientWebSocketResponse(
        reader,
        writer,
        WebSocketReader(is_client=True, max_msg_size=max_msg_size, compress=params),
        WebSocketEncoder(is_client=True, compress=params),
        protocol=agreed.protocol,
        compress=params.client_max_window_bits if params is not None else 0,
        trailing=parser.take_trailing_data(),
        autoclose=autoclose,
        autoping=autoping,
        timeout=timeout,
        receive_timeout=receive_timeout,
    )


class WSConnectContext(AwaitOrEnter[ClientWebSocketResponse]):
    """What ``TestClient.ws_connect()`` returns: await it, or ``async with`` it (closed at exit)."""

    __slots__ = ()

    async def _end(self, value: ClientWebSocketResponse) -> None:
        await value.close()
