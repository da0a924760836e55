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

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from weft.web_core import Application, Request, StreamResponse, middleware
from weft.web_exceptions import HTTPException

from .__about__ import __version__

__all__ = ["setup_tracing", "tracing_middleware"]

_Handler = Callable[[Request], Awaitable[StreamResponse]]
_Middleware = Callable[[Request, _Handler], Awaitable[StreamResponse]]

# The methods semantic conventions name; any other is "_OTHER" (the original
# goes in http.request.method_original), so clients cannot mint span names.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def _request_attributes(request: Request, method: str, route: str | None) -> dict[str, str | int]:
    scheme = request.scheme
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.scheme": scheme,
        "url.path": request.path,
        "network.protocol.version": f"{request.version.major}.{request.version.minor}",
    }
    if method == "_OTHER":
        attributes["http.request.method_original"] = request.method
    query = request.query_string
    if query:
        attributes["url.query"] = query
    if route is not None:
        attributes["http.route"] = route
    host = request.host
    if host:
        address, port = _server_address(host, scheme)
        attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
    remote = request.remote
    if remote:
        attributes["client.address"] = remote
    user_agent = request.headers.get("User-Agent")
    if user_agent:
        attributes["user_agent.original"] = user_agent
    return attributes


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
        method = request.method if request.method in _METHODS else "_OTHER"
        resource = request.match_info.route.resource
        route = None if resource is None else resource.canonical
        name = "HTTP" if method == "_OTHER" else method
        if route is not None:
            name = f"{name} {route}"
        with tracer.start_as_current_span(
            name,
            context=propagate.extract(request.headers),
            kind=SpanKind.SERVER,
            attributes=_request_attributes(request, method, route),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
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
            _set_status(span, response.status)
            return response

    return tracing


def setup_tracing(app: Application, *, tracer_provider: trace.TracerProvider | None = None) -> None:
    """Trace ``app``'s requests: its tracing middleware goes first, around the others."""
    app.middlewares.insert(0, tracing_middleware(tracer_provider))
