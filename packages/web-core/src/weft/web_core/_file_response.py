"""FileResponse: a file from disk, with validators, conditional requests and ranges.

aiohttp.web's ``FileResponse(path, chunk_size, status, reason, headers)``.
When prepared it looks the file up (in an executor: ``stat`` and ``open`` may
block), answers a conditional request (304, 412) or a range request (206,
416) from RFC 9110 §13-14, and sends the bytes with the loop's ``sendfile``
(``sendfile(2)`` on a plain socket), or in ``chunk_size`` reads done in an
executor when the transport cannot (TLS on some loops, a compressed body,
a test transport). A ``.br`` or ``.gz`` sibling is served instead when the
client accepts that coding. Nothing about the file can make it a 500: a
missing file or a directory is a 404, an unreadable or special file a 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from mimetypes import MimeTypes
from stat import S_ISDIR, S_ISREG
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from ._compression import accepted_codings, add_vary, coding_acceptable
from ._conditional import ETAG_ANY, ETag
from ._hdrs import ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE
from ._response import StreamResponse, _must_be_empty_body
from ._types import LooseHeaders

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._writer import StreamWriter

__all__ = ["DEFAULT_CHUNK_SIZE", "FileResponse"]

DEFAULT_CHUNK_SIZE: Final = 256 * 1024

#: Set WEFT_NOSENDFILE (or aiohttp's AIOHTTP_NOSENDFILE) to always use chunked reads.
NOSENDFILE: Final = bool(os.environ.get("WEFT_NOSENDFILE") or os.environ.get("AIOHTTP_NOSENDFILE"))

FALLBACK_CONTENT_TYPE: Final = "application/octet-stream"

# Pre-compressed siblings, checked in this order (aiohttp's): ``name.br``, ``name.gz``.
ENCODING_EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType({".br": "br", ".gz": "gzip"})

# A private MimeTypes whose encodings map is empty: ``a.tar.gz`` is
# application/gzip (what is on the disk), not application/x-tar "encoded gzip".
CONTENT_TYPES: Final = MimeTypes()
CONTENT_TYPES.encodings_map.clear()
for _ctype, _ext in {
    "application/gzip": ".gz",
    "application/x-brotli": ".br",
    "application/x-bzip2": ".bz2",
    "application/x-compress": ".Z",
    "application/x-xz": ".xz",
}.items():
    CONTENT_TYPES.add_type(_ctype, _ext)


# Closing a file can block (network file systems), so it runs in the executor;
# its future is kept alive here in case the task awaiting it is cancelled.
_CLOSE_FUTURES: set[asyncio.Future[None]] = set()


class _Outcome(Enum):
    SEND = auto()
    NOT_FOUND = auto()  # missing, a directory, a bad path
    FORBIDDEN = auto()  # unreadable, or not a regular file (socket, FIFO, device)
    PRECONDITION_FAILED = auto()  # If-Match / If-Unmodified-Since (or If-None-Match on a write)
    NOT_MODIFIED = auto()  # If-None-Match / If-Modified-Since on GET or HEAD


@dataclass(slots=True)
class _Lookup:
    outcome: _Outcome
    fobj: io.BufferedReader | None = None
    st: os.stat_result | None = None
    encoding: str | None = None


@dataclass(slots=True, frozen=True)
class _Conditions:
    """What the request asks, read on the loop before going to the executor."""

    method: str
    accept_encoding: str
    if_match: tuple[ETag, ...] | None
    if_unmodified_since: float | None
    if_none_match: tuple[ETag, ...] | None
    if_modified_since: float | None


def _etag_value(st: os.stat_result) -> str:
    """aiohttp's entity tag: the modification time in ns and the size, in hex."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


def _etag_match(value: str, etags: tuple[ETag, ...], *, weak: bool) -> bool:
    """RFC 9110 §8.8.3.2: strong comparison (If-Match) or weak (If-None-Match)."""
    if len(etags) == 1 and etags[0].value == ETAG_ANY:
        return True
    return any(etag.value == value for etag in etags if weak or not etag.is_weak)


def _read_at(fobj: io.BufferedReader, offset: int, size: int) -> bytes:
    fobj.seek(offset)
    return fobj.read(size)


class FileResponse(StreamResponse):
    """A response that sends a file (aiohttp.web.FileResponse)."""

    # The body follows the head within prepare(): holding the head lets a small
    # file (or a 304 / 412) leave in one write.
    _send_headers_immediately = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._path = pathlib.Path(path)
        self._chunk_size = chunk_size

    # -- looking the file up (runs in an executor)

    def _stat_with_encoding(
        self, accept_encoding: str
    ) -> tuple[pathlib.Path, os.stat_result, str | None]:
        if accept_encoding:
            accepted = accepted_codings(accept_encoding.lower())
            for extension, encoding in ENCODING_EXTENSIONS.items():
                if not coding_acceptable(encoding, accepted):
                    continue
                sibling = self._path.with_name(self._path.name + extension)
                try:
                    st = sibling.lstat()  # a sibling must be a regular file, not a link
                except (OSError, ValueError):
                    continue
                if S_ISREG(st.st_mode):
                    return sibling, st, encoding
        return self._path, self._path.stat(), None

    def _lookup(self, cond: _Conditions) -> _Lookup:
        try:
            path, st, encoding = self._stat_with_encoding(cond.accept_encoding)
        except PermissionError:
            return _Lookup(_Outcome.FORBIDDEN)
        except (OSError, ValueError):  # missing, a loop of links, a NUL in the name
            return _Lookup(_Outcome.NOT_FOUND)
        if S_ISDIR(st.st_mode):
            return _Lookup(_Outcome.NOT_FOUND)
        if not S_ISREG(st.st_mode):
            return _Lookup(_Outcome.FORBIDDEN)

        etag = _etag_value(st)
        safe = cond.method in ("GET", "HEAD")
        # RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match,
        # else If-Modified-Since (which only GET and HEAD honour).
        if cond.if_match is not None:
            if not _etag_match(etag, cond.if_match, weak=False):
                return _Lookup(_Outcome.PRECONDITION_FAILED, st=st, encoding=encoding)
        elif cond.if_unmodified_since is not None and st.st_mtime > cond.if_unmodified_since:
            return _Lookup(_Outcome.PRECONDITION_FAILED, st=st, encoding=encoding)
        if cond.if_none_match is not None:
            if _etag_match(etag, cond.if_none_match, weak=True):
                outcome = _Outcome.NOT_MODIFIED if safe else _Outcome.PRECONDITION_FAILED
                return _Lookup(outcome, st=st, encoding=encoding)
        elif safe and cond.if_modified_since is not None and st.st_mtime <= cond.if_modified_since:
            return _Lookup(_Outcome.NOT_MODIFIED, st=st, encoding=encoding)

        try:
            fobj = path.open("rb")
        except PermissionError:
            return _Lookup(_Outcome.FORBIDDEN)
        except OSError:  # removed since the stat
            return _Lookup(_Outcome.NOT_FOUND)
        with contextlib.suppress(OSError):
            st = os.fstat(fobj.fileno())  # what was opened, should it have changed since
        return _Lookup(_Outcome.SEND, fobj, st, encoding)

    # -- answering

    async def prepare(self, request: BaseRequest) -> StreamWriter | None:
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        loop = asyncio.get_running_loop()
        ims = request.if_modified_since
        ius = request.if_unmodified_since
        cond = _Conditions(
            method=request.method,
            accept_encoding=request.headers.get("Accept-Encoding", ""),
            if_match=request.if_match,
            if_unmodified_since=None if ius is None else ius.timestamp(),
            if_none_match=request.if_none_match,
            if_modified_since=None if ims is None else ims.timestamp(),
        )
        found = await loop.run_in_executor(None, self._lookup, cond)
        outcome = found.outcome
        if outcome is _Outcome.SEND:
            assert found.fobj is not None
            assert found.st is not None
            try:
                return await self._send_file(request, found.fobj, found.st, found.encoding)
            finally:
                # Closed before prepare() ends, so that no descriptor outlives the
                # response (CVE-2026-54280); shielded, so that a cancellation of this
                # task cannot leave the file open, and the future kept alive meanwhile.
                close = loop.run_in_executor(None, found.fobj.close)
                _CLOSE_FUTURES.add(close)
                close.add_done_callback(_CLOSE_FUTURES.discard)
                await asyncio.shield(close)
        self._compression = False  # no body worth compressing
        if outcome is _Outcome.NOT_MODIFIED:
            assert found.st is not None
            return await self._not_modified(request, found.st)
        if outcome is _Outcome.PRECONDITION_FAILED:
            return await self._empty(request, 412)
        return await self._error(request, 404 if outcome is _Outcome.NOT_FOUND else 403)

    async def _not_modified(self, request: BaseRequest, st: os.stat_result) -> StreamWriter | None:
        self.set_status(304)
        self._length_check = False
        self._headers.popall(CONTENT_LENGTH, None)
        self.etag = _etag_value(st)
        self.last_modified = st.st_mtime
        return await super().prepare(request)

    async def _empty(self, request: BaseRequest, status: int) -> StreamWriter | None:
        self.set_status(status)
        self.content_length = 0
        return await super().prepare(request)

    async def _error(self, request: BaseRequest, status: int) -> StreamWriter | None:
        """404 / 403 with the short text body an HTTPException would have."""
        self.set_status(status)
        body = f"{self._status}: {self._reason}".encode()
        self._headers[CONTENT_TYPE] = "text/plain; charset=utf-8"
        self.content_length = len(body)
        writer = await super().prepare(request)
        await self.write_eof(body)
        return writer

    def _range(self, request: BaseRequest, st: os.stat_result) -> tuple[int, int] | None:
        """``(start, count)`` of a satisfiable Range; None to send it all; ValueError for 416.

        Only GET and HEAD take ranges (RFC 9110 §14.2). If-Range must match:
        a date as aiohttp (not modified since), an entity tag by strong
        comparison (aiohttp ignores those), anything else means the whole file.
        """
        if request.method not in ("GET", "HEAD") or "Range" not in request.headers:
            return None
        if_range = request.headers.get("If-Range")
        if if_range is not None:
            since = request.if_range
            if since is not None:
                if st.st_mtime > since.timestamp():
                    return None
            elif not _etag_match(_etag_value(st), _strong_etag(if_range), weak=False):
                return None
        rng = request.http_range  # ValueError when malformed, as aiohttp
        size = st.st_size
        start, end = rng.start, rng.stop
        if start is None:
            return None
        if start < 0 and end is None:  # the last -start bytes
            start = max(size + start, 0)
            count = size - start
        else:
            count = min(size if end is None else end, size) - start
        if start >= size:
            raise ValueError("range not satisfiable")
        return start, count

    async def _send_file(
        self,
        request: BaseRequest,
        fobj: io.BufferedReader,
        st: os.stat_result,
        encoding: str | None,
    ) -> StreamWriter | None:
        size = st.st_size
        try:
            selected = self._range(request, st)
        except ValueError:
            # RFC 9110 §15.5.17: say how long the representation is.
            self._headers[CONTENT_RANGE] = f"bytes */{size}"
            self._compression = False
            return await self._empty(request, 416)
        offset, count = (0, size) if selected is None else selected
        if selected is not None:
            self.set_status(206)
            self._headers[CONTENT_RANGE] = f"bytes {offset}-{offset + count - 1}/{size}"
        if CONTENT_TYPE not in self._headers:
            self.content_type = (
                CONTENT_TYPES.guess_type(self._path.name)[0] or FALLBACK_CONTENT_TYPE
            )
        if encoding is not None:
            self._headers[CONTENT_ENCODING] = encoding
            add_vary(self._headers)
            self._compression = False  # never compress twice
        self.etag = _etag_value(st)
        self.last_modified = st.st_mtime
        self.content_length = count
        self._headers[ACCEPT_RANGES] = "bytes"

        writer = await super().prepare(request)
        if count == 0 or _must_be_empty_body(request.method, self._status):
            return writer
        assert writer is not None
        await self._send_body(writer, fobj, offset, count)
        await super().write_eof()
        return writer

    async def _send_body(
        self, writer: StreamWriter, fobj: io.BufferedReader, offset: int, count: int
    ) -> None:
        if not NOSENDFILE:
            try:
                sent = await writer.sendfile(fobj, offset, count)
            except NotImplementedError:
                pass
            else:
                self._body_length += sent
                if sent < count:
                    self.force_close()  # the file shrank: the body is short, end it by closing
                return
        await self._sendfile_fallback(fobj, offset, count)

    async def _sendfile_fallback(self, fobj: io.BufferedReader, offset: int, count: int) -> None:
        """Read ``chunk_size`` at a time in the executor and write each piece."""
        loop = asyncio.get_running_loop()
        chunk_size = self._chunk_size
        while count > 0:
            chunk = await loop.run_in_executor(None, _read_at, fobj, offset, min(chunk_size, count))
            if not chunk:
                self.force_close()  # the file shrank: the body is short, end it by closing
                break
            await self.write(chunk)
            offset += len(chunk)
            count -= len(chunk)


def _strong_etag(header: str) -> tuple[ETag, ...]:
    """An If-Range entity tag (RFC 9110 §13.1.5): one tag, which must be strong."""
    header = header.strip()
    if header.startswith('"') and header.endswith('"') and len(header) >= 2:
        return (ETag(header[1:-1]),)
    return ()
