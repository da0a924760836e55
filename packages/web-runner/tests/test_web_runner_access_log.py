"""Access logging: the directives, the default format, custom classes, and switching it off."""

from __future__ import annotations

import datetime
import logging
import os
import re
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import Application, BaseRequest, Request, Response, StreamResponse
from weft.web_runner import AbstractAccessLogger, AccessLogger, Server, access_logger

if TYPE_CHECKING:
    from conftest import Serve

PATH = "/items/7?color=red"


async def hello(request: BaseRequest) -> Response:
    return Response(text="hello there", headers={"X-Served-By": "weft"})


async def one_line(
    serve: Serve,
    client: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    log_format: str,
    **headers: str,
) -> logging.LogRecord:
    """Serve ``hello`` with ``log_format``, make one request, return its access record."""
    caplog.set_level(logging.INFO, logger="weft.access")
    served = await serve(hello, access_log_format=log_format)
    async with client.get(served.url(PATH), headers=headers) as response:
        assert response.status == 200
        await response.read()
    await served.cleanup()  # the line is written after the response, before the close
    records = [r for r in caplog.records if r.name == "weft.access"]
    assert len(records) == 1
    return records[0]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("log_format", "pattern"),
    [
        pytest.param("%a", r"127\.0\.0\.1", id="a-remote"),
        pytest.param("%t", r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", id="t-start"),
        pytest.param("%P", rf"<{os.getpid()}>", id="P-pid"),
        pytest.param("%r", r"GET /items/7\?color=red HTTP/1\.1", id="r-request-line"),
        pytest.param("%s", r"200", id="s-status"),
        pytest.param("%b", r"\d+", id="b-size"),
        pytest.param("%T", r"\d+", id="T-seconds"),
        pytest.param("%Tf", r"\d+\.\d{6}", id="Tf-fraction"),
        pytest.param("%D", r"\d+", id="D-microseconds"),
        pytest.param("%{X-Request-Id}i", r"req-42", id="i-request-header"),
        pytest.param("%{X-Missing}i", r"-", id="i-missing"),
        pytest.param("%{X-Served-By}o", r"weft", id="o-response-header"),
        pytest.param("%{X-Nope}o", r"-", id="o-missing"),
        pytest.param("100%% %s", r"100% 200", id="percent"),
        pytest.param("[%s] done", r"\[200\] done", id="literal-text"),
    ],
)
async def test_each_directive(
    serve: Serve,
    client: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    log_format: str,
    pattern: str,
) -> None:
    """Every aiohttp directive renders as aiohttp renders it."""
    record = await one_line(serve, client, caplog, log_format, **{"X-Request-Id": "req-42"})
    assert re.fullmatch(pattern, record.getMessage()), record.getMessage()
    assert record.levelno == logging.INFO


@pytest.mark.asyncio
async def test_size_and_time_values(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """%b counts at least the body; %T, %Tf, %D agree with each other."""
    record = await one_line(serve, client, caplog, "%b %T %Tf %D")
    size, seconds, fraction, micro = record.getMessage().split()
    assert int(size) >= len("hello there")
    assert int(seconds) == round(float(fraction))
    assert abs(int(micro) - float(fraction) * 1_000_000) <= 1


@pytest.mark.asyncio
async def test_start_time_is_now_in_local_time(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """%t is the request's start, in the local zone (bound: within a day of now)."""
    record = await one_line(serve, client, caplog, "%t")
    stamp = datetime.datetime.strptime(record.getMessage(), "[%d/%b/%Y:%H:%M:%S %z]")
    assert abs(stamp - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(days=1)


@pytest.mark.asyncio
async def test_default_format(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The default is aiohttp's: %a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"."""
    assert AccessLogger.LOG_FORMAT == '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    record = await one_line(
        serve,
        client,
        caplog,
        AccessLogger.LOG_FORMAT,
        Referer="http://ref/",
        **{"User-Agent": "ua/1"},
    )
    assert re.fullmatch(
        r'127\.0\.0\.1 \[[^]]+\] "GET /items/7\?color=red HTTP/1\.1" 200 \d+ "http://ref/" "ua/1"',
        record.getMessage(),
    ), record.getMessage()


@pytest.mark.asyncio
async def test_values_are_in_the_record_extra(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """As aiohttp: each value is also an attribute of the record, for structured logging."""
    record = await one_line(
        serve, client, caplog, "%a %s %{X-Request-Id}i", **{"X-Request-Id": "r1"}
    )
    assert record.remote_address == "127.0.0.1"  # type: ignore[attr-defined]
    assert record.response_status == 200  # type: ignore[attr-defined]
    assert record.request_header == {"X-Request-Id": "r1"}  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_app_runner_logs_every_request(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """AppRunner takes the same kwargs; 404s and keep-alive requests are logged too."""
    caplog.set_level(logging.INFO, logger="weft.access")

    async def ok(request: Request) -> Response:
        return Response(text="ok")

    app = Application()
    app.router.add_get("/", ok)
    served = await serve(app, access_log_format="%r %s")
    for path in ("/", "/missing", "/"):
        async with client.get(served.url(path)) as response:
            await response.read()
    await served.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "weft.access"]
    assert lines == ["GET / HTTP/1.1 200", "GET /missing HTTP/1.1 404", "GET / HTTP/1.1 200"]


@pytest.mark.asyncio
async def test_custom_logger_and_class(serve: Serve, client: aiohttp.ClientSession) -> None:
    """access_log_class gets (logger, format) and log(request, response, time) per request."""
    seen: list[tuple[str, int, float]] = []

    class Collect(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            assert self.log_format == "fmt"
            assert self.logger.name == "my.access"
            seen.append((request.path, response.status, time))

    served = await serve(
        hello,
        access_log_class=Collect,
        access_log=logging.getLogger("my.access"),
        access_log_format="fmt",
    )
    async with client.get(served.url("/x")) as response:
        await response.read()
    await served.cleanup()
    assert len(seen) == 1
    assert seen[0][:2] == ("/x", 200)
    assert seen[0][2] >= 0


@pytest.mark.asyncio
async def test_disabled_logger_is_never_called(serve: Serve, client: aiohttp.ClientSession) -> None:
    """``enabled`` False: log() is not called (the check is made once per connection)."""
    calls: list[int] = []

    class Off(AbstractAccessLogger):
        @property
        def enabled(self) -> bool:
            return False

        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            calls.append(1)

    served = await serve(hello, access_log_class=Off)
    async with client.get(served.url("/")) as response:
        await response.read()
    await served.cleanup()
    assert calls == []


def test_access_logger_enabled_follows_the_logger_level() -> None:
    """AccessLogger.enabled is whether the logger would emit INFO."""
    logger = logging.getLogger("weft.test.access.level")
    logger.setLevel(logging.WARNING)
    assert not AccessLogger(logger).enabled
    logger.setLevel(logging.INFO)
    assert AccessLogger(logger).enabled
    assert access_logger.name == "weft.access"


@pytest.mark.asyncio
async def test_access_log_none_turns_it_off(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """access_log=None: no access logger at all."""
    caplog.set_level(logging.INFO, logger="weft.access")
    served = await serve(hello, access_log=None)
    assert served.server.access_logger is None
    async with client.get(served.url("/")) as response:
        await response.read()
    await served.cleanup()
    assert [r for r in caplog.records if r.name == "weft.access"] == []


@pytest.mark.asyncio
async def test_a_failing_access_logger_does_not_break_the_connection(
    serve: Serve, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in log() is logged to the server logger; requests go on."""

    class Broken(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            raise RuntimeError("broken logger")

    served = await serve(hello, access_log_class=Broken)
    for _ in range(2):
        async with client.get(served.url("/")) as response:
            assert await response.text() == "hello there"
    assert any("access logger" in r.getMessage() for r in caplog.records)


def test_access_log_class_must_be_an_abstract_access_logger() -> None:
    """A wrong access_log_class is a TypeError at once, as in aiohttp."""

    async def handler(request: BaseRequest) -> Response:
        return Response()

    with pytest.raises(TypeError, match="AbstractAccessLogger"):
        Server(handler, access_log_class=object)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_environment_directive_and_unknown_percent(
    serve: Serve,
    client: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """%{NAME}e reads the environment ("-" when unset); an unknown %x stays literal."""
    monkeypatch.setenv("WEFT_TEST_ACCESS", "env-value")
    record = await one_line(serve, client, caplog, "%{WEFT_TEST_ACCESS}e %{WEFT_UNSET_X}e %x")
    assert record.getMessage() == "env-value - %x"
