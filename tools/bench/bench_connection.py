"""The connection path in one process: request bytes in, answer out, no socket.

For each framework, the same app (``GET /plaintext``; ``POST /upload``
whose handler reads the whole body) is served by its own connection
protocol (weft's ``RequestHandler``, aiohttp's ``RequestHandler``) on a
transport that only counts writes. Each request's bytes are handed to
``data_received`` in the reads listed below, and the loop runs until the
answer is written. This is the part of the server between the socket and
the app (parsing, the connection's state, body streams, the handler's task,
the response's head) that tools/bench/bench_core.py leaves out, without
wrk's and the kernel's share that tools/bench/bench_server.py includes.
Prints CPU µs per request (best of the rounds) and the ratio weft/aiohttp
(lower is better), the frameworks interleaved round by round.

Run: ``python tools/bench/bench_connection.py [--uvloop]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench_core import ConnectionTransport

ROUNDS = 5

GET = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\n\r\n"


def post(size: int, reads: int) -> list[bytes]:
    """A POST of ``size`` body bytes: its head, then the body in ``reads`` reads."""
    head = (
        b"POST /upload HTTP/1.1\r\nHost: bench\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Length: %d\r\n\r\n" % size
    )
    body = b"x" * size
    step = size // reads
    return [head, *(body[i : i + step] for i in range(0, size, step))]


CASES: dict[str, list[bytes]] = {
    "GET, no body": [GET],
    "POST 1 KB": post(1024, 1),
    "POST 64 KB, 1 read": post(65536, 1),
    "POST 64 KB, 4 reads": post(65536, 4),
}


class Transport(ConnectionTransport):
    """Counts writes; the flow-control calls a protocol makes are accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes += 1

    def writelines(self, data: Any) -> None:
        self.writes += 1


Serve = Callable[[list[bytes], int], Awaitable[None]]


async def connection(web: Any) -> tuple[Serve, Callable[[], Awaitable[None]]]:
    """A connection of ``web``'s server, and a function feeding it requests."""

    async def plaintext(request: Any) -> Any:
        return web.Response(text="Hello, World!")

    async def upload(request: Any) -> Any:
        return web.Response(text=str(len(await request.read())))

    app = web.Application()
    app.router.add_get("/plaintext", plaintext)
    app.router.add_post("/upload", upload)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    protocol = runner.server()
    transport = Transport()
    protocol.connection_made(transport)

    async def serve(reads: list[bytes], count: int) -> None:
        for _ in range(count):
            before = transport.writes
            for data in reads:
                protocol.data_received(data)
            # Polled, not awaited on an Event: the wait adds the same loop turns
            # to both frameworks, and nothing is added to their write paths.
            while transport.writes == before:  # noqa: ASYNC110
                await asyncio.sleep(0)

    return serve, runner.cleanup


async def measure(serve: Serve, reads: list[bytes]) -> float:
    """CPU µs per request over one round."""
    count = 2000
    start = time.process_time()
    await serve(reads, count)
    return (time.process_time() - start) / count * 1e6


async def main() -> None:
    import aiohttp.web

    import weft.web

    frameworks = {"weft": weft.web, "aiohttp": aiohttp.web}
    served = {name: await connection(web) for name, web in frameworks.items()}
    print(f"{'case':<22} {'weft µs':>9} {'aiohttp µs':>11} {'weft/aiohttp':>13} {'spread':>8}")
    for case, reads in CASES.items():
        times: dict[str, list[float]] = {name: [] for name in frameworks}
        for serve, _ in served.values():
            await serve(reads, 200)  # warm-up
        for _ in range(ROUNDS):
            for name, (serve, _) in served.items():
                times[name].append(await measure(serve, reads))
        best = {name: min(t) for name, t in times.items()}
        ratios = [w / a for w, a in zip(times["weft"], times["aiohttp"], strict=True)]
        print(
            f"{case:<22} {best['weft']:>9.2f} {best['aiohttp']:>11.2f} "
            f"{best['weft'] / best['aiohttp']:>13.2f} "
            f"{min(ratios):>4.2f}-{max(ratios):.2f}"
        )
    for _, cleanup in served.values():
        await cleanup()
    print(f"python {sys.version.split()[0]}, loop {type(asyncio.get_running_loop()).__module__}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    if parser.parse_args().uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(main())
