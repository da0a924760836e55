"""gunicorn workers for weft applications, as ``aiohttp.worker``.

::

    gunicorn -w 4 -k weft.web_runner.worker.GunicornWebWorker myapp:app
    gunicorn -w 4 -k weft.web_runner.worker.GunicornUVLoopWebWorker myapp:app

``myapp:app`` is an Application, or an ``async def`` factory returning an
Application or an AppRunner. Each worker serves gunicorn's listening sockets
through an AppRunner and SockSites on its own event loop (uvloop's for
GunicornUVLoopWebWorker). From gunicorn's settings: ``keepalive`` becomes
the keep-alive timeout, 95 % of ``graceful_timeout`` the shutdown timeout,
``max_requests`` (+ jitter) restarts a worker after that many requests,
``accesslog`` / ``access_log_format`` the access log (gunicorn's default
format becomes weft's; a format in gunicorn's ``%(h)s`` style is converted
when every atom has a weft directive, else a format of weft's directives
``%a %t %r ...`` can be given as it is), ``certfile`` / ``keyfile`` HTTPS.

SIGTERM (and SIGINT, SIGQUIT) shut the worker down gracefully: it stops
accepting, lets in-flight requests finish within the shutdown timeout, runs
on_shutdown and on_cleanup, and exits.

Needs the ``gunicorn`` extra: ``pip install weft-web-runner[gunicorn]``
(``[gunicorn,uvloop]`` for the uvloop worker).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import socket
import ssl
import sys
from types import FrameType
from typing import Any, cast

# gunicorn ships no type information.
from gunicorn.config import AccessLogFormat as _GunicornAccessLogFormat  # type: ignore[import-untyped,import-not-found,unused-ignore]
from gunicorn.workers import base as _gunicorn_base  # type: ignore[import-untyped,import-not-found,unused-ignore]

from weft.web_core import Application

from ._access_log import AccessLogger
from ._runners import AppRunner, SockSite

__all__ = ["GunicornUVLoopWebWorker", "GunicornWebWorker"]

# gunicorn's access log atoms -> weft's (aiohttp's) directives.
_ATOMS = {
    "h": "%a",
    "l": "-",
    "u": "-",
    "t": "%t",
    "r": "%r",
    "s": "%s",
    "b": "%b",
    "B": "%b",
    "f": "%{Referer}i",
    "a": "%{User-Agent}i",
    "T": "%T",
    "D": "%D",
    "L": "%Tf",
    "p": "%P",
}
_ATOM = re.compile(r"%\(([^)]+)\)s")


def convert_access_log_format(source: str) -> str:
    """gunicorn's ``access_log_format`` as a weft format (see the module docstring)."""
    if source == _GunicornAccessLogFormat.default:
        return AccessLogger.LOG_FORMAT
    if _ATOM.search(source) is None:
        return source

    def convert(match: re.Match[str]) -> str:
        atom = match.group(1)
        if atom in _ATOMS:
            return _ATOMS[atom]
        header = re.fullmatch(r"\{([^}]+)\}([io])", atom)
        if header is not None:
            return f"%{{{header.group(1)}}}{header.group(2)}"
        raise ValueError(
            f"gunicorn's access log atom %({atom})s has no weft equivalent; use weft's "
            "directives instead (%a %t %P %r %s %b %T %Tf %D %{Header}i %{Header}o), e.g. "
            "--access-logformat '%a %t \"%r\" %s %b %Tf'"
        )

    return _ATOM.sub(convert, source)


class GunicornWebWorker(_gunicorn_base.Worker):  # type: ignore[misc]
    """Runs a weft Application in a gunicorn worker process (see the module docstring)."""

    DEFAULT_AIOHTTP_LOG_FORMAT = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT = _GunicornAccessLogFormat.default

    alive: bool
    booted: bool
    wsgi: Any  # what gunicorn loaded from "module:name"

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover (in the worker)
        super().__init__(*args, **kwargs)
        self._task: asyncio.Task[None] | None = None
        self.exit_code = 0
        self._notify_waiter: asyncio.Future[bool] | None = None

    def _new_event_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.new_event_loop()

    def init_process(self) -> None:
        # A fresh loop in the forked process (nothing of the master's is reused).
        self.loop = self._new_event_loop()
        asyncio.set_event_loop(self.loop)
        super().init_process()

    def run(self) -> None:
        # gunicorn set booted before run(); the real start-up (factory, runner, sockets)
        # happens in _run, so the arbiter can tell a failed boot from a clean exit.
        self.booted = False
        self._task = self.loop.create_task(self._run())
        try:
            self.loop.run_until_complete(self._task)
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        sys.exit(self.exit_code)

    async def _run(self) -> None:
        runner = await self._make_runner()
        await runner.setup()
        context = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
        server = runner.server
        assert server is not None
        for sock in self.sockets:
            # gunicorn's socket wrappers delegate every socket method to the real one.
            await SockSite(runner, cast(socket.socket, sock), ssl_context=context).start()
        self.booted = True

        pid = os.getpid()
        try:
            while self.alive:
                self.notify()
                if self.max_requests and server.requests_count > self.max_requests:
                    self.alive = False
                    self.log.info("Max requests, shutting down: %s", self)
                elif pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    self.log.info("Parent changed, shutting down: %s", self)
                else:
                    await self._wait_next_notify()
        except Exception:  # pragma: no cover (defensive: always shut down cleanly)
            self.log.exception("Error in the worker loop, shutting down: %s", self)
        await runner.cleanup()

    async def _make_runner(self) -> AppRunner:
        target = self.wsgi
        if isinstance(target, Application):
            app = target
        elif inspect.iscoroutinefunction(target):
            made = await target()
            if isinstance(made, AppRunner):
                return made
            if not isinstance(made, Application):
                raise RuntimeError(
                    f"the app factory {target!r} returned {made!r}: it must return an "
                    "Application or an AppRunner"
                )
            app = made
        else:
            raise RuntimeError(
                "wsgi app should be either Application or async function returning "
                f"Application, got {target!r}"
            )
        access_log = self.log.access_log if self.cfg.accesslog else None
        return AppRunner(
            app,
            logger=self.log,
            keepalive_timeout=self.cfg.keepalive,
            access_log=access_log,
            access_log_format=self._get_valid_log_format(self.cfg.access_log_format),
            shutdown_timeout=self.cfg.graceful_timeout / 100 * 95,
        )

    def _wait_next_notify(self) -> asyncio.Future[bool]:
        """A future done within a second (sooner on a shutdown signal)."""
        self._notify_waiter_done()
        waiter = self._notify_waiter = self.loop.create_future()
        self.loop.call_later(1.0, self._notify_waiter_done, waiter)
        return waiter

    def _notify_waiter_done(self, waiter: asyncio.Future[bool] | None = None) -> None:
        if waiter is None:
            waiter = self._notify_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        if waiter is self._notify_waiter:
            self._notify_waiter = None

    def init_signals(self) -> None:
        # Through the event loop, so a handler runs between callbacks, not inside one.
        loop = self.loop
        loop.add_signal_handler(signal.SIGQUIT, self.handle_quit, signal.SIGQUIT, None)
        loop.add_signal_handler(signal.SIGTERM, self.handle_exit, signal.SIGTERM, None)
        loop.add_signal_handler(signal.SIGINT, self.handle_quit, signal.SIGINT, None)
        loop.add_signal_handler(signal.SIGWINCH, self.handle_winch, signal.SIGWINCH, None)
        loop.add_signal_handler(signal.SIGUSR1, self.handle_usr1, signal.SIGUSR1, None)
        loop.add_signal_handler(signal.SIGABRT, self.handle_abort, signal.SIGABRT, None)
        # Don't let SIGTERM and SIGUSR1 interrupt system calls of active requests.
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)
        # Subprocesses of the app keep their exit codes (the master's SIGCHLD
        # handler is not wanted here).
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: graceful shutdown, starting now."""
        self.alive = False
        self._notify_waiter_done()

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """SIGQUIT / SIGINT: gunicorn's worker_int hook, then the graceful shutdown."""
        self.alive = False
        self.cfg.worker_int(self)
        self._notify_waiter_done()

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self.exit_code = 1
        self.cfg.worker_abort(self)
        sys.exit(1)

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """The SSLContext gunicorn's settings describe (its ``ssl_context`` hook included)."""
        # gunicorn >= 22 (the extra's floor) builds it, ssl_context hook included.
        from gunicorn.sock import ssl_context  # type: ignore[import-untyped,import-not-found,unused-ignore]

        return cast(ssl.SSLContext, ssl_context(cfg))

    def _get_valid_log_format(self, source_format: str) -> str:
        return convert_access_log_format(source_format)


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """GunicornWebWorker on uvloop's event loop (needs the ``uvloop`` extra)."""

    def _new_event_loop(self) -> asyncio.AbstractEventLoop:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
