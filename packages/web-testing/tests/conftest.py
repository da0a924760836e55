"""Fixtures for web-testing's tests.

Only web-testing and its declared dependencies (web-runner, web-core,
http-parser) and its test group are imported here: these tests run in a venv
that holds nothing else. Test modules import the helper types under
``TYPE_CHECKING`` only; at run time they reach them through the fixtures.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio


class VirtualClock:
    """The running loop's clock, which the test moves forward instead of waiting.

    A client's ``timeout`` is a loop timer, so a test reaches it with
    ``await clock.advance(seconds)`` and then awaits what it causes, with no
    real waiting. The loop's time is its own clock plus an offset that only
    ``advance`` grows (web-runner's tests have the same fixture, and say more).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._real_time = loop.time
        self._offset = 0.0

    def time(self) -> float:
        return self._real_time() + self._offset

    async def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward; return once every timer due by then has run."""
        self._offset += seconds
        reached: asyncio.Future[None] = self._loop.create_future()
        self._loop.call_at(self.time(), reached.set_result, None)
        await reached


@pytest_asyncio.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The test's loop on a clock the test advances (see VirtualClock)."""
    loop = asyncio.get_running_loop()
    virtual = VirtualClock(loop)
    monkeypatch.setattr(loop, "time", virtual.time)
    return virtual
