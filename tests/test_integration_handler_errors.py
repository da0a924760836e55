"""How an error escaping a handler is answered, held to aiohttp's answer."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.differential import under_both

IGNORED = {"Date", "Server"}


def build(web: Any) -> Any:
    async def timeout(request: Any) -> Any:
        raise TimeoutError("the backend did not answer")

    app = web.Application()
    app.router.add_get("/timeout", timeout)
    return app


async def talk(base: str) -> tuple[int, str, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/timeout") as response:
        headers = {k: v for k, v in response.headers.items() if k not in IGNORED}
        return response.status, response.reason or "", headers, await response.read()


@pytest.mark.asyncio
async def test_a_handler_timeout_is_504_as_aiohttp() -> None:
    """A TimeoutError escaping the handler is 504 Gateway Timeout, with aiohttp's headers."""
    seen = await under_both(build, talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"][0] == 504
