"""Testing without a socket: ``make_mocked_request``, as aiohttp.test_utils has it.

The request is real (a parsed head, a body stream, a writer); only the
connection is a recording fake, so a handler can be awaited directly and the
bytes it wrote inspected::

    request = make_mocked_request("GET", "/users/7", match_info={"id": "7"}, app=app)
    response = await handler(request)
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from weft.http_parser import HttpVersion, HttpVersion11, RequestHead
from weft.http_parser.streams import BodyStream
from weft.web_routing import PlainResource, ResourceRoute, UrlMappingMatchInfo

from ._app import Application
from ._request import Request
from ._types import LooseHeaders
from ._writer import StreamWriter

__all__ = ["MockProtocol", "MockTransport", "make_mocked_request"]


class MockTransport(asyncio.Transport):
    """A transport that records what is written to it.

    It keeps the state a real one reports: closing after ``close``, ``abort``
    or ``write_eof`` (writes then raise ConnectionResetError), not reading
    while paused (a BodyStream's flow control).
    """

    def __init__(self, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(dict(extra or {}))
        self.written = bytearray()
        self.writes: list[bytes] = []
        self._closing = False
        self._paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            raise ConnectionResetError("Cannot write to closing transport")
        self.writes.append(bytes(data))
        self.written += data

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        # Each buffer recorded as handed over, not joined: uvloop sends them with
        # one writev, and a test can see that a large body was not copied.
        for data in list_of_data:
            self.write(data)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self._closing = True

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False

    def is_reading(self) -> bool:
        return not (self._closing or self._paused)


class MockProtocol:
    """The connection side of a mocked request: a transport and a no-wait drain."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._transport

    async def drain(self) -> None:
        return None


async def _no_handler(request: object) -> None:
    raise RuntimeError("a mocked request has no handler: call your handler with it directly")


def make_mocked_request(
    method: str,
    path: str,
    headers: LooseHeaders | None = None,
    *,
    match_info: Mapping[str, str] | UrlMappingMatchInfo | None = None,
    version: HttpVersion = HttpVersion11,
    closing: bool = False,
    app: Application | None = None,
    writer: StreamWriter | None = None,
    protocol: MockProtocol | None = None,
    transport: asyncio.Transport | None = None,
    payload: BodyStream | bytes | None = None,
    sslcontext: ssl.SSLContext | None = None,
    client_max_size: int = 1024**2,
    client_max_fields: int = 1000,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Request:
    """A Request for ``method path`` that needs no server; see the module docstring.

    A given ``app`` should be frozen (``app.freeze()``) when the handler
    prepares a response, since on_response_prepare is sent then.

    ``payload`` may be bytes (the body, with Content-Length set unless the
    headers give one) or a BodyStream. ``transport`` defaults to a
    MockTransport whose ``written`` holds the response bytes.
    """
    header_map: CIMultiDict[str] = CIMultiDict(headers or {})
    if isinstance(payload, bytes):
        body = payload
        header_map.setdefault("Content-Length", str(len(body)))
        payload = BodyStream()
        if body:
            payload.feed_data(body)
        payload.feed_eof()
    elif payload is None:
        payload = BodyStream.empty()
    raw_path, _, query_string = path.partition("?")
    length = header_map.get("Content-Length")
    head = RequestHead(
        method.upper(),
        path,
        raw_path,
        query_string,
        version,
        CIMultiDictProxy(header_map),
        None,
        closing or version < HttpVersion11,
        "chunked" in header_map.get("Transfer-Encoding", "").lower(),
        int(length) if length is not None else None,
        False,
        header_map.get("Expect", "").lower() == "100-continue",
        header_map.get("Content-Encoding"),
    )
    if transport is None:
        extra: dict[str, Any] = {"peername": ("127.0.0.1", 12345), "sockname": ("127.0.0.1", 8080)}
        if sslcontext is not None:
            extra["sslcontext"] = sslcontext
        transport = MockTransport(extra)
    if protocol is None:
        protocol = MockProtocol(transport)
    if writer is None:
        writer = StreamWriter(protocol)
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Outside a loop (a plain test): the request only stores its loop, so a
            # closed one stands in rather than leaving an unclosed loop behind.
            loop = asyncio.new_event_loop()
            loop.close()
    request = Request(
        head,
        payload,
        protocol,
        writer,
        None,
        loop,
        client_max_size=client_max_size,
        client_max_fields=client_max_fields,
    )
    if not isinstance(match_info, UrlMappingMatchInfo):
        route = ResourceRoute(method.upper(), _no_handler, PlainResource(raw_path or "/"))
        match_info = UrlMappingMatchInfo(match_info or {}, route)
    if app is None:
        # As aiohttp's mocked app: nothing registered, the response signal ready to send.
        app = Application()
        app.on_response_prepare.freeze()
    match_info.add_app(app)
    request._match_info = match_info
    return request
