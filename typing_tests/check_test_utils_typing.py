"""Code mypy must accept: the test utilities' generics, as aiohttp's (issue 15).

Type-checked only (the typecheck nox session), like check_web_typing.py.
"""

from __future__ import annotations

import asyncio
from typing import assert_type

from weft import web
from weft.test_utils import BaseTestServer, RawTestServer, TestClient, TestServer
from weft.web_testing.test_utils import ClientResponse, ClientWebSocketResponse


async def handler(request: web.BaseRequest) -> web.StreamResponse:
    return web.Response()


async def clients(app: web.Application) -> None:
    server = TestServer(app)
    assert_type(server, TestServer)
    as_base: BaseTestServer[web.Request] = server
    async with TestClient(server) as client:
        assert_type(client, TestClient[web.Request, web.Application])
        assert_type(client.app, web.Application)
        assert_type(client.server, BaseTestServer[web.Request])
        assert_type(await client.get("/"), ClientResponse)
        async with client.post("/", data=b"x") as response:
            assert_type(response, ClientResponse)
        # A coroutine, as aiohttp's _RequestContextManager: tasks take it.
        task: asyncio.Task[ClientResponse] = asyncio.create_task(client.get("/"))
        future = asyncio.ensure_future(client.delete("/"))
        assert_type(await future, ClientResponse)
        assert_type(await task, ClientResponse)
        assert_type(await client.ws_connect("/ws"), ClientWebSocketResponse)
    raw = RawTestServer(handler)
    async with TestClient(raw) as raw_client:
        assert_type(raw_client, TestClient[web.BaseRequest, None])
        assert_type(raw_client.app, None)
    async with as_base:
        pass


def annotated(client: TestClient[web.Request, web.Application]) -> web.Application:
    """The annotation pytest-aiohttp's fixtures use."""
    return client.app
