"""Static files: matching, safe resolution, index pages, url_for, append_version, factories."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import pwd
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from weft.web_exceptions import HTTPException, HTTPMethodNotAllowed
from weft.web_routing import (
    StaticResource,
    UrlDispatcher,
    UrlMappingMatchInfo,
    static,
)


@dataclass
class Req:
    match_info: UrlMappingMatchInfo


@dataclass
class FakeRequest:
    method: str
    rel_url: URL


def file_factory(path: Path, chunk_size: int) -> tuple[str, Path, int]:
    return ("file", path, chunk_size)


def html_factory(text: str) -> tuple[str, str]:
    return ("html", text)


def make_router() -> UrlDispatcher:
    return UrlDispatcher(file_response_factory=file_factory, html_response_factory=html_factory)


async def fetch(router: UrlDispatcher, path: str, method: str = "GET") -> object:
    """The factory result, or the HTTP status the request was refused with."""
    info = router.match(method, path)
    if info.http_exception is not None:
        return info.http_exception.status
    try:
        return await info.handler(Req(info))
    except HTTPException as exc:
        return exc.status


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/static (served) with files, a sub-directory and symlinks; root/secret outside."""
    root = tmp_path / "static"
    root.mkdir()
    (root / "hello.txt").write_text("hello")
    (root / "my file?.txt").write_text("spaces")
    (root / "sub").mkdir()
    (root / "sub" / "a.css").write_text("css")
    (root / "<b>&.txt").write_text("markup")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link_out").symlink_to(tmp_path / "secret.txt")
    (root / "link_in").symlink_to(root / "hello.txt")
    (root / "loop").symlink_to(root / "loop")
    return root


def test_directory_must_exist(tmp_path: Path) -> None:
    """add_static raises ValueError for a missing directory or a file."""
    router = make_router()
    with pytest.raises(ValueError, match="does not exist"):
        router.add_static("/s", tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is not a directory"):
        router.add_static("/s", tmp_path / "f")
    with pytest.raises(ValueError, match="start with /"):
        router.add_static("s", tmp_path)


@pytest.mark.asyncio
async def test_serves_file_through_factory(tree: Path) -> None:
    """A file is handed to the file-response factory with its real path and chunk_size."""
    router = make_router()
    router.add_static("/static/", tree, chunk_size=1024)
    assert await fetch(router, "/static/hello.txt") == ("file", tree / "hello.txt", 1024)
    assert await fetch(router, "/static/sub/a.css", "HEAD") == ("file", tree / "sub/a.css", 1024)
    assert await fetch(router, "/static/my%20file%3F.txt") == (
        "file",
        tree / "my file?.txt",
        1024,
    )


@pytest.mark.asyncio
async def test_other_methods_are_405(tree: Path) -> None:
    """POST to a static path is 405 with Allow: GET,HEAD."""
    router = make_router()
    router.add_static("/static", tree)
    info = router.match("POST", "/static/hello.txt")
    assert isinstance(info.http_exception, HTTPMethodNotAllowed)
    assert info.http_exception.headers["Allow"] == "GET,HEAD"


@pytest.mark.asyncio
async def test_missing_file_is_404(tree: Path) -> None:
    """A file that does not exist is 404; a path outside the prefix does not match."""
    router = make_router()
    router.add_static("/static", tree)
    assert await fetch(router, "/static/nope.txt") == 404
    assert await fetch(router, "/staticx/hello.txt") == 404
    assert await fetch(router, "/static/hello.txt/x") == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/sub/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/sub%2F..%2F..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5Csecret.txt",
        "/static/..\\secret.txt",
        "/static/sub\\..\\..\\secret.txt",
        "/static/hello.txt%00",
        "/static/%00",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/%2fetc/passwd",
        "/static/link_out",
        "/static/loop",
    ],
)
async def test_traversal_refused(tree: Path, path: str) -> None:
    """Escapes through .., encoded dots and slashes, backslashes, NUL, absolute names and
    symlinks pointing out are all refused with 404."""
    router = make_router()
    router.add_static("/static", tree)
    assert await fetch(router, path) == 404


@pytest.mark.asyncio
async def test_symlinks(tree: Path) -> None:
    """A symlink inside is served; one pointing out only with follow_symlinks."""
    router = make_router()
    router.add_static("/static", tree)
    assert await fetch(router, "/static/link_in") == ("file", tree / "hello.txt", 256 * 1024)
    assert await fetch(router, "/static/link_out") == 404
    following = make_router()
    following.add_static("/static", tree, follow_symlinks=True)
    assert await fetch(following, "/static/link_out") == (
        "file",
        tree.parent / "secret.txt",
        256 * 1024,
    )
    # follow_symlinks never lets the URL itself climb out.
    assert await fetch(following, "/static/..%2Fsecret.txt") == 404
    assert await fetch(following, "/static/loop") == 404


@pytest.mark.asyncio
async def test_directory_without_index_is_403(tree: Path) -> None:
    """A directory is 403 unless show_index."""
    router = make_router()
    router.add_static("/static", tree)
    assert await fetch(router, "/static/sub") == 403
    assert await fetch(router, "/static") == 403
    assert await fetch(router, "/static/") == 403


def as_unprivileged(check: Callable[[], None]) -> None:
    """Run ``check`` in a forked child that has given up root, or here if not root.

    Root reads every file whatever its mode, so a permission test run as root
    (as CI runs) would check nothing. A new interpreter as ``nobody`` cannot
    start where Python lives under /root, hence a fork: the child drops to
    ``nobody`` and reports by its exit status.
    """
    if os.geteuid() != 0:
        check()
        return
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() beside threads; the child only drops
        # its rights and runs the check in a loop of its own.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            check()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0, "the check failed in the child"


@pytest.fixture
def world_readable_tree() -> Iterator[Path]:
    """``tree``'s files in a folder ``nobody`` may enter (pytest's tmp_path is root's only)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        root.chmod(0o755)
        (root / "hello.txt").write_bytes(b"hello")
        (root / "secret.txt").write_bytes(b"no")
        (root / "locked").mkdir()
        yield root


def test_unreadable_file_and_directory_are_403(world_readable_tree: Path) -> None:
    """A file, or a listed directory, the process cannot read is 403; a readable one is served."""
    router = make_router()
    router.add_static("/static", world_readable_tree, show_index=True)
    (world_readable_tree / "secret.txt").chmod(0)
    (world_readable_tree / "locked").chmod(0)

    def check() -> None:
        served = asyncio.run(fetch(router, "/static/hello.txt"))
        assert served == ("file", world_readable_tree / "hello.txt", 256 * 1024), served
        assert asyncio.run(fetch(router, "/static/secret.txt")) == 403
        assert asyncio.run(fetch(router, "/static/locked")) == 403

    as_unprivileged(check)


def test_listing_with_an_entry_it_cannot_stat_is_403(world_readable_tree: Path) -> None:
    """A listing whose entry cannot be looked at is 403, as aiohttp (issue 14: it was a 500).

    The entry is a symlink into a folder the process may not enter: listing
    the folder works, asking whether the entry is a directory is refused.
    """
    router = make_router()
    router.add_static("/static", world_readable_tree, show_index=True)
    (world_readable_tree / "locked" / "inner.txt").write_bytes(b"in")
    (world_readable_tree / "into_locked").symlink_to(world_readable_tree / "locked" / "inner.txt")
    (world_readable_tree / "locked").chmod(0)

    def check() -> None:
        assert asyncio.run(fetch(router, "/static/")) == 403
        assert asyncio.run(fetch(router, "/static/into_locked")) == 403
        assert asyncio.run(fetch(router, "/static/hello.txt"))[0] == "file"  # type: ignore[index]

    as_unprivileged(check)


@pytest.mark.asyncio
async def test_listing_refused_midway_is_403(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PermissionError while the page is built (here from is_dir()) is 403, never 500."""
    router = make_router()
    router.add_static("/static", tree, show_index=True)
    assert (await fetch(router, "/static/"))[0] == "html"  # type: ignore[index]

    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_dir", refused)
    assert await fetch(router, "/static/") == 403


@pytest.mark.asyncio
async def test_index_page(tree: Path) -> None:
    """show_index renders aiohttp's page: names escaped, links encoded, directories with /."""
    router = make_router()
    router.add_static("/static", tree, show_index=True)
    result = await fetch(router, "/static/")
    assert isinstance(result, tuple)
    assert result[0] == "html"
    text = result[1]
    assert isinstance(text, str)
    assert "<title>Index of /.</title>" in text
    assert '<li><a href="/static/sub">sub/</a></li>' in text
    assert '<li><a href="/static/my%20file%3F.txt">my file?.txt</a></li>' in text
    assert '<a href="/static/%3Cb%3E&amp;.txt">&lt;b&gt;&amp;.txt</a>' in text
    sub = await fetch(router, "/static/sub")
    assert sub == (
        "html",
        "<html>\n<head>\n<title>Index of /sub</title>\n</head>\n<body>\n<h1>Index of /sub</h1>\n"
        '<ul>\n<li><a href="/static/sub/a.css">a.css</a></li>\n</ul>\n</body>\n</html>',
    )


@pytest.mark.asyncio
async def test_no_factory_is_a_clear_error(tree: Path) -> None:
    """Without a file-response factory a static request raises RuntimeError naming it."""
    router = UrlDispatcher()
    router.add_static("/static", tree, show_index=True)
    with pytest.raises(RuntimeError, match="file_response_factory"):
        await fetch(router, "/static/hello.txt")
    router.set_response_factories(file_response_factory=file_factory)
    assert router.file_response_factory is file_factory
    assert (await fetch(router, "/static/hello.txt"))[0] == "file"  # type: ignore[index]
    with pytest.raises(RuntimeError, match="html_response_factory"):
        await fetch(router, "/static/")


@pytest.mark.asyncio
async def test_async_factories_are_awaited(tree: Path) -> None:
    """A factory may return an awaitable; its result is the response."""

    async def afile(path: Path, chunk_size: int) -> str:
        return f"async {path.name}"

    router = UrlDispatcher()
    router.set_response_factories(file_response_factory=afile)
    router.add_static("/static", tree)
    assert await fetch(router, "/static/hello.txt") == "async hello.txt"


@pytest.mark.asyncio
async def test_root_prefix_and_order(tree: Path) -> None:
    """add_static('/') serves from the root; routes with longer prefixes still win."""
    router = make_router()

    async def handler(request: object) -> str:
        return "route"

    router.add_get("/api/{x}", handler)
    router.add_static("/", tree)
    assert await fetch(router, "/hello.txt") == ("file", tree / "hello.txt", 256 * 1024)
    assert await fetch(router, "/api/1") == "route"


@pytest.mark.asyncio
async def test_registration_order_under_one_prefix(tree: Path) -> None:
    """Under the same prefix the first registered of a route and the static resource wins."""

    async def handler(request: object) -> str:
        return "route"

    first = make_router()
    first.add_get("/static/{name}.txt", handler)
    for n in range(3):  # enough templates for a combined regex in the bucket
        first.add_get(f"/static/{{name}}.x{n}", handler)
    first.add_static("/static", tree)
    assert await fetch(first, "/static/hello.txt") == "route"
    assert (await fetch(first, "/static/sub/a.css"))[0] == "file"  # type: ignore[index]
    later = make_router()
    later.add_static("/static", tree)
    later.add_get("/static/{name}.txt", handler)
    assert (await fetch(later, "/static/hello.txt"))[0] == "file"  # type: ignore[index]


def test_url_for(tree: Path) -> None:
    """url_for(filename=...) quotes the name and keeps its slashes."""
    router = make_router()
    resource = router.add_static("/static", tree, name="st")
    assert resource.url_for(filename="sub/a.css") == URL("/static/sub/a.css")
    assert str(resource.url_for(filename="/my file?.txt")) == "/static/my%20file%3F.txt"
    assert str(router["st"].url_for(filename="100%.txt")) == "/static/100%25.txt"
    assert str(resource.url_for(filename=Path("sub") / "é.css")) == "/static/sub/%C3%A9.css"


def test_append_version(tree: Path) -> None:
    """append_version adds ?v=<urlsafe base64 sha256 of the content> for existing files only."""
    router = make_router()
    resource = router.add_static("/static", tree, append_version=True)
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"hello").digest()).decode()
    url = resource.url_for(filename="hello.txt")
    assert url.path == "/static/hello.txt"
    assert url.query["v"] == digest
    assert resource.url_for(filename="hello.txt", append_version=False).query_string == ""
    assert resource.url_for(filename="nope.txt").query_string == ""
    assert resource.url_for(filename="sub").query_string == ""
    assert resource.url_for(filename="../secret.txt").query_string == ""
    assert resource.url_for(filename="link_out").query_string == ""
    plain = make_router().add_static("/static", tree)
    assert plain.url_for(filename="hello.txt", append_version=True).query["v"] == digest


def test_introspection(tree: Path) -> None:
    """get_info, canonical, routes, repr and an OPTIONS route, as aiohttp."""
    router = make_router()
    resource = router.add_static("/my static", tree, name="files")
    assert isinstance(resource, StaticResource)
    assert resource.canonical == "/my%20static"
    info = resource.get_info()
    assert info["directory"] == tree
    assert info["prefix"] == "/my%20static"
    assert sorted(info["routes"]) == ["GET", "HEAD"]
    assert len(resource) == 2
    assert len(router.routes()) == 2
    assert repr(resource) == f"<StaticResource 'files' /my%20static -> {tree!r}>"

    async def opts(request: object) -> str:
        return "options"

    resource.set_options_route(opts)
    assert router.match("OPTIONS", "/my%20static/x").handler is opts
    with pytest.raises(RuntimeError, match="OPTIONS route was set already"):
        resource.set_options_route(opts)


@pytest.mark.asyncio
async def test_resolve_request_and_static_def(tree: Path) -> None:
    """resolve(request) matches static paths; the standalone static() registers one."""
    router = make_router()
    router.add_routes([static("/s", tree, name="s")])
    info = await router.resolve(FakeRequest("GET", URL("/s/sub/a.css")))
    assert info["filename"] == "sub/a.css"
    assert router["s"].url_for(filename="x") == URL("/s/x")
    router.freeze()
    with pytest.raises(RuntimeError, match="frozen"):
        router.add_static("/t", tree)


_PIECES = st.sampled_from(
    [
        *("..", ".", "%2e", "%2E%2e", "%2f", "%2F", "%5c", "\\", "%00", "/", "//", "%252e"),
        *("sub", "hello.txt", "link_out", "link_in", "secret.txt"),
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, max_size=8))
@pytest.mark.asyncio
async def test_never_serves_outside(tree: Path, pieces: list[str]) -> None:
    """Whatever the path is made of, a served file is inside the directory."""
    router = make_router()
    router.add_static("/static", tree, show_index=True)
    result = await fetch(router, "/static/" + "".join(pieces))
    if isinstance(result, tuple) and result[0] == "file":
        path = result[1]
        assert isinstance(path, Path)
        path.relative_to(tree)
        assert path.read_text() != "secret"
