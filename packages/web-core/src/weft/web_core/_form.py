"""``BaseRequest.post()``: urlencoded and multipart/form-data bodies as a MultiDictProxy.

Fields come back as ``str`` (text parts and urlencoded values), ``bytes``
(a non-text part without a filename) or ``FileField`` (a part with a
filename). A file is spooled: kept in memory up to 1 MiB, then moved to a
temporary file on disk, written from a thread once it is there (aiohttp's
approach, which also bounds the file descriptors a body of many small files
can take). ``client_max_size`` is enforced while reading: a declared
Content-Length above it is refused before any byte is read, and a body that
grows past it stops being read at once. Every problem a client can cause is
an HTTP exception: 413 for size and field count (``HTTPRequestEntityTooLarge``,
as aiohttp), 400 for a malformed body. The 400s are also of the builtin type
aiohttp lets escape in their place (a ValueError, or a LookupError for an
unknown charset), so a handler's ``except ValueError`` around ``post()``
works unchanged; uncaught, they answer 400 with their message where aiohttp
answers 500.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, TYPE_CHECKING, Final
from urllib.parse import parse_qsl

from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy

from weft.web_exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

from ._multipart import BodyPartReader, MultipartError, MultipartReader, MultipartTooManyParts

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ["FileField", "PostValue", "read_post"]

#: Methods whose body post() reads (aiohttp's BaseRequest.POST_METHODS).
POST_METHODS: Final = frozenset({"PATCH", "POST", "PUT", "TRACE", "DELETE"})
#: A file part is kept in memory up to this size, then moved to disk.
FILE_SPOOL_MAX_SIZE: Final = 1024**2
_CHUNK: Final = 2**18


@dataclass(frozen=True, slots=True)
class FileField:
    """An uploaded file of a multipart/form-data body."""

    name: str
    filename: str
    file: IO[bytes]
    content_type: str
    headers: CIMultiDictProxy[str]


PostValue = str | bytes | FileField


class _BadFormValue(HTTPBadRequest, ValueError):
    """A form whose text cannot be decoded: aiohttp lets a UnicodeDecodeError escape."""

    def __init__(self, message: str) -> None:
        super().__init__(text=message)
        self.args = (message,)


class _UnknownCharset(_BadFormValue, LookupError):
    """A charset Python does not know: aiohttp lets codecs' LookupError escape."""


def _decode(data: bytes, charset: str, what: str) -> str:
    try:
        return data.decode(charset)
    except LookupError:
        raise _UnknownCharset(f"Unknown charset {charset!r} of {what}") from None
    except UnicodeDecodeError as exc:
        raise _BadFormValue(f"{what.capitalize()} is not valid {charset}: {exc}") from None


def _too_many_fields(max_fields: int) -> HTTPRequestEntityTooLarge:
    return HTTPRequestEntityTooLarge(
        max_fields, text=f"Maximum number of form fields {max_fields} exceeded."
    )


async def read_post(request: BaseRequest, max_fields: int) -> MultiDictProxy[PostValue]:
    """The form of ``request`` (see the module docstring); empty for other bodies."""
    out: MultiDict[PostValue] = MultiDict()
    if request.method not in request.POST_METHODS:
        return MultiDictProxy(out)
    content_type = request.content_type
    if content_type == "multipart/form-data":
        await _read_multipart(request, out, max_fields)
    elif content_type == "application/x-www-form-urlencoded":
        data = await request.read()  # enforces client_max_size
        if data:
            charset = request.charset or "utf-8"
            query = _decode(data.rstrip(), charset, "the form")
            try:
                pairs = parse_qsl(
                    query,
                    keep_blank_values=True,
                    encoding=charset,
                    max_num_fields=max_fields if max_fields > 0 else None,
                )
            except ValueError:
                raise _too_many_fields(max_fields) from None
            out.extend(pairs)
    return MultiDictProxy(out)


async def _read_multipart(request: BaseRequest, out: MultiDict[PostValue], max_fields: int) -> None:
    limit = request.client_max_size
    declared = request.content_length
    if limit and declared is not None and declared > limit:
        raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    files: list[IO[bytes]] = []
    try:
        reader = MultipartReader(
            request.headers,
            request.content,
            client_max_size=limit or sys.maxsize,
            max_size_error_cls=HTTPRequestEntityTooLarge,
            max_parts=max_fields if max_fields > 0 else None,
        )

        def check_size() -> None:
            if limit and reader._total_bytes > limit:
                raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=reader._total_bytes)

        while (field := await reader.next()) is not None:
            check_size()
            if not isinstance(field, BodyPartReader):
                raise MultipartError("A nested multipart in a form needs request.multipart()")
            if field.name is None:
                raise MultipartError("A multipart form field has no name")
            field_ct = field.headers.get("Content-Type")
            if field.filename:
                # Not a context manager: the file outlives this call, in the FileField.
                tmp: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(  # noqa: SIM115
                    FILE_SPOOL_MAX_SIZE
                )
                files.append(tmp)
                await _spool(request, field, tmp, check_size)
                out.add(
                    field.name,
                    FileField(
                        field.name,
                        field.filename,
                        tmp,
                        field_ct or "application/octet-stream",
                        field.headers,
                    ),
                )
            else:
                raw = bytearray()
                while chunk := await field.read_chunk(_CHUNK):
                    check_size()
                    raw += chunk
                value = field.decode(bytes(raw))
                if field_ct is None or field_ct.startswith("text/"):
                    charset = field.get_charset(default="utf-8")
                    out.add(field.name, _decode(value, charset, f"field {field.name!r}"))
                else:
                    out.add(field.name, value)
    except MultipartTooManyParts:
        _close(files)
        raise _too_many_fields(max_fields) from None
    except BaseException:
        _close(files)
        raise


async def _spool(
    request: BaseRequest,
    field: BodyPartReader,
    tmp: SpooledTemporaryFile[bytes],
    check_size: Callable[[], None],
) -> None:
    loop = request.loop
    rolled = False
    while chunk := await field.read_chunk(_CHUNK):
        check_size()
        data = field.decode(chunk)
        rolled = rolled or tmp.tell() + len(data) > FILE_SPOOL_MAX_SIZE
        if rolled:  # on disk from now on: keep file writes off the event loop
            await loop.run_in_executor(None, tmp.write, data)
        else:
            tmp.write(data)
    if rolled:
        await loop.run_in_executor(None, tmp.seek, 0)
    else:
        tmp.seek(0)


def _close(files: list[IO[bytes]]) -> None:
    for file in files:
        file.close()
