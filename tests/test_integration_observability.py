"""weft's own traces and metrics (web-runner's otel and prometheus extras) through weft.web.

The spans are compared with those of opentelemetry-instrumentation-aiohttp-server
on aiohttp 3.14 for the same app and requests, with its stable attribute names
(OTEL_SEMCONV_STABILITY_OPT_IN=http): equal but for the differences
web-runner's README lists ("Traces"), which the comparison names one by one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from weft import web
from weft.web_runner.otel import setup_tracing
from weft.web_runner.prometheus import PrometheusMetrics, setup_metrics

REQUESTS = [
    ("GET", "/ok"),
    ("GET", "/users/ann?x=1&sig=secret"),
    ("GET", "/redirect"),
    ("GET", "/gone"),
    ("GET", "/unavailable"),
    ("GET", "/boom"),
    ("GET", "/nowhere"),
    ("DELETE", "/ok"),
]

APP = r"""
def make_app(web):
    routes = web.RouteTableDef()

    @routes.get("/ok")
    async def ok(request):
        return web.Response(text="ok")

    @routes.get("/users/{name}")
    async def user(request):
        return web.json_response({"name": request.match_info["name"]})

    @routes.get("/redirect")
    async def redirect(request):
        raise web.HTTPFound("/ok")

    @routes.get("/gone")
    async def gone(request):
        raise web.HTTPGone()

    @routes.get("/unavailable")
    async def unavailable(request):
        raise web.HTTPServiceUnavailable()

    @routes.get("/boom")
    async def boom(request):
        raise ValueError("boom")

    app = web.Application()
    app.add_routes(routes)
    return app
"""

ON_AIOHTTP = (
    APP
    + r"""
import asyncio, json, sys
from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
AioHttpServerInstrumentor().instrument(tracer_provider=provider)

import aiohttp
from aiohttp import web


async def main(requests):
    runner = web.AppRunner(make_app(web))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        for method, path in requests:
            async with session.request(method, f"http://127.0.0.1:{port}{path}",
                                       allow_redirects=False) as response:
                await response.read()
    await runner.cleanup()
    return port


port = asyncio.run(main(json.loads(sys.argv[1])))
print(json.dumps({"port": port, "spans": [
    {"name": s.name, "kind": s.kind.name, "status": s.status.status_code.name,
     "description": s.status.description, "attributes": dict(s.attributes),
     "events": [e.name for e in s.events]}
    for s in exporter.get_finished_spans()
]}))
"""
)


def _normalized(spans: list[dict[str, Any]], port: int) -> list[dict[str, Any]]:
    for span in spans:
        assert span["attributes"].pop("server.port") == port
    return spans


@pytest.fixture(scope="module")
def aiohttp_spans() -> list[dict[str, Any]]:
    env = {**os.environ, "OTEL_SEMCONV_STABILITY_OPT_IN": "http"}
    env.pop("WEFT_AS_AIOHTTP", None)
    done = subprocess.run(
        [sys.executable, "-c", ON_AIOHTTP, json.dumps(REQUESTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return _normalized(found["spans"], found["port"])


async def _weft_spans() -> list[dict[str, Any]]:
    namespace: dict[str, Any] = {}
    exec(APP, namespace)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = namespace["make_app"](web)
    setup_tracing(app, tracer_provider=provider)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        for method, path in REQUESTS:
            url = f"http://127.0.0.1:{port}{path}"
            async with session.request(method, url, allow_redirects=False) as response:
                await response.read()
    await runner.cleanup()
    spans = [
        {
            "name": s.name,
            "kind": s.kind.name,
            "status": s.status.status_code.name,
            "description": s.status.description,
            "attributes": dict(s.attributes or {}),
            "events": [e.name for e in s.events],
        }
        for s in exporter.get_finished_spans()
    ]
    return _normalized(spans, port)


@pytest.mark.asyncio
async def test_weft_spans_are_the_aiohttp_instrumentation_s_but_for_listed_differences(
    aiohttp_spans: list[dict[str, Any]],
) -> None:
    weft_spans = await _weft_spans()
    assert len(weft_spans) == len(aiohttp_spans) == len(REQUESTS)
    for ours, theirs in zip(weft_spans, aiohttp_spans, strict=True):
        # Difference 1: weft sets client.address (the instrumentation does not).
        assert ours["attributes"].pop("client.address") == "127.0.0.1"
        # Difference 2: an unmatched request has no http.route, not an empty one.
        if theirs["attributes"].get("http.route") == "":
            del theirs["attributes"]["http.route"]
        if ours["attributes"]["url.path"] == "/boom":
            # Difference 3: an escaped exception is recorded as the 500 the client
            # gets, and the status says what was raised.
            assert ours["attributes"].pop("http.response.status_code") == 500
            assert ours["description"] == "ValueError: boom"
            assert theirs["description"] == "Non-integer HTTP status: ValueError"
            ours["description"] = theirs["description"]
        assert ours == theirs
    by_path = {span["attributes"]["url.path"]: span for span in weft_spans}
    assert by_path["/users/ann"]["attributes"]["url.query"] == "x=1&sig=REDACTED"
    assert by_path["/unavailable"]["status"] == "ERROR"
    assert by_path["/gone"]["attributes"]["http.response.status_code"] == 410


@pytest.mark.asyncio
async def test_metrics_through_weft_web() -> None:
    """An app written against weft.web, its /metrics scraped by a client."""
    namespace: dict[str, Any] = {}
    exec(APP, namespace)
    app = namespace["make_app"](web)
    metrics = setup_metrics(app, metrics=PrometheusMetrics(CollectorRegistry()))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        for method, path in REQUESTS:
            url = f"http://127.0.0.1:{port}{path}"
            async with session.request(method, url, allow_redirects=False) as response:
                await response.read()
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
    await runner.cleanup()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    counted = {
        (s.labels["method"], s.labels["route"], s.labels["status_class"]): s.value
        for s in families["weft_http_requests"].samples
        if s.name == "weft_http_requests_total"
    }
    assert counted == {
        ("GET", "/ok", "2xx"): 1.0,
        ("GET", "/users/{name}", "2xx"): 1.0,
        ("GET", "/redirect", "3xx"): 1.0,
        ("GET", "/gone", "4xx"): 1.0,
        ("GET", "/unavailable", "5xx"): 1.0,
        ("GET", "/boom", "5xx"): 1.0,
        ("GET", "<unmatched>", "4xx"): 1.0,
        ("DELETE", "<unmatched>", "4xx"): 1.0,
    }
    assert metrics.registry is not None
    assert metrics.registry.get_sample_value("weft_http_open_connections") == 0
