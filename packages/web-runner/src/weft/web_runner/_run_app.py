"""run_app: serve an application until SIGINT/SIGTERM, then shut down gracefully.

The event loop: when ``loop`` is not given, run_app makes a new one, with
uvloop when it is installed, unless the environment variable
``WEFT_NO_UVLOOP`` is set to a non-empty value other than ``0`` (or pass
``loop=asyncio.new_event_loop()`` to choose the loop yourself).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import importlib
import logging
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from weft.web_core import Application

from ._access_log import AbstractAccessLogger, AccessLogger, access_logger
from ._graceful import GracefulExit
from ._runners import AppRunner, BaseSite, SockSite, TCPSite, UnixSite

__all__ = ["new_event_loop", "run_app"]

NO_UVLOOP_ENV = "WEFT_NO_UVLOOP"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike, socket.socket)):
        return [value]
    return list(value)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when installed and not opted out (WEFT_NO_UVLOOP=1)."""
    if os.environ.get(NO_UVLOOP_ENV, "") in ("", "0"):
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None,
    sock: socket.socket | Iterable[socket.socket] | None,
    shutdown_timeout: float,
    ssl_context: ssl.SSLContext | None,
    print: Callable[..., None] | None,
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
    handle_signals: bool,
    runner_kwargs: dict[str, Any],
) -> None:
    if not isinstance(app, Application):
        app = await app
    runner = AppRunner(
        app, handle_signals=handle_signals, shutdown_timeout=shutdown_timeout, **runner_kwargs
    )
    try:
        # Inside the try, unlike aiohttp's run_app: a start-up that fails still
        # exits the cleanup contexts it entered (a pool it opened is closed).
        await runner.setup()
        sites: list[BaseSite] = []
        hosts = _as_list(host)
        paths = _as_list(path)
        socks = _as_list(sock)
        if hosts:
            sites.extend(
                TCPSite(
                    runner,
                    h,
                    port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                )
                for h in hosts
            )
        elif (not paths and not socks) or port is not None:
            sites.append(
                TCPSite(
                    runner,
                    None,
                    port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                )
            )
        sites.extend(UnixSite(runner, p, ssl_context=ssl_context, backlog=backlog) for p in paths)
        sites.extend(SockSite(runner, s, ssl_context=ssl_context, backlog=backlog) for s in socks)
        for site in sites:
            await site.start()
        if print is not None:
            names = sorted(site.name for site in runner.sites)
            print(
                "======== Running on {} ========\n(Press CTRL+C to quit)".format(", ".join(names))
            )
            if print is builtins.print:
                # Seen at once when stdout is a pipe (a supervisor, a test, `| tee`).
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
        # Serve until cancelled (by GracefulExit, Ctrl+C or the caller).
        await asyncio.get_running_loop().create_future()
    finally:
        await runner.cleanup()


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the app left running, as asyncio.run() does."""
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during run_app() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


def run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: ssl.SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    **kwargs: Any,
) -> None:
    """Serve ``app`` (or the app an awaitable returns) until interrupted.

    Blocks; SIGINT or SIGTERM (or Ctrl+C) starts a graceful shutdown: stop
    accepting, close idle connections, finish in-flight requests within
    ``shutdown_timeout`` seconds, run on_shutdown and on_cleanup. The
    parameters are aiohttp's; further keyword arguments go to the AppRunner
    (and so to the Server: ``read_head_timeout``, ``read_body_timeout``,
    ``lingering_time``, ...). Without ``loop``, a new loop is made, uvloop's
    when installed unless ``WEFT_NO_UVLOOP=1`` is set.
    """
    if not issubclass(access_log_class, AbstractAccessLogger):
        raise TypeError(
            "access_log_class must be a subclass of weft.web_runner.AbstractAccessLogger, "
            f"got {access_log_class!r}"
        )
    if loop is None:
        loop = new_event_loop()
    # As aiohttp: in debug mode, make the default access log visible.
    if loop.get_debug() and access_log is not None and access_log.name == access_logger.name:
        if access_log.level == logging.NOTSET:
            access_log.setLevel(logging.DEBUG)
        if not access_log.hasHandlers():
            access_log.addHandler(logging.StreamHandler())
    runner_kwargs = {
        "keepalive_timeout": keepalive_timeout,
        "handler_cancellation": handler_cancellation,
        "access_log_class": access_log_class,
        "access_log_format": access_log_format,
        "access_log": access_log,
        **kwargs,
    }
    main_task = loop.create_task(
        _run_app(
            app,
            host=host,
            port=port,
            path=path,
            sock=sock,
            shutdown_timeout=shutdown_timeout,
            ssl_context=ssl_context,
            print=print,
            backlog=backlog,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
            handle_signals=handle_signals,
            runner_kwargs=runner_kwargs,
        )
    )
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main_task.done():
                main_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main_task)
        finally:
            _cancel_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)
