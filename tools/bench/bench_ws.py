"""WebSocket echo: round trips per second, weft beside aiohttp serving the same handler.

Each framework's server runs in its own process (this script with
``--serve weft`` or ``--serve aiohttp``; the same handler, the standard
asyncio loop, no permessage-deflate since the client offers none), pinned
to CPU 0 when there are two CPUs; the client runs here, pinned to CPU 1. The
client opens ``--connections`` WebSockets (8) and on each one sends a small
masked text frame (32 bytes), waits for the whole echo, and sends the next:
one message in flight per connection. The client is a bare asyncio
protocol with pre-built frames, so its cost per round trip is the same for
both servers and small beside theirs.

Rounds are interleaved (weft, aiohttp, aiohttp, weft, ...), each after a
warm-up; prints the round trips per second of each framework (mean over the
rounds), the server process's CPU time per round trip (from /proc, median;
steadier than the rate when other jobs share the machine) and both ratios
weft/aiohttp. Default: 2 rounds x 3 s per framework, about 20 s in all.

Run: ``python tools/bench/bench_ws.py [--duration 3] [--rounds 2]
[--connections 8]`` (run by ``nox -s bench``; needs weft and aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

FRAMEWORKS = ("weft", "aiohttp")
MESSAGE = b"hello websocket benchmark 123456"  # 32 bytes
WARMUP = 0.5


# ---------------------------------------------------------------- the servers


def make_app(framework: str) -> tuple[Any, Any]:
    """The same echo handler on either framework: (app, its web module)."""
    web: Any = importlib.import_module("weft.web" if framework == "weft" else "aiohttp.web")
    ws_class: Any = getattr(web, "WebSocketResponse", None)
    if ws_class is None:  # until weft.web re-exports it from web-core
        ws_class = importlib.import_module("weft.web_core").WebSocketResponse
    text = 1  # WSMsgType.TEXT in both

    async def echo(request: Any) -> Any:
        ws = ws_class()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == text:
                await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    return app, web


async def serve(framework: str) -> None:
    app, web = make_app(framework)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"READY {port}", flush=True)
    try:
        await asyncio.Event().wait()  # until the parent terminates this process
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- the client

_KEY = base64.b64encode(b"bench-ws-key-16b").decode()
_MASK = b"\x11\x22\x33\x44"
_FRAME = (
    bytes((0x81, 0x80 | len(MESSAGE)))
    + _MASK
    + bytes(b ^ _MASK[i % 4] for i, b in enumerate(MESSAGE))
)
_REPLY_SIZE = 2 + len(MESSAGE)  # the server's echo: unmasked, 7-bit length


class EchoClient(asyncio.Protocol):
    """One connection: handshake, then one frame in flight at a time; counts round trips."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.count = 0
        self.running = True
        self.upgraded = asyncio.get_running_loop().create_future()
        self.stopped = asyncio.get_running_loop().create_future()
        self._head = b""
        self._pending = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {_KEY}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        if not self.upgraded.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(self._head[:200].decode("latin-1")))
                return
            data = self._head[end + 4 :]
            self.upgraded.set_result(None)
        self._pending += len(data)
        while self._pending >= _REPLY_SIZE:
            self._pending -= _REPLY_SIZE
            self.count += 1
            if self.running:
                self.send()
            elif not self.stopped.done():
                self.stopped.set_result(None)

    def send(self) -> None:
        assert self.transport is not None
        self.transport.write(_FRAME)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionResetError("closed"))
        if not self.stopped.done():
            self.stopped.set_result(None)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    port: int, connections: int, duration: float, pid: int
) -> tuple[float, float | None]:
    """Round trips per second over ``connections`` WebSockets for ``duration`` seconds,
    and the server's CPU µs per round trip (None where /proc is missing)."""
    loop = asyncio.get_running_loop()
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(lambda: EchoClient(port), "127.0.0.1", port)
        clients.append(client)
    await asyncio.gather(*(c.upgraded for c in clients))
    for client in clients:
        client.send()
    await asyncio.sleep(WARMUP)
    start_counts = sum(c.count for c in clients)
    start_cpu = cpu_seconds(pid)
    start = time.perf_counter()
    await asyncio.sleep(duration)
    done = sum(c.count for c in clients) - start_counts
    elapsed = time.perf_counter() - start
    end_cpu = cpu_seconds(pid)
    for client in clients:
        client.running = False
    await asyncio.wait_for(asyncio.gather(*(c.stopped for c in clients)), 10)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    cpu = None if start_cpu is None or end_cpu is None else (end_cpu - start_cpu) / done * 1e6
    return done / elapsed, cpu


def start_server(framework: str, pin: bool) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, __file__, "--serve", framework]
    if pin:
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"{framework} server did not start: {line!r}")
    return process, int(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per framework")
    parser.add_argument("--connections", type=int, default=8)
    args, _ = parser.parse_known_args()  # nox passes the same posargs to every bench
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    if pin:
        os.sched_setaffinity(0, {1})
    results: dict[str, list[float]] = {name: [] for name in FRAMEWORKS}
    cpu: dict[str, list[float]] = {name: [] for name in FRAMEWORKS}
    order = [*FRAMEWORKS]
    for _ in range(args.rounds):
        for framework in order:
            process, port = start_server(framework, pin)
            try:
                rate, cost = asyncio.run(
                    measure(port, args.connections, args.duration, process.pid)
                )
            finally:
                process.terminate()
                process.wait(10)
            results[framework].append(rate)
            if cost is not None:
                cpu[framework].append(cost)
        order.reverse()
    print(
        f"WebSocket echo, {len(MESSAGE)}-byte text messages, {args.connections} connections, "
        f"one in flight each; {args.rounds} rounds x {args.duration:g} s"
        f"{' (server on CPU 0, client on CPU 1)' if pin else ''}"
    )
    print(f"{'framework':<10} {'round trips/s':>14} {'server CPU µs/trip':>19}   rounds")
    for framework in FRAMEWORKS:
        rates = results[framework]
        shown = ", ".join(f"{r:,.0f}" for r in rates)
        per_trip = f"{statistics.median(cpu[framework]):.1f}" if cpu[framework] else "-"
        print(f"{framework:<10} {statistics.mean(rates):>14,.0f} {per_trip:>19}   {shown}")
    ratio = statistics.mean(results["weft"]) / statistics.mean(results["aiohttp"])
    print(f"ratio weft/aiohttp, round trips/s: {ratio:.2f}x (higher is better)")
    if cpu["weft"] and cpu["aiohttp"]:
        cost_ratio = statistics.median(cpu["weft"]) / statistics.median(cpu["aiohttp"])
        print(
            f"ratio weft/aiohttp, server CPU per round trip: {cost_ratio:.2f}x (lower is better;"
            " steadier than the rate on a busy machine)"
        )


if __name__ == "__main__":
    main()
