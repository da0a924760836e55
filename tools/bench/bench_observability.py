"""The cost of weft's metrics and traces: one app, with and without each extra.

The request path of tools/bench/bench_core.py (an already-parsed head, the
app's handler with routing among 100 routes, the handler, the response's
head and body written to a transport that only counts bytes), run for the
same app bare and with:

* prometheus: ``setup_metrics`` (weft.web_runner.prometheus);
* otel, API only: ``setup_tracing`` with no SDK installed, what a library
  user pays before the application configures tracing;
* otel + SDK: ``setup_tracing`` with the OpenTelemetry SDK recording every
  span (always-on sampler) into a processor that drops it, so exporting is
  not measured;
* both: prometheus and otel + SDK.

Parsing and sockets are left out, so the ratios are an upper bound of what a
served request pays (a real request costs more than this path, the extras'
work does not grow). Prints µs per request and the ratio with/without
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

REQUEST = (
    b"GET /api/v1/users/42/items?page=2 HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"User-Agent: bench\r\n"
    b"Accept: */*\r\n"
    b"\r\n"
)
ROUNDS = 5
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


def _sdk_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Drop()))
    return provider


async def build(*, metrics: bool, tracing: str | None) -> Callable[[], Awaitable[None]]:
    from weft.http_parser import RequestParser
    from weft.http_parser.streams import BodyStream
    from weft.web_core import Application, Request, Response, StreamWriter

    async def handler(request: Request) -> Response:
        return Response(text="item " + request.match_info["id"])

    app = Application()
    for i in range(99):
        app.router.add_get(f"/api/v1/resource{i}/{{id}}", handler)
    app.router.add_get("/api/v1/users/{id}/items", handler)
    if metrics:
        from prometheus_client import CollectorRegistry

        from weft.web_runner.prometheus import PrometheusMetrics, setup_metrics

        setup_metrics(app, metrics=PrometheusMetrics(CollectorRegistry()))
    if tracing is not None:
        from weft.web_runner.otel import setup_tracing

        provider = _sdk_provider() if tracing == "sdk" else None
        setup_tracing(app, tracer_provider=provider)
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
        request = app._make_request(head, empty, protocol, writer, None, loop)  # type: ignore[arg-type]
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


VARIANTS: dict[str, dict[str, Any]] = {
    "bare": {"metrics": False, "tracing": None},
    "prometheus": {"metrics": True, "tracing": None},
    "otel, API only": {"metrics": False, "tracing": "api"},
    "otel + SDK": {"metrics": False, "tracing": "sdk"},
    "both (+ SDK)": {"metrics": True, "tracing": "sdk"},
}


async def main() -> None:
    ones = {name: await build(**options) for name, options in VARIANTS.items()}
    times: dict[str, list[float]] = {name: [] for name in ones}
    # Interleaved, so machine noise hits every variant alike.
    for _ in range(3):
        for name, one in ones.items():
            times[name].append(await measure(one))
    bare = min(times["bare"])
    print("observability: the request path of bench_core, with and without each extra")
    print(f"{'variant':<16} {'µs/request':>12} {'spread':>8} {'ratio':>7}")
    for name, found in times.items():
        spread = statistics.pstdev(found) / min(found) * 100
        ratio = min(found) / bare
        print(f"{name:<16} {min(found):>12.2f} {spread:>7.1f}% {ratio:>7.2f}")
    print("ratio: with the extra / bare (lower is better)")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    asyncio.run(main())
