"""Files, conditional requests, ranges and compression through weft.web over real sockets."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from weft import web
from weft.web_core import _file_response as file_module

ServeApp = Callable[[web.Application], Awaitable[str]]
RawExchange = Callable[[str, bytes], Awaitable[bytes]]

TEXT = b"The quick brown fox jumps over the lazy dog.\n" * 400  # 18000 bytes


def files_app(root: Path) -> web.Application:
    """/files/{name} sends root/name; /text and /stream send TEXT with compression enabled."""

    async def send_file(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(root / request.match_info["name"])

    async def text(request: web.Request) -> web.Response:
        resp = web.Response(body=TEXT, content_type="text/plain")
        resp.enable_compression()
        return resp

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        resp.enable_compression()
        await resp.prepare(request)
        for start in range(0, len(TEXT), 1000):
            await resp.write(TEXT[start : start + 1000])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/files/{name}", send_file)
    app.router.add_get("/text", text)
    app.router.add_get("/stream", stream)
    return app


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "fox.txt").write_bytes(TEXT)
    (tmp_path / "site.css").write_bytes(b"body { color: teal }\n" * 100)
    (tmp_path / "site.css.gz").write_bytes(gzip.compress((tmp_path / "site.css").read_bytes()))
    return tmp_path


def etag_of(path: Path) -> str:
    st = path.stat()
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


# -- files


@pytest.mark.asyncio
async def test_big_file_intact_via_sendfile(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5 MB file arrives byte for byte, sent with the loop's sendfile."""
    data = os.urandom(5 * 1024 * 1024)
    (root / "big.bin").write_bytes(data)
    loop = asyncio.get_running_loop()
    real_sendfile = loop.sendfile
    sent: list[int] = []

    async def spy(transport: asyncio.WriteTransport, file: Any, *args: Any, **kw: Any) -> int:
        count = await real_sendfile(transport, file, *args, **kw)
        sent.append(count)
        return count

    monkeypatch.setattr(loop, "sendfile", spy)
    url = await serve(files_app(root))
    async with client.get(url + "/files/big.bin") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["Content-Length"] == str(len(data))
        body = await resp.read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert sent == [len(data)]


@pytest.mark.asyncio
async def test_big_file_intact_via_fallback(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without sendfile, the chunked reads in the executor deliver the same bytes."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    (root / "big.bin").write_bytes(data)
    monkeypatch.setattr(file_module, "NOSENDFILE", True)
    url = await serve(files_app(root))
    async with client.get(url + "/files/big.bin") as resp:
        assert await resp.read() == data


@pytest.mark.asyncio
async def test_keep_alive_after_sendfile(serve: ServeApp, raw: RawExchange, root: Path) -> None:
    """Two pipelined requests on one connection: both files framed right, then the close."""
    url = await serve(files_app(root))
    request = b"GET /files/fox.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /files/fox.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = await raw(url, request + last)
    first, sep, rest = data.partition(b"\r\n\r\n")
    assert sep
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert rest[: len(TEXT)] == TEXT
    second = rest[len(TEXT) :]
    assert second.startswith(b"HTTP/1.1 200 OK")
    assert second.endswith(b"\r\n\r\n" + TEXT)


@pytest.mark.asyncio
async def test_missing_file_404_and_head(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path
) -> None:
    """A missing file is a 404; HEAD of a file has its headers and no body."""
    url = await serve(files_app(root))
    async with client.get(url + "/files/nope.txt") as resp:
        assert resp.status == 404
    async with client.head(url + "/files/fox.txt") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Length"] == str(len(TEXT))
        assert resp.headers["Content-Type"] == "text/plain"
        assert await resp.read() == b""


# -- ranges


@pytest.mark.asyncio
async def test_ranges(serve: ServeApp, client: aiohttp.ClientSession, root: Path) -> None:
    """A range is a 206 with Content-Range; a range past the end is a 416 with ``*/size``."""
    url = await serve(files_app(root))
    async with client.get(url + "/files/fox.txt", headers={"Range": "bytes=4-8"}) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 4-8/{len(TEXT)}"
        assert await resp.read() == b"quick"
    async with client.get(url + "/files/fox.txt", headers={"Range": "bytes=-4"}) as resp:
        assert resp.status == 206
        assert await resp.read() == TEXT[-4:]
    async with client.get(url + "/files/fox.txt", headers={"Range": "bytes=99999-"}) as resp:
        assert resp.status == 416
        assert resp.headers["Content-Range"] == f"bytes */{len(TEXT)}"


@pytest.mark.asyncio
async def test_if_range(serve: ServeApp, client: aiohttp.ClientSession, root: Path) -> None:
    """If-Range with the current validator keeps the range; a stale one gets the whole file."""
    url = await serve(files_app(root))
    etag = etag_of(root / "fox.txt")
    headers = {"Range": "bytes=0-2", "If-Range": etag}
    async with client.get(url + "/files/fox.txt", headers=headers) as resp:
        assert resp.status == 206
        assert await resp.read() == b"The"
    headers = {"Range": "bytes=0-2", "If-Range": "Sun, 06 Nov 1994 08:49:37 GMT"}
    async with client.get(url + "/files/fox.txt", headers=headers) as resp:
        assert resp.status == 200
        assert await resp.read() == TEXT


# -- conditional requests


@pytest.mark.asyncio
async def test_conditional_requests(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path
) -> None:
    """ETag and Last-Modified round-trip to 304s; a failed If-Match is a 412."""
    url = await serve(files_app(root))
    async with client.get(url + "/files/fox.txt") as resp:
        etag, last_modified = resp.headers["ETag"], resp.headers["Last-Modified"]
        await resp.read()
    assert etag == etag_of(root / "fox.txt")
    async with client.get(url + "/files/fox.txt", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304
        assert await resp.read() == b""
    headers = {"If-Modified-Since": last_modified}
    async with client.get(url + "/files/fox.txt", headers=headers) as resp:
        assert resp.status == 304
    async with client.get(url + "/files/fox.txt", headers={"If-Match": '"stale"'}) as resp:
        assert resp.status == 412
    headers = {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"}
    async with client.get(url + "/files/fox.txt", headers=headers) as resp:
        assert resp.status == 412
    # the connection survives all of these: one more plain request on the same session
    async with client.get(url + "/files/fox.txt") as resp:
        assert await resp.read() == TEXT


# -- pre-compressed siblings and compression


@pytest.mark.asyncio
async def test_precompressed_sibling(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path
) -> None:
    """site.css.gz goes to a gzip client (raw bytes checked), site.css to an identity one."""
    url = await serve(files_app(root))
    plain = (root / "site.css").read_bytes()
    async with aiohttp.ClientSession(auto_decompress=False) as raw_client:
        headers = {"Accept-Encoding": "gzip"}
        async with raw_client.get(url + "/files/site.css", headers=headers) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert resp.headers["Content-Type"] == "text/css"
            assert resp.headers["Vary"] == "Accept-Encoding"
            body = await resp.read()
        assert body == (root / "site.css.gz").read_bytes()
        headers = {"Accept-Encoding": "identity"}
        async with raw_client.get(url + "/files/site.css", headers=headers) as resp:
            assert "Content-Encoding" not in resp.headers
            assert await resp.read() == plain
    async with client.get(url + "/files/site.css") as resp:  # decompressed transparently
        assert await resp.read() == plain


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/text", "/stream"])
async def test_compression_negotiated(
    serve: ServeApp, client: aiohttp.ClientSession, root: Path, path: str
) -> None:
    """gzip when asked (raw bytes decompress to the text), none for identity, transparent
    for aiohttp's default client."""
    url = await serve(files_app(root))
    async with aiohttp.ClientSession(auto_decompress=False) as raw_client:
        async with raw_client.get(url + path, headers={"Accept-Encoding": "gzip"}) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert resp.headers["Vary"] == "Accept-Encoding"
            body = await resp.read()
        assert len(body) < len(TEXT)
        assert gzip.decompress(body) == TEXT
        async with raw_client.get(url + path, headers={"Accept-Encoding": "deflate"}) as resp:
            assert resp.headers["Content-Encoding"] == "deflate"
            assert zlib.decompress(await resp.read()) == TEXT
        async with raw_client.get(url + path, headers={"Accept-Encoding": "identity"}) as resp:
            assert "Content-Encoding" not in resp.headers
            assert await resp.read() == TEXT
    async with client.get(url + path) as resp:
        assert resp.headers["Content-Encoding"] in ("gzip", "deflate")
        assert await resp.read() == TEXT
