"""run_app in this process: aiohttp's parameters, the banner, the loop choice, NamedPipeSite."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import socket
import sys
import types
from collections.abc import Callable, Iterator

import aiohttp.web
import pytest

from weft.web_core import Application, BaseRequest, Request, Response, StreamResponse
from weft.web_runner import (
    AbstractAccessLogger,
    AppRunner,
    NamedPipeSite,
    run_app,
)

TIMEOUT = 10.0


def make_app() -> Application:
    async def hello(request: Request) -> Response:
        return Response(text="hello")

    app = Application()
    app.router.add_get("/", hello)
    return app


@pytest.fixture
def bound_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


async def _fetch(port: int, path: str = "/") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
    data = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    return data


def fetch_then_stop(port: int, results: list[bytes], banner: list[str]) -> Callable[..., None]:
    """A ``print`` for run_app: record the banner, make one request, then SIGINT ourselves."""

    async def go() -> None:
        try:
            results.append(await _fetch(port))
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    tasks: list[asyncio.Task[None]] = []

    def fake_print(*args: object) -> None:
        banner.append(" ".join(str(a) for a in args))
        tasks.append(asyncio.get_running_loop().create_task(go()))

    return fake_print


def test_run_app_has_every_aiohttp_parameter() -> None:
    """Every parameter of aiohttp.web.run_app exists here, with the same default."""
    ours = inspect.signature(run_app).parameters
    theirs = inspect.signature(aiohttp.web.run_app).parameters
    for name, param in theirs.items():
        assert name in ours, name
        if name in ("access_log_class", "access_log_format", "access_log", "print"):
            continue  # weft's own AccessLogger and logger; print is the builtin in both
        assert ours[name].default == param.default, name


def test_banner_request_and_signal(bound_socket: socket.socket) -> None:
    """run_app on a socket: the aiohttp banner, a served request, SIGINT shuts it down."""
    port = bound_socket.getsockname()[1]
    results: list[bytes] = []
    banner: list[str] = []
    run_app(make_app(), sock=bound_socket, print=fetch_then_stop(port, results, banner))
    assert banner == [
        f"======== Running on http://127.0.0.1:{port} ========\n(Press CTRL+C to quit)"
    ]
    assert results[0].startswith(b"HTTP/1.1 200 ")
    assert results[0].endswith(b"hello")


def _fetch_v6_then_stop(port: int, results: list[bytes], banner: list[str]) -> Callable[..., None]:
    async def go() -> None:
        try:
            reader, writer = await asyncio.open_connection("::1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            results.append(await asyncio.wait_for(reader.read(), TIMEOUT))
            writer.close()
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    tasks: list[asyncio.Task[None]] = []

    def fake_print(*args: object) -> None:
        banner.append(" ".join(str(a) for a in args))
        tasks.append(asyncio.get_running_loop().create_task(go()))

    return fake_print


@pytest.mark.parametrize("how", ["host", "sock"])
def test_an_ipv6_address_is_printed_in_brackets(how: str) -> None:
    """run_app's banner shows an IPv6 URL as aiohttp's does: http://[::1]:PORT, whether
    it binds host="::1" itself or is given a bound IPv6 socket."""
    sock = socket.socket(socket.AF_INET6)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::1", 0))
    port = sock.getsockname()[1]
    results: list[bytes] = []
    banner: list[str] = []
    try:
        if how == "host":
            sock.close()  # its port, free again, is the one asked for
            run_app(
                make_app(), host="::1", port=port, print=_fetch_v6_then_stop(port, results, banner)
            )
        else:
            run_app(make_app(), sock=sock, print=_fetch_v6_then_stop(port, results, banner))
    finally:
        sock.close()
    assert banner == [f"======== Running on http://[::1]:{port} ========\n(Press CTRL+C to quit)"]
    assert results[0].endswith(b"hello")


def test_access_log_parameters_reach_the_server(bound_socket: socket.socket) -> None:
    """access_log_class / access_log_format / access_log are used for each request."""
    port = bound_socket.getsockname()[1]
    seen: list[tuple[str, str, int]] = []

    class Collect(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            seen.append((self.logger.name, self.log_format, response.status))

    results: list[bytes] = []
    run_app(
        make_app(),
        sock=bound_socket,
        print=fetch_then_stop(port, results, []),
        access_log_class=Collect,
        access_log_format="%s",
        access_log=logging.getLogger("custom.access"),
    )
    assert seen == [("custom.access", "%s", 200)]


def test_access_log_class_is_checked() -> None:
    """A class that is not an AbstractAccessLogger is refused before anything starts."""
    with pytest.raises(TypeError, match="AbstractAccessLogger"):
        run_app(make_app(), access_log_class=dict)  # type: ignore[arg-type]


def test_extra_keyword_arguments_reach_the_server(bound_socket: socket.socket) -> None:
    """Further keyword arguments (here read_head_timeout) go to the AppRunner and Server."""
    port = bound_socket.getsockname()[1]
    seen: list[float] = []
    original = AppRunner._make_server

    async def spy(self: AppRunner) -> object:
        server = await original(self)
        seen.append(server._kwargs["read_head_timeout"])
        return server

    results: list[bytes] = []
    mp = pytest.MonkeyPatch()
    mp.setattr(AppRunner, "_make_server", spy)
    try:
        run_app(
            make_app(),
            sock=bound_socket,
            print=fetch_then_stop(port, results, []),
            read_head_timeout=3.5,
        )
    finally:
        mp.undo()
    assert seen == [3.5]


def test_coroutine_returning_the_app(bound_socket: socket.socket) -> None:
    """run_app accepts a coroutine that returns the Application."""
    port = bound_socket.getsockname()[1]

    async def factory() -> Application:
        return make_app()

    results: list[bytes] = []
    run_app(factory(), sock=bound_socket, print=fetch_then_stop(port, results, []))
    assert results[0].endswith(b"hello")


class FakeUvloop(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("uvloop")
        self.made = 0

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        self.made += 1
        return asyncio.new_event_loop()


@pytest.mark.parametrize(("env", "uses_uvloop"), [(None, True), ("1", False), ("0", True)])
def test_uvloop_when_installed_unless_opted_out(
    bound_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    uses_uvloop: bool,
) -> None:
    """Without loop=, run_app uses uvloop when importable; WEFT_NO_UVLOOP=1 opts out."""
    fake = FakeUvloop()
    monkeypatch.setitem(sys.modules, "uvloop", fake)
    if env is None:
        monkeypatch.delenv("WEFT_NO_UVLOOP", raising=False)
    else:
        monkeypatch.setenv("WEFT_NO_UVLOOP", env)
    port = bound_socket.getsockname()[1]
    results: list[bytes] = []
    run_app(make_app(), sock=bound_socket, print=fetch_then_stop(port, results, []))
    assert results[0].endswith(b"hello")
    assert fake.made == (1 if uses_uvloop else 0)


def test_given_loop_is_used_and_closed(bound_socket: socket.socket) -> None:
    """loop= is run (and closed at the end), as in aiohttp."""
    loop = asyncio.new_event_loop()
    port = bound_socket.getsockname()[1]
    results: list[bytes] = []
    run_app(make_app(), sock=bound_socket, print=fetch_then_stop(port, results, []), loop=loop)
    assert results[0].endswith(b"hello")
    assert loop.is_closed()


def test_print_none_prints_nothing(
    bound_socket: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    """print=None: no banner."""
    loop = asyncio.new_event_loop()
    loop.call_later(0.2, os.kill, os.getpid(), signal.SIGINT)
    run_app(make_app(), sock=bound_socket, print=None, loop=loop)
    assert capsys.readouterr().out == ""


@pytest.mark.skipif(sys.platform == "win32", reason="the error is for other platforms")
def test_named_pipe_site_is_windows_only() -> None:
    """NamedPipeSite exists (aiohttp's name) and says clearly that it needs Windows."""
    runner = AppRunner(make_app())
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        with pytest.raises(RuntimeError, match="windows"):
            NamedPipeSite(runner, r"\\.\pipe\weft")
    finally:
        asyncio.set_event_loop(None)
        loop.close()
