"""Static files through the router's StaticResource and web-core's FileResponse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from weft import web

ServeApp = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "css" / "a b.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("do not serve")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.asyncio
async def test_static_files_served(
    serve: ServeApp, client: aiohttp.ClientSession, site: Path
) -> None:
    """add_static serves files under the prefix with their content type."""
    app = web.Application()
    app.router.add_static("/static", site, name="static")
    url = await serve(app)
    async with client.get(url + "/static/index.html") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert await resp.text() == "<h1>home</h1>"
        assert "ETag" in resp.headers
    async with client.get(url + "/static/css/a%20b.css") as resp:
        assert resp.status == 200
        assert await resp.text() == "body{}"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/css%2f..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/escape",
        "/static/missing.txt",
    ],
)
@pytest.mark.asyncio
async def test_traversal_refused(serve: ServeApp, site: Path, path: str) -> None:
    """Escapes from the static directory are refused, over raw bytes (no client normalization)."""
    import asyncio

    app = web.Application()
    app.router.add_static("/static", site)
    url = await serve(app)
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 403 Forbidden")
    assert b"do not serve" not in answer


@pytest.mark.asyncio
async def test_static_index_and_version(
    serve: ServeApp, client: aiohttp.ClientSession, site: Path
) -> None:
    """show_index lists a directory; append_version adds a content hash to url_for."""
    app = web.Application()
    resource = app.router.add_static("/s", site, show_index=True, append_version=True)
    url = await serve(app)
    async with client.get(url + "/s/") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "index.html" in await resp.text()
    versioned = resource.url_for(filename="index.html")
    assert "v" in versioned.query
    async with client.get(url + str(versioned)) as resp:
        assert resp.status == 200
