"""The pytest plugin's fixtures misused, run through pytester: the errors say what to do."""

from __future__ import annotations

import importlib.metadata
import textwrap

import pytest

pytest_plugins = ["pytester"]


def _plugin_args() -> list[str]:
    """Enable the plugin by hand unless its entry point is installed (then it autoloads)."""
    installed = any(
        ep.value == "weft.web_testing.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "weft.web_testing.pytest_plugin"]


def test_server_fixtures_without_pytest_asyncio_ask_for_it(pytester: pytest.Pytester) -> None:
    """weft_server and weft_raw_server, without pytest-asyncio, fail naming what is missing."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            def test_server(weft_server):
                pass


            def test_raw_server(weft_raw_server):
                pass
            """
        )
    )
    result = pytester.runpytest(*_plugin_args(), "-p", "no:asyncio")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*weft_server fixture needs pytest-asyncio*",
            "*weft_raw_server fixture needs pytest-asyncio*",
        ],
        consecutive=False,
    )


def test_weft_client_refuses_what_it_cannot_serve(pytester: pytest.Pytester) -> None:
    """weft_client(x) takes an Application or a test server; anything else is a TypeError."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    pytester.makepyfile(
        test_client=textwrap.dedent(
            """
            import pytest


            @pytest.mark.asyncio
            async def test_bad(weft_client):
                with pytest.raises(TypeError, match="takes an Application or a TestServer"):
                    await weft_client("not an app")
            """
        )
    )
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=1)
