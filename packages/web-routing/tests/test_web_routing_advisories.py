"""aiohttp's static-file advisories: each one a regression test against the router.

Each test names the advisory of ``/work/shared/ADVISORIES.md`` it answers in its
docstring; the README's "Security advisories" table points from the advisory to
the test. Requests go through ``UrlDispatcher.match`` with the raw path a
client sends (``--path-as-is``: dots and encodings untouched), and the static
handler runs with recording factories. nox runs this file against the
compiled and the pure-Python builds.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from weft.web_exceptions import HTTPException
from weft.web_routing import UrlDispatcher, UrlMappingMatchInfo


class _Request:
    def __init__(self, match_info: UrlMappingMatchInfo) -> None:
        self.match_info = match_info


def _router(root: Path, **options: Any) -> UrlDispatcher:
    router = UrlDispatcher(
        file_response_factory=lambda path, chunk_size: ("file", path),
        html_response_factory=lambda text: ("html", text),
    )
    router.add_static("/static", root, **options)
    return router


async def answer(router: UrlDispatcher, path: str) -> tuple[object, ...]:
    """What a client would see: ("file", path), ("html", page) or (status, text, headers)."""
    info = router.match("GET", path)
    exc = info.http_exception
    if exc is None:
        try:
            result = await info.handler(_Request(info))
        except HTTPException as raised:
            exc = raised
        else:
            assert isinstance(result, tuple)
            return result
    return (exc.status, exc.text, sorted(exc.headers.items()))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """tmp/static is served; tmp/secret.txt and tmp/secret_dir/ exist outside it."""
    served = tmp_path / "static"
    (served / "sub").mkdir(parents=True)
    (served / "hello.txt").write_text("hello")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "secret_dir").mkdir()
    (served / "link_out").symlink_to(tmp_path)
    return served


# The same escape spelled every way a client can; {} is the name outside the root.
_TRAVERSALS = [
    "/static/../{}",
    "/static/sub/../../{}",
    "/static/%2e%2e/{}",
    "/static/%2E%2E/{}",
    "/static/.%2e/{}",
    "/static/%2e./{}",
    "/static/..%2f{}",
    "/static/..%2F{}",
    "/static/%2e%2e%2f{}",
    "/static/sub%2f..%2f..%2f{}",
    "/static/sub/%2e%2e/%2e%2e/{}",
    "/static/..%5c{}",
    "/static/..\\{}",
    "/static/link_out/{}",
    "/static/link_out/../{}",
    "/static/hello.txt/../../{}",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("follow_symlinks", [False, True], ids=["no-follow", "follow"])
@pytest.mark.parametrize("template", _TRAVERSALS)
async def test_traversal_is_404_whatever_the_symlink_setting(
    root: Path, template: str, follow_symlinks: bool
) -> None:
    """GHSA-5h86-8mv2-jq9f / CVE-2024-23334: ``..`` as sent (--path-as-is), encoded dots
    and slashes, backslashes and a climb through a file never serve a file outside
    the root, with follow_symlinks off or on (it lets a symlink inside the root point
    out, never the URL climb out)."""
    router = _router(root, follow_symlinks=follow_symlinks)
    result = await answer(router, template.format("secret.txt"))
    if template.startswith("/static/link_out/") and "/../" not in template and follow_symlinks:
        # A symlink inside the root is the owner's choice to follow (aiohttp's too).
        assert result == ("file", root.parent / "secret.txt")
    else:
        assert result[0] == 404


@pytest.mark.asyncio
@pytest.mark.parametrize("follow_symlinks", [False, True], ids=["no-follow", "follow"])
@pytest.mark.parametrize("template", [t for t in _TRAVERSALS if "link_out" not in t])
async def test_traversal_answers_the_same_for_existing_and_missing_targets(
    root: Path, template: str, follow_symlinks: bool
) -> None:
    """GHSA-54jq-c3m8-4m76 / CVE-2025-69226: an escape attempt gets the very same answer
    (status, text, headers) whether the file or directory it aims at exists outside the
    root or not, so the answers reveal nothing about the filesystem."""
    router = _router(root, follow_symlinks=follow_symlinks, show_index=True)
    answers = {
        name: await answer(router, template.format(name))
        for name in ("secret.txt", "missing.txt", "secret_dir", "missing_dir", "secret_dir/")
    }
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["secret.txt"][0] == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)<script>.txt", '"><img src=x onerror=alert(1)>', "a&b<i>.txt"],
)
async def test_file_names_are_html_escaped_in_the_index_page(root: Path, name: str) -> None:
    """GHSA-7gpw-8wmc-pm8g / CVE-2024-27306: a file named with markup appears escaped in
    the show_index page (text and link), never as markup."""
    (root / name).write_text("x")
    result = await answer(_router(root, show_index=True), "/static/")
    assert result[0] == "html"
    page = result[1]
    assert isinstance(page, str)
    shown = {f">{html.escape(name, quote=quote)}</a>" for quote in (True, False)}
    assert any(text in page for text in shown), page
    assert "<script>" not in page
    assert "<img" not in page
    assert "<i>" not in page


class _FilesystemLog:
    """Every path the static handler asks the OS about (stat, lstat, access, listdir...)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        for name in ("stat", "lstat", "access", "listdir", "scandir", "readlink", "open"):
            monkeypatch.setattr(os, name, self._recording(getattr(os, name)))

    def _recording(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(path, int):  # a file descriptor is no path
                self.paths.append(os.fsdecode(path))
            return real(path, *args, **kwargs)

        return call


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/static/C:/Windows/win.ini",
        "/static/C:%5CWindows%5Cwin.ini",
        "/static/c:",
        "/static/C:x",
        "/static/\\\\host\\share\\file",
        "/static/%5C%5Chost%5Cshare%5Cfile",
        "/static//host/share/file",
        "/static/%2F%2Fhost%2Fshare%2Ffile",
        "/static/%2Fetc%2Fpasswd",
        "/static/\\\\?\\C:\\Windows\\win.ini",
        "/static/\\\\.\\pipe\\x",
    ],
)
async def test_windows_drive_and_unc_paths_are_404_without_touching_anything_outside(
    root: Path, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GHSA-p998-jp59-783m / CVE-2026-34515: drive-letter, UNC and absolute names in a
    static URL are a 404, and (checked on POSIX too, by recording every path handed
    to the OS) no filesystem path outside the root is looked at: on Windows such a
    look-up is what leaks an NTLM hash to a remote share."""
    for follow_symlinks in (False, True):
        router = _router(root, follow_symlinks=follow_symlinks)
        log = _FilesystemLog(monkeypatch)
        result = await answer(router, path)
        assert result[0] == 404
        # Resolving a name inside the root lstat()s the root's own ancestors, one by one.
        outside = [
            p for p in log.paths if not Path(p).is_relative_to(root) and Path(p) not in root.parents
        ]
        assert outside == [], outside
