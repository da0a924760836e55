"""The whole server under load: wrk against weft, aiohttp and two peers serving the same app.

One run measures four servers, interleaved, on the same scenarios:

* ``weft``: tools/bench/server_app.py with ``from weft import web``;
* ``aiohttp``: the same file with ``from aiohttp import web`` (aiohttp 3.14
  with its C extensions: the header says whether they are loaded);
* ``blacksheep``: tools/bench/peer_blacksheep.py (BlackSheep 2.6) served by
  granian 2.8, one granian server with one worker process (``--workers 1
  --runtime-threads 1 --runtime-mode st``; its supervising main process and
  the worker are pinned and measured together), over **ASGI**: BlackSheep has
  no RSGI entry point, so ASGI is the faster (the only) interface granian can
  serve it with;
* ``sanic``: tools/bench/peer_sanic.py (Sanic 25.12), one process, one worker
  (``single_process=True``), access log off.

Every server runs on uvloop (``--asyncio``: the standard asyncio loop for all
four), without access log, pinned to CPU 0 (``taskset -c 0``; granian's worker
process inherits the pinning); wrk runs pinned to CPU 1 with one thread.
Rounds are interleaved (the order of the servers turns round by round); each
server start is checked with one request per scenario whose answer must be
right (status 200 and the exact body; 16 answers for the pipelined one), then
warmed up for a second. Scenarios:

* plaintext: ``GET /plaintext``, "Hello, World!";
* json: ``GET /json``, ``{"message": "Hello, World!"}``;
* api: ``POST`` to one of 100 routes with two path params, a query and a
  JSON body;
* upload: ``POST /upload``, a 64 KiB file as multipart/form-data;
* stream: ``GET /stream``, 1 MiB as a streamed (chunked) response written in
  16 writes of 64 KiB (weft/aiohttp: ``StreamResponse``, ``prepare()``, 16
  ``write()``; the peers: their own streaming API);
* pipelined: 16 ``GET /plaintext`` sent in one write (wrk Lua script building
  them with ``wrk.format`` in ``init``, as TechEmpower's pipeline.lua does);
  wrk counts each of the 16 answers as one request, and the script checks it
  (bytes read per request counted = one answer's size).

For each server and scenario it prints req/s (median and min-max over the
rounds), p99 latency (median), the ratio to aiohttp's median req/s, and the
server's CPU time per request: utime+stime of the server process and every
process under it (granian's worker; all threads are in a process's counts)
from /proc/<pid>/stat, read before and after the wrk run, divided by the
requests wrk completed. Then the memory of an idle keep-alive connection: on
each server's first start, before any load, N connections (default 1000)
each make one request and stay open; the VmRSS delta (/proc/<pid>/status,
summed over the process tree) divided by N.

Default: 3 rounds x 4 s x 6 scenarios x 4 servers, 64 connections, about
6 minutes in all (the expected duration is printed first).

Needs wrk (Debian/Ubuntu: ``apt-get install -y wrk``), taskset (util-linux)
and, for the peers and the loop, ``blacksheep granian sanic uvloop`` (the
``bench`` nox session installs them; a peer that is not installed is skipped
with a message). With fewer than two CPUs nothing is pinned.
Run: ``python tools/bench/bench_server.py [--duration 4] [--rounds 3]
[--connections 64] [--only weft,aiohttp,blacksheep,sanic]
[--scenarios plaintext,json,api,upload,stream,pipelined]
[--idle-connections 1000] [--asyncio]`` (run by ``nox -s bench``).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import importlib.util
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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
SERVERS = ("weft", "aiohttp", "blacksheep", "sanic")
LABELS = {
    "weft": "weft",
    "aiohttp": "aiohttp",
    "blacksheep": "BlackSheep+granian",
    "sanic": "Sanic",
}
# The distributions each server needs beside this script's interpreter.
NEEDS = {
    "weft": ("weft",),
    "aiohttp": ("aiohttp",),
    "blacksheep": ("blacksheep", "granian"),
    "sanic": ("sanic",),
}
BASELINE = "aiohttp"

BOUNDARY = "----weftbench7MA4YWxkTrZu0gW"
API_PATH = "/api/v1/svc57/items/12345/tags/blue?limit=10&offset=20"
API_BODY = '{"name": "widget", "price": 12.5, "count": 3, "tags": ["a", "b", "c"]}'
UPLOAD_SIZE = 64 * 1024
UPLOAD_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n" + "x" * UPLOAD_SIZE + f"\r\n--{BOUNDARY}--\r\n"
).encode()
STREAM_CHUNK = bytes(range(256)) * 256  # 64 KiB, as the apps write it
STREAM_WRITES = 16
PIPELINE = 16
HELLO = b"Hello, World!"

# wrk's own summary, exact (its printed "MB read" and latencies are rounded).
# p99 is wrk's, with its coordinated-omission correction; that correction can
# put samples below the recorded minimum, where wrk's percentile() does not
# look, and it then answers 0 (it does with pipelining, whose interval it
# reckons per request while it records one latency per write): the rank is
# then taken among the samples it can see, as wrk means it.
DONE_LUA = """
local function p99(latency)
  local value = latency:percentile(99)
  if value > 0 then return value end
  local lo, hi = 0, 99
  for _ = 1, 40 do
    local mid = (lo + hi) / 2
    if latency:percentile(mid) > 0 then lo = mid else hi = mid end
  end
  return latency:percentile(math.max(lo - 1, 0))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-SUMMARY %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, p99(latency)))
end
"""

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

# TechEmpower's pipeline.lua: one write holds PIPELINE requests; wrk counts
# each answer as one request (it reads how many a write holds from request()).
PIPELINED_LUA = f"""
init = function(args)
  local r = {{}}
  for i = 1, {PIPELINE} do
    r[i] = wrk.format(nil, "/plaintext")
  end
  req = table.concat(r)
end

request = function()
  return req
end
"""


class Scenario(NamedTuple):
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    lua: str
    expect: bytes  # the whole body of the answer to one request


SCENARIOS = (
    Scenario("plaintext", "GET", "/plaintext", {}, None, "", HELLO),
    Scenario("json", "GET", "/json", {}, None, "", b'{"message": "Hello, World!"}'),
    Scenario(
        "api",
        "POST",
        API_PATH,
        {"Content-Type": "application/json"},
        API_BODY.encode(),
        API_LUA,
        b'{"item": "12345", "tag": "blue", "limit": 10, "offset": 20, '
        b'"name": "widget", "total": 37.5}',
    ),
    Scenario(
        "upload",
        "POST",
        "/upload",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        UPLOAD_BODY,
        UPLOAD_LUA,
        b'{"filename": "blob.bin", "size": %d}' % UPLOAD_SIZE,
    ),
    Scenario("stream", "GET", "/stream", {}, None, "", STREAM_CHUNK * STREAM_WRITES),
    Scenario("pipelined", "GET", "/plaintext", {}, None, PIPELINED_LUA, HELLO),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}

# One second of warm-up touching every handler: wrk's request() takes turns.
WARMUP_LUA = f"""
init = function(args)
  local body = "--{BOUNDARY}\\r\\n"
    .. 'Content-Disposition: form-data; name="file"; filename="blob.bin"\\r\\n'
    .. "Content-Type: application/octet-stream\\r\\n\\r\\n"
    .. string.rep("x", {UPLOAD_SIZE})
    .. "\\r\\n--{BOUNDARY}--\\r\\n"
  reqs = {{
    wrk.format("GET", "/plaintext"),
    wrk.format("GET", "/json"),
    wrk.format("POST", "{API_PATH}", {{["Content-Type"] = "application/json"}}, '{API_BODY}'),
    wrk.format("POST", "/upload",
      {{["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"}}, body),
    wrk.format("GET", "/stream"),
  }}
  n = 0
end

request = function()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end
"""


class Result(NamedTuple):
    rps: float
    p99_ms: float
    errors: int
    cpu_us: float  # server CPU per request
    bytes_per_request: float


class Server(NamedTuple):
    name: str
    port: int
    pid: int


CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pin(cpu: int, pinned: bool) -> list[str]:
    return ["taskset", "-c", str(cpu)] if pinned else []


# -- /proc ---------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat from the state on (field 3 is index 0)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and every living process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_seconds(root: int) -> float:
    """utime+stime (and that of waited-for children) of the process tree, all threads."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / CLK_TCK


def rss_kb(root: int) -> int:
    """VmRSS of the process tree, in kB."""
    total = 0
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if found:
            total += int(found.group(1))
    return total


# -- the servers ---------------------------------------------------------------


def server_command(name: str, port: int, uvloop: bool) -> list[str]:
    if name in ("weft", "aiohttp"):
        command = [sys.executable, str(HERE / "server_app.py"), str(port)]
        return [*command, "--uvloop"] if uvloop else command
    if name == "blacksheep":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--runtime-threads",
            "1",
            "--runtime-mode",
            "st",
            "--loop",
            "uvloop" if uvloop else "asyncio",
            "--http",
            "1",
            "--no-ws",
            "--no-access-log",
            "--log-level",
            "warning",
            "--working-dir",
            str(HERE),
            "peer_blacksheep:app",
        ]
    if name == "sanic":
        command = [sys.executable, str(HERE / "peer_sanic.py"), str(port)]
        return command if uvloop else [*command, "--asyncio"]
    raise ValueError(name)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(10)
    with suppress(ProcessLookupError):  # whatever is left of its process group (granian's worker)
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def server(name: str, pinned: bool, uvloop: bool, logs: Path) -> Iterator[Server]:
    """Run the server ``name`` until the block ends; its output goes to a log.

    The log's end is printed when the block fails (a wrong answer, say).
    """
    port = free_port()
    env = dict(os.environ, BENCH_FRAMEWORK=name)
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*pin(0, pinned), *server_command(name, port, uvloop)],
            env=env,
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: granian's worker goes with it
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {name} server did not start") from None
                time.sleep(0.05)
        yield Server(name, port, process.pid)
    except BaseException:
        _stop(process)
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        if tail:
            print(f"--- the end of the {name} server's output:", *tail, "---", sep="\n")
        raise
    finally:
        _stop(process)


def check(srv: Server, scenario: Scenario) -> int:
    """One request as wrk will send it; the answer must be right before we measure.

    Returns the size on the wire of one answer (headers included).
    """
    if scenario.name == "pipelined":
        return check_pipelined(srv)
    connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        connection.request(scenario.method, scenario.path, scenario.body, scenario.headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200 or answer != scenario.expect:
        raise SystemExit(
            f"{srv.name} {scenario.name}: unexpected answer {response.status} "
            f"({len(answer)} bytes) {answer[:200]!r}"
        )
    return len(answer)


def check_pipelined(srv: Server) -> int:
    """PIPELINE requests in one write: PIPELINE answers "200 ... Hello, World!"."""
    request = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    data = b""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(request * PIPELINE)
        deadline = time.monotonic() + 10
        while data.count(HELLO) < PIPELINE and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answers = re.findall(rb"HTTP/1\.1 (\d{3})", data)
    if answers != [b"200"] * PIPELINE or data.count(HELLO) != PIPELINE:
        raise SystemExit(
            f"{srv.name} pipelined: {len(answers)} answers to {PIPELINE} requests: {data[:300]!r}"
        )
    return len(data) // PIPELINE


_SUMMARY = re.compile(rb"BENCH-SUMMARY" + rb" (\d+)" * 9)


def wrk(
    srv: Server,
    lua: str,
    path: str,
    seconds: int,
    connections: int,
    pinned: bool,
    scripts: Path,
) -> Result:
    script = scripts / "scenario.lua"
    script.write_text(lua + DONE_LUA)
    command = [
        *pin(1, pinned),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script),
        f"http://127.0.0.1:{srv.port}{path.split('?')[0]}",
    ]
    cpu_before = cpu_seconds(srv.pid)
    out = subprocess.run(command, capture_output=True, check=True).stdout
    cpu = cpu_seconds(srv.pid) - cpu_before
    found = _SUMMARY.search(out)
    if found is None:
        raise SystemExit(f"cannot read wrk's output:\n{out.decode(errors='replace')}")
    requests, nbytes, duration_us, *errors, p99_us = (int(n) for n in found.groups())
    return Result(
        rps=requests / (duration_us / 1e6),
        p99_ms=p99_us / 1000,
        errors=sum(errors),
        cpu_us=cpu * 1e6 / requests if requests else float("nan"),
        bytes_per_request=nbytes / requests if requests else float("nan"),
    )


def idle_memory(srv: Server, count: int) -> tuple[float, int]:
    """kB of RSS per idle keep-alive connection, and how many were still open at the end."""
    request = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    time.sleep(0.5)
    before = rss_kb(srv.pid)
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            sockets.append(sock)
            sock.sendall(request)
            data = b""
            while HELLO not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    raise SystemExit(f"{srv.name}: an idle-memory connection closed")
                data += chunk
        time.sleep(1.0)
        after = rss_kb(srv.pid)
        still_open = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                still_open += sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
    finally:
        for sock in sockets:
            sock.close()
    return (after - before) / count, still_open


# -- the report ----------------------------------------------------------------


def version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_builds() -> str:
    parts = []
    try:
        from weft import http_parser, web_core, web_routing, web_runner

        compiled = {
            "parser": http_parser.COMPILED,
            "router": web_routing.COMPILED,
            "core": web_core.COMPILED,
            "connection core": web_runner.COMPILED,
        }
        parts.append(
            "weft "
            + ", ".join(f"{k} {'compiled' if v else 'pure Python'}" for k, v in compiled.items())
        )
    except ImportError:
        pass
    if importlib.util.find_spec("aiohttp") is not None:
        from aiohttp import http_parser as aiohttp_parser

        c_parser = aiohttp_parser.HttpRequestParser.__module__ == "aiohttp._http_parser"
        parts.append(f"aiohttp C extensions {'loaded' if c_parser else 'NOT loaded'}")
    return "; ".join(parts)


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}"


def report(
    results: dict[tuple[str, str], list[Result]],
    servers: list[str],
    scenarios: list[Scenario],
) -> None:
    header = (
        f"{'scenario':10} {'server':19} {'req/s median':>12} {'(min-max)':>19} "
        f"{'p99 ms':>8} {'x ' + BASELINE:>10} {'CPU us/req':>11}"
    )
    print(header)
    print("-" * len(header))
    for scenario in scenarios:
        baseline = results.get((BASELINE, scenario.name))
        base_rps = statistics.median(r.rps for r in baseline) if baseline else None
        for index, name in enumerate(servers):
            runs = results[(name, scenario.name)]
            rps = statistics.median(r.rps for r in runs)
            ratio = f"{rps / base_rps:.2f}" if base_rps else "-"
            print(
                f"{scenario.name if index == 0 else '':10} {LABELS[name]:19} {rps:>12,.0f} "
                f"{'(' + spread([r.rps for r in runs]) + ')':>19} "
                f"{statistics.median(r.p99_ms for r in runs):>8.2f} {ratio:>10} "
                f"{statistics.median(r.cpu_us for r in runs):>11.1f}"
            )
        for name in servers:
            runs = results[(name, scenario.name)]
            errors = sum(r.errors for r in runs)
            if errors:
                print(
                    f"  ! {LABELS[name]} {scenario.name}: {errors} socket errors or non-2xx answers"
                )

    others = [name for name in servers if name != BASELINE]
    if BASELINE in servers and others:
        print()
        print(
            f"req/s / {BASELINE}'s (medians)" + " " * 13 + "| server CPU us per request (medians)"
        )
        head = f"{'scenario':10}" + "".join(f" {n:>10}" for n in others) + " |"
        head += "".join(f" {n:>10}" for n in servers)
        print(head)
        print("-" * len(head))
        for scenario in scenarios:
            base = statistics.median(r.rps for r in results[(BASELINE, scenario.name)])
            line = f"{scenario.name:10}"
            for name in others:
                rps = statistics.median(r.rps for r in results[(name, scenario.name)])
                line += f" {rps / base:>9.2f}x"
            line += " |"
            for name in servers:
                cpu = statistics.median(r.cpu_us for r in results[(name, scenario.name)])
                line += f" {cpu:>10.1f}"
            print(line)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per measurement (wrk)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--only", default=",".join(SERVERS), help=f"servers, comma-separated: {','.join(SERVERS)}"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.name for s in SCENARIOS),
        help="scenarios, comma-separated",
    )
    parser.add_argument(
        "--idle-connections",
        type=int,
        default=1000,
        help="idle keep-alive connections for the memory measurement (0: skip it)",
    )
    parser.add_argument(
        "--asyncio", action="store_true", help="the standard asyncio loop, not uvloop"
    )
    parser.add_argument("--uvloop", action="store_true", help=argparse.SUPPRESS)  # the default now
    args, _ = parser.parse_known_args(argv)

    servers = [name.strip() for name in args.only.split(",") if name.strip()]
    scenario_names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    for name in servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}: choose from {', '.join(SERVERS)}")
    for name in scenario_names:
        if name not in BY_NAME:
            parser.error(f"unknown scenario {name!r}: choose from {', '.join(BY_NAME)}")
    scenarios = [BY_NAME[name] for name in scenario_names]
    if args.duration < 1 or args.rounds < 1 or args.connections < 1 or not scenarios:
        parser.error(
            "--duration, --rounds and --connections must be at least 1, --scenarios not empty"
        )
    uvloop = not args.asyncio

    if shutil.which("wrk") is None:
        print(
            "bench_server: SKIPPED, wrk is not installed. Install it with "
            "`apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."
        )
        return 0
    for name in list(servers):
        absent = [d for d in NEEDS[name] if version(d) is None]
        if absent:
            print(f"bench_server: {name} SKIPPED, not installed: {', '.join(absent)}")
            servers.remove(name)
    if uvloop and version("uvloop") is None:
        print("bench_server: uvloop is not installed: install it or pass --asyncio")
        return 1
    if not servers:
        return 0
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if not pinned:
        print("bench_server: fewer than 2 CPUs or no taskset: server and wrk are not pinned")

    versions = ", ".join(
        f"{d} {version(d)}"
        for d in ("weft", "aiohttp", "blacksheep", "granian", "sanic", "uvloop")
        if version(d) is not None
    )
    print(f"bench_server: {versions}; {describe_builds()}")
    measure = args.rounds * len(servers) * len(scenarios) * args.duration
    overhead = args.rounds * len(servers) * 3  # start, checks, 1 s warm-up, stop
    memory = len(servers) * (2 + args.idle_connections // 500) if args.idle_connections else 0
    print(
        f"bench_server: {args.rounds} rounds x {len(servers)} servers x {len(scenarios)} "
        f"scenarios x {args.duration} s; expect about {measure + overhead + memory} s "
        f"({(measure + overhead + memory) / 60:.1f} min)",
        flush=True,
    )

    # A SIGTERM (a timeout, say) unwinds like ^C, so that no server is left running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results: dict[tuple[str, str], list[Result]] = {}
    memory_kb: dict[str, tuple[float, int]] = {}
    answer_size: dict[str, int] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        scripts = logs = Path(tmp)
        for round_number in range(args.rounds):
            turn = round_number % len(servers)
            order = servers[turn:] + servers[:turn]
            if round_number % 2:
                order.reverse()
            for name in order:
                with server(name, pinned, uvloop, logs) as srv:
                    for scenario in scenarios:
                        answer_size[scenario.name] = check(srv, scenario)
                    if round_number == 0 and args.idle_connections:
                        memory_kb[name] = idle_memory(srv, args.idle_connections)
                    wrk(srv, WARMUP_LUA, "/", 1, args.connections, pinned, scripts)
                    for scenario in scenarios:
                        result = wrk(
                            srv,
                            scenario.lua,
                            scenario.path,
                            args.duration,
                            args.connections,
                            pinned,
                            scripts,
                        )
                        results.setdefault((name, scenario.name), []).append(result)
                        print(
                            f"  round {round_number + 1} {LABELS[name]:19} {scenario.name:10}"
                            f"{result.rps:>10.0f} req/s  p99 {result.p99_ms:7.2f} ms"
                            f"  {result.cpu_us:7.1f} us CPU/req"
                            + (f"  {result.errors} errors" if result.errors else ""),
                            flush=True,
                        )
                        if scenario.name == "pipelined":
                            one = answer_size["pipelined"]
                            if abs(result.bytes_per_request - one) > 0.1 * one:
                                print(
                                    f"  ! pipelined: wrk read {result.bytes_per_request:.0f} "
                                    f"bytes per request it counted, one answer is {one}: "
                                    "it does not count the pipelined requests one by one"
                                )

    loop = "uvloop" if uvloop else "asyncio"
    print()
    where = ", server on CPU 0, wrk on CPU 1" if pinned else ", not pinned"
    print(
        f"wrk -t1 -c{args.connections}, {args.duration} s x {args.rounds} rounds, "
        f"{loop} loop{where}; medians over the rounds"
    )
    report(results, servers, scenarios)
    if "pipelined" in answer_size:
        bpr = [
            r.bytes_per_request
            for (_, s), runs in results.items()
            if s == "pipelined"
            for r in runs
        ]
        print(
            f"(pipelined: {PIPELINE} requests per write, each counted; wrk read "
            f"{min(bpr):.0f}-{max(bpr):.0f} bytes per counted request)"
        )
    if memory_kb:
        print()
        print(
            f"memory per idle keep-alive connection ({args.idle_connections} connections, "
            "one request each, VmRSS delta / N):"
        )
        for name in servers:
            if name in memory_kb:
                kb, still_open = memory_kb[name]
                note = "" if still_open == args.idle_connections else f" ({still_open} still open)"
                print(f"  {LABELS[name]:19} {kb:6.1f} kB{note}")
    print(f"(took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
