"""The pytest plugin (weft_client, weft_server, weft_raw_server, weft_unused_port), run
through pytester."""

from __future__ import annotations

import importlib.metadata
import os
import textwrap

import pytest

pytest_plugins = ["pytester"]

INI = textwrap.dedent(
    """
    [pytest]
    asyncio_mode = strict
    asyncio_default_fixture_loop_scope = function
    filterwarnings = error
    """
)

USES_EVERY_FIXTURE = textwrap.dedent(
    """
    import pytest

    from weft.web_core import Application, BaseRequest, Request, Response


    async def hello(request: Request) -> Response:
        return Response(text="hello " + request.query.get("name", "?"))


    def make_app() -> Application:
        app = Application()
        app.router.add_get("/", hello)
        return app


    @pytest.mark.asyncio
    async def test_client_for_an_app(weft_client):
        client = await weft_client(make_app())
        response = await client.get("/", params={"name": "app"})
        assert response.status == 200
        assert await response.text() == "hello app"


    @pytest.mark.asyncio
    async def test_server_then_client(weft_server, weft_client):
        server = await weft_server(make_app())
        assert server.make_url("/").port == server.port
        client = await weft_client(server)
        assert await (await client.get("/?name=server")).text() == "hello server"


    @pytest.mark.asyncio
    async def test_raw_server(weft_raw_server, weft_client):
        async def handler(request: BaseRequest) -> Response:
            return Response(text="raw " + request.path)

        client = await weft_client(await weft_raw_server(handler))
        assert await (await client.get("/p")).text() == "raw /p"


    def test_unused_port(weft_unused_port):
        assert 0 < weft_unused_port() < 65536
    """
)


def _plugin_args() -> list[str]:
    """Enable the plugin by hand unless its entry point is installed (then it autoloads)."""
    installed = any(
        ep.value == "weft.web_testing.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "weft.web_testing.pytest_plugin"]


@pytest.fixture
def absolute_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONPATH with absolute entries, for a pytest subprocess started elsewhere."""
    entries = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(entries))


def test_fixtures_under_pytest_asyncio(pytester: pytest.Pytester) -> None:
    """Every fixture works in strict mode, with warnings turned into errors."""
    pytester.makeini(INI)
    pytester.makepyfile(test_app=USES_EVERY_FIXTURE)
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=4)


def test_servers_are_closed_after_the_test(pytester: pytest.Pytester) -> None:
    """A server a fixture started is shut down (on_cleanup runs) when the test ends."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_cleanup=textwrap.dedent(
            """
            import pytest
            from weft.web_core import Application

            CLEANED = []


            async def on_cleanup(app):
                CLEANED.append(app)


            @pytest.mark.asyncio
            async def test_start(weft_client):
                app = Application()
                app.on_cleanup.append(on_cleanup)
                await weft_client(app)
                assert CLEANED == []


            def test_after():
                assert len(CLEANED) == 1
            """
        )
    )
    result = pytester.runpytest(*_plugin_args(), "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_without_pytest_asyncio(pytester: pytest.Pytester) -> None:
    """Without pytest-asyncio the async fixtures fail with advice; weft_unused_port works."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            def test_port(weft_unused_port):
                assert weft_unused_port() > 0


            def test_client(weft_client):
                pass
            """
        )
    )
    result = pytester.runpytest(*_plugin_args(), "-p", "no:asyncio")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*weft_client fixture needs pytest-asyncio*"])


@pytest.mark.usefixtures("absolute_pythonpath")
def test_loading_the_plugin_is_cheap_and_quiet(pytester: pytest.Pytester) -> None:
    """Loading the plugin imports neither the test client nor the server, and warns about nothing.

    pytest loads it in every run of an environment with weft-web-testing:
    ``weft/web_testing/__init__.py`` imports its names on first use, so
    loading the plugin imports pytest and nothing else of weft.
    """
    pytester.makeini(INI)
    pytester.makepyfile(
        test_nothing=textwrap.dedent(
            """
            import sys


            def test_only_the_plugin_is_loaded():
                assert "weft.web_testing.pytest_plugin" in sys.modules
                # The fixtures' module, registered by the plugin, and nothing else of weft.
                outside = [m for m in sys.modules if m.split(".")[:2] == ["weft", "web_runner"]]
                outside += [m for m in sys.modules if m.startswith(("weft.web_core", "weft.http"))]
                assert outside == [], outside
                for name in ("test_utils", "_client", "_response", "_ws", "_cookies"):
                    assert "weft.web_testing." + name not in sys.modules, name
                assert "gunicorn" not in sys.modules
            """
        )
    )
    result = pytester.runpytest_subprocess(*_plugin_args(), "-W", "error")
    result.assert_outcomes(passed=1)
    assert "warning" not in result.stdout.str().lower()


def test_the_entry_point_is_declared() -> None:
    """pyproject.toml registers the plugin under the pytest11 entry-point group."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    with pyproject.open("rb") as f:
        entry_points = tomllib.load(f)["project"]["entry-points"]["pytest11"]
    assert entry_points == {"weft": "weft.web_testing.pytest_plugin"}
