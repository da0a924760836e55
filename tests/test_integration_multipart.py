"""Forms and multipart over a real connection, with aiohttp's client as the peer."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from weft import web

# aiohttp has these at its top level (aiohttp.MultipartWriter), not in aiohttp.web.
from weft.web_core import BodyPartReader, MultipartWriter

ServeApp = Callable[[web.Application], Awaitable[str]]

BIG = os.urandom(10 * 1024**2)
BIG_SHA256 = hashlib.sha256(BIG).hexdigest()


async def upload(request: web.Request) -> web.Response:
    """Echo the form: str fields as they are, files as name, type, size and sha256."""
    form = await request.post()
    out: dict[str, object] = {}
    for name, value in form.items():
        if isinstance(value, (str, bytes)):
            out[name] = value if isinstance(value, str) else value.hex()
            continue
        digest = hashlib.sha256()
        size = 0
        while chunk := value.file.read(2**16):
            digest.update(chunk)
            size += len(chunk)
        value.file.close()
        out[name] = {
            "filename": value.filename,
            "content_type": value.content_type,
            "size": size,
            "sha256": digest.hexdigest(),
        }
    return web.json_response(out)


async def stream_upload(request: web.Request) -> web.Response:
    """Hash every part while it streams in, with multipart()."""
    reader = await request.multipart()
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        digest = hashlib.sha256()
        size = 0
        while chunk := await part.read_chunk(2**16):
            digest.update(chunk)
            size += len(chunk)
        out.append([part.name, part.filename, size, digest.hexdigest()])
    return web.json_response(out)


def big_app(client_max_size: int = 20 * 1024**2) -> web.Application:
    app = web.Application(client_max_size=client_max_size)
    app.router.add_post("/upload", upload)
    app.router.add_post("/stream", stream_upload)
    return app


def form_with_big_file() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("title", "héllo wörld")
    form.add_field("tags", "a")
    form.add_field("tags", "b")
    form.add_field(
        "file", io.BytesIO(BIG), filename="big.bin", content_type="application/octet-stream"
    )
    return form


@pytest.mark.asyncio
async def test_post_form_data_with_a_10mb_file(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """post() reads fields and a 10 MB file sent by aiohttp's FormData intact."""
    url = await serve(big_app())
    async with client.post(url + "/upload", data=form_with_big_file()) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {
        "title": "héllo wörld",
        "tags": "b",  # json_response of a MultiDict's items keeps the last
        "file": {
            "filename": "big.bin",
            "content_type": "application/octet-stream",
            "size": len(BIG),
            "sha256": BIG_SHA256,
        },
    }


@pytest.mark.asyncio
async def test_multipart_streams_a_10mb_file(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """multipart() lets a handler hash a 10 MB upload part by part."""
    url = await serve(big_app())
    async with client.post(url + "/stream", data=form_with_big_file()) as resp:
        assert resp.status == 200
        parts = await resp.json()
    assert parts[-1] == ["file", "big.bin", len(BIG), BIG_SHA256]
    assert [p[0] for p in parts[:-1]] == ["title", "tags", "tags"]


@pytest.mark.asyncio
async def test_post_urlencoded_form(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """An urlencoded form (aiohttp's FormData without files) arrives as str fields."""
    url = await serve(big_app())
    async with client.post(url + "/upload", data={"a": "1", "b": "x y&z=é"}) as resp:
        assert resp.status == 200
        assert await resp.json() == {"a": "1", "b": "x y&z=é"}


@pytest.mark.asyncio
async def test_multipart_over_client_max_size_is_413(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """A multipart body above client_max_size answers 413 Request Entity Too Large."""
    url = await serve(big_app(client_max_size=64 * 1024))
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(b"x" * 200_000), filename="f.bin")
    async with client.post(url + "/upload", data=form) as resp:
        assert resp.status == 413
        assert "Maximum request body size 65536 exceeded" in await resp.text()


@pytest.mark.asyncio
async def test_multipart_writer_response(serve: ServeApp, client: aiohttp.ClientSession) -> None:
    """A handler returns Response(body=MultipartWriter); aiohttp's reader parses it."""

    async def handler(request: web.Request) -> web.Response:
        writer = MultipartWriter("mixed")
        writer.append("text part")
        writer.append_json({"ok": True})
        return web.Response(body=writer)

    app = web.Application()
    app.router.add_get("/mp", handler)
    url = await serve(app)
    async with client.get(url + "/mp") as resp:
        assert resp.content_type == "multipart/mixed"
        reader = aiohttp.MultipartReader.from_response(resp)
        first = await reader.next()
        assert isinstance(first, aiohttp.BodyPartReader)
        assert await first.text() == "text part"
        second = await reader.next()
        assert isinstance(second, aiohttp.BodyPartReader)
        assert await second.json() == {"ok": True}
        assert await reader.next() is None


@pytest.mark.asyncio
async def test_uploaded_files_are_closed_after_the_response(
    serve: ServeApp, client: aiohttp.ClientSession
) -> None:
    """post()'s temporary files are closed once the response is sent, as aiohttp does."""
    fields: list[web.FileField] = []

    async def upload(request: web.Request) -> web.Response:
        field = (await request.post())["file"]
        assert isinstance(field, web.FileField)
        fields.append(field)
        assert not field.file.closed  # open while the handler runs
        return web.Response(text=field.file.read().decode())

    app = web.Application()
    app.router.add_post("/upload", upload)
    url = await serve(app)
    form = aiohttp.FormData()
    form.add_field("file", b"contents", filename="a.txt")
    async with client.post(url + "/upload", data=form) as resp:
        assert await resp.text() == "contents"
    assert fields[0].file.closed
