"""run_app: serve an application until SIGINT/SIGTERM, then shut down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from weft.web_core import Application

from ._graceful import GracefulExit
from ._runners import AppRunner, BaseSite, SockSite, TCPSite, UnixSite

__all__ = ["run_app"]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Path, socket.socket)):
        return [value]
    return list(value)


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: str | Path | Iterable[str | Path] | None,
    sock: socket.socket | Iterable[socket.socket] | None,
    shutdown_timeout: float,
    ssl_context: Any,
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
    await runner.setup()
    try:
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
        # Serve until cancelled (by GracefulExit, Ctrl+C or the caller).
        await asyncio.get_running_loop().create_future()
    finally:
        await runner.cleanup()


def run_app(
    app: Application | Coroutine[Any, Any, Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | Path | Iterable[str | Path] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: Any = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
) -> None:
    """Serve ``app`` (or the app a coroutine returns) until interrupted.

    Blocks; SIGINT or SIGTERM (or Ctrl+C) starts a graceful shutdown: stop
    accepting, close idle connections, finish in-flight requests within
    ``shutdown_timeout`` seconds, run on_shutdown and on_cleanup.
    """
    if loop is None:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
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
            runner_kwargs={
                "keepalive_timeout": keepalive_timeout,
                "handler_cancellation": handler_cancellation,
            },
        )
    )
    try:
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        main_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(main_task)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)
