"""Static files: ``router.add_static('/static', directory)``.

The resource matches every path under its prefix whose normalised form stays
under it (``/static/../x`` does not match, as in aiohttp) and answers GET and
HEAD with ``request.match_info["filename"]`` resolved safely inside the
directory.  The router cannot build responses (they belong to the framework),
so the handler calls the factories its router was given: a file-response
factory for files and an HTML factory for directory index pages.

What is refused, and how (as aiohttp):

- a normalised path outside the prefix: the resource does not match (404
  unless another resource does);
- an absolute filename (``/static//etc/passwd``), a backslash, a NUL byte, a
  filename that resolves outside the directory (``..%2F``, a symlink pointing
  out unless ``follow_symlinks``), a symlink loop, a missing file: 404;
- a directory without ``show_index``, a file that is not a regular file, or
  one the process may not read: 403.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import inspect
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from yarl import URL

from weft.web_exceptions import HTTPForbidden, HTTPNotFound

from ._match_info import UrlMappingMatchInfo
from ._quoting import quote_value, unquote_value
from ._resources import PrefixResource, ResolveResult
from ._routes import ResourceRoute
from ._types import (
    ExpectHandler,
    FileResponseFactory,
    Handler,
    HtmlResponseFactory,
    ResourceInfo,
)

__all__ = ["DEFAULT_CHUNK_SIZE", "ResponseFactories", "StaticResource"]

DEFAULT_CHUNK_SIZE = 256 * 1024
_NO_METHODS: frozenset[str] = frozenset()


class _MatchInfoRequest(Protocol):
    @property
    def match_info(self) -> UrlMappingMatchInfo: ...


class ResponseFactories:
    """The response factories of one router, shared by its static resources.

    A framework sets them once (``UrlDispatcher(file_response_factory=...)`` or
    ``router.set_response_factories(...)``); resources read them per request,
    so they may be set after ``add_static``.
    """

    __slots__ = ("file", "html")

    def __init__(
        self,
        file: FileResponseFactory | None = None,
        html: HtmlResponseFactory | None = None,
    ) -> None:
        self.file = file
        self.html = html


async def _finish(response: object) -> object:
    if inspect.isawaitable(response):
        return await response
    return response


class StaticResource(PrefixResource):
    """Files under ``directory`` served below ``prefix``; GET and HEAD."""

    VERSION_KEY = "v"

    def __init__(
        self,
        prefix: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> None:
        super().__init__(prefix, name=name)
        try:
            resolved = Path(directory).expanduser().resolve(strict=True)
        except FileNotFoundError as error:
            raise ValueError(f"'{directory}' does not exist") from error
        if not resolved.is_dir():
            raise ValueError(f"'{directory}' is not a directory")
        self._directory = resolved
        self._show_index = show_index
        self._chunk_size = chunk_size
        self._follow_symlinks = follow_symlinks
        self._expect_handler = expect_handler
        self._append_version = append_version
        # Bound by the router that registers this resource (register_resource).
        self.factories: ResponseFactories | None = None
        self._routes: dict[str, ResourceRoute] = {
            "GET": ResourceRoute("GET", self._handle, self, expect_handler=expect_handler),
            "HEAD": ResourceRoute("HEAD", self._handle, self, expect_handler=expect_handler),
        }
        self._allowed_methods: set[str] = set(self._routes)

    # ---------------------------------------------------------------- introspection

    @property
    def directory(self) -> Path:
        return self._directory

    def get_info(self) -> ResourceInfo:
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def set_options_route(self, handler: Handler) -> None:
        """Answer OPTIONS too (CORS libraries use it)."""
        if "OPTIONS" in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes["OPTIONS"] = ResourceRoute(
            "OPTIONS", handler, self, expect_handler=self._expect_handler
        )
        self._allowed_methods.add("OPTIONS")

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[ResourceRoute]:
        return iter(self._routes.values())

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name is not None else ""
        return f"<StaticResource {name} {self._prefix} -> {self._directory!r}>"

    # ---------------------------------------------------------------- URLs

    def url_for(  # type: ignore[override]
        self, *, filename: str | os.PathLike[str], append_version: bool | None = None
    ) -> URL:
        """``/static/css/a%20b.css``; with ``append_version``, ``?v=<content hash>``.

        The hash is only added for an existing regular file inside the
        directory (as aiohttp, the URL is returned without it otherwise).
        """
        if append_version is None:
            append_version = self._append_version
        name = os.fspath(filename).lstrip("/")
        url = URL.build(path=self._prefix + "/" + quote_value(name, keep_slash=True), encoded=True)
        if not append_version:
            return url
        try:
            path = self._confine(self._directory.joinpath(name))
        except (ValueError, RuntimeError, OSError):
            return url
        if path.is_file():
            return url.with_query({self.VERSION_KEY: self._get_file_hash(path.read_bytes())})
        return url

    @staticmethod
    def _get_file_hash(byte_array: bytes) -> str:
        """aiohttp's version tag: URL-safe base64 of the SHA-256 of the content."""
        return base64.urlsafe_b64encode(hashlib.sha256(byte_array).digest()).decode("ascii")

    # ---------------------------------------------------------------- matching

    def resolve_path(
        self,
        method: str,
        path: str,
        *,
        default_expect_handler: ExpectHandler | None = None,
        host: str | None = None,
    ) -> ResolveResult:
        # Normalise so that '/static/../../etc' does not match (as aiohttp).
        norm = os.path.normpath(path)
        if not norm.startswith(self._prefix2) and norm != self._match_prefix:
            return None, set()
        route = self._routes.get(method)
        if route is None:
            return None, self._allowed_methods
        filename = unquote_value(path[len(self._match_prefix) + 1 :])
        info = UrlMappingMatchInfo(
            {"filename": filename}, route, default_expect_handler=default_expect_handler
        )
        return info, self._allowed_methods

    # ---------------------------------------------------------------- serving

    async def _handle(self, request: _MatchInfoRequest) -> object:
        factories = self.factories
        if factories is None or factories.file is None:
            raise RuntimeError(
                f"{self!r} cannot serve files: its router has no file-response factory. "
                "Pass UrlDispatcher(file_response_factory=...) or call "
                "router.set_response_factories(file_response_factory=...) "
                "(a web framework does this for you)"
            )
        filename = request.match_info["filename"]
        # An absolute name (//host/share, /etc/passwd), a backslash (a Windows
        # separator) or a NUL can only be an attack: refuse before touching disk.
        if "\\" in filename or "\x00" in filename or Path(filename).is_absolute():
            raise HTTPNotFound()
        loop = asyncio.get_running_loop()
        path, is_dir = await loop.run_in_executor(None, self._locate, filename)
        if is_dir:
            if factories.html is None:
                raise RuntimeError(
                    f"{self!r} has show_index=True but its router has no HTML response "
                    "factory: pass html_response_factory= to UrlDispatcher() or "
                    "router.set_response_factories()"
                )
            text = await loop.run_in_executor(None, self._directory_as_html, path)
            return await _finish(factories.html(text))
        return await _finish(factories.file(path, self._chunk_size))

    def _confine(self, unresolved: Path) -> Path:
        """The real path of ``unresolved``; ValueError when it is outside the directory."""
        if self._follow_symlinks:
            # The URL cannot climb out, but symlinks inside may point anywhere.
            normalized = Path(os.path.normpath(unresolved))
            normalized.relative_to(self._directory)
            return normalized.resolve()
        path = unresolved.resolve()
        path.relative_to(self._directory)
        return path

    def _locate(self, filename: str) -> tuple[Path, bool]:
        """Blocking: (path, is_directory) of a servable entry, or raise 404/403."""
        try:
            path = self._confine(self._directory.joinpath(filename))
        except (ValueError, RuntimeError, OSError) as error:
            # ValueError: outside the directory; RuntimeError/OSError: symlink loop.
            raise HTTPNotFound() from error
        try:
            st = path.stat()
        except FileNotFoundError as error:
            raise HTTPNotFound() from error
        except PermissionError as error:
            raise HTTPForbidden() from error
        except OSError as error:  # ENOTDIR, ENAMETOOLONG, ELOOP...
            raise HTTPNotFound() from error
        if stat.S_ISDIR(st.st_mode):
            if not self._show_index:
                raise HTTPForbidden()
            if not os.access(path, os.R_OK | os.X_OK):
                raise HTTPForbidden()
            return path, True
        if not stat.S_ISREG(st.st_mode):
            raise HTTPForbidden()
        if not os.access(path, os.R_OK):
            raise HTTPForbidden()
        return path, False

    def _directory_as_html(self, dir_path: Path) -> str:
        """aiohttp's index page: names HTML-escaped, links percent-encoded."""
        relative = dir_path.relative_to(self._directory).as_posix()  # '.' for the root
        index_of = f"Index of /{html.escape(relative)}"
        items: list[str] = []
        # Listing or an entry's is_dir() (a symlink into a folder this process
        # may not enter) can be refused: 403 like aiohttp, not an error page.
        try:
            for entry in sorted(dir_path.iterdir()):
                rel_path = entry.relative_to(self._directory).as_posix()
                url = self._prefix + "/" + quote_value(rel_path, keep_slash=True)
                file_name = f"{entry.name}/" if entry.is_dir() else entry.name
                items.append(f'<li><a href="{html.escape(url)}">{html.escape(file_name)}</a></li>')
        except PermissionError as error:
            raise HTTPForbidden() from error
        ul = "<ul>\n{}\n</ul>".format("\n".join(items))
        body = f"<body>\n<h1>{index_of}</h1>\n{ul}\n</body>"
        head = f"<head>\n<title>{index_of}</title>\n</head>"
        return f"<html>\n{head}\n{body}\n</html>"
