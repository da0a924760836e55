"""GracefulExit: what SIGINT and SIGTERM become while a runner handles signals."""

from __future__ import annotations

import asyncio
import signal

__all__ = ["GracefulExit", "install_signal_handlers", "remove_signal_handlers"]


class GracefulExit(SystemExit):
    """Raised from a signal handler to unwind run_app into a graceful shutdown."""

    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


def install_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    """Turn SIGINT and SIGTERM into GracefulExit; silently unavailable on Windows loops."""
    try:
        loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
        loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
    except NotImplementedError:
        pass


def remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
    except NotImplementedError:
        pass
