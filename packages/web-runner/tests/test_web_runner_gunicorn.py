"""The gunicorn workers under a real gunicorn master (subprocess) with two workers."""

from __future__ import annotations

import re
import signal
import sys
import textwrap
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

import pytest

from weft.web_testing.test_utils import ClientConnectionError, ClientSession

gunicorn_config = pytest.importorskip("gunicorn.config")

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("gunicorn runs on POSIX only", allow_module_level=True)

if TYPE_CHECKING:
    from conftest import Gunicorn, StartGunicorn

APP = textwrap.dedent(
    """
    import asyncio
    import os
    import sys

    from weft.web_core import Application, Response, StreamResponse

    shutting_down = asyncio.Event()


    async def pid(request):
        loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
        return Response(text=f"{os.getpid()} {loop}")


    # In flight until the worker's graceful shutdown has begun; "held" tells the
    # client that the request has reached its handler.
    async def held(request):
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"held\\n")
        await shutting_down.wait()
        await response.write(b"done after shutdown began\\n")
        await response.write_eof()
        return response


    async def on_startup(app):
        # After the worker's own signal handlers are installed: until then a
        # SIGTERM meets the handler inherited from the master, which drops it.
        print(f"started {os.getpid()}", file=sys.stderr, flush=True)


    async def on_shutdown(app):
        shutting_down.set()


    async def on_cleanup(app):
        print(f"cleanup {os.getpid()}", flush=True)


    app = Application()
    app.router.add_get("/", pid)
    app.router.add_get("/held", held)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)


    async def factory():
        return app
    """
)


@pytest.fixture
def start_gunicorn(gunicorn_master: StartGunicorn) -> StartApp:
    """gunicorn over this module's APP (two workers unless told)."""

    def start(
        worker: str, *args: str, target: str = "app", workers: int = 2
    ) -> Awaitable[Gunicorn]:
        return gunicorn_master(APP, *args, target=target, worker=worker, workers=workers)

    return start


class StartApp(Protocol):
    def __call__(
        self, worker: str, *args: str, target: str = ..., workers: int = ...
    ) -> Awaitable[Gunicorn]: ...


async def wait_ready(gunicorn: Gunicorn, session: ClientSession) -> None:
    """The master listens and a first request is answered."""
    await gunicorn.listening()
    try:
        response = await session.get(gunicorn.url(), headers={"Connection": "close"})
    except ClientConnectionError:
        await gunicorn.finish()
        pytest.fail(f"gunicorn did not answer:\n{gunicorn.stderr}")
    await response.read()


async def _serve_and_stop(gunicorn: Gunicorn, expect_loop: str) -> None:
    """Requests are served by the workers; SIGTERM lets an in-flight request finish."""
    async with ClientSession() as session:
        await wait_ready(gunicorn, session)
        answers = []
        for _ in range(10):
            response = await session.get(gunicorn.url(), headers={"Connection": "close"})
            answers.append(await response.text())
        response = await session.get(gunicorn.url("/held"))
        assert response.status == 200
        assert await response.content.readline() == b"held\n"  # in its handler
        await gunicorn.wait_for_log(r"started \d+", count=2)  # both workers can take it
        gunicorn.process.send_signal(signal.SIGTERM)
        assert await response.text() == "done after shutdown began\n"
    assert await gunicorn.finish() == 0, gunicorn.stderr
    booted = gunicorn.booted_pids()
    assert len(booted) == 2, gunicorn.stderr
    for answer in answers:
        pid, loop = answer.split()
        assert int(pid) in booted
        assert loop == expect_loop
    for worker_pid in booted:
        assert f"Worker exiting (pid: {worker_pid})" in gunicorn.stderr
        assert f"cleanup {worker_pid}" in gunicorn.stdout  # on_cleanup ran in every worker
    assert "Traceback" not in gunicorn.stderr


@pytest.mark.asyncio
async def test_two_workers_serve_and_shut_down_on_sigterm(start_gunicorn: StartApp) -> None:
    """A gunicorn master with two GunicornWebWorkers serves, then stops cleanly on SIGTERM."""
    gunicorn = await start_gunicorn("GunicornWebWorker")
    await _serve_and_stop(gunicorn, "asyncio")


@pytest.mark.asyncio
async def test_uvloop_worker(start_gunicorn: StartApp) -> None:
    """GunicornUVLoopWebWorker serves on uvloop's event loop."""
    pytest.importorskip("uvloop")
    gunicorn = await start_gunicorn("GunicornUVLoopWebWorker")
    await _serve_and_stop(gunicorn, "uvloop")


@pytest.mark.asyncio
async def test_async_factory_and_access_log(start_gunicorn: StartApp) -> None:
    """An async factory is awaited for the app; gunicorn's default access log format works."""
    gunicorn = await start_gunicorn(
        "GunicornWebWorker", "--access-logfile", "-", target="factory", workers=1
    )
    async with ClientSession() as session:
        await wait_ready(gunicorn, session)
        response = await session.get(gunicorn.url("/"), headers={"User-Agent": "probe/1"})
        assert response.status == 200
        await response.read()
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert re.search(r'"GET / HTTP/1.1" 200 \d+ "-" "probe/1"', gunicorn.stdout), gunicorn.stdout


@pytest.mark.asyncio
async def test_max_requests_restarts_the_worker(start_gunicorn: StartApp) -> None:
    """After max_requests requests the worker exits and gunicorn boots a new one."""
    gunicorn = await start_gunicorn("GunicornWebWorker", "--max-requests", "2", workers=1)
    async with ClientSession() as session:
        await wait_ready(gunicorn, session)  # the first request
        pids = set()
        for _ in range(2):  # the worker exits after its third
            response = await session.get(gunicorn.url(), headers={"Connection": "close"})
            pids.add((await response.text()).split()[0])
        await gunicorn.wait_for_log(r"Max requests, shutting down")
        await gunicorn.wait_for_log(r"Booting worker with pid: ", count=2)  # its successor
        response = await session.get(gunicorn.url(), headers={"Connection": "close"})
        pids.add((await response.text()).split()[0])
    assert len(pids) == 2
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert "Max requests, shutting down" in gunicorn.stderr


def test_access_log_format_conversion() -> None:
    """gunicorn's default and %(x)s formats become weft directives; unknown atoms are refused."""
    from weft.web_runner import AccessLogger
    from weft.web_runner.worker import convert_access_log_format

    assert convert_access_log_format(gunicorn_config.AccessLogFormat.default) == (
        AccessLogger.LOG_FORMAT
    )
    assert convert_access_log_format('%(h)s "%(r)s" %(s)s %(L)s %({x-id}i)s') == (
        '%a "%r" %s %Tf %{x-id}i'
    )
    assert convert_access_log_format("%a %t %s") == "%a %t %s"
    with pytest.raises(ValueError, match="no weft equivalent"):
        convert_access_log_format("%(U)s")
