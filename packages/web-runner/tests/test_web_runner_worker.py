"""The gunicorn workers' other paths under a real gunicorn master (a subprocess).

App factories of each kind, HTTPS from gunicorn's certificate settings,
and the ways a worker stops besides SIGTERM: SIGINT/SIGQUIT (gunicorn's
worker_int hook), SIGABRT (worker_abort, exit code 1, a replacement is
booted) and its master dying (the worker notices and shuts down).
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import textwrap
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest
import trustme

from weft.web_testing.test_utils import ClientSession

if TYPE_CHECKING:
    from conftest import Gunicorn, StartGunicorn

APP = textwrap.dedent(
    """
    import os

    from weft.web_core import Application, Response
    from weft.web_runner import AppRunner


    async def pid(request):
        return Response(text=str(os.getpid()))


    async def on_cleanup(app):
        print(f"cleanup {os.getpid()}", flush=True)


    def make_app():
        app = Application()
        app.router.add_get("/", pid)
        app.on_cleanup.append(on_cleanup)
        return app


    app = make_app()


    async def runner_factory():
        return AppRunner(make_app())


    async def wrong_factory():
        return "not an app"


    def plain_function():
        return make_app()
    """
)

HOOKS = textwrap.dedent(
    """
    def worker_int(worker):
        print(f"worker_int {worker.pid}", flush=True)


    def worker_abort(worker):
        print(f"worker_abort {worker.pid}", flush=True)
    """
)


class StartApp(Protocol):
    def __call__(self, *args: str, target: str = ..., scheme: str = ...) -> Awaitable[Gunicorn]: ...


@pytest.fixture
def start_gunicorn(gunicorn_master: StartGunicorn, tmp_path: Path) -> StartApp:
    """gunicorn -k GunicornWebWorker -w 1 -c HOOKS over this module's APP."""
    hooks = tmp_path / "worker_test_hooks.py"
    hooks.write_text(HOOKS)

    def start(*args: str, target: str = "app", scheme: str = "http") -> Awaitable[Gunicorn]:
        return gunicorn_master(
            APP, "--config", f"file:{hooks}", *args, target=target, scheme=scheme
        )

    return start


async def get_pid(
    gunicorn: Gunicorn, session: ClientSession, ssl_context: ssl.SSLContext | None = None
) -> int:
    """The pid of the worker that answers."""
    await gunicorn.listening()
    response = await session.get(gunicorn.url(), headers={"Connection": "close"}, ssl=ssl_context)
    return int(await response.text())


@pytest.mark.asyncio
async def test_a_factory_returning_an_app_runner_is_served(start_gunicorn: StartApp) -> None:
    """An async factory may return an AppRunner: the worker serves it as it is."""
    gunicorn = await start_gunicorn(target="runner_factory")
    async with ClientSession() as session:
        pid = await get_pid(gunicorn, session)
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"cleanup {pid}" in gunicorn.stdout


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("wrong_factory", "it must return an Application or an AppRunner"),
        ("plain_function", "wsgi app should be either Application or async function"),
    ],
)
async def test_a_target_that_is_not_an_app_fails_the_boot(
    start_gunicorn: StartApp, target: str, message: str
) -> None:
    """A factory returning something else, or a plain function: the worker fails to boot.

    gunicorn then stops with its boot-error exit code (3), the reason in its log.
    """
    gunicorn = await start_gunicorn(target=target)
    assert await gunicorn.finish() == 3
    assert message in gunicorn.stderr
    assert "Worker failed to boot" in gunicorn.stderr


@pytest.mark.asyncio
async def test_certfile_and_keyfile_serve_https(start_gunicorn: StartApp, tmp_path: Path) -> None:
    """gunicorn's --certfile/--keyfile: the worker serves HTTPS with that certificate."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    gunicorn = await start_gunicorn(
        "--certfile",
        str(tmp_path / "cert.pem"),
        "--keyfile",
        str(tmp_path / "key.pem"),
        scheme="https",
    )
    async with ClientSession() as session:
        pid = await get_pid(gunicorn, session, client_context)
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"cleanup {pid}" in gunicorn.stdout


@pytest.mark.asyncio
async def test_sigint_stops_the_worker_through_worker_int(start_gunicorn: StartApp) -> None:
    """SIGINT to the master: the worker gets SIGQUIT, runs worker_int, and shuts down cleanly."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        pid = await get_pid(gunicorn, session)
    gunicorn.process.send_signal(signal.SIGINT)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"worker_int {pid}" in gunicorn.stdout
    assert f"cleanup {pid}" in gunicorn.stdout
    assert "Traceback" not in gunicorn.stderr


@pytest.mark.asyncio
async def test_sigabrt_exits_the_worker_and_gunicorn_replaces_it(
    start_gunicorn: StartApp,
) -> None:
    """SIGABRT to a worker: worker_abort runs, it exits with code 1, a new worker serves."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        first = await get_pid(gunicorn, session)
        os.kill(first, signal.SIGABRT)
        await gunicorn.wait_for_log(re.escape(f"Worker (pid:{first}) exited with code 1"))
        booted = await gunicorn.wait_for_log("Booting worker with pid:", count=2)
        second = int(booted.rsplit(":", 1)[1])
        assert await get_pid(gunicorn, session) == second
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"worker_abort {first}" in gunicorn.stdout
    assert f"cleanup {second}" in gunicorn.stdout


@pytest.mark.asyncio
async def test_a_worker_whose_master_dies_shuts_down(start_gunicorn: StartApp) -> None:
    """The master killed: the worker sees its parent change, and shuts down gracefully."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        pid = await get_pid(gunicorn, session)
    gunicorn.process.kill()
    assert await gunicorn.finish() == -signal.SIGKILL  # returns once the worker closed its pipes
    assert "Parent changed, shutting down" in gunicorn.stderr
    assert f"cleanup {pid}" in gunicorn.stdout
