"""Prometheus metrics for a weft app (the ``prometheus`` extra, on prometheus_client).

    from weft.web_runner.prometheus import setup_metrics

    setup_metrics(app)              # before the app starts; serves GET /metrics

Nothing of this module is imported unless the app imports it: a server
without it runs no metrics code at all. The metrics, their labels and what
each one counts are listed in web-runner's README ("Metrics"). Under
gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, before the
workers start) and every worker's ``/metrics`` answers for all of them;
docs/deployment.md has the configuration.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from weft.http_parser import HttpParserError
from weft.web_core import (
    Application,
    Request,
    Response,
    StreamResponse,
    WebSocketResponse,
    middleware,
)
from weft.web_exceptions import HTTPException

from ._errors import BodyReadTimeoutError, RequestPayloadError
from ._server import Server
from .observer import ServerObserver, observe_server

__all__ = ["PrometheusMetrics", "UNMATCHED_ROUTE", "setup_metrics"]

_Handler = Callable[[Request], Awaitable[StreamResponse]]


class _Middleware(Protocol):
    """web-core's middleware shape (its Middleware protocol, keyword names included)."""

    def __call__(self, request: Request, handler: _Handler) -> Awaitable[StreamResponse]: ...


#: The ``route`` label of requests no route matched (404, 405): one value, so
#: that scanners probing random paths cannot grow the number of series.
UNMATCHED_ROUTE = "<unmatched>"

# RFC 9110 §9 and PATCH (RFC 5789); anything else is one label value, as
# OpenTelemetry's _OTHER: a client must not mint label values at will.
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
# Statuses that say a request broke a rule or a limit rather than a route's logic.
_REJECTIONS = frozenset({400, 408, 413, 414, 431})


# What escapes a handler when its request's body failed (stalled, broke the framing,
# failed to decode): the connection answers it (408, or the error's status) and
# reports the rejection itself, as the protocol's.
_BODY_ERRORS = (BodyReadTimeoutError, RequestPayloadError, HttpParserError)


def _status_class(status: int) -> str:
    index = status // 100 - 1
    return _STATUS_CLASSES[index] if 0 <= index < 5 else "other"


class PrometheusMetrics(ServerObserver):
    """The metrics of one server (one per process), on ``registry``.

    ``namespace`` prefixes every name (``weft_http_requests_total``);
    ``buckets`` are the latency histogram's upper bounds, in seconds.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = REGISTRY,
        *,
        namespace: str = "weft",
        buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS,
    ) -> None:
        self.registry = registry
        labels = ("method", "route", "status_class")
        self.requests = Counter(
            f"{namespace}_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            labels,
            registry=registry,
        )
        self.duration = Histogram(
            f"{namespace}_http_request_duration_seconds",
            "Time from the request reaching the app to its handler's return.",
            labels,
            registry=registry,
            buckets=buckets,
        )
        # livesum: under PROMETHEUS_MULTIPROC_DIR, the sum over the live workers.
        self.in_flight = Gauge(
            f"{namespace}_http_requests_in_flight",
            "Requests being handled.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.connections = Gauge(
            f"{namespace}_http_open_connections",
            "Open client connections.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.rejections = Counter(
            f"{namespace}_http_rejections",
            "Requests refused for breaking a rule or a limit (400, 408, 413, 414, 431), "
            "by status and by who answered: the app or the connection protocol.",
            ("status", "by"),
            registry=registry,
        )
        self.websocket_closes = Counter(
            f"{namespace}_websocket_closes",
            "WebSocket connections closed, by close code.",
            ("code",),
            registry=registry,
        )
        self.middleware: _Middleware = self._make_middleware()

    # ServerObserver: what the Server reports.

    def connection_opened(self) -> None:
        self.connections.inc()

    def connection_closed(self) -> None:
        self.connections.dec()

    def request_rejected(self, status: int) -> None:
        self.rejections.labels(str(status), "protocol").inc()

    def websocket_closed(self, code: int) -> None:
        self.websocket_closes.labels(str(code)).inc()

    def _make_middleware(self) -> _Middleware:
        in_flight = self.in_flight
        rejections = self.rejections
        observed: weakref.WeakSet[Server] = weakref.WeakSet()
        # (method, route, status class) -> its counter and histogram children:
        # labels() validates and locks on every call, a dict lookup does not.
        # Bounded as the labels are (methods x routes x classes).
        children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

        def record(method: str, route: str, status: int, elapsed: float, by_app: bool) -> None:
            key = (method, route, _status_class(status))
            pair = children.get(key)
            if pair is None:
                pair = children[key] = (self.requests.labels(*key), self.duration.labels(*key))
            pair[0].inc()
            pair[1].observe(elapsed)
            if by_app and status in _REJECTIONS:
                rejections.labels(str(status), "app").inc()

        @middleware
        async def prometheus_middleware(request: Request, handler: _Handler) -> StreamResponse:
            # The Server is met through its requests (the app never sees it):
            # the first request of each starts the count of its connections, and its
            # connections report their rejections and WebSocket closes from then on.
            server = getattr(request.protocol, "_server", None)
            if server is not None and server not in observed:
                observe_server(server, self)
                observed.add(server)
            method = request.method if request.method in _METHODS else "_OTHER"
            resource = request.match_info.route.resource
            route = UNMATCHED_ROUTE if resource is None else resource.canonical
            # None until known: a request cancelled (its client gone) is not counted.
            status: int | None = None
            by_app = True
            in_flight.inc()
            start = time.perf_counter()
            try:
                response = await handler(request)
                status = response.status
                if (
                    server is None  # not weft's connection: none reports the close
                    and isinstance(response, WebSocketResponse)
                    and response.close_code is not None
                ):
                    self.websocket_closed(response.close_code)
                return response
            except HTTPException as exc:
                status = exc.status
                raise
            except _BODY_ERRORS as exc:
                # Answered and reported (by="protocol") by the connection.
                status = 408 if isinstance(exc, BodyReadTimeoutError) else exc.status
                by_app = False
                raise
            except Exception:
                status = 500  # what the app answers an escaped exception with
                raise
            finally:
                elapsed = time.perf_counter() - start
                in_flight.dec()
                if status is not None:
                    record(method, route, status, elapsed, by_app)

        return prometheus_middleware

    async def handler(self, request: Request) -> Response:
        """The exposition: Prometheus's text format, or OpenMetrics if the scraper asks."""
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            # Every worker's files, read and merged off the event loop.
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            loop = asyncio.get_running_loop()
            body = await loop.run_in_executor(None, encoder, registry)
        else:
            body = encoder(self.registry if self.registry is not None else REGISTRY)
        return Response(body=body, headers={"Content-Type": content_type})


_default: PrometheusMetrics | None = None


def setup_metrics(
    app: Application, *, path: str | None = "/metrics", metrics: PrometheusMetrics | None = None
) -> PrometheusMetrics:
    """Measure ``app``'s requests and serve the exposition at ``GET path``.

    The middleware goes first in ``app.middlewares``, so it times and counts
    what the others do too. ``path=None`` adds no route (expose
    ``metrics.handler`` yourself, say on another port). Without ``metrics``,
    one PrometheusMetrics on prometheus_client's default registry, made on
    the first call and shared by every app of the process after it.
    """
    global _default
    if metrics is None:
        if _default is None:
            _default = PrometheusMetrics()
        metrics = _default
    app.middlewares.insert(0, metrics.middleware)
    if path is not None:
        app.router.add_get(path, metrics.handler, name="metrics")
    return metrics
