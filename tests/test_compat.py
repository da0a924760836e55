"""weft.compat.install_as_aiohttp(): aiohttp's server names resolve to weft's.

Each scenario runs in a fresh interpreter: the switch is for the whole
process and cannot be undone, and this test process imports aiohttp.web
itself (the differential tests compare with it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: The server-side modules issue 15 names; each must be weft's after the switch.
SERVER_MODULES = (
    "aiohttp.web",
    "aiohttp.web_app",
    "aiohttp.web_exceptions",
    "aiohttp.web_fileresponse",
    "aiohttp.web_log",
    "aiohttp.web_middlewares",
    "aiohttp.web_protocol",
    "aiohttp.web_request",
    "aiohttp.web_response",
    "aiohttp.web_routedef",
    "aiohttp.web_runner",
    "aiohttp.web_server",
    "aiohttp.web_urldispatcher",
    "aiohttp.web_ws",
    "aiohttp.worker",
    "aiohttp.test_utils",
    "aiohttp.pytest_plugin",
)


def run_python(
    code: str, *, switch: bool | None = None, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; ``switch`` sets or clears WEFT_AS_AIOHTTP."""
    env = dict(os.environ)
    env.pop("WEFT_AS_AIOHTTP", None)
    if switch:
        env["WEFT_AS_AIOHTTP"] = "1"
    return subprocess.run(
        [sys.executable, "-W", "error", *args, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(code: str, **kwargs: object) -> str:
    done = run_python(code, **kwargs)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_server_module_gives_weft_objects() -> None:
    """Each aiohttp server module is weft's (or, kept, built only on weft's), and the names
    in each aiohttp module's __all__ are weft's objects. aiohttp.test_utils is aiohttp's
    file on weft's server (tests/test_compat_test_utils.py)."""
    all_names = json.loads(
        ok(
            f"""
            import importlib, json
            print(json.dumps({{m: list(getattr(importlib.import_module(m), "__all__", ()))
                              for m in {list(SERVER_MODULES[:-3])!r}}}))
            """
        )
    )
    assert sum(len(names) for names in all_names.values()) > 200
    out = ok(
        f"""
        import importlib, json, sys
        import weft.compat
        weft.compat.install_as_aiohttp()
        import aiohttp, aiohttp.web, weft.web
        assert aiohttp.web is weft.web
        names = json.loads({json.dumps(all_names)!r})
        for module_name, public in names.items():
            module = importlib.import_module(module_name)
            assert getattr(aiohttp, module_name.rpartition(".")[2]) is module, module_name
            for name in public:
                value = getattr(module, name)
                owner = getattr(value, "__module__", "") or ""
                # Constants and aliases have no __module__ of their own; a class or
                # function does, and it must be weft's.
                if isinstance(value, type) or callable(value):
                    assert owner.startswith(("weft.", "typing", "collections")), (
                        module_name, name, owner)
        import importlib.util
        import aiohttp.worker
        assert aiohttp.worker.__weft_sources__ == ("weft.worker",)
        # gunicorn is optional (weft-web-runner[gunicorn]), as for aiohttp.worker.
        if importlib.util.find_spec("gunicorn") is not None:
            assert aiohttp.worker.GunicornWebWorker.__module__.startswith("weft.")
            assert aiohttp.GunicornWebWorker is aiohttp.worker.GunicornWebWorker
        else:
            try:
                aiohttp.worker.GunicornWebWorker
            except ImportError as exc:
                assert "gunicorn" in str(exc), exc
            else:
                raise AssertionError("a worker without gunicorn")
        import aiohttp.pytest_plugin, aiohttp.test_utils
        assert aiohttp.pytest_plugin.TestClient is aiohttp.test_utils.TestClient
        assert aiohttp.pytest_plugin.Application is weft.web.Application
        assert aiohttp.test_utils.AppRunner is weft.web.AppRunner
        from aiohttp.web_protocol import _RequestHandler
        # No file of aiohttp's server side was loaded, but the test utilities and their
        # plugin, kept as aiohttp's.
        root = aiohttp.__file__.rpartition("/")[0]
        loaded = sorted(
            name for name, module in sys.modules.items()
            if name.startswith(("aiohttp.web", "aiohttp.worker"))
            and (getattr(module, "__file__", None) or "").startswith(root)
        )
        print(json.dumps(loaded))
        """
    )
    assert json.loads(out) == []


def test_identity_of_the_common_names() -> None:
    """What extensions import is the very object weft.web exports."""
    ok(
        """
        import weft.compat
        weft.compat.install_as_aiohttp()
        import weft.web as w
        from aiohttp import web
        from aiohttp.web_exceptions import HTTPException, HTTPFound, HTTPMethodNotAllowed
        from aiohttp.web_request import Request, FileField
        from aiohttp.web_response import StreamResponse, Response, json_response
        from aiohttp.web_urldispatcher import UrlDispatcher, UrlMappingMatchInfo, View
        from aiohttp.web_app import Application
        from aiohttp.web_runner import AppRunner, TCPSite
        from aiohttp.web_ws import WebSocketResponse
        from aiohttp.web_log import AccessLogger
        from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
        assert (HTTPException, HTTPFound, HTTPMethodNotAllowed) == (
            w.HTTPException, w.HTTPFound, w.HTTPMethodNotAllowed)
        assert (Request, FileField, StreamResponse, Response) == (
            w.Request, w.FileField, w.StreamResponse, w.Response)
        assert json_response is w.json_response and Application is w.Application
        assert (UrlDispatcher, UrlMappingMatchInfo, View) == (
            w.UrlDispatcher, w.UrlMappingMatchInfo, w.View)
        assert (AppRunner, TCPSite, WebSocketResponse, AccessLogger) == (
            w.AppRunner, w.TCPSite, w.WebSocketResponse, w.AccessLogger)
        assert web.AppKey is w.AppKey
        """
    )


def test_a_missing_name_says_so() -> None:
    done = run_python(
        """
        import weft.compat
        weft.compat.install_as_aiohttp()
        from aiohttp.web_urldispatcher import NoSuchThing
        """
    )
    assert done.returncode == 1
    assert "ImportError: cannot import name 'NoSuchThing'" in done.stderr
    done = run_python(
        """
        import weft.compat
        weft.compat.install_as_aiohttp()
        import aiohttp.web_request
        aiohttp.web_request.NoSuchThing
        """
    )
    assert done.returncode == 1
    assert "weft's aiohttp compatibility mode provides aiohttp.web_request" in done.stderr


def test_abcs_accept_weft_objects() -> None:
    ok(
        """
        import weft.compat
        weft.compat.install_as_aiohttp()
        import aiohttp.abc as abc
        from aiohttp import web
        from aiohttp.test_utils import make_mocked_request

        assert isinstance(web.UrlDispatcher(), abc.AbstractRouter)
        assert issubclass(web.View, abc.AbstractView)
        assert issubclass(web.UrlMappingMatchInfo, abc.AbstractMatchInfo)
        from weft.web_core import StreamWriter
        assert issubclass(StreamWriter, abc.AbstractStreamWriter)

        class Logger(abc.AbstractAccessLogger):
            def log(self, request, response, time):
                pass

        # weft's runner checks access_log_class against its own ABC.
        assert issubclass(Logger, web.AbstractAccessLogger)
        web.AppRunner(web.Application(), access_log_class=Logger)
        """
    )


def test_app_key_from_aiohttp_is_weft_and_warns_nothing() -> None:
    """-W error: NotAppKeyWarning, or any other warning, would fail the run."""
    ok(
        """
        import weft.compat
        weft.compat.install_as_aiohttp()
        from aiohttp import web
        KEY = web.AppKey("key", int)
        app = web.Application()
        app[KEY] = 1
        assert app[KEY] == 1
        """
    )


def test_the_client_keeps_working_against_a_weft_server() -> None:
    """aiohttp's client and a weft server built through aiohttp.web, in one process."""
    out = ok(
        """
        import asyncio
        import weft.compat
        weft.compat.install_as_aiohttp()
        import aiohttp
        from aiohttp import web

        async def hello(request):
            raise web.HTTPFound("/there", headers={"X-Server": type(request).__module__})

        async def main():
            app = web.Application()
            app.router.add_get("/", hello)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/", allow_redirects=False) as r:
                    print(r.status, r.headers["Location"], r.headers["X-Server"])
                    assert type(r).__module__ == "aiohttp.client_reqrep"
            await runner.cleanup()

        asyncio.run(main())
        """
    )
    assert out.split() == ["302", "/there", "weft.web_core._request"]


def test_refused_after_aiohttp_web_was_imported() -> None:
    """Nothing changes: the process stays wholly on aiohttp."""
    out = ok(
        """
        import aiohttp.web
        import weft.compat
        try:
            weft.compat.install_as_aiohttp()
        except weft.compat.AiohttpServerAlreadyImported as exc:
            print(exc)
            assert "aiohttp.web" in exc.modules
        else:
            raise AssertionError("not refused")
        assert not weft.compat.is_installed()
        import sys, aiohttp.web_app
        assert sys.modules["aiohttp.web"].Application is aiohttp.web_app.Application
        assert aiohttp.web_app.Application.__module__ == "aiohttp.web_app"
        """
    )
    assert "must run before aiohttp's server side is imported" in out
    assert "WEFT_AS_AIOHTTP=1" in out
    assert "python -m weft.compat" in out


def test_idempotent_and_reported() -> None:
    ok(
        """
        import weft.compat
        assert not weft.compat.is_installed()
        weft.compat.install_as_aiohttp()
        weft.compat.install_as_aiohttp()
        assert weft.compat.is_installed()
        """
    )


def test_pth_switches_at_interpreter_start() -> None:
    """WEFT_AS_AIOHTTP=1: switched before any line of the program runs."""
    code = """
        import sys
        print("weft.compat" in sys.modules)
        import aiohttp.web, weft.web
        print(aiohttp.web is weft.web)
        """
    assert ok(code, switch=True).split() == ["True", "True"]
    assert ok(code, switch=False).split() == ["False", "False"]


def test_pth_reports_a_failure_and_goes_on(tmp_path: Path) -> None:
    """A switch that cannot take effect at interpreter start is reported, and the
    interpreter still runs (pip must, to repair the environment)."""
    # aiohttp hidden from the interpreter, as where the extra was not installed.
    (tmp_path / "aiohttp.py").write_text("raise ImportError('no aiohttp here')\n")
    env = {**os.environ, "WEFT_AS_AIOHTTP": "1", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import weft.compat; print(weft.compat.is_installed())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
    assert "weft: WEFT_AS_AIOHTTP=1 was not honoured, aiohttp stays aiohttp" in done.stderr
    assert "pip install 'weft[aiohttp-compat]'" in done.stderr


def test_python_m_weft_compat_runs_a_command_switched() -> None:
    env = dict(os.environ)
    env.pop("WEFT_AS_AIOHTTP", None)
    code = "import sys, aiohttp.web, weft.web; sys.exit(7 if aiohttp.web is weft.web else 1)"
    done = subprocess.run(
        [sys.executable, "-m", "weft.compat", "--", sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7, done.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ((), 2, "usage: python -m weft.compat -- <command>"),
        (("--",), 2, "usage: python -m weft.compat -- <command>"),
        (("--", "no-such-command-weft"), 127, "command not found: no-such-command-weft"),
    ],
)
def test_python_m_weft_compat_errors(args: tuple[str, ...], status: int, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "weft.compat", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == status
    assert message in done.stderr


def test_python_m_weft_compat_refuses_where_the_switch_cannot_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the .pth file in site-packages the child would run unswitched: refused,
    and the command is not run."""
    import site

    from weft.compat import __main__ as cli

    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path)])
    monkeypatch.setattr(site, "ENABLE_USER_SITE", False)
    ran = tmp_path / "ran"
    status = cli.main(["--", sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    assert status == 2
    assert not ran.exists()
    assert "weft_aiohttp_compat.pth is not in this interpreter's site-packages" in (
        capsys.readouterr().err
    )
    (tmp_path / "weft_aiohttp_compat.pth").write_text("")
    status = cli.main(["--", sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    assert status == 0
    assert ran.exists()
