"""Make the shared helpers of this folder (web_core_support) importable by its tests."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_asyncio

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from web_core_support import VirtualClock  # noqa: E402 (importable once the path is set)


@pytest_asyncio.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """The test's loop on a stopped clock that the test advances (web_core_support)."""
    loop = asyncio.get_running_loop()
    virtual = VirtualClock(loop)
    monkeypatch.setattr(loop, "time", virtual.time)
    return virtual
