"""MultipartReader and BodyPartReader: a streaming multipart body reader (RFC 2046, RFC 7578).

aiohttp's API: ``reader = MultipartReader(headers, content)``, then
``await reader.next()`` (or ``async for part in reader``) gives each part as
a ``BodyPartReader`` (or, for a ``multipart/*`` part, a nested
``MultipartReader``). A part is read with ``read_chunk(size)``,
``readline()``, ``read(decode=)``, ``text()``, ``json()``, ``form()`` or
skipped with ``release()``; moving to the next part releases the current one.

The body is never held whole: the reader keeps a small look-ahead buffer
(``_BufferedBody``) shared by a reader and its nested readers, and a part's
bytes are handed out as soon as they cannot be the start of the delimiter
``CRLF "--" boundary``.

Errors. Every error a malformed body can cause is a ``MultipartError``::

    ValueError                        (what aiohttp's reader raises: the except
    HTTPBadRequest  (400)              clause of an aiohttp handler still works)
     └── MultipartError                a malformed body, 400
          ├── MultipartHeadersTooLarge a part header line over max_field_size,
          │                            or more than max_headers of them, 400
          └── MultipartTooManyParts    more than max_parts parts, 413
                                       (also an HTTPRequestEntityTooLarge)

Being HTTP exceptions, they answer 400 (413) with their message when a
handler iterating ``request.multipart()`` lets them escape, where aiohttp
answers 500. A body over ``client_max_size`` raises ``max_size_error_cls``
(``HTTPRequestEntityTooLarge`` from a request), as in aiohttp.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import zlib
from collections.abc import AsyncIterator, Mapping
from functools import cached_property
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from weft.web_exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge

from ._content_disposition import content_disposition_filename, parse_content_disposition
from ._helpers import parse_content_type
from ._token import TCHAR

__all__ = [
    "BodyPartReader",
    "MultipartError",
    "MultipartHeadersTooLarge",
    "MultipartReader",
    "MultipartTooManyParts",
]

# RFC 2046 §5.1.1: bchars, 1 to 70 of them, not ending in a space.
BOUNDARY_RE = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_HEADER_NAME = re.compile(rb"[%s]+" % TCHAR.encode("ascii"))
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BASE64_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_NON_BASE64 = bytes(b for b in range(256) if b not in _BASE64_BYTES)
# A part may carry each of these once. aiohttp's header parser refuses a repeat of
# its singletons; weft adds the two that say what a part is (its field name and
# filename, its decoding): two of them could be read one way by a proxy or a
# filter and the other way by the app.
_SINGLETON_HEADERS = frozenset(
    {
        "content-disposition",
        "content-encoding",
        "content-length",
        "content-location",
        "content-range",
        "content-transfer-encoding",
        "content-type",
        "etag",
        "host",
        "max-forwards",
        "server",
        "transfer-encoding",
        "user-agent",
    }
)
_RELEASE_CHUNK = 2**16
_READLINE_LIMIT = 2**16


class MultipartError(HTTPBadRequest, ValueError):
    """A malformed multipart body: a ValueError (aiohttp's type) that answers 400 if uncaught."""

    def __init__(self, message: str) -> None:
        super().__init__(text=message)
        self.args = (message,)  # str(exc) is the message, as for the ValueError it stands for


class MultipartHeadersTooLarge(MultipartError):
    """A part's header line is longer than ``max_field_size`` or it has too many headers.

    A 400 as aiohttp's own error for it (BadHttpMessage / LineTooLong, code
    400): the caps bound a parse, not the size of what is uploaded.
    """


class MultipartTooManyParts(HTTPRequestEntityTooLarge, MultipartError):
    """The body has more parts than ``max_parts``: a 413, as aiohttp's too many form fields."""

    def __init__(self, message: str) -> None:
        MultipartError.__init__(self, message)


class _ReadAny(Protocol):
    """What the reader needs of a body stream (weft's BodyStream, aiohttp's StreamReader)."""

    async def readany(self) -> bytes: ...


# Candidates for the delimiter (its first byte, CR) checked one by one before the
# search falls back to bytes.find (see _find_delimiter).
_CR_PROBES: Final = 8


def _find_delimiter(buf: bytearray, delimiter: bytes, end: int) -> int:
    """``buf.find(delimiter, 0, end)``, fast on the bodies uploads usually are.

    bytes.find skips ahead by how little of the window can be in the needle,
    so its time depends on the data: 27 µs for 64 KiB of a byte that occurs in
    the boundary, 8 µs for random bytes. Every delimiter starts with CR, and
    finding a byte (memchr) takes under 1 µs for 64 KiB: a body with few CRs
    (binary files have one in 256 bytes, plain text none or one per line) is
    searched by its CRs, and after ``_CR_PROBES`` misses bytes.find takes over.
    """
    index = buf.find(b"\r", 0, end)
    for _ in range(_CR_PROBES):
        if index < 0 or buf.startswith(delimiter, index):
            return index if index < 0 or index + len(delimiter) <= end else -1
        index = buf.find(b"\r", index + 1, end)
    return buf.find(delimiter, max(index, 0), end)


class _BufferedBody:
    """A body stream with a look-ahead buffer, shared by a reader and its nested readers."""

    __slots__ = ("_buf", "_eof", "_stream", "total")

    def __init__(self, stream: _ReadAny) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._eof = False
        self.total = 0  # bytes taken from the stream so far

    async def readany(self) -> bytes:
        """Whatever is buffered, else the stream's next bytes; ``b""`` at the end."""
        if self._buf:
            return self._take(len(self._buf))
        if self._eof:
            return b""
        data = await self._stream.readany()
        self.total += len(data)
        if not data:
            self._eof = True
        return data

    async def _fill(self, n: int) -> bool:
        """Buffer at least ``n`` bytes; False when the body ends first."""
        buf = self._buf
        while len(buf) < n:
            if self._eof:
                return False
            chunk = await self._stream.readany()
            if not chunk:
                self._eof = True
                return False
            self.total += len(chunk)
            buf += chunk
        return True

    def _take(self, n: int) -> bytes:
        buf = self._buf
        if n >= len(buf):
            data = bytes(buf)
            buf.clear()
            return data
        # One copy (a slice of the bytearray would be a second); the view is
        # released before the bytearray is resized.
        with memoryview(buf) as view:
            data = view[:n].tobytes()
        del buf[:n]
        return data

    async def startswith(self, prefix: bytes) -> bool:
        await self._fill(len(prefix))
        return self._buf.startswith(prefix)

    async def consume(self, n: int) -> None:
        await self._fill(n)
        del self._buf[:n]

    async def read_line(self, limit: int) -> bytes:
        """The bytes before the next CRLF (which is consumed); ``limit`` bytes with the CRLF."""
        cap = limit
        limit -= 2  # aiohttp's readline(max_line_length=) counts the line's CRLF
        searched = 0
        while True:
            index = self._buf.find(b"\r\n", searched)
            if index >= 0:
                if index > limit:
                    break
                line = self._take(index)
                del self._buf[:2]
                return line
            if len(self._buf) > limit + 1:
                break
            searched = max(0, len(self._buf) - 1)
            if not await self._fill(len(self._buf) + 1):
                raise MultipartError("The multipart body ended inside a part's headers")
        raise MultipartHeadersTooLarge(f"A part's header line is longer than {cap} bytes")

    async def skip_to(self, needle: bytes) -> bool:
        """Discard bytes until ``needle`` starts the buffer; False when the body ends first."""
        keep = len(needle) - 1
        while True:
            index = self._buf.find(needle)
            if index >= 0:
                del self._buf[:index]
                return True
            if len(self._buf) > keep:
                del self._buf[: len(self._buf) - keep]
            if not await self._fill(len(self._buf) + 1):
                return False

    async def read_part(self, delimiter: bytes, size: int) -> tuple[bytes, bool]:
        """Up to ``size`` bytes of a part and whether ``delimiter`` (left buffered) ends it."""
        window = size + len(delimiter)
        await self._fill(window)
        index = _find_delimiter(self._buf, delimiter, window)
        if 0 <= index <= size:
            return self._take(index), True
        if index < 0 and len(self._buf) < window:  # the body ended without the delimiter
            raise MultipartError("The multipart body ended before the closing boundary")
        return self._take(size), False

    async def read_part_line(self, delimiter: bytes) -> tuple[bytes, bool]:
        """A part's next line (with its LF), or its last bytes before ``delimiter``."""
        searched = 0
        while True:
            buf = self._buf
            newline = buf.find(b"\n", searched)
            if newline >= 0:
                # The LF may be the one of the delimiter's CRLF: look far enough to know.
                await self._fill(newline + len(delimiter))
                end = self._buf.find(delimiter, 0, newline + len(delimiter))
                if end >= 0:
                    return self._take(end), True
                return self._take(newline + 1), False
            if len(buf) > _READLINE_LIMIT + len(delimiter):
                return self._take(len(buf) - len(delimiter)), False  # a very long line, in pieces
            searched = len(buf)
            if not await self._fill(len(buf) + 1):
                raise MultipartError("The multipart body ended before the closing boundary")


def _as_buffered(content: _ReadAny) -> _BufferedBody:
    return content if isinstance(content, _BufferedBody) else _BufferedBody(content)


def _parse_part_headers(lines: list[bytes]) -> CIMultiDictProxy[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or _HEADER_NAME.fullmatch(name) is None:
            raise MultipartError(f"Invalid header line in a multipart part: {line[:80]!r}")
        value = value.strip(b" \t")
        if _BAD_VALUE_BYTE.search(value) is not None:
            raise MultipartError(f"Invalid character in a multipart header: {line[:80]!r}")
        key = name.decode("ascii")
        if key in headers and key.lower() in _SINGLETON_HEADERS:
            raise MultipartError(f"A multipart part has two {key} headers")
        # RFC 7578 §5.1: form-data senders put raw UTF-8 in names and filenames.
        headers.add(key, value.decode("utf-8", "surrogateescape"))
    return CIMultiDictProxy(headers)


def _decompress(data: bytes, encoding: str, limit: int) -> bytes:
    if encoding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0:
        wbits = zlib.MAX_WBITS  # deflate with its zlib header (RFC 9110 §8.4.1.2)
    else:
        wbits = -zlib.MAX_WBITS  # raw deflate, as aiohttp's writer sends it
    decompressor = zlib.decompressobj(wbits)
    try:
        # One byte more than the limit tells the caller that the limit was passed.
        return decompressor.decompress(data, min(limit, sys.maxsize - 1) + 1)
    except zlib.error as exc:
        raise MultipartError(f"Cannot decode the {encoding} content of a part: {exc}") from None


class BodyPartReader:
    """One part of a multipart body, read as it arrives."""

    chunk_size = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: CIMultiDictProxy[str],
        content: _ReadAny,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        client_max_size: int = sys.maxsize,
        max_size_error_cls: type[Exception] = ValueError,
    ) -> None:
        self.headers = headers
        self._boundary = boundary  # b"--" + boundary, as aiohttp passes it
        self._delimiter = b"\r\n" + boundary
        self._content = _as_buffered(content)
        self._is_form_data = subtype == "form-data"
        self._default_charset = default_charset
        self._client_max_size = client_max_size
        self._max_size_error_cls = max_size_error_cls
        self._at_eof = False
        self._carry = b""
        cte = headers.get("Content-Transfer-Encoding", "").strip().lower()
        self._transfer_encoding = "" if cte in ("", "binary", "8bit", "7bit") else cte

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} filename={self.filename!r}>"

    def __aiter__(self) -> BodyPartReader:
        return self

    async def __anext__(self) -> bytes:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> bytes | None:
        """The rest of the part (aiohttp's API), or None when it was read."""
        data = await self.read()
        return data or None

    def at_eof(self) -> bool:
        """True once the part's closing delimiter was reached."""
        return self._at_eof

    @cached_property
    def _disposition(self) -> dict[str, str]:
        """The parameters of Content-Disposition, parsed once for ``name`` and ``filename``."""
        return parse_content_disposition(self.headers.get("Content-Disposition"))[1]

    @cached_property
    def name(self) -> str | None:
        """The ``name`` parameter of Content-Disposition (None when missing or malformed)."""
        return content_disposition_filename(self._disposition, "name")

    @cached_property
    def filename(self) -> str | None:
        """The ``filename*`` (RFC 8187) or ``filename`` parameter of Content-Disposition."""
        return content_disposition_filename(self._disposition, "filename")

    def get_charset(self, default: str) -> str:
        """The charset of Content-Type, else the form's ``_charset_``, else ``default``."""
        ctype = self.headers.get("Content-Type")
        charset = None if ctype is None else parse_content_type(ctype)[1].get("charset")
        return charset or self._default_charset or default

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` raw bytes of the part; ``b""`` at its end.

        For base64 (quoted-printable) parts a chunk ends on a whole quartet
        (line), so that ``decode()`` can decode each chunk on its own.
        """
        if size < 1:
            raise ValueError(f"read_chunk() needs size >= 1, not {size}")
        while not self._at_eof:
            data, end = await self._content.read_part(self._delimiter, size)
            if end:
                self._at_eof = True
            if self._carry:
                data = self._carry + data
                self._carry = b""
            if self._transfer_encoding and not self._at_eof:
                data = self._align(data)
            if data or self._at_eof:
                return data
        return b""

    def _align(self, data: bytes) -> bytes:
        """Cut ``data`` after its last whole base64 quartet or QP line; carry the rest."""
        cut = len(data)
        if self._transfer_encoding == "base64":
            extra = len(data.translate(None, _NON_BASE64)) % 4
            while extra:
                cut -= 1
                if data[cut] in _BASE64_BYTES:
                    extra -= 1
        elif self._transfer_encoding == "quoted-printable":
            newline = data.rfind(b"\n")
            if newline >= 0:
                cut = newline + 1
            else:
                equals = data.rfind(b"=", max(0, len(data) - 3))
                cut = len(data) if equals < 0 else equals
        self._carry = data[cut:]
        return data[:cut]

    async def read(self, *, decode: bool = False) -> bytes:
        """The rest of the part; ``decode=True`` undoes its transfer and content encodings."""
        data = bytearray()
        while not self._at_eof:
            data += await self.read_chunk(_RELEASE_CHUNK)
            if len(data) > self._client_max_size:
                raise self._max_size_error_cls(self._client_max_size)
        return self.decode(bytes(data)) if decode else bytes(data)

    async def readline(self) -> bytes:
        """The next line of the part with its LF; the last line comes without its CRLF."""
        if self._at_eof:
            return b""
        line, end = await self._content.read_part_line(self._delimiter)
        if end:
            self._at_eof = True
        return line

    async def release(self) -> None:
        """Read the rest of the part to the void."""
        while not self._at_eof:
            _, end = await self._content.read_part(self._delimiter, _RELEASE_CHUNK)
            self._at_eof = end
        self._carry = b""

    async def text(self, *, encoding: str | None = None) -> str:
        """The part decoded as text (its charset, else UTF-8)."""
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset(default="utf-8"))

    async def json(self, *, encoding: str | None = None) -> Any:
        """The part parsed as JSON; None for an empty part."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset(default="utf-8")))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The part parsed as application/x-www-form-urlencoded pairs."""
        data = await self.read(decode=True)
        if not data:
            return []
        charset = encoding or self.get_charset(default="utf-8")
        try:
            text = data.rstrip().decode(charset)
        except UnicodeDecodeError:
            raise ValueError(f"data cannot be decoded with {charset} encoding") from None
        return parse_qsl(text, keep_blank_values=True, encoding=charset)

    def decode(self, data: bytes) -> bytes:
        """Undo Content-Transfer-Encoding, then Content-Encoding (not for form-data)."""
        encoding = self._transfer_encoding
        if encoding == "base64":
            try:
                data = base64.b64decode(data)
            except binascii.Error as exc:
                raise MultipartError(f"Invalid base64 in a multipart part: {exc}") from None
        elif encoding == "quoted-printable":
            data = binascii.a2b_qp(data)
        elif encoding:
            raise MultipartError(f"Unknown Content-Transfer-Encoding: {encoding}")
        if not self._is_form_data:  # RFC 7578 §4.8: form-data parts have no Content-Encoding
            coding = self.headers.get("Content-Encoding", "").strip().lower()
            if coding in ("gzip", "deflate"):
                data = _decompress(data, coding, self._client_max_size)
                if len(data) > self._client_max_size:  # a limit, as a too large body: 413
                    raise self._max_size_error_cls(self._client_max_size)
            elif coding not in ("", "identity"):
                raise MultipartError(f"Unknown Content-Encoding of a part: {coding}")
        return data

    async def decode_iter(self, data: bytes) -> AsyncIterator[bytes]:
        """``decode(data)`` as an async iterator (aiohttp's API)."""
        yield self.decode(data)


class MultipartReader:
    """A multipart body: an async iterator of its parts."""

    #: The reader of ``multipart/*`` parts; None means ``type(self)``.
    multipart_reader_cls: type[MultipartReader] | None = None
    #: The reader of every other part.
    part_reader_cls: type[BodyPartReader] = BodyPartReader

    def __init__(
        self,
        headers: Mapping[str, str],
        content: _ReadAny,
        *,
        client_max_size: int = sys.maxsize,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_size_error_cls: type[Exception] = ValueError,
        max_parts: int | None = None,
    ) -> None:
        ctype = headers.get("Content-Type", "")
        mimetype, params = parse_content_type(ctype)
        maintype, _, subtype = mimetype.partition("/")
        if maintype != "multipart":
            raise MultipartError(f"multipart/* content type expected, not {ctype!r}")
        boundary = params.get("boundary")
        if boundary is None:
            raise MultipartError(f"boundary missed for Content-Type: {ctype}")
        if BOUNDARY_RE.fullmatch(boundary) is None:
            raise MultipartError(
                f"Invalid boundary {boundary!r}: RFC 2046 allows 1 to 70 characters of "
                "letters, digits and '()+_,-./:=? (a space, but not at the end)"
            )
        self.headers = headers
        self._subtype = subtype
        self._boundary = b"--" + boundary.encode("ascii")
        self._delimiter = b"\r\n" + self._boundary
        self._content = _as_buffered(content)
        self._client_max_size = client_max_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_size_error_cls = max_size_error_cls
        self._max_parts = max_parts
        self._parts = 0
        self._default_charset: str | None = None
        self._last_part: MultipartReader | BodyPartReader | None = None
        self._at_eof = False
        self._at_bof = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.headers.get('Content-Type', '')!r}>"

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the closing delimiter was read."""
        return self._at_eof

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part (the current one is released first), or None after the last."""
        while True:
            if self._at_eof:
                return None
            await self._maybe_release_last_part()
            if await self._read_boundary():
                return None
            self._parts += 1
            if self._max_parts is not None and self._parts > self._max_parts:
                raise MultipartTooManyParts(
                    f"The multipart body has more than {self._max_parts} parts"
                )
            part = await self.fetch_next_part()
            self._last_part = part
            # RFC 7578 §4.6: a first field named _charset_ gives the form's default charset.
            if (
                self._parts == 1
                and self._subtype == "form-data"
                and isinstance(part, BodyPartReader)
                and part.name == "_charset_"
            ):
                charset = await part.read_chunk(32)
                if len(charset) > 31 or not part.at_eof():
                    raise MultipartError("Invalid _charset_ field")
                self._default_charset = charset.strip().decode("ascii", "replace")
                continue
            return part

    async def release(self) -> None:
        """Read every remaining part to the void."""
        while not self._at_eof:
            part = await self.next()
            if part is None:
                break
            await part.release()

    async def fetch_next_part(self) -> MultipartReader | BodyPartReader:
        """Read the next part's headers and return its reader."""
        return self._get_part_reader(await self._read_headers())

    def _get_part_reader(self, headers: CIMultiDictProxy[str]) -> MultipartReader | BodyPartReader:
        mimetype = parse_content_type(headers.get("Content-Type", ""))[0]
        if mimetype.startswith("multipart/"):
            cls = self.multipart_reader_cls or type(self)
            return cls(
                headers,
                self._content,
                client_max_size=self._client_max_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                max_size_error_cls=self._max_size_error_cls,
                max_parts=self._max_parts,
            )
        return self.part_reader_cls(
            self._boundary,
            headers,
            self._content,
            subtype=self._subtype,
            default_charset=self._default_charset,
            client_max_size=self._client_max_size,
            max_size_error_cls=self._max_size_error_cls,
        )

    async def _read_boundary(self) -> bool:
        """Skip the preamble (or a nested part's epilogue) and read one delimiter line.

        True when it is the close delimiter (what follows is the epilogue).
        """
        content = self._content
        if self._at_bof and await content.startswith(self._boundary):
            await content.consume(len(self._boundary))
        elif await content.skip_to(self._delimiter):
            await content.consume(len(self._delimiter))
        else:
            where = "starting" if self._at_bof else "next"
            raise MultipartError(f"Could not find the {where} boundary {self._boundary!r}")
        self._at_bof = False
        if await content.startswith(b"--"):
            await content.consume(2)
            self._at_eof = True
            return True
        padding = await content.read_line(self._max_field_size)
        if padding.strip(b" \t"):
            raise MultipartError(
                f"Invalid boundary {self._boundary + padding[:80]!r}, expected {self._boundary!r}"
            )
        return False

    async def _read_headers(self) -> CIMultiDictProxy[str]:
        lines: list[bytes] = []
        while line := await self._content.read_line(self._max_field_size):
            if len(lines) >= self._max_headers:
                raise MultipartHeadersTooLarge(
                    f"A multipart part has more than {self._max_headers} headers"
                )
            lines.append(line)
        return _parse_part_headers(lines)

    async def _maybe_release_last_part(self) -> None:
        part = self._last_part
        if part is not None:
            if not part.at_eof():
                await part.release()
            self._last_part = None

    @property
    def _total_bytes(self) -> int:
        """Bytes taken from the body stream so far (for size limits)."""
        return self._content.total
