"""A startup that fails is cleaned up: the cleanup contexts it entered exit, in reverse.

aiohttp's order, and the reason for it: a database pool opened by the first
context must be closed even though a later start-up step failed; the
on_cleanup callbacks, written for an app that started, are not run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from weft.web_core import Application
from weft.web_runner import AppRunner, run_app


def _app_failing_at_startup(log: list[str]) -> Application:
    def ctx(name: str) -> Callable[[Application], AsyncIterator[None]]:
        async def gen(app: Application) -> AsyncIterator[None]:
            log.append(f"enter {name}")
            yield
            log.append(f"exit {name}")

        return gen

    async def no_database(app: Application) -> None:
        raise RuntimeError("no database")

    async def on_cleanup(app: Application) -> None:
        log.append("on_cleanup")

    app = Application()
    app.cleanup_ctx.append(ctx("pool"))
    app.cleanup_ctx.append(ctx("cache"))
    app.on_startup.append(no_database)
    app.on_cleanup.append(on_cleanup)
    return app


@pytest.mark.asyncio
async def test_runner_cleanup_after_a_failed_setup_exits_the_entered_contexts() -> None:
    log: list[str] = []
    runner = AppRunner(_app_failing_at_startup(log), handle_signals=False)
    with pytest.raises(RuntimeError, match="no database"):
        await runner.setup()
    await runner.cleanup()  # not "Cannot send a signal that is not frozen"
    assert log == ["enter pool", "enter cache", "exit cache", "exit pool"]


def test_run_app_reports_the_startup_error_after_cleaning_up(capsys: Any) -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="no database"):
        run_app(_app_failing_at_startup(log), host="127.0.0.1", port=0, print=None)
    assert log == ["enter pool", "enter cache", "exit cache", "exit pool"]
