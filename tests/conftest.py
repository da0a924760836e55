"""Fixtures for the integration suite: a real server on 127.0.0.1 and raw sockets."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from weft import web

ServeApp = Callable[[web.Application], Awaitable[str]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeApp]:
    """Start an app on a free port of 127.0.0.1; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, shutdown_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _raw_exchange(base_url: str, data: bytes, *, timeout: float = 5.0) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


RawExchange = Callable[[str, bytes], Awaitable[bytes]]


@pytest.fixture
def raw() -> RawExchange:
    """Send raw bytes to a server, return everything it sends until it closes."""
    return _raw_exchange


REPO = Path(__file__).resolve().parent.parent

# The tools are scripts and examples/ is a folder of apps, not installed packages:
# their tests import them from the checkout.
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))


@pytest_asyncio.fixture
async def port(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    """The port of the example server the test module names in EXAMPLE (its module path)."""
    example = importlib.import_module(request.module.EXAMPLE)
    server: asyncio.Server = await example.serve(port=0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _half_closed_exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return answer


Exchange = Callable[[int, bytes], Awaitable[bytes]]


@pytest.fixture
def exchange() -> Exchange:
    """Send bytes to 127.0.0.1:port, half-close, and read everything the server answers."""
    return _half_closed_exchange


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the repository's pyproject files and package sources, to change freely."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "src", copy / "src")
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    for pkg in (REPO / "packages").iterdir():
        shutil.copytree(pkg / "src", copy / "packages" / pkg.name / "src")
        shutil.copy(pkg / "pyproject.toml", copy / "packages" / pkg.name / "pyproject.toml")
    return copy
