"""The served request path without the kernel: bench_server's app, its protocol, no socket.

tools/bench/server_app.py's app is set up by the framework's own ``AppRunner``
(weft's or aiohttp's, ``BENCH_FRAMEWORK``); the protocol ``runner.server()``
makes is given a transport that only records writes, and each request's bytes
(what wrk sends for the scenario) are handed to ``data_received``; the loop
runs until the answer is written. So this is everything a served request costs
in the process (parser, connection, Request, routing, handler, Response, head,
writer, the event loop's task switches) but the socket's system calls, which
tools/bench/bench_server.py adds. Prints µs per request (best of the rounds;
the median too). Meant to run under a profiler (docs/speed.md):

    py-spy record --native --rate 250 -f raw -o json.raw -- \\
        python tools/profile/path.py json --requests 40000
    python tools/profile/stacks.py json.raw --us 16.1

Run: ``python tools/profile/path.py [plaintext|json|api|pipelined ...]
[--framework weft|aiohttp] [--requests N] [--connections N] [--no-uvloop]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # server_app and bench_core live there

from bench_core import ConnectionTransport  # noqa: E402

API_BODY = b'{"name": "widget", "price": 12.5, "count": 3, "tags": ["a", "b", "c"]}'
HOST = b"Host: 127.0.0.1:8080\r\n"
PLAINTEXT = b"GET /plaintext HTTP/1.1\r\n" + HOST + b"\r\n"
BOUNDARY = b"----weftbench7MA4YWxkTrZu0gW"  # bench_server's upload, as wrk sends it
UPLOAD_BODY = (
    b"--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
    + b"x" * 65536
    + b"\r\n--"
    + BOUNDARY
    + b"--\r\n"
)
# A chunked answer (the stream) ends with its last chunk; the others are written whole.
LAST_CHUNK = b"0\r\n\r\n"
SCENARIOS: dict[str, tuple[bytes, int]] = {  # request bytes, answers they ask for
    "plaintext": (PLAINTEXT, 1),
    "json": (b"GET /json HTTP/1.1\r\n" + HOST + b"\r\n", 1),
    "api": (
        b"POST /api/v1/svc57/items/12345/tags/blue?limit=10&offset=20 HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(API_BODY)
        + API_BODY,
        1,
    ),
    "pipelined": (PLAINTEXT * 16, 16),  # as bench_server's: 16 requests in one read
    "upload": (
        b"POST /upload HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: multipart/form-data; boundary="
        + BOUNDARY
        + b"\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(UPLOAD_BODY)
        + UPLOAD_BODY,
        1,
    ),
    "stream": (b"GET /stream HTTP/1.1\r\n" + HOST + b"\r\n", 1),  # 1 MiB in 16 writes
}
ROUNDS = 7


class Transport(ConnectionTransport):
    """Records writes; wakes the driver once the answers it waits for are written."""

    def __init__(self) -> None:
        super().__init__()
        self.waiter: asyncio.Future[None] | None = None
        self.answers = 0
        self.wanted = 1
        self.chunked = False  # an answer ends with its last chunk, not with a write

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.chunked:
            self.answers += bytes(data[-5:]) == LAST_CHUNK
        else:
            self.answers += bytes(data).count(b"HTTP/1.1 ") if self.wanted > 1 else 1
        if self.answers >= self.wanted and self.waiter is not None:
            waiter, self.waiter = self.waiter, None
            waiter.set_result(None)

    def writelines(self, list_of_data: Any) -> None:
        parts = list(list_of_data)
        if self.chunked and parts:
            # The last chunk may be a part of its own: the end of the last two
            # parts tells (not their join, whose copy would be most of a 1 MiB
            # stream's cost here).
            self.write(b"".join(bytes(part[-len(LAST_CHUNK) :]) for part in parts[-2:]))
        else:
            for data in parts:
                self.write(data)


async def measure(scenario: str, requests: int, connections: int = 1) -> tuple[float, float]:
    """(best, median) µs per request over ROUNDS rounds of ``requests`` requests.

    With ``connections`` > 1, each step hands every connection its request in
    the same loop turn and waits for all the answers, as a server under load
    meets them (bench_server's 64 connections): what a loop turn costs, and
    what is done once per turn, is shared by the requests of that turn.
    """
    import server_app

    web: Any = getattr(server_app, "web")  # noqa: B009 (the framework's module, re-exported by neither)
    runner = web.AppRunner(server_app.make_app(), access_log=None)
    await runner.setup()
    loop = asyncio.get_running_loop()
    data, answers = SCENARIOS[scenario]
    pairs = []
    for _ in range(connections):
        protocol = runner.server()
        transport = Transport()
        protocol.connection_made(transport)
        transport.wanted = answers
        transport.chunked = scenario == "stream"
        pairs.append((protocol, transport))

    async def one() -> None:
        waiters = []
        for protocol, transport in pairs:
            transport.answers = 0
            waiter = transport.waiter = loop.create_future()
            waiters.append(waiter)
            protocol.data_received(data)
        for waiter in waiters:
            await waiter

    for _ in range(200):
        await one()
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(requests):
            await one()
        times.append((time.perf_counter() - start) / requests / answers / connections * 1e6)
    # No runner.cleanup(): the graceful shutdown would wait for these connections.
    return min(times), statistics.median(times)


async def main(scenarios: list[str], requests: int, connections: int = 1) -> None:
    for scenario in scenarios:
        best, median = await measure(scenario, requests, connections)
        print(f"{scenario:<10} {best:7.2f} µs/request (median {median:.2f})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--framework", choices=("weft", "aiohttp"), default="weft")
    parser.add_argument("--requests", type=int, default=3000, help="per round (7 rounds)")
    parser.add_argument(
        "--connections", type=int, default=1, help="connections fed in the same turn (default: 1)"
    )
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()
    unknown = set(args.scenarios) - SCENARIOS.keys()
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}: choose from {', '.join(SCENARIOS)}")
    scenarios = args.scenarios or [*SCENARIOS]
    os.environ["BENCH_FRAMEWORK"] = args.framework
    if args.no_uvloop:
        asyncio.run(main(scenarios, args.requests, args.connections))
    else:
        import uvloop

        uvloop.run(main(scenarios, args.requests, args.connections))
    sys.stdout.flush()
    os._exit(0)  # the runner's connection is left open on purpose
