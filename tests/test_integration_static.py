"""Static files through the router's StaticResource and web-core's FileResponse."""

from __future__ import annotations

import asyncio
import os
import pwd
import tempfile
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.differential import under_both
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


# Each path a process without root's rights meets in a tree with unreadable
# and unenterable entries, with and without a directory listing.
PERMISSION_PATHS = [
    "/s/hello.txt",
    "/s/secret.txt",
    "/s/locked",
    "/s/locked/inner.txt",
    "/s/locked/missing",
    "/s/no_x",
    "/s/no_x/a.txt",
    "/s/no_r",
    "/s/no_r/b.txt",
    "/s/no_r/sub",
    "/s/no_r/missing",
    "/s/mixed",
    "/s/link_secret",
    "/s/link_inner",
    "/s/link_locked/inner.txt",
    "/s/",
]


@pytest.fixture
def locked_tree() -> Iterator[Path]:
    """A tree under a folder ``nobody`` may enter (pytest's tmp_path is root's only)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        root.chmod(0o755)
        (root / "hello.txt").write_text("hi")
        (root / "secret.txt").write_text("s")
        (root / "locked").mkdir()
        (root / "locked" / "inner.txt").write_text("in")
        (root / "no_x").mkdir()
        (root / "no_x" / "a.txt").write_text("a")
        (root / "no_r").mkdir()
        (root / "no_r" / "b.txt").write_text("b")
        (root / "no_r" / "sub").mkdir()
        (root / "mixed").mkdir()
        (root / "mixed" / "locked").mkdir()
        (root / "link_secret").symlink_to(root / "secret.txt")
        (root / "link_inner").symlink_to(root / "locked" / "inner.txt")
        (root / "link_locked").symlink_to(root / "locked")
        yield root
        for folder_ in (root / "locked", root / "no_x", root / "no_r", root / "mixed" / "locked"):
            folder_.chmod(0o755)


def _statuses_under_both(root: Path, show_index: bool) -> dict[str, list[tuple[str, bytes]]]:
    def build(web_: Any) -> Any:
        app = web_.Application()
        app.router.add_static("/s", root, show_index=show_index)
        return app

    async def talk(base_url: str) -> list[tuple[str, bytes]]:
        host, port = base_url.removeprefix("http://").split(":")
        seen = []
        for path in PERMISSION_PATHS:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            seen.append((path, answer.split(b" ", 2)[1]))
        return seen

    return asyncio.run(under_both(build, talk))


@pytest.mark.parametrize("show_index", [True, False])
def test_permission_refusals_as_aiohttp(locked_tree: Path, show_index: bool) -> None:
    """Unreadable files, unenterable folders, listings that meet either: aiohttp's statuses.

    Root reads everything, so the comparison runs in a forked child that
    dropped to ``nobody`` (modules it needs are imported first, as root: the
    interpreter's own files may be out of nobody's reach).
    """
    as_root = _statuses_under_both(locked_tree, show_index)
    assert as_root["weft"] == as_root["aiohttp"]
    (locked_tree / "secret.txt").chmod(0)
    (locked_tree / "locked").chmod(0)
    (locked_tree / "no_x").chmod(0o644)
    (locked_tree / "no_r").chmod(0o311)
    (locked_tree / "mixed" / "locked").chmod(0)
    if os.geteuid() != 0:
        seen = _statuses_under_both(locked_tree, show_index)
        assert seen["weft"] == seen["aiohttp"], seen
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() beside threads
        pid = os.fork()
    if pid == 0:
        status = 1
        try:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            seen = _statuses_under_both(locked_tree, show_index)
            assert seen["weft"] == seen["aiohttp"], seen
            # Not all alike: the refusals were met and some files still served.
            assert {b"200", b"403", b"404"} <= {status for _, status in seen["weft"]}, seen
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0, "weft and aiohttp differ (see stderr)"
