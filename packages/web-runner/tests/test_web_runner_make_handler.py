"""The oldest seed's way to serve: ``loop.create_server(app.make_handler(), ...)``.

Deprecated since aiohttp 3.2, still in old apps and the seed documents'
examples: it serves with aiohttp's DeprecationWarning.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from weft.web_core import Application, Request, Response
from weft.web_runner import Server


@pytest.mark.asyncio
async def test_loop_create_server_with_make_handler_serves() -> None:
    async def hello(request: Request) -> Response:
        return Response(text=f"hello {request.match_info['name']}")

    app = Application()
    app.router.add_get("/{name}", hello)
    with pytest.warns(DeprecationWarning, match="make_handler"):
        handler = app.make_handler()
    assert isinstance(handler, Server)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/world") as response,
        ):
            assert response.status == 200
            assert await response.text() == "hello world"
    finally:
        server.close()
        await handler.shutdown(1.0)
        await server.wait_closed()
