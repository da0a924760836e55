"""Parser benchmark: weft-http-parser beside h11, httptools and aiohttp, in one run.

Two messages, each parsed from one ``bytes`` on a parser that is kept across
messages (a keep-alive connection), body bytes consumed as each parser hands
them out:

  (a) a typical browser GET with 9 header lines;
  (b) a chunked POST of 64 KiB (16 chunks of 4 KiB).

h11 only reads the next request after the server answered the previous one,
so its time includes sending a minimal 204 answer (h11's own cost of a cycle).

Prints the best-of-N µs per message and the ratios against aiohttp's
pure-Python parser and its C (llhttp) parser. A competitor that is not
importable is skipped. Run with ``nox -s bench`` or
``python tools/bench/bench_parser.py [--quick]``.

weft is measured as installed, and the output says which build that is (the
mypyc-compiled wheel or pure Python, ``weft.http_parser.COMPILED``). When it
is the compiled one, the pure-Python build is measured too, in the same run:
the compiled wheel ships its ``.py`` sources, and a copy of them imported
under another package name is the pure-Python parser.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import importlib
import platform
import shutil
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

GET = (
    b"GET /static/app.js?v=3 HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Referer: https://www.example.com/index.html\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=3f9a1c0b2d; theme=dark; lang=en\r\n"
    b"Sec-Fetch-Mode: no-cors\r\n"
    b"\r\n"
)

_CHUNK = bytes(range(256)) * 16  # 4 KiB
POST = (
    b"POST /upload HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n" + (b"1000\r\n" + _CHUNK + b"\r\n") * 16 + b"0\r\n\r\n"
)
POST_BODY = _CHUNK * 16

Runner = Callable[[bytes], int]  # parse one message, return the body length seen
_LOOPS: list[asyncio.AbstractEventLoop] = []  # closed at the end of main()


def weft_runner(package: ModuleType | None = None) -> Runner:
    if package is None:
        import weft.http_parser

        package = weft.http_parser
    body_chunk = package.BodyChunk
    feed = package.RequestParser().feed

    def run(data: bytes) -> int:
        size = 0
        for event in feed(data):
            if type(event) is body_chunk:
                size += len(event.data)
        return size

    return run


def weft_builds() -> list[tuple[str, Callable[[], Runner]]]:
    """The weft rows: the installed build, and pure Python beside a compiled one."""
    try:
        import weft.http_parser as installed
    except ImportError:
        return [("weft", weft_runner)]
    where = Path(installed.__file__).parent
    if not getattr(installed, "COMPILED", False):
        print(f"weft-http-parser {installed.__version__}: pure Python, from {where}")
        return [("weft (pure Python)", weft_runner)]
    print(f"weft-http-parser {installed.__version__}: compiled with mypyc, from {where}")
    rows: list[tuple[str, Callable[[], Runner]]] = [("weft (compiled)", weft_runner)]
    pure = _pure_copy(where)
    if pure is not None:
        rows.append(("weft (pure Python)", functools.partial(weft_runner, pure)))
    return rows


def _pure_copy(where: Path) -> ModuleType | None:
    """The .py sources of the compiled package, imported as a pure-Python package."""
    sources = sorted(where.glob("*.py"))
    if not sources:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="weft-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    copy = tmp / "weft_http_parser_pure"  # its modules import each other relatively
    copy.mkdir()
    for source in sources:
        shutil.copyfile(source, copy / source.name)
    sys.path.insert(0, str(tmp))
    try:
        package = importlib.import_module(copy.name)
    finally:
        sys.path.remove(str(tmp))
    assert not package.COMPILED
    return package


def h11_runner() -> Runner:
    import h11

    conn = h11.Connection(h11.SERVER)
    need_data = h11.NEED_DATA
    data_type = h11.Data
    end = h11.EndOfMessage

    def run(data: bytes) -> int:
        # A server must answer before h11 lets it read the next request;
        # start_next_cycle() after a fake answer is what that costs.
        conn.receive_data(data)
        size = 0
        while True:
            event = conn.next_event()
            if type(event) is data_type:
                size += len(event.data)
            elif type(event) is end:
                break
            elif event is need_data:
                raise RuntimeError("h11 wants more data")
        conn.send(h11.Response(status_code=204, headers=[]))
        conn.send(h11.EndOfMessage())
        conn.start_next_cycle()
        return size

    return run


def httptools_runner() -> Runner:
    import httptools

    class Callbacks:
        __slots__ = ("body", "headers", "url")

        def __init__(self) -> None:
            self.headers: list[tuple[bytes, bytes]] = []
            self.url = b""
            self.body = 0

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append((name, value))

        def on_body(self, body: bytes) -> None:
            self.body += len(body)

        def on_message_begin(self) -> None:
            self.headers = []
            self.body = 0

    callbacks = Callbacks()
    parser = httptools.HttpRequestParser(callbacks)

    def run(data: bytes) -> int:
        parser.feed_data(data)
        return callbacks.body

    return run


def _aiohttp_runner(cls_name: str) -> Runner:
    from aiohttp import http_parser
    from aiohttp.base_protocol import BaseProtocol

    cls = getattr(http_parser, cls_name)
    loop = asyncio.new_event_loop()
    _LOOPS.append(loop)
    protocol = BaseProtocol(loop)
    parser: Any = cls(protocol, loop, 2**16, max_line_size=8190, max_field_size=8190)

    def run(data: bytes) -> int:
        messages, _upgraded, _tail = parser.feed_data(data)
        size = 0
        for _message, payload in messages:
            while True:
                chunk = payload.read_nowait()
                if not chunk:
                    break
                size += len(chunk)
        return size

    return run


def aiohttp_py_runner() -> Runner:
    return _aiohttp_runner("HttpRequestParserPy")


def aiohttp_c_runner() -> Runner:
    return _aiohttp_runner("HttpRequestParserC")


COMPETITORS: list[tuple[str, Callable[[], Runner]]] = [
    ("h11", h11_runner),
    ("httptools (raw callbacks)", httptools_runner),
    ("aiohttp pure-Python", aiohttp_py_runner),
    ("aiohttp C (llhttp)", aiohttp_c_runner),
]
PY, C = "aiohttp pure-Python", "aiohttp C (llhttp)"


def calibrate(run: Runner, data: bytes, budget: float) -> int:
    """How many calls take about ``budget`` seconds."""
    timer = timeit.Timer(functools.partial(run, data))
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= budget / 5:
            return max(1, int(number * budget / elapsed))
        number *= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    args = parser.parse_args(argv)
    repeat, budget = (3, 0.03) if args.quick else (9, 0.1)

    cases = [("(a) GET, 9 headers", GET, 0), ("(b) chunked POST 64 KiB", POST, len(POST_BODY))]
    # One timer per (competitor, case), each with a fresh parser kept across messages.
    timers: dict[tuple[str, str], tuple[timeit.Timer, int]] = {}
    for name, factory in [*weft_builds(), *COMPETITORS]:
        try:
            factory()
        except ImportError as exc:
            print(f"skipped {name}: {exc}", file=sys.stderr)
            continue
        for label, data, body in cases:
            run = factory()
            seen = run(data)
            if seen != body:
                raise SystemExit(f"{name} saw {seen} body bytes in {label}, expected {body}")
            number = calibrate(run, data, budget)
            timers[name, label] = (timeit.Timer(functools.partial(run, data)), number)
    # Rounds interleave the competitors, so a busy moment of the machine
    # does not land on one of them only; the best round of each is kept.
    best: dict[tuple[str, str], float] = {}
    for _ in range(repeat):
        for key, (timer, number) in timers.items():
            us = timer.timeit(number) / number * 1e6
            best[key] = min(us, best.get(key, us))
    results: dict[str, dict[str, float]] = {}
    for (name, label), us in best.items():
        results.setdefault(name, {})[label] = us

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {platform.system()}; best of {repeat}"
    )
    for label, _data, _body in cases:
        print()
        print(f"{label:<28}{'µs/msg':>10}{'vs aiohttp-py':>15}{'vs aiohttp-C':>14}")
        for name, per_case in results.items():
            us = per_case[label]
            py = results.get(PY, {}).get(label)
            c = results.get(C, {}).get(label)
            ratio_py = f"{us / py:.2f}x" if py else "-"
            ratio_c = f"{us / c:.2f}x" if c else "-"
            print(f"  {name:<26}{us:>10.2f}{ratio_py:>15}{ratio_c:>14}")
    for loop in _LOOPS:
        loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
