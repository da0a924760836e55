"""The differential tests' one harness: the same app served by aiohttp.web and weft.web.

Importable by the integration tests as ``tests.differential`` (conftest puts the
repository on sys.path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web as aiohttp_web

from weft import web as weft_web

T = TypeVar("T")


async def under_both(
    build: Callable[[Any], Any], talk: Callable[[str], Awaitable[T]]
) -> dict[str, T]:
    """Serve ``build(web)`` with each framework on loopback; what ``talk(base_url)`` saw of each."""
    seen: dict[str, T] = {}
    for name, web in (("aiohttp", aiohttp_web), ("weft", weft_web)):
        runner = web.AppRunner(build(web))
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            seen[name] = await talk(f"http://{host}:{port}")
        finally:
            await runner.cleanup()
    return seen
