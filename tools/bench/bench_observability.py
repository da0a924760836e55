"""The cost of weft's metrics and traces: one app, with and without each extra.

The app (100 routes, a handler answering a small text) runs bare and with:

* prometheus: ``setup_metrics`` (weft.web_runner.prometheus);
* otel, API only: ``setup_tracing`` with no SDK installed, what a library
  user pays before the application configures tracing;
* otel + SDK: ``setup_tracing`` with the OpenTelemetry SDK recording every
  span (always-on sampler) into an exporter that drops it, so exporting is
  not measured;
* both: prometheus and otel + SDK.

Two ways: in process, the request path of tools/bench/bench_core.py (an
already-parsed head, routing, the middlewares, the handler, the response
written to a transport that only counts bytes; no parser, no socket), and
served, an AppRunner answering BATCH pipelined requests at a time on one
loopback connection whose client only counts the bytes that come back.
Variants are interleaved. Prints µs per request and the ratio with/without
(lower is better), all from this run.

Run: ``python tools/bench/bench_observability.py`` (needs weft, prometheus-client,
opentelemetry-api and opentelemetry-sdk installed; run by ``nox -s bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

# bench_core's request, app shape and in-process path: the two compare the same thing.
from bench_core import REQUEST, add_routes
from bench_core import weft_request_path as in_process

ROUNDS = 5
PER_ROUND = 5000
BATCH = 100


def _sdk_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Drop()))
    return provider


def make_app(*, metrics: bool, tracing: str | None) -> Any:
    from weft.web_core import Application, Request, Response

    async def handler(request: Request) -> Response:
        return Response(text="item " + request.match_info["id"])

    app = Application()
    add_routes(app.router.add_get, handler)
    if metrics:
        from prometheus_client import CollectorRegistry

        from weft.web_runner.prometheus import PrometheusMetrics, setup_metrics

        setup_metrics(app, metrics=PrometheusMetrics(CollectorRegistry()))
    if tracing is not None:
        from weft.web_runner.otel import setup_tracing

        provider = _sdk_provider() if tracing == "sdk" else None
        setup_tracing(app, tracer_provider=provider)
    return app


async def served(app: Any) -> Callable[[], Awaitable[None]]:
    """BATCH requests pipelined on one kept-alive loopback connection to an AppRunner.

    The client only writes bytes and counts what comes back (every answer has
    the same length), so nearly all the time measured is the server's.
    """
    from weft.web_runner import AppRunner, TCPSite

    runner = AppRunner(app, access_log=None)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(length)
    size = len(head) + length
    batch = REQUEST * BATCH

    async def one() -> None:
        writer.write(batch)
        await reader.readexactly(size * BATCH)

    await one()
    return one


async def measure(one: Callable[[], Awaitable[None]], per_call: int) -> float:
    """Best µs per request over ROUNDS rounds of PER_ROUND requests."""
    best = float("inf")
    calls = PER_ROUND // per_call
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(calls):
            await one()
        best = min(best, (time.perf_counter() - start) / (calls * per_call) * 1e6)
    return best


VARIANTS: dict[str, dict[str, Any]] = {
    "bare": {"metrics": False, "tracing": None},
    "prometheus": {"metrics": True, "tracing": None},
    "otel, API only": {"metrics": False, "tracing": "api"},
    "otel + SDK": {"metrics": False, "tracing": "sdk"},
    "both (+ SDK)": {"metrics": True, "tracing": "sdk"},
}


async def compare(title: str, driver: Any, per_call: int) -> None:
    ones = {name: await driver(make_app(**options)) for name, options in VARIANTS.items()}
    times: dict[str, list[float]] = {name: [] for name in ones}
    # Interleaved, so machine noise hits every variant alike.
    for _ in range(3):
        for name, one in ones.items():
            times[name].append(await measure(one, per_call))
    bare = min(times["bare"])
    print(title)
    print(f"{'variant':<16} {'µs/request':>12} {'spread':>8} {'ratio':>7}")
    for name, found in times.items():
        spread = statistics.pstdev(found) / min(found) * 100
        print(f"{name:<16} {min(found):>12.2f} {spread:>7.1f}% {min(found) / bare:>7.2f}")
    print()


async def main() -> None:
    await compare("in process: bench_core's request path (no parser, no socket)", in_process, 1)
    await compare(f"served: {BATCH} pipelined requests on one loopback connection", served, BATCH)
    print("ratio: with the extra / bare (lower is better)")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    asyncio.run(main())
