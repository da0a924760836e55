"""The request path inside the framework: weft beside aiohttp, in one run.

For each framework, with the same app (a dynamic route among 100, three
new-style middlewares, a handler returning a small text Response): build the
Request from an already-parsed head, run the app's handler (routing, the
middleware chain, the handler), prepare the response (serialize the head)
and write it to a transport that only counts bytes. Parsing and sockets are
left out on purpose: tools/bench/bench_parser.py and the wrk benchmark cover
them. Prints µs per request and the ratio weft/aiohttp (lower is better).

Run: ``python tools/bench/bench_core.py`` (needs weft and aiohttp installed).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

REQUEST = (
    b"GET /api/v1/users/42/items?page=2 HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"User-Agent: bench\r\n"
    b"Accept: */*\r\n"
    b"\r\n"
)
ROUNDS = 7
PER_ROUND = 5000


class CountingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__({"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8080)})
        self.bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.bytes += len(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


class ConnectionTransport(CountingTransport):
    """A CountingTransport that also takes, and ignores, the flow-control and
    closing calls a server's connection protocol makes (for benchmarks that feed
    a protocol by hand: bench_connection.py, tools/profile/path.py)."""

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def close(self) -> None:
        pass


def add_routes(add: Callable[[str, Any], object], handler: Any) -> None:
    for i in range(99):
        add(f"/api/v1/resource{i}/{{id}}", handler)
    add("/api/v1/users/{id}/items", handler)


async def weft_request_path(app: Any) -> Callable[[], Awaitable[None]]:
    """One request through a weft app's handler, without parser or socket.

    Starts and freezes ``app``; returns the coroutine function that builds the
    Request from an already-parsed head, runs the app and writes the response
    to a transport that only counts bytes (tools/bench/bench_observability.py
    measures its extras on this same path).
    """
    from weft.http_parser import RequestParser
    from weft.http_parser.streams import BodyStream
    from weft.web_core import StreamWriter

    await app.startup()
    app.freeze()
    head = RequestParser().feed(REQUEST)[0]
    transport = CountingTransport()

    class Protocol:
        def __init__(self) -> None:
            self.transport = transport

        async def drain(self) -> None:
            return None

    protocol = Protocol()
    loop = asyncio.get_running_loop()
    empty = BodyStream.empty()

    async def one() -> None:
        writer = StreamWriter(protocol)
        request = app._make_request(head, empty, protocol, writer, None, loop)
        response = await app._handle(request)
        await response.prepare(request)
        await response.write_eof()

    await one()
    assert transport.bytes > 0
    return one


async def bench_weft() -> Callable[[], Awaitable[None]]:
    from weft.web_core import Application, Request, Response, middleware

    def make_mw() -> Any:
        @middleware
        async def mw(request: Request, handler: Any) -> Any:
            return await handler(request)

        return mw

    async def handler(request: Request) -> Response:
        return Response(text="item " + request.match_info["id"])

    app = Application(middlewares=[make_mw(), make_mw(), make_mw()])
    add_routes(app.router.add_get, handler)
    return await weft_request_path(app)


async def bench_aiohttp() -> Callable[[], Awaitable[None]]:
    from aiohttp import web
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.http_parser import HttpRequestParser
    from aiohttp.http_writer import StreamWriter
    from aiohttp.streams import EMPTY_PAYLOAD

    def make_mw() -> Any:
        @web.middleware
        async def mw(request: web.Request, handler: Any) -> Any:
            return await handler(request)

        return mw

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="item " + request.match_info["id"])

    loop = asyncio.get_running_loop()
    app = web.Application(middlewares=[make_mw(), make_mw(), make_mw()])
    add_routes(app.router.add_get, handler)
    app._set_loop(loop)
    app.on_startup.freeze()
    await app.startup()
    app.freeze()
    transport = CountingTransport()
    # The real connection protocol: aiohttp's Request reads peer and TLS details from it.
    server = web.Server(app._handle, request_factory=app._make_request)  # type: ignore[arg-type]
    protocol = server()
    protocol.connection_made(transport)
    parser = HttpRequestParser(BaseProtocol(loop), loop, 2**16)
    message = parser.feed_data(REQUEST)[0][0][0]
    task: Any = asyncio.current_task()

    async def one() -> None:
        writer = StreamWriter(protocol, loop)
        request = app._make_request(message, EMPTY_PAYLOAD, protocol, writer, task)
        response = await app._handle(request)
        await response.prepare(request)
        await response.write_eof()

    await one()
    assert transport.bytes > 0
    return one


async def measure(one: Callable[[], Awaitable[None]]) -> float:
    """Best µs per request over ROUNDS rounds of PER_ROUND requests."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            await one()
        best = min(best, (time.perf_counter() - start) / PER_ROUND * 1e6)
    return best


async def main() -> None:
    weft_one = await bench_weft()
    aiohttp_one = await bench_aiohttp()
    # Interleave the frameworks so machine noise hits both alike.
    weft_times, aiohttp_times = [], []
    for _ in range(3):
        weft_times.append(await measure(weft_one))
        aiohttp_times.append(await measure(aiohttp_one))
    weft_us, aiohttp_us = min(weft_times), min(aiohttp_times)
    print("request path: Request + routing (100 routes) + 3 middlewares + Response + head")
    print(f"{'framework':<10} {'µs/request':>12} {'spread':>8}")
    for name, times in (("weft", weft_times), ("aiohttp", aiohttp_times)):
        spread = statistics.pstdev(times) / min(times) * 100
        print(f"{name:<10} {min(times):>12.2f} {spread:>7.1f}%")
    print(f"ratio weft/aiohttp: {weft_us / aiohttp_us:.2f} (lower is better)")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    asyncio.run(main())
