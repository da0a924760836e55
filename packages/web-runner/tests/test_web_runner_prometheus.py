"""The prometheus extra: what each metric counts, the exposition, multiprocess mode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from weft.web_core import Application, Request, Response, StreamResponse, WebSocketResponse
from weft.web_exceptions import HTTPFound, HTTPServiceUnavailable
from weft.web_runner.observer import ServerObserver, observe_server
from weft.web_runner.prometheus import UNMATCHED_ROUTE, PrometheusMetrics, setup_metrics

if TYPE_CHECKING:
    from conftest import Serve, StartGunicorn, Until

REQUESTS = "weft_http_requests_total"


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    assert metrics.registry is not None
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


async def ok(request: Request) -> Response:
    return Response(text="ok")


def make_app(metrics: PrometheusMetrics) -> Application:
    app = Application(client_max_size=10)
    app.router.add_get("/users/{name}", ok)
    app.router.add_get("/static-name", ok, name="named")

    async def redirect(request: Request) -> Response:
        raise HTTPFound("/users/x")

    async def unavailable(request: Request) -> Response:
        raise HTTPServiceUnavailable()

    async def boom(request: Request) -> Response:
        raise ValueError("boom")

    async def upload(request: Request) -> Response:
        await request.read()
        return Response(text="read")

    app.router.add_get("/redirect", redirect)
    app.router.add_get("/unavailable", unavailable)
    app.router.add_get("/boom", boom)
    app.router.add_post("/upload", upload)
    app.router.add_route("PURGE", "/users/{name}", ok)
    setup_metrics(app, metrics=metrics)
    return app


@pytest.mark.asyncio
async def test_requests_are_counted_by_route_template_and_status_class(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """Labels are bounded: route templates, one value for every unmatched path,
    status classes, and one value for methods outside the standard ones."""
    metrics = PrometheusMetrics(CollectorRegistry())
    served = await serve(make_app(metrics))
    requests = [
        ("GET", "/users/ann"),
        ("GET", "/users/bob"),
        ("GET", "/static-name"),
        ("GET", "/redirect"),
        ("GET", "/unavailable"),
        ("GET", "/boom"),
        ("GET", "/nowhere/1"),
        ("GET", "/nowhere/2"),
        ("POST", "/users/ann"),
        ("PURGE", "/users/ann"),
    ]
    for method, path in requests:
        async with client.request(method, served.url(path), allow_redirects=False) as response:
            await response.read()
    assert value(metrics, REQUESTS, method="GET", route="/users/{name}", status_class="2xx") == 2
    assert value(metrics, REQUESTS, method="GET", route="/static-name", status_class="2xx") == 1
    # Raised HTTP exceptions count with their status; an escaped exception as the 500 it is.
    assert value(metrics, REQUESTS, method="GET", route="/redirect", status_class="3xx") == 1
    assert value(metrics, REQUESTS, method="GET", route="/unavailable", status_class="5xx") == 1
    assert value(metrics, REQUESTS, method="GET", route="/boom", status_class="5xx") == 1
    assert value(metrics, REQUESTS, method="GET", route=UNMATCHED_ROUTE, status_class="4xx") == 2
    # 405: the path exists, the method not; unmatched too.
    assert value(metrics, REQUESTS, method="POST", route=UNMATCHED_ROUTE, status_class="4xx") == 1
    assert value(metrics, REQUESTS, method="_OTHER", route="/users/{name}", status_class="2xx") == 1
    histogram = "weft_http_request_duration_seconds_count"
    assert value(metrics, histogram, method="GET", route="/users/{name}", status_class="2xx") == 2
    assert value(metrics, "weft_http_requests_in_flight") == 0


@pytest.mark.asyncio
async def test_in_flight_counts_the_requests_being_handled(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """The gauge is up while a handler runs and back down once it returned."""
    metrics = PrometheusMetrics(CollectorRegistry())
    entered = asyncio.Event()
    release = asyncio.Event()

    async def held(request: Request) -> Response:
        entered.set()
        await release.wait()
        return Response(text="done")

    app = Application()
    app.router.add_get("/held", held)
    setup_metrics(app, metrics=metrics, path=None)
    served = await serve(app)
    pending = asyncio.create_task(client.get(served.url("/held")))
    await entered.wait()
    assert value(metrics, "weft_http_requests_in_flight") == 1
    release.set()
    response = await pending
    assert await response.text() == "done"
    assert value(metrics, "weft_http_requests_in_flight") == 0


@pytest.mark.asyncio
async def test_a_request_whose_client_left_is_not_counted(serve: Serve, until: Until) -> None:
    """Cancelled with its connection (handler_cancellation=True), it has no status to
    count; it leaves the in-flight gauge all the same."""
    metrics = PrometheusMetrics(CollectorRegistry())
    entered = asyncio.Event()

    async def forever(request: Request) -> Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("cancelled before")

    app = Application()
    app.router.add_get("/forever", forever)
    setup_metrics(app, metrics=metrics, path=None)
    served = await serve(app, handler_cancellation=True)
    connection = await served.connect()
    connection.send(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
    await entered.wait()
    assert value(metrics, "weft_http_requests_in_flight") == 1
    connection.abort()
    await until(lambda: value(metrics, "weft_http_requests_in_flight") == 0)
    assert metrics.registry is not None
    assert not [
        sample
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == REQUESTS
    ]


@pytest.mark.asyncio
async def test_open_connections_follow_the_server(serve: Serve, until: Until) -> None:
    """Connections open before the first request are counted, and each close once."""
    metrics = PrometheusMetrics(CollectorRegistry())
    app = Application()
    app.router.add_get("/", ok)
    setup_metrics(app, metrics=metrics)
    served = await serve(app)
    first, second = await served.connect(), await served.connect()
    await until(lambda: len(served.server.connections) == 2)
    first.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await first.response()).body == b"ok"
    assert value(metrics, "weft_http_open_connections") == 2
    third = await served.connect()
    await until(lambda: value(metrics, "weft_http_open_connections") == 3)
    for connection in (first, second, third):
        await connection.close()
    await until(lambda: value(metrics, "weft_http_open_connections") == 0)


@pytest.mark.asyncio
async def test_rejections_the_app_answers_and_those_the_protocol_reports(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A body over client_max_size is a 413 the middleware sees; the protocol's own
    rejections arrive through the observer interface."""
    metrics = PrometheusMetrics(CollectorRegistry())
    served = await serve(make_app(metrics))
    async with client.post(served.url("/upload"), data=b"x" * 100) as response:
        assert response.status == 413
    assert value(metrics, "weft_http_rejections_total", status="413", by="app") == 1
    metrics.request_rejected(431)
    assert value(metrics, "weft_http_rejections_total", status="431", by="protocol") == 1
    metrics.websocket_closed(1009)
    assert value(metrics, "weft_websocket_closes_total", code="1009") == 1


@pytest.mark.asyncio
async def test_the_protocols_own_rejections_are_counted_once_the_server_is_observed(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """A 431 and a bad request-line the app never sees, reported by the protocol."""
    metrics = PrometheusMetrics(CollectorRegistry())
    served = await serve(make_app(metrics))
    async with client.get(served.url("/static-name")) as response:  # the Server's first
        assert response.status == 200
    too_big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    assert (await served.exchange(too_big))[:12] == b"HTTP/1.1 431"
    assert (await served.exchange(b"\x16\x03\x01\x02\x00"))[:12] == b"HTTP/1.1 400"
    assert value(metrics, "weft_http_rejections_total", status="431", by="protocol") == 1
    assert value(metrics, "weft_http_rejections_total", status="400", by="protocol") == 1


@pytest.mark.asyncio
async def test_the_bodys_rejections_are_the_protocols(serve: Serve, until: Until) -> None:
    """A body that stops arriving (408) and a broken one (400): the connection answers and
    reports them (by="protocol"), once; the request counts with the status the client
    got, not as an escaped exception's 500, and not as the app's rejection."""
    metrics = PrometheusMetrics(CollectorRegistry())
    served = await serve(make_app(metrics), read_body_timeout=0.2)
    stalled = await served.connect()
    stalled.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert (await stalled.response()).status == 408
    broken = await served.connect()
    broken.send(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n"
    )
    assert (await broken.response()).status == 400
    for connection in (stalled, broken):
        await connection.read_to_eof()
        await connection.close()
    await until(lambda: value(metrics, "weft_http_open_connections") == 0)
    rejections = "weft_http_rejections_total"
    assert value(metrics, rejections, status="408", by="protocol") == 1
    assert value(metrics, rejections, status="400", by="protocol") == 1
    assert value(metrics, rejections, status="408", by="app") == 0
    assert value(metrics, rejections, status="400", by="app") == 0
    assert value(metrics, REQUESTS, method="POST", route="/upload", status_class="4xx") == 2
    assert value(metrics, REQUESTS, method="POST", route="/upload", status_class="5xx") == 0


@pytest.mark.asyncio
async def test_a_websocket_the_connection_closes_is_counted_once(
    serve: Serve, client: aiohttp.ClientSession, until: Until
) -> None:
    """A handler that returns its WebSocket open: the connection closes it (1000) after
    the handler returned, and reports it; counted once."""
    metrics = PrometheusMetrics(CollectorRegistry())

    async def once(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(await ws.receive_str())
        return ws

    app = Application()
    app.router.add_get("/ws", once)
    setup_metrics(app, metrics=metrics)
    served = await serve(app)
    async with client.ws_connect(served.url("/ws")) as ws:
        await ws.send_str("hi")
        assert (await ws.receive()).data == "hi"
        assert (await ws.receive()).type is aiohttp.WSMsgType.CLOSE
    await until(lambda: value(metrics, "weft_websocket_closes_total", code="1000") == 1)
    await until(lambda: value(metrics, "weft_http_open_connections") == 0)
    assert value(metrics, "weft_websocket_closes_total", code="1000") == 1


@pytest.mark.asyncio
async def test_websocket_closes_are_counted_by_code(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """The handler's WebSocketResponse, closed when it returns, gives its close code."""
    metrics = PrometheusMetrics(CollectorRegistry())

    async def echo(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data)
        return ws

    app = Application()
    app.router.add_get("/ws", echo)
    setup_metrics(app, metrics=metrics)
    served = await serve(app)
    async with client.ws_connect(served.url("/ws")) as ws:
        await ws.send_str("hi")
        assert (await ws.receive()).data == "hi"
        await ws.close(code=4000)
    async with client.get(served.url("/metrics")) as response:
        await response.read()
    assert value(metrics, "weft_websocket_closes_total", code="4000") == 1
    assert value(metrics, REQUESTS, method="GET", route="/ws", status_class="1xx") == 1


@pytest.mark.asyncio
async def test_the_exposition_speaks_both_formats(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """Prometheus's text format by default, OpenMetrics when the scraper asks for it."""
    metrics = PrometheusMetrics(CollectorRegistry())
    served = await serve(make_app(metrics))
    async with client.get(served.url("/users/ann")) as response:
        await response.read()
    async with client.get(served.url("/metrics")) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    samples = families["weft_http_requests"].samples
    assert {s.labels["route"] for s in samples if s.name == REQUESTS} == {"/users/{name}"}
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with client.get(served.url("/metrics"), headers=accept) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await response.text()).endswith("# EOF\n")


def test_setup_metrics_shares_one_default_on_the_default_registry() -> None:
    """Two apps of one process: one set of metrics, not a duplicate-name error."""
    first, second = Application(), Application()
    metrics = setup_metrics(first)
    assert setup_metrics(second, path="/m") is metrics
    assert metrics.registry is REGISTRY
    assert first.middlewares[0] is metrics.middleware
    assert [r.canonical for r in second.router.resources()] == ["/m"]


@pytest.mark.asyncio
async def test_observe_server_reports_each_connection_once(serve: Serve, until: Until) -> None:
    """A second observer starts from the connections open; attaching twice changes nothing;
    connections the Server dropped at shutdown are still reported closed."""

    class Count(ServerObserver):
        def __init__(self) -> None:
            self.open = 0

        def connection_opened(self) -> None:
            self.open += 1

        def connection_closed(self) -> None:
            self.open -= 1

    served = await serve(Application())
    first, late = Count(), Count()
    assert observe_server(served.server, first)
    assert not observe_server(served.server, first)
    await served.connect()
    await until(lambda: first.open == 1)
    assert observe_server(served.server, late)
    assert late.open == 1
    ServerObserver().request_rejected(400)  # the defaults do nothing
    ServerObserver().websocket_closed(1000)
    await served.cleanup()
    await until(lambda: first.open == 0 and late.open == 0)


WRITER = """
import asyncio, sys
from weft.web_core import Application, Response
from weft.web_testing.test_utils import TestClient, TestServer
from weft.web_runner.prometheus import setup_metrics

async def ok(request):
    return Response(text="ok")

async def main(count):
    app = Application()
    app.router.add_get("/items/{id}", ok)
    setup_metrics(app)
    async with TestClient(TestServer(app)) as client:
        for i in range(count):
            response = await client.get(f"/items/{i}")
            assert response.status == 200

asyncio.run(main(int(sys.argv[1])))
"""

COLLECTOR = """
import asyncio
from weft.web_core import Application
from weft.web_testing.test_utils import TestClient, TestServer
from weft.web_runner.prometheus import setup_metrics

async def main():
    app = Application()
    setup_metrics(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        print(await response.text())

asyncio.run(main())
"""


def test_multiprocess_mode_merges_every_worker(tmp_path: Path) -> None:
    """Two processes count under PROMETHEUS_MULTIPROC_DIR; a third's /metrics sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(n)], env=env) for n in (3, 5)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    done = subprocess.run(
        [sys.executable, "-c", COLLECTOR],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    families = {f.name: f for f in text_string_to_metric_families(done.stdout)}
    totals = {
        s.labels["route"]: s.value
        for s in families["weft_http_requests"].samples
        if s.name == REQUESTS
    }
    assert totals == {"/items/{id}": 8.0}
    # The writers have exited; livesum gauges count live processes only (the
    # collector's own connection, if any, is the only one left).
    gauge = families["weft_http_open_connections"].samples
    assert sum(s.value for s in gauge) <= 1


def test_nothing_is_imported_without_the_extras() -> None:
    """A server that does not ask for metrics or traces loads neither library."""
    code = textwrap.dedent(
        """
        import asyncio, sys
        from weft.web_core import Application, Response
        from weft.web_testing.test_utils import TestClient, TestServer

        async def ok(request):
            return Response(text="ok")

        async def main():
            app = Application()
            app.router.add_get("/", ok)
            async with TestClient(TestServer(app)) as client:
                assert (await client.get("/")).status == 200

        asyncio.run(main())
        print(sorted(m for m in sys.modules if m.split(".")[0] in
                     ("prometheus_client", "opentelemetry")
                     or m in ("weft.web_runner.prometheus", "weft.web_runner.otel",
                              "weft.web_runner.observer")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("status", [99, 600])
def test_statuses_outside_the_classes_have_their_own_label(status: int) -> None:
    """A handler may set any status aiohttp accepts: such statuses share one label."""
    from weft.web_runner.prometheus import _status_class

    assert _status_class(status) == "other"


GUNICORN_APP = """
import os
from weft.web_core import Application, Response
from weft.web_runner.prometheus import setup_metrics

async def pid(request):
    return Response(text=str(os.getpid()))

async def app():
    application = Application()
    application.router.add_get("/pid/{n}", pid)
    setup_metrics(application)
    return application
"""

# The deployment guide's settings (docs/deployment.md, "Metrics and traces").
GUNICORN_CONFIG = """
raw_env = ["PROMETHEUS_MULTIPROC_DIR={directory}"]

def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
"""


@pytest.mark.asyncio
async def test_gunicorn_workers_answer_for_each_other(
    gunicorn_master: StartGunicorn, tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    """Two weft workers under a real gunicorn master: any worker's /metrics counts
    the requests both served."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    config = tmp_path / "metrics_conf.py"
    config.write_text(GUNICORN_CONFIG.format(directory=directory))
    gunicorn = await gunicorn_master(GUNICORN_APP, "--config", str(config), target="app", workers=2)
    await gunicorn.listening()
    pids = set()
    for n in range(40):
        url = gunicorn.url(f"/pid/{n}")
        async with client.get(url, headers={"Connection": "close"}) as response:
            pids.add(await response.text())
    async with client.get(gunicorn.url("/metrics"), headers={"Connection": "close"}) as response:
        families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    served = {
        s.labels["route"]: s.value
        for s in families["weft_http_requests"].samples
        if s.name == REQUESTS
    }
    assert served == {"/pid/{n}": 40.0}
    # Each worker wrote its own files: with both serving, the sum is of both.
    assert len({p.name.rsplit("_", 1)[-1] for p in directory.glob("counter_*.db")}) == len(pids)
    gunicorn.process.terminate()
    assert await gunicorn.finish() == 0
