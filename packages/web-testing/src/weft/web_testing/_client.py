"""A minimal asyncio HTTP/1.1 client, enough for the test utilities.

Built on weft-http-parser alone: ``serialize_request_head`` writes the
request, ``ResponseParser`` reads the response, ``BodyStream`` carries its
body (with flow control). Its surface is a small subset of aiohttp's
``ClientSession`` / ``ClientResponse``, so tests written against aiohttp's
TestClient read the same. It is not a general-purpose client: no proxies, no
connection limits, no retries, no HTTP/2.

Invariants:

* One request at a time per connection; a connection goes back to the
  session's pool as soon as the whole response body has arrived (buffered in
  the response's ``content``), unless either side asked to close.
* A response whose body was not fully received when it is released or
  closed closes its connection (the next response's bytes could not be
  found otherwise).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json as _json
import os
import ssl as _ssl
import sys
from collections.abc import AsyncIterable, Callable, Mapping
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlencode

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from weft.http_parser import (
    BodyChunk,
    ContentDecoder,
    EndOfMessage,
    HttpParserError,
    HttpVersion,
    ResponseEvent,
    ResponseHead,
    ResponseParser,
    encode_chunk,
    encode_last_chunk,
    serialize_request_head,
    supported_encodings,
)
from weft.http_parser.streams import BodyStream
from weft.web_core import MultipartWriter

from .__about__ import __version__
from ._cookies import CookieJar
from ._response import (
    ClientConnectionError,
    ClientError,
    ClientPayloadError,
    ClientResponse,
    ClientResponseError,
    RequestInfo,
    ServerDisconnectedError,
    TooManyRedirects,
    _HTTPMethods,
    _RequestContextManager,
)

__all__ = ["ClientSession"]

USER_AGENT = (
    f"Python/{sys.version_info.major}.{sys.version_info.minor} weft-test-client/{__version__}"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

RequestBody = bytes | AsyncIterable[bytes] | None


# ---------------------------------------------------------------- the connection


class _Flow:
    """The flow control of one response body; let go of once the body is complete."""

    __slots__ = ("active", "connection", "paused")

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection
        self.active = True
        self.paused = False

    def pause_reading(self) -> None:
        if self.active and not self.paused:
            self.paused = True
            self.connection.pause_reading()

    def resume_reading(self) -> None:
        if self.paused:
            self.paused = False
            self.connection.resume_reading()

    def detach(self) -> None:
        self.active = False
        self.resume_reading()


class _Connection(asyncio.Protocol):
    """One client connection: request bytes out, response events in."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        key: tuple[str, str, int],
        release: Callable[[_Connection], None],
    ) -> None:
        self._loop = loop
        self.key = key
        self._release = release
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = ResponseParser()
        self._head_waiter: asyncio.Future[tuple[ResponseHead, BodyStream]] | None = None
        self._stream: BodyStream | None = None
        self._flow: _Flow | None = None
        self._decoder: ContentDecoder | None = None
        self._auto_decompress = True
        self._keep_alive = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        # Done at connection_lost: the session's close() waits for it.
        self.lost: asyncio.Future[None] = loop.create_future()

    # -- the client's side

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def send(
        self, method: str, data: bytes, *, keep_alive: bool, auto_decompress: bool
    ) -> asyncio.Future[tuple[ResponseHead, BodyStream]]:
        """Write a request (head, and body when bytes); the future gets its response head."""
        assert self.transport is not None
        self._parser.expect_response(method)
        self._keep_alive = keep_alive
        self._auto_decompress = auto_decompress
        waiter = self._head_waiter = self._loop.create_future()
        self.transport.write(data)
        return waiter

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise ServerDisconnectedError()
        self.transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ServerDisconnectedError()
        if self._write_paused:
            waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            self._handle(cast(list[ResponseEvent], exc.events))
            message = f"invalid response from the server: {exc}"
            # As aiohttp: a head it cannot parse is a 400 ClientResponseError, a body a
            # ClientPayloadError.
            self._fail(
                ClientPayloadError(message)
                if self._stream is not None
                else ClientResponseError(None, status=400, message=message)
            )
            self.abort()
            return
        self._handle(events)

    def eof_received(self) -> bool:
        try:
            events = self._parser.feed_eof()
        except HttpParserError as exc:
            self._handle(cast(list[ResponseEvent], exc.events))
            self._fail(ClientPayloadError(f"Response payload is not completed: {exc}"))
        else:
            self._handle(events)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(None)
        # Gone: asyncio's transports fail if aborted after connection_lost.
        self.transport = None
        if self._stream is not None or self._head_waiter is not None:
            self._fail(ServerDisconnectedError() if self._stream is None else _incomplete())
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ServerDisconnectedError())

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- events

    def _handle(self, events: list[ResponseEvent]) -> None:
        for event in events:
            if isinstance(event, BodyChunk):
                self._body_chunk(event.data)
            elif isinstance(event, EndOfMessage):
                self._end_of_message()
            elif not 100 <= event.status < 200 or event.status == 101:
                self._head(event)
            # other 1xx heads are interim: the final response follows

    def _head(self, head: ResponseHead) -> None:
        self._flow = _Flow(self)
        stream = self._stream = BodyStream(self._flow)
        self._decoder = None
        if self._auto_decompress and head.content_encoding:
            codings = [c.strip(" \t").lower() for c in head.content_encoding.split(",")]
            if all(c in (*supported_encodings(), "x-gzip", "identity", "") for c in codings):
                # A test server is trusted: no cap on the decoded size.
                self._decoder = ContentDecoder(head.content_encoding, max_size=None)
        if head.should_close:
            self._keep_alive = False
        waiter, self._head_waiter = self._head_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((head, stream))

    def _body_chunk(self, data: bytes) -> None:
        if self._stream is None:
            return
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data)
            except HttpParserError as exc:
                self._fail(ClientPayloadError(f"cannot decode the response body: {exc}"))
                self.abort()
                return
        self._stream.feed_data(data)

    def _end_of_message(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if self._decoder is not None:
            try:
                self._decoder.flush()
            except HttpParserError as exc:
                stream.set_exception(ClientPayloadError(f"cannot decode the response body: {exc}"))
                self.abort()
                return
        stream.feed_eof()
        if self._flow is not None:
            self._flow.detach()
            self._flow = None
        if self._keep_alive and self.usable and not self._parser.switched:
            self._release(self)
        else:
            self.close()

    def _fail(self, exc: BaseException) -> None:
        waiter, self._head_waiter = self._head_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        stream, self._stream = self._stream, None
        if stream is not None and not stream.is_eof():
            stream.set_exception(exc)


def _incomplete() -> ClientPayloadError:
    return ClientPayloadError("Response payload is not completed: the server closed the connection")


# ---------------------------------------------------------------- the session


class ClientSession(_HTTPMethods):
    """Connections (kept alive and reused), cookies and defaults for a series of requests.

    ``headers`` are sent with every request (a request's own win);
    ``cookies`` go into the jar; ``timeout`` (seconds, or an object with a
    ``total`` attribute such as aiohttp's ClientTimeout; None for none)
    bounds each request until its response head has arrived;
    ``raise_for_status`` raises ClientResponseError for 4xx/5xx;
    ``auto_decompress`` decodes gzip/deflate(/br) bodies.
    """

    def __init__(
        self,
        *,
        cookie_jar: CookieJar | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout: Any = 300.0,
        raise_for_status: bool = False,
        auto_decompress: bool = True,
        json_serialize: Callable[[Any], str] = _json.dumps,
    ) -> None:
        self._cookie_jar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._headers: CIMultiDict[str] = CIMultiDict(headers or {})
        self._timeout = timeout
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._json_serialize = json_serialize
        self._pool: dict[tuple[str, str, int], list[_Connection]] = {}
        self._connections: set[_Connection] = set()
        self._closed = False

    @property
    def cookie_jar(self) -> CookieJar:
        return self._cookie_jar

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    async def close(self) -> None:
        """Close every connection (idle or not) and wait until each is closed, as aiohttp.

        Returning only once the sockets are closed lets the server see the
        ends before anything else happens: a TestClient closes its server
        next, whose graceful shutdown would otherwise find the connections
        still open and wait for them.
        """
        self._closed = True
        connections = list(self._connections)
        for connection in connections:
            transport = connection.transport
            if transport is not None and transport.get_write_buffer_size():
                # Bytes the server is not reading would hold a close() forever.
                connection.abort()
            else:
                connection.close()
        self._connections.clear()
        self._pool.clear()
        await asyncio.gather(*(connection.lost for connection in connections))

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def request(self, method: str, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Send a request; see ``_request`` for the keyword arguments."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    async def _request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        chunked: bool | None = None,
        timeout: Any = ...,
        raise_for_status: bool | None = None,
        ssl: _ssl.SSLContext | bool | None = None,
        auth: tuple[str, str] | None = None,
        auto_decompress: bool | None = None,
        version: HttpVersion | None = None,
    ) -> ClientResponse:
        """Send ``method url`` and return the response once its head has arrived.

        ``params`` extends the query (mapping, pairs or str); the body is
        ``json`` (serialized, application/json) or ``data``: bytes, str
        (text/plain), a mapping or list of pairs (urlencoded, or
        multipart/form-data when a value is a file object or bytes), a
        MultipartWriter, a binary file, or an async iterable of bytes (sent
        chunked). ``chunked=True`` sends a bytes body chunked too.
        Redirects are followed unless ``allow_redirects=False``; ``auth`` is
        ``(login, password)`` (aiohttp's BasicAuth fits) for Basic auth.
        """
        if self._closed:
            raise RuntimeError("Session is closed")
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        method = method.upper()
        url = URL(url)
        if params is not None:
            url = url.extend_query(params)
        request_headers: CIMultiDict[str] = CIMultiDict(self._headers)
        request_headers.update(headers or {})
        if auth is not None:
            login, password = auth[0], auth[1]
            token = base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
            request_headers["Authorization"] = f"Basic {token}"
        body, content_type = await self._encode_body(data, json)
        if content_type is not None:
            request_headers.setdefault("Content-Type", content_type)
        total = self._timeout if timeout is ... else timeout
        total = getattr(total, "total", total)
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        decompress = self._auto_decompress if auto_decompress is None else auto_decompress

        history: list[ClientResponse] = []
        async with asyncio.timeout(total):
            while True:
                response = await self._send(
                    method,
                    url,
                    request_headers,
                    body,
                    cookies,
                    chunked=bool(chunked),
                    ssl=ssl,
                    auto_decompress=decompress,
                    version=version,
                )
                self._cookie_jar.update_cookies(response.cookies, url)
                location = response.headers.get("Location")
                if not (allow_redirects and response.status in _REDIRECTS and location):
                    break
                if len(history) >= max_redirects:
                    response.release()
                    raise TooManyRedirects(
                        response.request_info,
                        tuple(history),
                        status=response.status,
                        message=response.reason,
                        headers=response.headers,
                    )
                await response.read()
                response.release()
                history.append(response)
                if (response.status == 303 and method != "HEAD") or (
                    response.status in (301, 302) and method == "POST"
                ):
                    method = "GET"
                    body = None
                    request_headers.popall("Content-Type", None)
                    request_headers.popall("Content-Length", None)
                elif body is not None and not isinstance(body, bytes):
                    raise ClientError(
                        f"cannot follow a {response.status} redirect: the request body was an "
                        "async iterable and cannot be sent again (pass bytes, or "
                        "allow_redirects=False)"
                    )
                url = url.join(URL(location)).with_fragment(None)
                if url.scheme not in ("http", "https"):
                    raise ClientError(f"cannot follow a redirect to {str(url)!r}")
        response.history = tuple(history)
        if raise_for_status:
            response.raise_for_status()
        return response

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: RequestBody,
        cookies: Mapping[str, str] | None,
        *,
        chunked: bool,
        ssl: _ssl.SSLContext | bool | None,
        auto_decompress: bool,
        version: HttpVersion | None,
    ) -> ClientResponse:
        if not url.absolute or url.raw_host is None or url.scheme not in ("http", "https"):
            raise ValueError(f"an absolute http(s) URL is needed, not {str(url)!r}")
        sent: CIMultiDict[str] = CIMultiDict()
        sent["Host"] = _host_header(url)
        sent["Accept"] = "*/*"
        sent["Accept-Encoding"] = ", ".join(supported_encodings())
        sent["User-Agent"] = USER_AGENT
        cookie_values = [
            f"{name}={morsel.coded_value}"
            for name, morsel in self._cookie_jar.filter_cookies(url).items()
        ]
        if cookies:
            extra = SimpleCookie()
            for name, value in cookies.items():
                extra[name] = value
            cookie_values += [f"{name}={m.coded_value}" for name, m in extra.items()]
        if cookie_values and "Cookie" not in headers:
            sent["Cookie"] = "; ".join(cookie_values)
        for name in headers:
            sent.popall(name, None)
        sent.extend(headers)
        streamed = body is not None and not isinstance(body, bytes)
        if streamed or (chunked and body is not None):
            sent.popall("Content-Length", None)
            sent["Transfer-Encoding"] = "chunked"
        elif body is not None:
            sent.setdefault("Content-Length", str(len(body)))  # type: ignore[arg-type]
        elif method in _BODY_METHODS:
            sent.setdefault("Content-Length", "0")
        version = version or HttpVersion(1, 1)
        keep_alive = "close" not in sent.get("Connection", "").lower() and version >= (1, 1)
        head = serialize_request_head(method, url.raw_path_qs or "/", sent.items(), version)

        connection = await self._acquire(url, ssl)
        if isinstance(body, bytes) and chunked:
            data = head + encode_chunk(body) + encode_last_chunk()
        elif isinstance(body, bytes):
            data = head + body
        else:
            data = head
        try:
            waiter = connection.send(
                method, data, keep_alive=keep_alive, auto_decompress=auto_decompress
            )
            if body is not None and not isinstance(body, bytes):
                try:
                    async for chunk in body:
                        connection.write(encode_chunk(bytes(chunk)))
                        await connection.drain()
                    connection.write(encode_last_chunk())
                except ServerDisconnectedError:
                    # A server may answer before taking the whole body (413, say) and
                    # close: that answer is the response, as in aiohttp.
                    if not waiter.done() or waiter.exception() is not None:
                        raise
            response_head, stream = await waiter
        except BaseException:
            connection.abort()
            raise
        info = RequestInfo(url, method, CIMultiDictProxy(sent), url)
        return ClientResponse(method, url, response_head, stream, connection, info)

    async def _acquire(self, url: URL, ssl: _ssl.SSLContext | bool | None) -> _Connection:
        port = url.port or (443 if url.scheme == "https" else 80)
        host = url.raw_host or ""
        key = (url.scheme, host, port)
        idle = self._pool.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            self._connections.discard(connection)
        context = _ssl_context(ssl) if url.scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(loop, key, self._release),
                host,
                port,
                ssl=context,
                server_hostname=host if context is not None else None,
            )
        except OSError as exc:
            raise ClientConnectionError(f"cannot connect to {host}:{port}: {exc}") from exc
        self._connections.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        if self._closed:
            connection.close()
            return
        self._pool.setdefault(connection.key, []).append(connection)

    async def _encode_body(self, data: Any, json: Any) -> tuple[RequestBody, str | None]:
        if json is not None:
            return self._json_serialize(json).encode("utf-8"), "application/json"
        if data is None:
            return None, None
        if isinstance(data, bytes | bytearray | memoryview):
            return bytes(data), "application/octet-stream"
        if isinstance(data, str):
            return data.encode("utf-8"), "text/plain; charset=utf-8"
        if isinstance(data, MultipartWriter):
            return await data.as_bytes(), data.content_type
        if isinstance(data, io.IOBase):
            content = await asyncio.to_thread(data.read)
            if isinstance(content, str):
                return content.encode("utf-8"), "text/plain; charset=utf-8"
            return bytes(content), "application/octet-stream"
        if isinstance(data, AsyncIterable):
            return data, None
        if isinstance(data, Mapping):
            fields = list(data.items())
        elif isinstance(data, list | tuple):
            fields = list(data)
        else:
            raise TypeError(
                "data= takes bytes, str, a mapping or a list of (name, value) pairs (a form), "
                "a MultipartWriter, a file object or an async iterable of bytes; "
                f"got {type(data).__name__}"
            )
        if any(isinstance(v, io.IOBase | bytes | bytearray | memoryview) for _, v in fields):
            writer = MultipartWriter("form-data")
            for name, value in fields:
                if isinstance(value, io.IOBase):
                    part = writer.append(value)
                    filename = os.path.basename(str(getattr(value, "name", name)))
                    part.set_content_disposition("form-data", name=name, filename=filename)
                elif isinstance(value, bytes | bytearray | memoryview):
                    part = writer.append(bytes(value))
                    part.set_content_disposition("form-data", name=name, filename=name)
                else:
                    part = writer.append(str(value))
                    part.set_content_disposition("form-data", name=name)
            return await writer.as_bytes(), writer.content_type
        encoded = urlencode([(str(k), str(v)) for k, v in fields])
        return encoded.encode("ascii"), "application/x-www-form-urlencoded"


def _host_header(url: URL) -> str:
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if url.explicit_port is not None and not url.is_default_port():
        host = f"{host}:{url.explicit_port}"
    return host


def _ssl_context(ssl: _ssl.SSLContext | bool | None) -> _ssl.SSLContext:
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    context = _ssl.create_default_context()
    if ssl is False:
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
    return context
