"""The gunicorn workers' other paths under a real gunicorn master (a subprocess).

App factories of each kind, HTTPS from gunicorn's certificate settings,
and the ways a worker stops besides SIGTERM: SIGINT/SIGQUIT (gunicorn's
worker_int hook), SIGABRT (worker_abort, exit code 1, a replacement is
booted) and its master dying (the worker notices and shuts down).
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio
import trustme

from weft.web_runner.test_utils import ClientSession, unused_port

gunicorn_config = pytest.importorskip("gunicorn.config")

TIMEOUT = 20.0  # a safety bound only: no test asserts how long anything takes

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


class Gunicorn:
    """A gunicorn master process serving on a free port of 127.0.0.1."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, scheme: str) -> None:
        self.process = process
        self.port = port
        self.scheme = scheme
        self.stdout = ""
        self.stderr = ""
        self._listening = False

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def get_pid(
        self, session: ClientSession, ssl_context: ssl.SSLContext | None = None
    ) -> int:
        """The pid of the worker that answers.

        Once the master logs that it listens, its socket queues the request
        until a worker accepts it: no polling.
        """
        if not self._listening:
            await self.log_line("Listening at: ")
            self._listening = True
        async with asyncio.timeout(TIMEOUT):
            response = await session.get(
                self.url(), headers={"Connection": "close"}, ssl=ssl_context
            )
            return int(await response.text())

    async def log_line(self, text: str) -> str:
        """The next line of gunicorn's log (stderr) containing ``text``."""
        assert self.process.stderr is not None
        async with asyncio.timeout(TIMEOUT):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, f"gunicorn's log ended before {text!r}:\n{self.stderr}"
                self.stderr += line
                if text in line:
                    return line

    async def finish(self) -> int:
        """Wait for the master (and its workers: they hold the pipes) to exit."""
        async with asyncio.timeout(TIMEOUT):
            out, err = await self.process.communicate()
        self.stdout, self.stderr = out.decode(), self.stderr + err.decode()
        assert self.process.returncode is not None
        return self.process.returncode


class StartGunicorn(Protocol):
    def __call__(self, *args: str, target: str = ..., scheme: str = ...) -> Awaitable[Gunicorn]: ...


def _control_socket_args() -> list[str]:
    """Newer gunicorn opens a control socket in $HOME; tests run several masters at once."""
    names = {setting.name for setting in gunicorn_config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


@pytest_asyncio.fixture
async def start_gunicorn(tmp_path: Path) -> AsyncIterator[StartGunicorn]:
    """``gunicorn -k GunicornWebWorker -w 1 -c hooks app:<target>``; killed if a test leaves it."""
    (tmp_path / "worker_test_app.py").write_text(APP)
    (tmp_path / "worker_test_hooks.py").write_text(HOOKS)
    started: list[Gunicorn] = []
    env = dict(os.environ)
    paths = [tmp_path, *(Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(str(Path.cwd() / p) for p in paths)

    async def start(*args: str, target: str = "app", scheme: str = "http") -> Gunicorn:
        port = unused_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--worker-class",
            "weft.web_runner.worker.GunicornWebWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            "--config",
            f"file:{tmp_path / 'worker_test_hooks.py'}",
            *_control_socket_args(),
            *args,
            f"worker_test_app:{target}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        served = Gunicorn(process, port, scheme)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.returncode is None:
            served.process.kill()
            await served.process.communicate()


@pytest.mark.asyncio
async def test_a_factory_returning_an_app_runner_is_served(start_gunicorn: StartGunicorn) -> None:
    """An async factory may return an AppRunner: the worker serves it as it is."""
    gunicorn = await start_gunicorn(target="runner_factory")
    async with ClientSession() as session:
        pid = await gunicorn.get_pid(session)
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
    start_gunicorn: StartGunicorn, target: str, message: str
) -> None:
    """A factory returning something else, or a plain function: the worker fails to boot.

    gunicorn then stops with its boot-error exit code (3), the reason in its log.
    """
    gunicorn = await start_gunicorn(target=target)
    assert await gunicorn.finish() == 3
    assert message in gunicorn.stderr
    assert "Worker failed to boot" in gunicorn.stderr


@pytest.mark.asyncio
async def test_certfile_and_keyfile_serve_https(
    start_gunicorn: StartGunicorn, tmp_path: Path
) -> None:
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
        pid = await gunicorn.get_pid(session, client_context)
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"cleanup {pid}" in gunicorn.stdout


@pytest.mark.asyncio
async def test_sigint_stops_the_worker_through_worker_int(start_gunicorn: StartGunicorn) -> None:
    """SIGINT to the master: the worker gets SIGQUIT, runs worker_int, and shuts down cleanly."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        pid = await gunicorn.get_pid(session)
    gunicorn.process.send_signal(signal.SIGINT)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"worker_int {pid}" in gunicorn.stdout
    assert f"cleanup {pid}" in gunicorn.stdout
    assert "Traceback" not in gunicorn.stderr


@pytest.mark.asyncio
async def test_sigabrt_exits_the_worker_and_gunicorn_replaces_it(
    start_gunicorn: StartGunicorn,
) -> None:
    """SIGABRT to a worker: worker_abort runs, it exits with code 1, a new worker serves."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        first = await gunicorn.get_pid(session)
        os.kill(first, signal.SIGABRT)
        await gunicorn.log_line(f"Worker (pid:{first}) exited with code 1")
        booted = await gunicorn.log_line("Booting worker with pid:")
        second = int(booted.rsplit(":", 1)[1])
        assert await gunicorn.get_pid(session) == second
    gunicorn.process.send_signal(signal.SIGTERM)
    assert await gunicorn.finish() == 0, gunicorn.stderr
    assert f"worker_abort {first}" in gunicorn.stdout
    assert f"cleanup {second}" in gunicorn.stdout


@pytest.mark.asyncio
async def test_a_worker_whose_master_dies_shuts_down(start_gunicorn: StartGunicorn) -> None:
    """The master killed: the worker sees its parent change, and shuts down gracefully."""
    gunicorn = await start_gunicorn()
    async with ClientSession() as session:
        pid = await gunicorn.get_pid(session)
    gunicorn.process.kill()
    assert await gunicorn.finish() == -signal.SIGKILL  # returns once the worker closed its pipes
    assert "Parent changed, shutting down" in gunicorn.stderr
    assert f"cleanup {pid}" in gunicorn.stdout
