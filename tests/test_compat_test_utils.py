"""aiohttp.test_utils in compat mode: aiohttp's own file, run on weft's server.

Tests written for aiohttp expect aiohttp's client from it: its exceptions,
``connector=``, cookie jar. Each scenario runs in a fresh interpreter (the
switch is for the whole process), and those that compare do so with the same
code run on aiohttp itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str, *, switch: bool, cwd: Path | None = None) -> str:
    env = dict(os.environ)
    env.pop("WEFT_AS_AIOHTTP", None)
    if switch:
        env["WEFT_AS_AIOHTTP"] = "1"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def on_both(code: str) -> str:
    """``code``'s output on weft in compat mode, which must be its output on aiohttp."""
    on_weft = run(code, switch=True)
    assert on_weft == run(code, switch=False)
    return on_weft


def test_aiohttp_s_file_with_weft_s_server() -> None:
    """The client parts are aiohttp's; the server parts and make_mocked_request weft's."""
    out = run(
        """
        import asyncio, sys
        import weft.compat
        assert weft.compat.is_installed()
        # Run when a test asks for it, not by the switch: servers need neither it nor
        # unittest.mock, which it imports.
        assert "unittest.mock" not in sys.modules
        import aiohttp, weft.web, weft.test_utils
        from aiohttp import web
        import aiohttp.test_utils as tu
        assert tu.__file__ == aiohttp.__file__.replace("__init__.py", "test_utils.py")
        assert aiohttp.test_utils is tu and tu.Application is weft.web.Application
        assert tu.TestClient.__module__ == "aiohttp.test_utils"
        assert "unittest.mock" in sys.modules
        assert tu.make_mocked_request.__module__ == "weft.web_core.test_utils"
        # weft's own test utilities stay weft's, beside aiohttp's.
        assert weft.test_utils.TestClient.__module__ == "weft.web_testing.test_utils"
        request = tu.make_mocked_request("GET", "/a?b=1", headers={"X": "y"})
        assert type(request) is web.Request and request.query["b"] == "1"

        async def hello(request):
            return web.Response(text=type(request).__module__)

        async def main():
            app = web.Application()
            app.router.add_get("/", hello)
            async with tu.TestClient(tu.TestServer(app)) as client:
                assert type(client.session) is aiohttp.ClientSession
                assert type(client.server.runner).__module__ == "weft.web_runner._runners"
                assert client.app is app
                async with client.get("/") as resp:
                    assert type(resp) is aiohttp.ClientResponse
                    print(resp.status, await resp.text())
            async with tu.TestClient(tu.RawTestServer(hello)) as client:
                assert client.app is None
                resp = await client.get("/")
                print(resp.status, await resp.text())

        asyncio.run(main())

        class Case(tu.AioHTTPTestCase):
            async def get_application(self):
                app = web.Application()
                app.router.add_get("/", hello)
                return app

            async def test_get(self):
                resp = await self.client.get("/")
                print("case", resp.status, await resp.text())

        import unittest
        result = unittest.TextTestRunner(stream=sys.stderr).run(Case("test_get"))
        assert result.wasSuccessful()
        """,
        switch=True,
    )
    assert out.split() == [
        "200",
        "weft.web_core._request",
        "200",
        "weft.web_core._request",
        "case",
        "200",
        "weft.web_core._request",
    ]


def test_errors_cookies_and_raise_for_status_are_aiohttp_s() -> None:
    """What aiohttp-sse's test_ping_timeout expects: aiohttp.ClientPayloadError when
    the server cuts a body short; with aiohttp's CookieJar and ClientResponseError."""
    out = on_both(
        """
        import asyncio
        import aiohttp
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        async def short(request):
            response = web.StreamResponse(headers={"Content-Length": "10"})
            await response.prepare(request)
            await response.write(b"abc")
            request.transport.close()
            return response

        async def login(request):
            response = web.Response(text="in")
            response.set_cookie("session", "s1")
            return response

        async def whoami(request):
            return web.Response(text=request.cookies.get("session", "nobody"))

        async def gone(request):
            raise web.HTTPGone()

        async def main():
            app = web.Application()
            app.router.add_get("/short", short)
            app.router.add_get("/login", login)
            app.router.add_get("/whoami", whoami)
            app.router.add_get("/gone", gone)
            async with TestClient(TestServer(app)) as client:
                resp = await client.get("/short")
                try:
                    await resp.read()
                except aiohttp.ClientPayloadError as exc:
                    print("payload-error", type(exc).__module__)
                assert type(client.session.cookie_jar) is aiohttp.CookieJar
                await (await client.get("/login")).read()
                print(await (await client.get("/whoami")).text())
                client.session.cookie_jar.clear()
                print(await (await client.get("/whoami")).text())
            async with TestClient(TestServer(app), raise_for_status=True) as client:
                try:
                    await client.get("/gone")
                except aiohttp.ClientResponseError as exc:
                    print("response-error", exc.status)

        asyncio.run(main())
        """
    )
    assert out.split() == [
        "payload-error",
        "aiohttp.client_exceptions",
        "s1",
        "nobody",
        "response-error",
        "410",
    ]


def test_an_aiohttp_connector_with_its_tls_context() -> None:
    """What aiohttp-remotes' test_secure_* do: connector=aiohttp.TCPConnector(ssl=...)
    to a TestServer serving HTTPS."""
    out = on_both(
        """
        import asyncio, ssl
        import aiohttp, trustme
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)
        client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ca.configure_trust(client_context)

        async def where(request):
            return web.Response(text=f"{request.scheme} {request.secure}")

        async def main():
            app = web.Application()
            app.router.add_get("/", where)
            server = TestServer(app)
            await server.start_server(ssl=server_context)
            connector = aiohttp.TCPConnector(ssl=client_context)
            async with TestClient(server, connector=connector) as client:
                assert client.session.connector is connector
                print(client.make_url("/").scheme)
                print(await (await client.get("/")).text())

        asyncio.run(main())
        """
    )
    assert out.split() == ["https", "https", "True"]


def test_aiohttp_s_pytest_plugin_fixtures(tmp_path: Path) -> None:
    """aiohttp_client(app, connector=...) through aiohttp's own pytest plugin; and
    make_mocked_request stays weft's under pytest, whose assertion rewriter loads
    every test_*.py file itself, aiohttp's test_utils.py included."""
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import aiohttp
            from aiohttp import web
            from aiohttp.test_utils import make_mocked_request

            def test_mocked():
                request = make_mocked_request("GET", "/")
                print("mocked by", type(request).__module__.partition(".")[0])

            async def hello(request):
                return web.Response(text=type(request).__module__.partition(".")[0])

            async def test_hello(aiohttp_client):
                app = web.Application()
                app.router.add_get("/", hello)
                connector = aiohttp.TCPConnector(limit=1)
                client = await aiohttp_client(app, connector=connector)
                assert client.session.connector is connector
                resp = await client.get("/")
                assert resp.status == 200
                print("served by", await resp.text())
            """
        )
    )
    # pytest-aiohttp is not installed here (its plugin would load aiohttp.web in every
    # test run of weft); aiohttp's own plugin has the same fixtures, and warns that it
    # is deprecated for it.
    code = """
        import sys, pytest
        sys.exit(pytest.main([
            "-q", "-s", "-p", "no:asyncio", "-p", "no:cacheprovider",
            "-W", "ignore:aiohttp.pytest_plugin will be removed:DeprecationWarning",
            "-p", "aiohttp.pytest_plugin", "test_app.py",
        ]))
        """
    on_weft = run(code, switch=True, cwd=tmp_path)
    on_aiohttp = run(code, switch=False, cwd=tmp_path)
    for out, side in ((on_weft, "weft"), (on_aiohttp, "aiohttp")):
        assert f"served by {side}" in out, out
        assert f"mocked by {side}" in out, out
        assert "2 passed" in out, out


def test_weft_s_own_test_client_without_the_switch() -> None:
    """Unswitched, weft.test_utils is weft's client, with weft's classes."""
    out = run(
        """
        import asyncio, sys
        from weft import web
        from weft.test_utils import TestClient, TestServer
        from weft.web_testing.test_utils import ClientResponse

        async def hello(request):
            return web.Response(text="hi")

        async def main():
            app = web.Application()
            app.router.add_get("/", hello)
            async with TestClient(TestServer(app)) as client:
                resp = await client.get("/")
                assert type(resp) is ClientResponse
                print(await resp.text())
            try:
                TestClient(TestServer(app), connector=object())
            except TypeError:
                print("no-connector")

        asyncio.run(main())
        assert "aiohttp" not in sys.modules
        """,
        switch=False,
    )
    assert out.split() == ["hi", "no-connector"]
