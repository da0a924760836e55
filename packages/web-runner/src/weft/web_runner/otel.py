"""OpenTelemetry traces for a weft app (the ``otel`` extra, on opentelemetry-api).

    from weft.web_runner.otel import setup_tracing

    setup_tracing(app)              # before the app starts

One SERVER span per request, after OpenTelemetry's stable HTTP semantic
conventions (v1.26+ names: ``http.request.method``, ``url.path``,
``http.route``, ``http.response.status_code``...), named ``"GET
/users/{name}"``, a child of the caller's span when the request carries its
context (W3C ``traceparent`` through the global propagator). Only the API is
needed: spans are recorded once the application installs an SDK tracer
provider, and cost next to nothing before. web-runner's README ("Traces")
lists every attribute and where weft differs from
opentelemetry-instrumentation-aiohttp-server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from weft.web_core import Application, Request, StreamResponse, middleware
from weft.web_exceptions import HTTPException

from .__about__ import __version__

__all__ = ["setup_tracing", "tracing_middleware"]

_Handler = Callable[[Request], Awaitable[StreamResponse]]


class _Middleware(Protocol):
    """web-core's middleware shape (its Middleware protocol, keyword names included)."""

    def __call__(self, request: Request, handler: _Handler) -> Awaitable[StreamResponse]: ...


# The methods semantic conventions name; any other is "_OTHER" (the original
# goes in http.request.method_original), so clients cannot mint span names.
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Providers that never record: the API's default before an SDK is installed.
_NO_SDK = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


# Query parameters that carry credentials in signed URLs; their values are
# replaced, as opentelemetry-util-http's redact_query_parameters does.
_SENSITIVE_PARAMETERS = ("AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature")


def _redact_query(query: str) -> str:
    """``sig=abc&a=1`` -> ``sig=REDACTED&a=1``; a query without those names as it is."""
    if not any(name in query for name in _SENSITIVE_PARAMETERS):
        return query
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}=REDACTED" if equals and name in _SENSITIVE_PARAMETERS else part)
    return "&".join(parts)


def _server_address(host: str, scheme: str) -> tuple[str, int | None]:
    """``Host`` -> (address, port); the scheme's port when the header has none."""
    if host.startswith("["):  # an IPv6 literal: "[::1]:8080"
        address, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        address, _, port = host.partition(":")
    if port.isdigit():
        return address, int(port)
    return address, _DEFAULT_PORTS.get(scheme)


def _sampling_attributes(request: Request, method: str, route: str | None) -> dict[str, str | int]:
    """The attributes a sampler may decide on: given when the span starts."""
    scheme = request.scheme
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.scheme": scheme,
        "url.path": request.path,
    }
    query = request.query_string
    if query:
        attributes["url.query"] = _redact_query(query)
    if route is not None:
        attributes["http.route"] = route
    host = request.host
    if host:
        address, port = _server_address(host, scheme)
        attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
    return attributes


def _other_attributes(span: trace.Span, request: Request, method: str) -> None:
    """The rest, set only on a span that records."""
    span.set_attribute(
        "network.protocol.version", f"{request.version.major}.{request.version.minor}"
    )
    if method == "_OTHER":
        span.set_attribute("http.request.method_original", request.method)
    remote = request.remote
    if remote:
        span.set_attribute("client.address", remote)
    user_agent = request.headers.get("User-Agent")
    if user_agent:
        span.set_attribute("user_agent.original", user_agent)


def _set_status(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    # A server's span is an error for 5xx only: a 4xx is the client's (semantic
    # conventions, "Status"), so its status stays unset.
    if status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))


def tracing_middleware(tracer_provider: trace.TracerProvider | None = None) -> _Middleware:
    """A middleware that wraps each request in a SERVER span.

    ``tracer_provider``: the global one (``trace.set_tracer_provider``) when None.
    """
    tracer = trace.get_tracer(__name__, __version__, tracer_provider)

    @middleware
    async def tracing(request: Request, handler: _Handler) -> StreamResponse:
        parent = propagate.extract(request.headers)
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        if isinstance(provider, _NO_SDK):
            # No SDK (yet): no span would record. The caller's context is still
            # made current, as the API's no-op tracer would, so that it reaches
            # the handler's outgoing requests.
            token = context.attach(parent)
            try:
                return await handler(request)
            finally:
                context.detach(token)
        method = request.method if request.method in _METHODS else "_OTHER"
        resource = request.match_info.route.resource
        route = None if resource is None else resource.canonical
        name = "HTTP" if method == "_OTHER" else method
        if route is not None:
            name = f"{name} {route}"
        span = tracer.start_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=_sampling_attributes(request, method, route),
        )
        # start_span + attach, not start_as_current_span: the same, without
        # the context manager's cost on every request.
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            if span.is_recording():
                _other_attributes(span, request, method)
            response = await handler(request)
        except HTTPException as exc:
            # Raised, not returned: the status the client gets is the exception's.
            _set_status(span, exc.status)
            if exc.status >= 500:
                span.record_exception(exc)
            raise
        except Exception as exc:
            # The app answers an escaped exception with a 500.
            span.record_exception(exc)
            span.set_attribute("http.response.status_code", 500)
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__qualname__}: {exc}"))
            raise
        else:
            _set_status(span, response.status)
            return response
        finally:
            context.detach(token)
            span.end()

    return tracing


def setup_tracing(app: Application, *, tracer_provider: trace.TracerProvider | None = None) -> None:
    """Trace ``app``'s requests: its tracing middleware goes first, around the others."""
    app.middlewares.insert(0, tracing_middleware(tracer_provider))
