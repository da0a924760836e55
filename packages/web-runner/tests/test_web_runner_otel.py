"""The otel extra: one SERVER span per request, after the HTTP semantic conventions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
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


@pytest.mark.asyncio
async def test_without_an_sdk_only_the_callers_context_is_made_current(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """No span is built; the handler still runs in the caller's trace, so its own
    outgoing requests would carry it on."""
    seen: list[str] = []

    async def handler(request: Request) -> Response:
        context = trace.get_current_span().get_span_context()
        seen.append(f"{context.trace_id:032x}")
        return Response(text="ok")

    app = Application()
    app.router.add_get("/", handler)
    setup_tracing(app, tracer_provider=trace.NoOpTracerProvider())
    served = await serve(app)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    async with client.get(served.url("/"), headers={"traceparent": traceparent}) as response:
        assert response.status == 200
    async with client.get(served.url("/")) as response:
        assert response.status == 200
    assert seen == [TRACE_ID, f"{0:032x}"]
    assert trace.get_current_span().get_span_context().trace_id == 0


@pytest.mark.asyncio
async def test_a_span_sampled_out_costs_no_more_attributes(
    serve: Serve, client: aiohttp.ClientSession, exporter: InMemorySpanExporter
) -> None:
    """The sampler decides on the attributes given at the start; nothing is exported."""
    decided: list[dict[str, Any]] = []

    class Never(Sampler):
        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            decided.append(dict(attributes))
            return SamplingResult(Decision.DROP)

        def get_description(self) -> str:
            return "never"

    provider = TracerProvider(sampler=Never())
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def handler(request: Request) -> Response:
        return Response(text="ok")

    app = Application()
    app.router.add_get("/items/{id}", handler)
    setup_tracing(app, tracer_provider=provider)
    served = await serve(app)
    async with client.get(served.url("/items/1?x=2")) as response:
        assert response.status == 200
    assert exporter.get_finished_spans() == ()
    (attributes,) = decided
    assert attributes["http.route"] == "/items/{id}"
    assert attributes["url.query"] == "x=2"
    assert "user_agent.original" not in attributes


@pytest.mark.asyncio
async def test_an_http_1_0_request_without_optional_headers(
    serve: Serve, exporter: InMemorySpanExporter
) -> None:
    """No User-Agent: no user_agent.original; the protocol version is the request's."""
    served = await serve(make_app(exporter))
    connection = await served.connect()
    connection.send(b"GET /users/ann HTTP/1.0\r\n\r\n")
    assert (await connection.response()).status == 200
    (span,) = exporter.get_finished_spans()
    found = attributes(span)
    assert found["network.protocol.version"] == "1.0"
    assert "user_agent.original" not in found
    assert "url.query" not in found
