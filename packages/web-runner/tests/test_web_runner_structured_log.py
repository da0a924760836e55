"""The structured access log: the fields of each record, their JSON form, and their failures."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
import pytest

from weft.web_core import (
    Application,
    BaseRequest,
    Request,
    Response,
    StreamResponse,
    trusted_proxies_middleware,
)
from weft.web_runner import (
    AbstractAccessLogger,
    AccessLogger,
    JsonAccessFormatter,
    StructuredAccessLogger,
)
from weft.web_runner._access_log import _KeyMethod

if TYPE_CHECKING:
    from collections.abc import Mapping

    from conftest import Serve, VirtualClock

    from weft.web_runner._structured_log import AccessField


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "weft.access"]


async def _hello(request: Request) -> Response:
    return Response(text="hello there")


@pytest.mark.asyncio
async def test_record_fields(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """One record per request, its fields as a dict on the record, the message the classic line."""
    caplog.set_level(logging.INFO, logger="weft.access")
    app = Application()
    app.router.add_get("/items/{id}", _hello)
    served = await serve(app, access_log_class=StructuredAccessLogger)
    headers = {"Referer": "https://ref.example/", "User-Agent": "probe/1.0"}
    async with client.get(served.url("/items/a%20b?x=1&y=%C3%A9"), headers=headers) as response:
        assert response.status == 200
        body = await response.read()
    await served.cleanup()
    [record] = _records(caplog)
    fields: dict[str, Any] = record.weft_access  # type: ignore[attr-defined]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("127.0.0.1 [")
    assert '"GET /items/a%20b?x=1&y=%C3%A9 HTTP/1.1" 200 11 "https://ref.example/" "probe/1.0"' in (
        record.getMessage()
    )
    assert {
        k: fields[k] for k in fields if k not in ("start", "duration", "head_time", "bytes_sent")
    } == {
        "remote": "127.0.0.1",
        "peer": "127.0.0.1",
        "scheme": "http",
        "host": f"127.0.0.1:{served.port}",
        "method": "GET",
        "path": "/items/a%20b",
        "query": "x=1&y=%C3%A9",
        "version": "1.1",
        "status": 200,
        "body_bytes": len(body),
        "referer": "https://ref.example/",
        "user_agent": "probe/1.0",
    }
    assert fields["bytes_sent"] > len(body)  # the head is counted too
    assert 0 <= fields["head_time"] <= fields["duration"]
    assert fields["start"].endswith("+00:00")


@pytest.mark.asyncio
async def test_head_time_of_a_streamed_response(
    serve: Serve,
    client: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    clock: VirtualClock,
) -> None:
    """The head's time is when prepare() sent it; the duration runs to the end of the body."""
    caplog.set_level(logging.INFO, logger="weft.access")

    async def stream(request: Request) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"first ")
        await clock.advance(30)  # the loop's clock, as the server reads it
        await response.write(b"last")
        return response

    served = await serve(stream, access_log_class=StructuredAccessLogger)
    async with client.get(served.url("/")) as response:
        assert await response.read() == b"first last"
    await served.cleanup()
    [record] = _records(caplog)
    fields = record.weft_access  # type: ignore[attr-defined]
    assert fields["head_time"] < 30 <= fields["duration"]
    assert fields["body_bytes"] == 10


@pytest.mark.asyncio
async def test_the_client_named_by_trusted_proxies(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a trusted proxy the record names the client, its scheme and host, and the peer."""
    caplog.set_level(logging.INFO, logger="weft.access")
    app = Application(middlewares=[trusted_proxies_middleware(["127.0.0.1"])])
    app.router.add_get("/", _hello)
    served = await serve(app, access_log_class=StructuredAccessLogger)
    headers = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "shop.example",
    }
    async with client.get(served.url("/"), headers=headers) as response:
        assert response.status == 200
    await served.cleanup()
    [record] = _records(caplog)
    fields = record.weft_access  # type: ignore[attr-defined]
    assert (fields["remote"], fields["peer"]) == ("203.0.113.9", "127.0.0.1")
    assert (fields["scheme"], fields["host"]) == ("https", "shop.example")


def _boom(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    raise LookupError("no tenant")


class _Failing(StructuredAccessLogger):
    """A field of the user's that raises, beside one that works."""

    FIELDS: ClassVar[Mapping[str, AccessField]] = {
        **StructuredAccessLogger.FIELDS,
        "tenant": _boom,
        "answered_with": lambda request, response, duration: response.headers["X-Answer"],
    }


@pytest.mark.asyncio
async def test_a_failing_field_breaks_nothing(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A field that raises is None and named under errors; the request and other fields stand."""
    caplog.set_level(logging.INFO, logger="weft.access")

    async def handler(request: Request) -> Response:
        return Response(text="fine", headers={"X-Answer": "42"})

    served = await serve(handler, access_log_class=_Failing)
    for _ in range(2):  # the connection survives it, keep-alive
        async with client.get(served.url("/")) as response:
            assert response.status == 200
            assert await response.text() == "fine"
    await served.cleanup()
    records = _records(caplog)
    assert len(records) == 2
    fields = records[0].weft_access  # type: ignore[attr-defined]
    assert fields["tenant"] is None
    assert fields["errors"] == {"tenant": "LookupError('no tenant')"}
    assert (fields["answered_with"], fields["status"]) == ("42", 200)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failing_message_keeps_the_record(caplog: pytest.LogCaptureFixture) -> None:
    """When the format line cannot be made, the record still carries the fields."""
    from weft.web_core.test_utils import make_mocked_request

    caplog.set_level(logging.INFO, logger="weft.access")

    def broken(request: BaseRequest, response: StreamResponse, time: float) -> object:
        raise ValueError("bad directive")

    logger = StructuredAccessLogger(logging.getLogger("weft.access"), "%s")
    logger._methods = [_KeyMethod("x", broken)]
    logger.log(make_mocked_request("GET", "/p"), Response(status=204), 0.25)
    [record] = _records(caplog)
    assert record.getMessage() == "GET /p 204"
    assert record.weft_access["errors"] == {"message": "ValueError('bad directive')"}  # type: ignore[attr-defined]
    assert record.weft_access["duration"] == 0.25  # type: ignore[attr-defined]
    assert record.weft_access["head_time"] is None  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_other_access_loggers_do_not_time_the_head(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """Only a logger with wants_head_time has the server read the clock for the head."""
    seen: list[float | None] = []

    class Peek(AccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            seen.append(request.writer.head_time)

    class PeekTimed(Peek):
        wants_head_time = True

    for cls in (Peek, PeekTimed):
        served = await serve(_hello, access_log_class=cls, access_log=logging.getLogger("x"))
        logging.getLogger("x").setLevel(logging.INFO)
        async with client.get(served.url("/")) as response:
            await response.read()
        await served.cleanup()
    logging.getLogger("x").setLevel(logging.NOTSET)
    assert seen[0] is None
    assert seen[1] is not None
    assert seen[1] >= 0
    assert AbstractAccessLogger.wants_head_time is False


def _record(fields: object = None, **kwargs: Any) -> logging.LogRecord:
    record = logging.LogRecord("weft.access", logging.INFO, __file__, 1, "GET / %s", (200,), None)
    if fields is not None:
        record.weft_access = fields
    record.__dict__.update(kwargs)
    return record


def test_json_formatter_output_parses_back() -> None:
    """One line of JSON: the record's own keys and every field, values as given."""
    fields = {
        "remote": "203.0.113.9",
        "status": 200,
        "duration": 0.0125,
        "head_time": None,
        "user_agent": 'evil\n{"status": 500}',
        "message": "a field named like a formatter key",
        "when": object(),
    }
    line = JsonAccessFormatter().format(_record(fields))
    assert "\n" not in line  # a client's newline cannot start a forged line
    parsed = json.loads(line)
    assert parsed["message"] == "GET / 200"
    assert (parsed["level"], parsed["logger"]) == ("INFO", "weft.access")
    assert parsed["time"].endswith("+00:00")
    assert parsed["field_message"] == "a field named like a formatter key"
    assert parsed["when"].startswith("<object object")
    assert {k: parsed[k] for k in ("remote", "status", "duration", "head_time", "user_agent")} == {
        k: fields[k] for k in ("remote", "status", "duration", "head_time", "user_agent")
    }


def test_json_formatter_takes_any_record() -> None:
    """A record without fields (weft.server's errors) is a JSON line too, with its traceback."""
    try:
        raise RuntimeError("handler failed")
    except RuntimeError:
        failed = _record(exc_info=sys.exc_info())
    parsed = json.loads(JsonAccessFormatter().format(failed))
    assert "RuntimeError: handler failed" in parsed["exception"]
    assert "weft_access" not in parsed
    cached = json.loads(JsonAccessFormatter().format(_record(exc_text="Traceback: earlier")))
    assert cached["exception"] == "Traceback: earlier"
    not_a_mapping = JsonAccessFormatter().format(_record("not a mapping"))
    assert json.loads(not_a_mapping)["message"] == "GET / 200"


@pytest.mark.asyncio
async def test_json_lines_end_to_end(
    serve: Serve, client: aiohttp.ClientSession, tmp_path: Any
) -> None:
    """A file handler with the formatter gets one parseable line per request."""
    path = tmp_path / "access.jsonl"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonAccessFormatter())
    logger = logging.getLogger("test.structured.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        served = await serve(_hello, access_log_class=StructuredAccessLogger, access_log=logger)
        for path_qs in ("/a", "/b?c=d"):
            async with client.get(served.url(path_qs)) as response:
                await response.read()
        await served.cleanup()
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["path"], line["query"], line["status"]) for line in lines] == [
        ("/a", "", 200),
        ("/b", "c=d", 200),
    ]
    assert all(line["logger"] == "test.structured.access" for line in lines)


@pytest.mark.asyncio
async def test_chosen_through_the_apps_handler_args(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """handler_args (how a gunicorn-served app picks it) select it, head timing included."""
    caplog.set_level(logging.INFO, logger="weft.access")
    app = Application(handler_args={"access_log_class": StructuredAccessLogger})
    app.router.add_get("/", _hello)
    served = await serve(app)
    async with client.get(served.url("/")) as response:
        await response.read()
    await served.cleanup()
    [record] = _records(caplog)
    assert record.weft_access["head_time"] is not None  # type: ignore[attr-defined]
