"""GracefulExit: what SIGINT and SIGTERM become while a runner handles signals."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

__all__ = ["GracefulExit", "install_signal_handlers", "remove_signal_handlers"]


class GracefulExit(SystemExit):
    """Raised from a signal handler to unwind run_app into a graceful shutdown."""

    code = 1


def _raise_graceful_exit(on_signal: Callable[[], None] | None = None) -> None:
    if on_signal is not None:
        on_signal()
    raise GracefulExit()


def install_signal_handlers(
    loop: asyncio.AbstractEventLoop, on_signal: Callable[[], None] | None = None
) -> None:
    """Turn SIGINT and SIGTERM into GracefulExit; silently unavailable on Windows loops.

    ``on_signal`` runs first, in the signal's own loop callback: the runner
    stops accepting and marks its connections closing there, before
    GracefulExit unwinds to the shutdown, so no request starts after the
    signal (the loop may run many callbacks before the shutdown proper).
    """
    try:
        loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit, on_signal)
        loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit, on_signal)
    except NotImplementedError:
        pass


def remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
    except NotImplementedError:
        pass
