"""run_app in this process: default binding, the loop it picks, what it leaves behind, failures.

Each run is stopped the way a user stops it: the ``print`` hook (called once
run_app listens) makes a request, then sends this process SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any, TypeVarTuple

import pytest

from weft.web_core import Application, Request, Response
from weft.web_runner import AppRunner, TCPSite, access_logger, run_app
from weft.web_testing.test_utils import unused_port

TIMEOUT = 10.0
_Ts = TypeVarTuple("_Ts")


def make_app() -> Application:
    async def loop_kind(request: Request) -> Response:
        return Response(text=type(asyncio.get_running_loop()).__module__)

    app = Application()
    app.router.add_get("/", loop_kind)
    return app


async def _fetch(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    return data


def fetch_then_stop(port: int, results: list[bytes], banner: list[str]) -> Callable[..., None]:
    """A ``print`` for run_app: record the banner, make one request, then SIGINT ourselves."""
    tasks: list[asyncio.Task[None]] = []

    async def go() -> None:
        try:
            results.append(await _fetch(port))
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    def fake_print(*args: object) -> None:
        banner.append(" ".join(str(a) for a in args))
        tasks.append(asyncio.get_running_loop().create_task(go()))

    return fake_print


def test_port_alone_listens_on_every_interface() -> None:
    """run_app(app, port=N) with no host binds 0.0.0.0:N, as aiohttp's."""
    port = unused_port()
    results: list[bytes] = []
    banner: list[str] = []
    run_app(make_app(), port=port, print=fetch_then_stop(port, results, banner))
    assert banner[0].startswith(f"======== Running on http://0.0.0.0:{port} ========")
    assert results[0].startswith(b"HTTP/1.1 200 ")


def test_without_uvloop_the_loop_is_asyncios(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvloop not importable (not installed): run_app falls back to asyncio's loop."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` fail
    monkeypatch.delenv("WEFT_NO_UVLOOP", raising=False)
    port = unused_port()
    results: list[bytes] = []
    run_app(make_app(), host="127.0.0.1", port=port, print=fetch_then_stop(port, results, []))
    assert results[0].endswith(b"asyncio.unix_events")


def test_tasks_left_running_are_cancelled_and_their_errors_reported() -> None:
    """Tasks the app leaves behind are cancelled at exit; an error on the way out is reported."""
    cancelled: list[str] = []
    app = make_app()

    async def forever() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            cancelled.append("forever")

    async def fails_when_cancelled() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            cancelled.append("fails")
            raise LookupError("cleanup went wrong") from None

    left_behind: list[asyncio.Task[None]] = []

    async def start_background(app: Application) -> None:
        loop = asyncio.get_running_loop()
        left_behind.extend([loop.create_task(forever()), loop.create_task(fails_when_cancelled())])

    app.on_startup.append(start_background)
    loop = asyncio.new_event_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    port = unused_port()
    results: list[bytes] = []
    run_app(app, host="127.0.0.1", port=port, loop=loop, print=fetch_then_stop(port, results, []))
    assert sorted(cancelled) == ["fails", "forever"]
    assert all(task.done() for task in left_behind)
    assert [c["message"] for c in reported] == ["unhandled exception during run_app() shutdown"]
    assert isinstance(reported[0]["exception"], LookupError)


def test_a_debug_loop_shows_the_access_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On a loop in debug mode the default access logger is turned up to DEBUG, as aiohttp's."""
    monkeypatch.setattr(access_logger, "level", logging.NOTSET)
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    port = unused_port()
    results: list[bytes] = []
    with caplog.at_level(logging.NOTSET, logger=access_logger.name):
        run_app(
            make_app(),
            host="127.0.0.1",
            port=port,
            loop=loop,
            print=fetch_then_stop(port, results, []),
        )
        assert access_logger.level == logging.DEBUG
    lines = [r.getMessage() for r in caplog.records if r.name == access_logger.name]
    assert len(lines) == 1
    assert '"GET / HTTP/1.1" 200' in lines[0]


def test_a_site_that_cannot_start_raises_after_cleaning_up() -> None:
    """A port in use: run_app raises the OSError, after on_cleanup ran and the loop closed."""
    cleaned: list[bool] = []

    async def on_cleanup(app: Application) -> None:
        cleaned.append(True)

    app = make_app()
    app.on_cleanup.append(on_cleanup)
    loop = asyncio.new_event_loop()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="address already in use"):
            run_app(app, host="127.0.0.1", port=taken.getsockname()[1], loop=loop, print=None)
    assert cleaned == [True]
    assert loop.is_closed()


class NoSignalsLoop(asyncio.SelectorEventLoop):
    """A loop without signal handlers, as Windows' loops are."""

    def add_signal_handler(self, sig: int, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        raise NotImplementedError

    def remove_signal_handler(self, sig: int) -> bool:
        raise NotImplementedError


def test_handle_signals_on_a_loop_without_signals_still_serves() -> None:
    """handle_signals=True where the loop has no signal support: set-up and clean-up work."""

    async def main() -> bytes:
        runner = AppRunner(make_app(), handle_signals=True)
        await runner.setup()
        try:
            site = TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            return await _fetch(site.port)
        finally:
            await runner.cleanup()

    loop = NoSignalsLoop()
    try:
        # The handler names the module of the loop it runs on: this one's.
        assert loop.run_until_complete(main()).endswith(NoSignalsLoop.__module__.encode())
    finally:
        loop.close()
