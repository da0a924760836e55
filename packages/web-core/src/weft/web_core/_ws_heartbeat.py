"""The WebSocket heartbeat: a PING after ``interval`` s of silence, a deadline for the answer.

Any data from the peer counts as a sign of life (as in aiohttp), not only the
PONG: each read only stamps the time, and the ping timer, when it fires
early, re-arms itself from the last read (no timer churn per read). When a
PING is out and nothing arrives within ``interval / 2`` seconds,
``on_timeout`` is called once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Heartbeat"]


class Heartbeat:
    """Pings a silent peer; reports one that stays silent after the ping."""

    __slots__ = (
        "_interval",
        "_last_data",
        "_loop",
        "_on_timeout",
        "_ping_handle",
        "_pong_handle",
        "_send_ping",
        "_stopped",
        "pong_timeout",
    )

    def __init__(
        self,
        interval: float,
        loop: asyncio.AbstractEventLoop,
        send_ping: Callable[[], None],
        on_timeout: Callable[[], None],
    ) -> None:
        self._interval = interval
        self.pong_timeout = interval / 2.0
        self._loop = loop
        self._send_ping = send_ping
        self._on_timeout = on_timeout
        self._last_data = loop.time()
        self._ping_handle: asyncio.TimerHandle | None = loop.call_later(interval, self._ping)
        self._pong_handle: asyncio.TimerHandle | None = None
        self._stopped = False

    def data_received(self) -> None:
        """The peer is alive: cancel the pong deadline, ping again after ``interval``."""
        self._last_data = self._loop.time()
        if self._pong_handle is not None:
            self._pong_handle.cancel()
            self._pong_handle = None
        if self._ping_handle is None and not self._stopped:
            self._ping_handle = self._loop.call_later(self._interval, self._ping)

    def _ping(self) -> None:
        self._ping_handle = None
        if self._stopped:
            return
        due = self._last_data + self._interval
        if self._loop.time() < due:  # data arrived since: wait from then
            self._ping_handle = self._loop.call_at(due, self._ping)
            return
        self._send_ping()
        self._pong_handle = self._loop.call_later(self.pong_timeout, self._timeout)

    def _timeout(self) -> None:
        self._pong_handle = None
        if not self._stopped:
            self.stop()
            self._on_timeout()

    def stop(self) -> None:
        self._stopped = True
        for handle in (self._ping_handle, self._pong_handle):
            if handle is not None:
                handle.cancel()
        self._ping_handle = self._pong_handle = None
