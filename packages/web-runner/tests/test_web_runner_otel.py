"""The otel extra: one SERVER span per request, after the HTTP semantic conventions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from weft.web_core import Application, Request, Response
from weft.web_exceptions import HTTPFound, HTTPServiceUnavailable
from weft.web_runner.otel import _redact_query, _server_address, setup_tracing

if TYPE_CHECKING:
    from conftest import Serve

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def make_app(exporter: InMemorySpanExporter) -> Application:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def user(request: Request) -> Response:
        return Response(text=request.match_info["name"])

    async def redirect(request: Request) -> Response:
        raise HTTPFound("/users/x")

    async def unavailable(request: Request) -> Response:
        raise HTTPServiceUnavailable()

    async def boom(request: Request) -> Response:
        raise ValueError("boom")

    async def teapot(request: Request) -> Response:
        return Response(status=502)

    app = Application()
    app.router.add_get("/users/{name}", user)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/unavailable", unavailable)
    app.router.add_get("/boom", boom)
    app.router.add_get("/bad-gateway", teapot)
    app.router.add_route("PURGE", "/users/{name}", user)
    setup_tracing(app, tracer_provider=provider)
    return app


async def spans_of(
    serve: Serve,
    client: aiohttp.ClientSession,
    exporter: InMemorySpanExporter,
    method: str,
    path: str,
    **headers: str,
) -> tuple[int, ReadableSpan]:
    served = await serve(make_app(exporter))
    async with client.request(
        method, served.url(path), headers=headers, allow_redirects=False
    ) as response:
        await response.read()
    (span,) = exporter.get_finished_spans()
    return response.status, span


def attributes(span: ReadableSpan) -> dict[str, Any]:
    assert span.attributes is not None
    return dict(span.attributes)


@pytest.mark.asyncio
async def test_a_matched_request_is_a_server_span_named_after_its_route(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    """Stable attribute names; the caller's traceparent makes the span its child."""
    status, span = await spans_of(
        serve,
        client,
        exporter,
        "GET",
        "/users/ann?x=1",
        traceparent=f"00-{TRACE_ID}-{PARENT_ID}-01",
        **{"User-Agent": "probe/1.0"},
    )
    assert status == 200
    assert span.name == "GET /users/{name}"
    assert span.kind is SpanKind.SERVER
    assert span.status.status_code is StatusCode.UNSET
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    found = attributes(span)
    port = found.pop("server.port")
    assert isinstance(port, int)
    assert found == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "url.path": "/users/ann",
        "url.query": "x=1",
        "network.protocol.version": "1.1",
        "http.route": "/users/{name}",
        "server.address": "127.0.0.1",
        "client.address": "127.0.0.1",
        "user_agent.original": "probe/1.0",
        "http.response.status_code": 200,
    }


@pytest.mark.asyncio
async def test_an_unmatched_request_has_no_route(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    """404: the span is named by the method alone, and a 4xx is not a server error."""
    status, span = await spans_of(serve, client, exporter, "GET", "/nowhere")
    assert status == 404
    assert span.name == "GET"
    assert "http.route" not in attributes(span)
    assert attributes(span)["http.response.status_code"] == 404
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None


@pytest.mark.asyncio
async def test_a_raised_redirect_records_its_status(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    status, span = await spans_of(serve, client, exporter, "GET", "/redirect")
    assert status == 302
    assert attributes(span)["http.response.status_code"] == 302
    assert span.status.status_code is StatusCode.UNSET
    assert not span.events


@pytest.mark.asyncio
async def test_a_raised_5xx_is_an_error_with_its_exception(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    status, span = await spans_of(serve, client, exporter, "GET", "/unavailable")
    assert status == 503
    assert attributes(span)["http.response.status_code"] == 503
    assert attributes(span)["error.type"] == "503"
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


@pytest.mark.asyncio
async def test_a_returned_5xx_is_an_error(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    status, span = await spans_of(serve, client, exporter, "GET", "/bad-gateway")
    assert status == 502
    assert attributes(span)["error.type"] == "502"
    assert span.status.status_code is StatusCode.ERROR
    assert not span.events


@pytest.mark.asyncio
async def test_an_escaped_exception_is_recorded(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    """The app answers it 500; the span says so, with the exception's type and event."""
    status, span = await spans_of(serve, client, exporter, "GET", "/boom")
    assert status == 500
    assert attributes(span)["http.response.status_code"] == 500
    assert attributes(span)["error.type"] == "ValueError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: boom"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"


@pytest.mark.asyncio
async def test_an_unknown_method_is_other(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    """Span names and the method attribute stay bounded; the original is kept aside."""
    status, span = await spans_of(serve, client, exporter, "PURGE", "/users/ann")
    assert status == 200
    assert span.name == "HTTP /users/{name}"
    assert attributes(span)["http.request.method"] == "_OTHER"
    assert attributes(span)["http.request.method_original"] == "PURGE"


@pytest.mark.parametrize(
    ("host", "scheme", "expected"),
    [
        ("example.com", "http", ("example.com", 80)),
        ("example.com", "https", ("example.com", 443)),
        ("example.com:8443", "https", ("example.com", 8443)),
        ("[::1]:8080", "http", ("::1", 8080)),
        ("[::1]", "https", ("::1", 443)),
        ("example.com", "ws", ("example.com", None)),
    ],
)
def test_server_address_and_port_come_from_the_host(
    host: str, scheme: str, expected: tuple[str, int | None]
) -> None:
    assert _server_address(host, scheme) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&b=2", "a=1&b=2"),
        ("sig=abc&a=1", "sig=REDACTED&a=1"),
        ("a=1&Signature=x&AWSAccessKeyId=y", "a=1&Signature=REDACTED&AWSAccessKeyId=REDACTED"),
        ("signature=x&sig", "signature=x&sig"),
    ],
)
def test_credentials_in_signed_urls_are_redacted(query: str, expected: str) -> None:
    """As OpenTelemetry's own HTTP instrumentations: the value goes, the name stays."""
    assert _redact_query(query) == expected
