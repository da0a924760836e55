"""OpenTelemetry's aiohttp-server instrumentation and sentry-sdk's aiohttp integration
give the same spans and events on weft in compat mode as on aiohttp.

One app, one set of requests, run twice in fresh interpreters: on aiohttp 3.14
and with WEFT_AS_AIOHTTP=1. Both instrumentations hook aiohttp's server
(OpenTelemetry replaces ``aiohttp.web.Application`` with a subclass that adds
its middleware; Sentry patches ``Application._handle`` and
``UrlDispatcher.resolve``), so what they record on weft is what weft's objects
show them under aiohttp's names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

SCENARIO = r"""
import asyncio, json, re, sys

from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import sentry_sdk
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.transport import Transport

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
# Before the app exists: the instrumentor replaces aiohttp.web.Application.
AioHttpServerInstrumentor().instrument(tracer_provider=provider)

envelopes = []


class Collect(Transport):
    def capture_envelope(self, envelope):
        envelopes.append(envelope)


sentry_sdk.init(
    dsn="https://public@sentry.invalid/1",
    transport=Collect,
    default_integrations=False,
    auto_enabling_integrations=False,
    integrations=[AioHttpIntegration()],
    traces_sample_rate=1.0,
)

import aiohttp
from aiohttp import web

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


@routes.post("/bad")
async def bad(request):
    raise web.HTTPBadRequest(text="no")


@routes.get("/unavailable")
async def unavailable(request):
    raise web.HTTPServiceUnavailable()


@routes.get("/boom")
async def boom(request):
    raise ValueError("boom")


REQUESTS = [
    ("GET", "/ok"), ("GET", "/users/ann?x=1"), ("GET", "/redirect"), ("GET", "/gone"),
    ("POST", "/bad"), ("GET", "/unavailable"), ("GET", "/boom"), ("GET", "/nowhere"),
    ("DELETE", "/ok"),
]


async def main():
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    statuses = []
    async with aiohttp.ClientSession() as session:
        for method, path in REQUESTS:
            url = f"http://127.0.0.1:{port}{path}"
            async with session.request(method, url, allow_redirects=False) as response:
                await response.read()
                statuses.append([method, path, response.status])
    await runner.cleanup()
    return port, statuses


port, statuses = asyncio.run(main())
sentry_sdk.flush()


def scrub(value):
    # The port is the only thing that differs by nature between two runs.
    if isinstance(value, str):
        return value.replace(str(port), "PORT")
    if isinstance(value, int) and value == port:
        return "PORT"
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    return value


spans = []
for span in exporter.get_finished_spans():
    attributes = dict(span.attributes)
    spans.append(scrub({
        "name": span.name,
        "kind": str(span.kind),
        "status": str(span.status.status_code),
        "attributes": attributes,
    }))

events = []
for envelope in envelopes:
    for item in envelope.items:
        payload = item.payload.json
        if payload is None:
            continue
        if item.type == "transaction":
            events.append(scrub({
                "type": "transaction",
                "transaction": payload.get("transaction"),
                "source": payload.get("transaction_info", {}).get("source"),
                "op": payload["contexts"]["trace"].get("op"),
                "status": payload["contexts"]["trace"].get("status"),
                "response": payload["contexts"].get("response"),
                "request": {
                    k: payload.get("request", {}).get(k) for k in ("method", "url", "query_string")
                },
            }))
        elif item.type == "event":
            exception = payload["exception"]["values"][-1]
            events.append(scrub({
                "type": "event",
                "transaction": payload.get("transaction"),
                "exception": [exception["type"], exception["value"], exception["mechanism"]],
                "request": {k: payload.get("request", {}).get(k) for k in ("method", "url")},
            }))

print(json.dumps({
    "side": web.__name__,
    "statuses": statuses,
    "spans": sorted(spans, key=json.dumps),
    "events": sorted(events, key=json.dumps),
}))
"""


def observe(*, weft: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("WEFT_AS_AIOHTTP", None)
    if weft:
        env["WEFT_AS_AIOHTTP"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result.pop("side") == ("weft.web" if weft else "aiohttp.web")
    return result


@pytest.fixture(scope="module")
def on_aiohttp() -> dict[str, Any]:
    return observe(weft=False)


@pytest.fixture(scope="module")
def on_weft() -> dict[str, Any]:
    return observe(weft=True)


def test_the_requests_are_answered_alike(
    on_aiohttp: dict[str, Any], on_weft: dict[str, Any]
) -> None:
    assert on_weft["statuses"] == on_aiohttp["statuses"]
    assert [status for _, _, status in on_aiohttp["statuses"]] == [
        200,
        200,
        302,
        410,
        400,
        503,
        500,
        404,
        405,
    ]


def test_opentelemetry_spans_are_aiohttp_s(
    on_aiohttp: dict[str, Any], on_weft: dict[str, Any]
) -> None:
    spans = on_aiohttp["spans"]
    assert len(spans) == 9
    by_target = {span["attributes"].get("http.target"): span for span in spans}
    # A raised HTTP exception: its status is the span's, 5xx an error.
    assert by_target["/redirect"]["attributes"]["http.status_code"] == 302
    assert by_target["/gone"]["attributes"]["http.status_code"] == 410
    assert by_target["/unavailable"]["attributes"]["http.status_code"] == 503
    assert by_target["/unavailable"]["status"] == "StatusCode.ERROR"
    assert by_target["/users/ann?x=1"]["attributes"]["http.route"] == "/users/{name}"
    assert on_weft["spans"] == spans


def _system_route_named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The events with the transaction name of the router's own 404/405 handler replaced.

    Sentry names a transaction after the handler's module and qualified name,
    and the router's 404/405 handler is a framework internal: aiohttp's
    ``aiohttp.web_urldispatcher.SystemRoute._handle``, weft's in weft-web-routing.
    That name is the one difference (docs/compat.md); everything else is equal.
    """
    renamed = []
    for event in events:
        if event["transaction"] == name:
            event = {**event, "transaction": "<the router's 404/405 handler>"}
        renamed.append(event)
    return renamed


def test_sentry_transactions_and_errors_are_aiohttp_s(
    on_aiohttp: dict[str, Any], on_weft: dict[str, Any]
) -> None:
    events = on_aiohttp["events"]
    transactions = {
        (e["request"]["method"], e["request"]["url"].rpartition("PORT")[2]): e
        for e in events
        if e["type"] == "transaction"
    }
    assert len(transactions) == 9
    # Raised HTTP exceptions: their status is the transaction's.
    assert transactions["GET", "/redirect"]["response"] == {"status_code": 302}
    assert transactions["GET", "/redirect"]["status"] == "ok"
    assert transactions["GET", "/gone"]["response"] == {"status_code": 410}
    assert transactions["POST", "/bad"]["status"] == "invalid_argument"
    assert transactions["GET", "/unavailable"]["status"] == "unavailable"
    assert transactions["GET", "/boom"]["status"] == "internal_error"
    assert transactions["GET", "/nowhere"]["status"] == "not_found"
    assert transactions["DELETE", "/ok"]["response"] == {"status_code": 405}
    # Errors: the exception that escaped, and a raised 5xx HTTP exception, which
    # Sentry captures by default (failed_request_status_codes).
    errors = [e["exception"][:2] for e in events if e["type"] == "event"]
    assert sorted(errors) == [
        ["HTTPServiceUnavailable", "Service Unavailable"],
        ["ValueError", "boom"],
    ]
    assert _system_route_named(
        on_weft["events"], "weft.web_routing._routes.SystemRoute._raise"
    ) == _system_route_named(events, "aiohttp.web_urldispatcher.SystemRoute._handle")
