"""Router benchmark: weft-web-routing beside aiohttp's UrlDispatcher, in one run.

For route tables of 10, 100 and 1,000 resources (a quarter plain, a quarter
dynamic under their own literal prefix, a quarter dynamic under one shared
prefix, a quarter variable-first) it times plain hits, dynamic hits, 404s and
405s, and prints nanoseconds per call and the ratio aiohttp / weft (above 1:
weft faster), then checks the targets of the router's issue: at least 3x on
dynamic hits among 1,000 routes, never slower anywhere.

weft is timed twice: ``match(method, path)`` (what weft.web's request path
calls) and ``await resolve(request)`` (aiohttp's API).  ``resolve`` of both
routers gets the very same request object, built once per case with
``aiohttp.test_utils.make_mocked_request``, and is awaited the way a server
awaits it: from a coroutine, here one that awaits it in a loop and is driven
without an event loop (an event loop's per-step cost would only add the same
constant to both sides).

It times the weft-web-routing that is importable (an installed wheel: the
mypyc-compiled build where a compiler was present, see ``COMPILED``), else
the sources of this checkout (pure Python); the first line says which.

Run: ``nox -s bench`` or ``python tools/bench/bench_router.py [--quick]``.
Bounded: well under a minute.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
try:
    import weft.web_routing  # noqa: F401  (an installed build, or one on PYTHONPATH, first)
except ImportError:
    for _src in ("web-exceptions", "web-routing"):
        _path = str(REPO / "packages" / _src / "src")
        if _path not in sys.path:
            sys.path.insert(0, _path)

from aiohttp import web  # noqa: E402
from aiohttp.test_utils import make_mocked_request  # noqa: E402

from weft import web_routing  # noqa: E402
from weft.web_routing import UrlDispatcher  # noqa: E402

SIZES = (10, 100, 1000)


async def handler(request: Any) -> Any:
    return None


KINDS = 4


# A route table of ``size`` resources, a quarter of each kind:
#   plain                      /api/v1/res4/items
#   dynamic, own prefix        /api/v2/res5/{id}/items/{item}   (aiohttp indexes it too)
#   dynamic, shared prefix     /users/{id}/res6                 (aiohttp scans these in order)
#   dynamic, variable first    /{tenant}/res7/info              (aiohttp scans these on every miss)
def route_path(i: int) -> str:
    kind = i % KINDS
    if kind == 0:
        return f"/api/v{i % 3}/res{i}/items"
    if kind == 1:
        return f"/api/v{i % 3}/res{i}/{{id}}/items/{{item}}"
    if kind == 2:
        return f"/users/{{id}}/res{i}"
    return f"/{{tenant}}/res{i}/info"


def request_path(i: int) -> str:
    kind = i % KINDS
    if kind == 0:
        return f"/api/v{i % 3}/res{i}/items"
    if kind == 1:
        return f"/api/v{i % 3}/res{i}/42/items/abc"
    if kind == 2:
        return f"/users/42/res{i}"
    return f"/acme/res{i}/info"


def build(size: int) -> tuple[UrlDispatcher, web.UrlDispatcher]:
    ours, theirs = UrlDispatcher(), web.UrlDispatcher()
    for i in range(size):
        ours.add_get(route_path(i), handler)
        theirs.add_get(route_path(i), handler)
    ours.freeze()
    theirs.freeze()
    return ours, theirs


def last_of_kind(size: int, kind: int) -> int:
    return max(i for i in range(size) if i % KINDS == kind)


def middle_of_kind(size: int, kind: int) -> int:
    return min(i for i in range(size // 2, size) if i % KINDS == kind)


DYNAMIC_HITS = (
    "dynamic hit, own prefix",
    "dynamic hit, shared prefix",
    "dynamic hit, variable 1st",
)


def cases(size: int) -> dict[str, tuple[str, str]]:
    return {
        "plain hit": ("GET", request_path(last_of_kind(size, 0))),
        DYNAMIC_HITS[0]: ("GET", request_path(middle_of_kind(size, 1))),
        DYNAMIC_HITS[1]: ("GET", request_path(middle_of_kind(size, 2))),
        DYNAMIC_HITS[2]: ("GET", request_path(middle_of_kind(size, 3))),
        "404": ("GET", f"/api/v1/res{size + 7}/42/items/abc"),
        "404, shared prefix": ("GET", f"/users/42/res{size + 7}"),
        "405": ("POST", request_path(last_of_kind(size, 1))),
    }


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("resolve() suspended")


Runner = Callable[[int], object]  # runs the timed call n times


def calls(match: Callable[[str, str], object], method: str, path: str) -> Runner:
    def run(n: int) -> None:
        for _ in range(n):
            match(method, path)

    return run


def awaits(resolve: Callable[[Any], Coroutine[Any, Any, Any]], request: Any) -> Runner:
    async def loop(n: int) -> None:
        for _ in range(n):
            await resolve(request)

    def run(n: int) -> None:
        drive(loop(n))

    return run


def calibrate(run: Runner, budget: float) -> int:
    """Loops that take about ``budget`` seconds."""
    loops = 1
    while True:
        start = time.perf_counter()
        run(loops)
        elapsed = time.perf_counter() - start
        if elapsed > budget / 10:
            return max(1, int(loops * budget / elapsed))
        loops *= 4


def time_ns(runs: list[Runner], budget: float, repeat: int = 7) -> list[float]:
    """Best-of-``repeat`` ns per call of each contender, runs interleaved so that
    a change in machine load hits every contender alike."""
    loops = [calibrate(run, budget) for run in runs]
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, (run, n) in enumerate(zip(runs, loops, strict=True)):
            start = time.perf_counter_ns()
            run(n)
            best[i] = min(best[i], (time.perf_counter_ns() - start) / n)
    return best


def main() -> None:
    quick = "--quick" in sys.argv
    budget = 0.01 if quick else 0.04
    warnings.simplefilter("ignore", DeprecationWarning)
    rows: list[tuple[int, str, float, float, float]] = []
    started = time.perf_counter()
    for size in SIZES:
        ours, theirs = build(size)
        for kind, (method, path) in cases(size).items():
            # One request object, given to both routers' resolve().
            request = make_mocked_request(method, path)
            ours_info = ours.match(method, path)
            ours_resolved = drive(ours.resolve(request))
            theirs_info = drive(theirs.resolve(request))
            # Same outcome on both sides, or the numbers mean nothing.
            for info in (ours_info, ours_resolved):
                assert (info.http_exception is None) == (theirs_info.http_exception is None)
                assert dict(info) == dict(theirs_info), (kind, info, theirs_info)
            t_match, t_resolve, t_aiohttp = time_ns(
                [
                    calls(ours.match, method, path),
                    awaits(ours.resolve, request),
                    awaits(theirs.resolve, request),
                ],
                budget,
            )
            rows.append((size, kind, t_match, t_resolve, t_aiohttp))
    build_name = "compiled with mypyc" if web_routing.COMPILED else "pure Python"
    print()
    print(
        f"weft-web-routing {web_routing.__version__}: {build_name}, from "
        f"{Path(web_routing.__file__).parent}"
    )
    print(
        "Router lookups, ns per call (best of 7); ratio = aiohttp resolve / weft (>1: weft faster)"
    )
    print()
    header = (
        f"| {'routes':>6} | {'case':<26} | {'weft match':>10} | {'weft resolve':>12} "
        f"| {'aiohttp':>9} | {'ratio (match)':>13} | {'ratio (resolve)':>15} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for size, kind, t_match, t_resolve, t_aiohttp in rows:
        print(
            f"| {size:>6} | {kind:<26} | {t_match:>10.0f} | {t_resolve:>12.0f} "
            f"| {t_aiohttp:>9.0f} | {t_aiohttp / t_match:>12.1f}x "
            f"| {t_aiohttp / t_resolve:>14.1f}x |"
        )
    print()
    dynamic = [row for row in rows if row[0] == max(SIZES) and row[1] in DYNAMIC_HITS]
    for label, selected, target in (
        (f"dynamic hits among {max(SIZES)} routes", dynamic, 3.0),
        ("every case", rows, 1.0),
    ):
        for name in ("match", "resolve"):
            ratios = [(row[4] / (row[2] if name == "match" else row[3]), row) for row in selected]
            ratio, worst = min(ratios)
            verdict = "met" if ratio >= target else "NOT met"
            print(
                f"{label}, {name:<7}: worst {ratio:4.1f}x ({worst[0]} routes, {worst[1]}); "
                f"target >= {target:.0f}x {verdict}"
            )
    print()
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
