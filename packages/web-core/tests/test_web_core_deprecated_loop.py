"""aiohttp 3's deprecated entry points that old apps still use, with aiohttp's warnings."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from weft.web_core import Application
from weft.web_core import _app as app_module


@pytest.mark.asyncio
async def test_application_loop_argument_and_property_warn() -> None:
    loop = asyncio.get_running_loop()
    with pytest.warns(DeprecationWarning, match="loop argument is deprecated"):
        app = Application(loop=loop)
    with pytest.warns(DeprecationWarning, match="loop property is deprecated"):
        assert app.loop is loop


def test_the_loop_property_outside_a_loop_is_the_one_given() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.warns(DeprecationWarning, match="loop argument"):
            app = Application(loop=loop)
        with pytest.warns(DeprecationWarning, match="loop property"):
            assert app.loop is loop
    finally:
        loop.close()


def test_make_handler_without_web_runner_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """web-core alone has no server to build: a clear error naming the package."""
    monkeypatch.setattr(app_module, "_server_factory", None)
    with (
        pytest.warns(DeprecationWarning, match="use AppRunner API instead"),
        pytest.raises(RuntimeError, match="weft-web-runner"),
    ):
        Application().make_handler()


def test_make_handler_builds_the_registered_server_over_a_frozen_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app is frozen; handler_args and debug reach the server as an AppRunner's would."""
    built: dict[str, object] = {}

    def factory(handler: object, **kwargs: object) -> str:
        built.update(kwargs, handler=handler)
        return "server"

    monkeypatch.setattr(app_module, "_server_factory", factory)
    with pytest.warns(DeprecationWarning, match="debug argument"):
        app = Application(handler_args={"keepalive_timeout": 5}, debug=True)
    with pytest.warns(DeprecationWarning, match="make_handler"):
        assert app.make_handler(access_log=None) == "server"
    assert app.frozen
    # The app's request path, as an AppRunner's server calls it.
    assert (built["handler"], built["request_factory"]) == app._request_entry()
    assert (built["keepalive_timeout"], built["debug"], built["access_log"]) == (5, True, None)


@pytest.mark.parametrize("debug", [True, False, None])
def test_any_debug_argument_warns_as_aiohttps_and_still_sets_debug_mode(debug: object) -> None:
    """aiohttp 3 deprecates the argument, not a value: False and None warn too."""
    with pytest.warns(DeprecationWarning, match="^debug argument is deprecated$") as caught:
        app = Application(debug=debug)  # type: ignore[arg-type]  # aiohttp takes Any
    assert len(caught) == 1
    assert caught[0].filename == __file__  # stacklevel: the caller's line, as aiohttp's
    with pytest.warns(DeprecationWarning, match="^debug property is deprecated$") as read:
        assert app.debug is bool(debug)
    assert read[0].filename == __file__


def test_no_debug_argument_no_warning_and_no_debug_mode() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = Application()
    with pytest.warns(DeprecationWarning, match="debug property"):
        assert app.debug is False


@pytest.mark.parametrize("loop_debug", [True, False])
def test_debug_left_out_follows_the_serving_loops_as_aiohttps(loop_debug: bool) -> None:
    """Not given, the app's debug mode is its loop's, decided when it is served."""
    loop = asyncio.new_event_loop()
    try:
        loop.set_debug(loop_debug)
        app = Application()
        assert app._served_debug(loop) is loop_debug
        loop.set_debug(not loop_debug)  # decided once, as aiohttp's _set_loop does
        assert app._served_debug(loop) is loop_debug
        with pytest.warns(DeprecationWarning, match="debug argument"):
            given = Application(debug=not loop_debug)
        assert given._served_debug(loop) is not loop_debug  # given wins over the loop's
    finally:
        loop.close()
