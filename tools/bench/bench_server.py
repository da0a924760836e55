"""The whole server under load: wrk against weft and aiohttp serving the same app.

tools/bench/server_app.py is started once with ``from weft import web`` and
once with ``from aiohttp import web`` (same code otherwise, access log off,
the standard asyncio loop for both unless ``--uvloop``), pinned to CPU 0
(``taskset -c 0``); wrk runs pinned to CPU 1. Rounds are interleaved (weft,
aiohttp, then aiohttp, weft, ...); each server start is checked with one
request per scenario and warmed up for a second. Scenarios:

* plaintext: ``GET /plaintext``;
* json: ``GET /json``;
* api: ``POST`` to one of 100 routes with two path params, a query and a
  JSON body (wrk Lua script);
* upload: ``POST /upload``, a 64 KiB file as multipart/form-data (Lua).

Prints req/s and p99 latency per framework (mean over the rounds) and the
ratio weft/aiohttp of req/s (higher is better), all from this run. Default:
2 rounds x 5 s per scenario, 64 connections, about 100 s in all.

Needs wrk (Debian/Ubuntu: ``apt-get install -y wrk``) and taskset
(util-linux); with fewer than two CPUs nothing is pinned.
Run: ``python tools/bench/bench_server.py [--duration 5] [--rounds 2]
[--connections 64] [--uvloop]`` (run by ``nox -s bench``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("weft", "aiohttp")
BOUNDARY = "----weftbench7MA4YWxkTrZu0gW"
API_PATH = "/api/v1/svc57/items/12345/tags/blue?limit=10&offset=20"
API_BODY = '{"name": "widget", "price": 12.5, "count": 3, "tags": ["a", "b", "c"]}'
UPLOAD_SIZE = 64 * 1024

API_LUA = f"""
wrk.method = "POST"
wrk.path = "{API_PATH}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{API_BODY}'
"""

UPLOAD_LUA = f"""
local boundary = "{BOUNDARY}"
wrk.method = "POST"
wrk.path = "/upload"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = "--" .. boundary .. "\\r\\n"
  .. 'Content-Disposition: form-data; name="file"; filename="blob.bin"\\r\\n'
  .. "Content-Type: application/octet-stream\\r\\n\\r\\n"
  .. string.rep("x", {UPLOAD_SIZE})
  .. "\\r\\n--" .. boundary .. "--\\r\\n"
"""


class Scenario(NamedTuple):
    name: str
    path: str
    lua: str | None
    expect: bytes  # a part of the answer to the one checked request


SCENARIOS = (
    Scenario("plaintext", "/plaintext", None, b"Hello, World!"),
    Scenario("json", "/json", None, b'"message"'),
    Scenario("api", API_PATH, API_LUA, b'"total": 37.5'),
    Scenario("upload", "/upload", UPLOAD_LUA, b'"size": %d' % UPLOAD_SIZE),
)


class Result(NamedTuple):
    rps: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pin(cpu: int, pinned: bool) -> list[str]:
    return ["taskset", "-c", str(cpu)] if pinned else []


@contextmanager
def server(framework: str, port: int, pinned: bool, uvloop: bool) -> Iterator[None]:
    """Run server_app.py with ``framework`` until the block ends."""
    env = dict(os.environ, BENCH_FRAMEWORK=framework)
    command = [sys.executable, str(HERE / "server_app.py"), str(port)]
    if uvloop:
        command.append("--uvloop")
    process = subprocess.Popen([*pin(0, pinned), *command], env=env)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {framework} server did not start") from None
                time.sleep(0.05)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check(port: int, scenario: Scenario) -> None:
    """One request as wrk will send it; the answer must be right before we measure."""
    url = f"http://127.0.0.1:{port}{scenario.path}"
    request = urllib.request.Request(url)
    if scenario.name == "api":
        request = urllib.request.Request(
            url, data=API_BODY.encode(), headers={"Content-Type": "application/json"}
        )
    elif scenario.name == "upload":
        body = (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
            + "x" * UPLOAD_SIZE
            + f"\r\n--{BOUNDARY}--\r\n"
        ).encode()
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = response.read()
    if response.status != 200 or scenario.expect not in answer:
        raise SystemExit(f"{scenario.name}: unexpected answer {response.status} {answer[:200]!r}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    port: int, scenario: Scenario, seconds: float, connections: int, pinned: bool, scripts: Path
) -> Result:
    command = [
        *pin(1, pinned),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
    ]
    if scenario.lua is not None:
        script = scripts / f"{scenario.name}.lua"
        script.write_text(scenario.lua)
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{scenario.path.split('?')[0]}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if rps is None or p99 is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return Result(float(rps.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)], errors)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--uvloop", action="store_true", help="both servers on uvloop")
    args, _ = parser.parse_known_args(argv)

    if shutil.which("wrk") is None:
        print(
            "bench_server: SKIPPED, wrk is not installed. Install it with "
            "`apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."
        )
        return 0
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if not pinned:
        print("bench_server: fewer than 2 CPUs or no taskset: server and wrk are not pinned")

    results: dict[tuple[str, str], list[Result]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        scripts = Path(tmp)
        for round_number in range(args.rounds):
            order = FRAMEWORKS if round_number % 2 == 0 else FRAMEWORKS[::-1]
            for framework in order:
                port = free_port()
                with server(framework, port, pinned, args.uvloop):
                    for scenario in SCENARIOS:
                        check(port, scenario)
                    wrk(port, SCENARIOS[0], 1, args.connections, pinned, scripts)  # warm-up
                    for scenario in SCENARIOS:
                        result = wrk(
                            port, scenario, args.duration, args.connections, pinned, scripts
                        )
                        results.setdefault((framework, scenario.name), []).append(result)
                        print(
                            f"  round {round_number + 1} {framework:8} {scenario.name:10}"
                            f"{result.rps:>10.0f} req/s  p99 {result.p99_ms:7.2f} ms",
                            flush=True,
                        )

    loop = "uvloop" if args.uvloop else "asyncio"
    print()
    print(
        f"wrk -t1 -c{args.connections}, {args.duration:g} s x {args.rounds} rounds, "
        f"{loop} loop, server on CPU 0, wrk on CPU 1"
        if pinned
        else f"wrk -t1 -c{args.connections}, {args.duration:g} s x {args.rounds} rounds, {loop}"
    )
    header = (
        f"{'scenario':10} {'weft req/s':>11} {'p99 ms':>8} {'aiohttp req/s':>14} "
        f"{'p99 ms':>8} {'weft/aiohttp':>13}"
    )
    print(header)
    print("-" * len(header))
    for scenario in SCENARIOS:
        weft = results[("weft", scenario.name)]
        aiohttp = results[("aiohttp", scenario.name)]
        weft_rps = statistics.mean(r.rps for r in weft)
        aiohttp_rps = statistics.mean(r.rps for r in aiohttp)
        print(
            f"{scenario.name:10} {weft_rps:>11.0f} {statistics.mean(r.p99_ms for r in weft):>8.2f}"
            f" {aiohttp_rps:>14.0f} {statistics.mean(r.p99_ms for r in aiohttp):>8.2f}"
            f" {weft_rps / aiohttp_rps:>12.2f}x"
        )
        errors = sum(r.errors for r in weft + aiohttp)
        if errors:
            print(f"  ! {scenario.name}: {errors} errors or non-2xx answers during the runs")
    print(f"(took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
