"""run_app in a real process, and the command line's argument errors."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest

from weft.web_runner import main

TIMEOUT = 10.0

APP = textwrap.dedent(
    """
    import sys
    from weft.web_core import Application, Response
    from weft.web_runner import run_app

    async def hello(request):
        return Response(text="hello from run_app")

    async def on_cleanup(app):
        print("on_cleanup ran", flush=True)

    async def make_app():
        app = Application()
        app.router.add_get("/", hello)
        app.on_cleanup.append(on_cleanup)
        return app

    run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]))
    print("run_app returned", flush=True)
    """
)

FACTORY_MODULE = textwrap.dedent(
    """
    from weft.web_core import Application, Response

    def make_app(argv):
        async def show(request):
            return Response(text=" ".join(argv))

        app = Application()
        app.router.add_get("/", show)
        return app
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_running(process: asyncio.subprocess.Process) -> str:
    """The banner line run_app prints once it listens (fails if the process dies first)."""
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), TIMEOUT)).decode()
        if not line:
            assert process.stderr is not None
            error = await asyncio.wait_for(process.stderr.read(), TIMEOUT)
            raise AssertionError(f"the process ended before serving: {error.decode()}")
        if line.startswith("======== Running on"):
            return line.rstrip("\n")


async def stop(process: asyncio.subprocess.Process, signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    stdout, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode is not None
    return process.returncode, stdout.decode()


@pytest.mark.asyncio
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_run_app_serves_then_exits_cleanly_on_signal(signum: int) -> None:
    """run_app prints its banner, answers, and on a signal runs on_cleanup and exits 0."""
    port = free_port()
    process = await start("-c", APP, str(port))
    try:
        banner = await wait_running(process)
        assert banner == f"======== Running on http://127.0.0.1:{port} ========"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert response.status == 200
            assert await response.text() == "hello from run_app"
        code, rest = await stop(process, signum)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0
    assert rest.splitlines()[-2:] == ["on_cleanup ran", "run_app returned"]


@pytest.mark.asyncio
async def test_command_line_calls_the_factory_with_extra_arguments(tmp_path: Path) -> None:
    """main() imports module:function, passes the leftover arguments, serves on -H/-P."""
    (tmp_path / "weft_runner_cli_app.py").write_text(FACTORY_MODULE)
    port = free_port()
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); from weft.web_runner import main; "
        "main(['-H', '127.0.0.1', '-P', sys.argv[1], 'weft_runner_cli_app:make_app', "
        "'--flag', 'value'])"
    )
    process = await start("-c", code, str(port), str(tmp_path))
    try:
        assert await wait_running(process) == (
            f"======== Running on http://127.0.0.1:{port} ========"
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert await response.text() == "--flag value"
        returncode, _ = await stop(process, signal.SIGTERM)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert returncode == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no_colon_here"], "'entry-func' not in 'module:function' syntax"),
        (["module:"], "'entry-func' not in 'module:function' syntax"),
        ([":function"], "'entry-func' not in 'module:function' syntax"),
        ([".relative:function"], "relative module names not supported"),
        (["weft_runner_no_such_module:make"], "unable to import weft_runner_no_such_module"),
        (["json:no_such_function"], "module 'json' has no attribute 'no_such_function'"),
    ],
)
def test_command_line_argument_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() reports a bad entry-func on stderr and exits with status 2, as aiohttp's."""
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("usage: ")


def test_command_line_requires_an_entry_func(capsys: pytest.CaptureFixture[str]) -> None:
    """main() with no arguments exits with status 2 and names the missing argument."""
    with pytest.raises(SystemExit) as excinfo:
        main([])
    assert excinfo.value.code == 2
    assert "entry-func" in capsys.readouterr().err


def test_command_line_help(capsys: pytest.CaptureFixture[str]) -> None:
    """main(['--help']) prints the usage with -H, -P and -U and exits 0."""
    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for option in ("--hostname", "--port", "--path", "entry-func"):
        assert option in out


def test_command_line_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    """A port that is not a number is an argument error (status 2)."""
    with pytest.raises(SystemExit) as excinfo:
        main(["-P", "eighty", "json:loads"])
    assert excinfo.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


UNIX_AND_SOCK_APP = textwrap.dedent(
    """
    import socket, sys
    from weft.web_core import Application, Response
    from weft.web_runner import run_app

    async def hello(request):
        return Response(text="hello")

    app = Application()
    app.router.add_get("/", hello)
    sock = socket.socket()
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    run_app(app, path=sys.argv[2], sock=[sock], shutdown_timeout=1)
    """
)


@pytest.mark.asyncio
async def test_run_app_on_a_unix_path_and_a_socket(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """run_app(path=..., sock=[...]) serves on both, named in the banner, and no TCP host."""
    port = free_port()
    # Not tmp_path: its folder is named after this long test, and under a deep
    # base (nox's --envdir) the socket path exceeded AF_UNIX's 107 bytes.
    path = tmp_path_factory.mktemp("unix") / "run_app.sock"
    process = await start("-c", UNIX_AND_SOCK_APP, str(port), str(path))
    try:
        assert await wait_running(process) == (
            f"======== Running on http://127.0.0.1:{port}, http://unix:{path}: ========"
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert await response.text() == "hello"
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://localhost/") as response,
        ):
            assert await response.text() == "hello"
        returncode, _ = await stop(process, signal.SIGTERM)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert returncode == 0
