"""MultipartWriter: build a multipart body (RFC 2046, RFC 7578) for a response.

aiohttp's API::

    with MultipartWriter("mixed") as mpwriter:
        mpwriter.append("hello")                         # text/plain; charset=utf-8
        mpwriter.append_json({"a": 1})                   # application/json
        part = mpwriter.append(open("a.bin", "rb"))      # a file, streamed
        part.set_content_disposition("attachment", filename="a.bin")
    return Response(body=mpwriter)                       # buffered, with its Content-Type
    # or, streamed:  await response.prepare(request); await mpwriter.write(response)

``append`` takes str, bytes-like, binary or text file objects, another
MultipartWriter (a nested multipart) or a part returned by an earlier
``append``; it returns the part (``headers``, ``size``,
``set_content_disposition``). Outside form-data a part may ask for
Content-Transfer-Encoding base64 / quoted-printable and Content-Encoding
gzip / deflate, applied while writing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import mimetypes
import os
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Protocol
from urllib.parse import urlencode

from multidict import CIMultiDict

from ._content_disposition import content_disposition_header
from ._helpers import parse_content_type
from ._multipart import BOUNDARY_RE
from ._token import TCHARS

__all__ = ["MultipartWriter", "Payload"]

_CHUNK = 2**16


class _AsyncWriter(Protocol):
    """Where bytes go: a StreamResponse, a StreamWriter, anything with ``async write``."""

    async def write(self, data: bytes) -> Any: ...


def _check_header(value: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(f"Newline or NUL in a header is not allowed: {value!r}")
    return value


class _Encoder:
    """Content-Encoding (gzip, raw deflate) then Content-Transfer-Encoding, chunk by chunk."""

    def __init__(self, encoding: str | None, transfer_encoding: str | None) -> None:
        self._compress = None
        if encoding is not None:
            wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else -zlib.MAX_WBITS
            self._compress = zlib.compressobj(wbits=wbits)
        self._transfer = transfer_encoding
        self._b64_rest = b""

    def _transfer_encode(self, data: bytes, final: bool) -> bytes:
        if self._transfer == "base64":
            data = self._b64_rest + data
            cut = len(data) if final else len(data) - len(data) % 3
            self._b64_rest = data[cut:]
            return base64.b64encode(data[:cut])
        if self._transfer == "quoted-printable":
            return binascii.b2a_qp(data)
        return data

    def encode(self, data: bytes) -> bytes:
        if self._compress is not None:
            data = self._compress.compress(data)
        return self._transfer_encode(data, final=False)

    def flush(self) -> bytes:
        data = b"" if self._compress is None else self._compress.flush()
        return self._transfer_encode(data, final=True)


class Payload:
    """One part of a MultipartWriter: its headers and its body (aiohttp's Payload role)."""

    def __init__(
        self,
        value: bytes | IO[bytes] | MultipartWriter,
        headers: CIMultiDict[str],
        size: int | None,
    ) -> None:
        self._value = value
        self._headers = headers
        self._size = size
        # A seekable file is read from where it was when appended, each time it is written.
        self._start: int | None = None
        if not isinstance(value, (bytes, MultipartWriter)) and value.seekable():
            self._start = value.tell()

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def size(self) -> int | None:
        """The body's length in bytes, None when unknown (an unseekable file)."""
        if isinstance(self._value, MultipartWriter):
            return self._value.size
        return self._size

    @property
    def content_type(self) -> str:
        return self._headers.get("Content-Type", "application/octet-stream")

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        """Set Content-Disposition (``name``/``filename`` non-ASCII: RFC 8187 ``*`` form)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @property
    def _binary_headers(self) -> bytes:
        lines = [
            f"{_check_header(name)}: {_check_header(value)}\r\n"
            for name, value in self._headers.items()
        ]
        return "".join(lines).encode("utf-8") + b"\r\n"

    def _iter_body(self) -> Iterator[bytes]:
        value = self._value
        if isinstance(value, bytes):
            yield value
        elif isinstance(value, MultipartWriter):
            yield from value._iter_bytes()
        else:
            if self._start is not None:
                value.seek(self._start)
            while chunk := value.read(_CHUNK):
                yield chunk

    async def _aiter_body(self) -> AsyncIterator[bytes]:
        value = self._value
        if isinstance(value, MultipartWriter):
            async for chunk in value._aiter_bytes():
                yield chunk
        elif isinstance(value, (bytes, io.BytesIO)):
            for chunk in self._iter_body():
                yield chunk
        else:  # a file on disk: read it off the event loop
            loop = asyncio.get_running_loop()
            if self._start is not None:
                await loop.run_in_executor(None, value.seek, self._start)
            while chunk := await loop.run_in_executor(None, value.read, _CHUNK):
                yield chunk

    async def write(self, writer: _AsyncWriter) -> None:
        """Write the body (without headers or encodings) to ``writer``."""
        async for chunk in self._aiter_body():
            await writer.write(chunk)

    async def as_bytes(self) -> bytes:
        """The body as bytes."""
        return b"".join([chunk async for chunk in self._aiter_body()])


def _payload_from(obj: Any, headers: CIMultiDict[str]) -> Payload:
    """Wrap ``obj`` in a Payload with default headers (``headers`` win)."""
    if isinstance(obj, MultipartWriter):
        headers.setdefault("Content-Type", obj.content_type)
        return Payload(obj, headers, None)
    if isinstance(obj, io.TextIOBase):
        obj = obj.read()
    if isinstance(obj, str):
        ctype = headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        charset = parse_content_type(ctype)[1].get("charset", "utf-8")
        data = obj.encode(charset)
        return Payload(data, headers, len(data))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        headers.setdefault("Content-Type", "application/octet-stream")
        return Payload(data, headers, len(data))
    if isinstance(obj, io.IOBase) and hasattr(obj, "read"):
        name = getattr(obj, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) and name else None
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        headers.setdefault("Content-Type", guessed or "application/octet-stream")
        if filename is not None and "Content-Disposition" not in headers:
            headers["Content-Disposition"] = content_disposition_header(
                "attachment", filename=filename
            )
        size: int | None = None
        if obj.seekable():
            position = obj.tell()
            size = obj.seek(0, os.SEEK_END) - position
            obj.seek(position)
        return Payload(obj, headers, size)  # type: ignore[arg-type]
    raise TypeError(f"Cannot create payload from {obj!r}")


class MultipartWriter:
    """A multipart body made of parts; serialized when written."""

    def __init__(self, subtype: str = "mixed", boundary: str | None = None) -> None:
        boundary = uuid.uuid4().hex if boundary is None else boundary
        try:
            self._boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("boundary should contain ASCII only chars") from None
        if BOUNDARY_RE.fullmatch(boundary) is None:
            raise ValueError(
                f"Invalid boundary {boundary!r}: RFC 2046 allows 1 to 70 characters of "
                "letters, digits and '()+_,-./:=? (a space, but not at the end)"
            )
        self._subtype = subtype
        self._is_form_data = subtype == "form-data"
        self._parts: list[tuple[Payload, str | None, str | None]] = []
        self._headers: CIMultiDict[str] = CIMultiDict(
            {"Content-Type": f"multipart/{subtype}; boundary={self._boundary_value}"}
        )

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[Payload, str | None, str | None]]:
        """Each part with its Content-Encoding and Content-Transfer-Encoding (or None)."""
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<MultipartWriter {self.content_type!r} parts={len(self._parts)}>"

    @property
    def _boundary_value(self) -> str:
        """The boundary as a Content-Type parameter: a token, else a quoted-string."""
        text = self._boundary.decode("ascii")
        return text if set(text) <= TCHARS else f'"{text}"'

    @property
    def boundary(self) -> str:
        return self._boundary.decode("ascii")

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def content_type(self) -> str:
        """``multipart/<subtype>; boundary=...``: the Content-Type of the whole body."""
        return self._headers["Content-Type"]

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part: str, bytes, a file object, a MultipartWriter or a Payload."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        return self.append_payload(_payload_from(obj, CIMultiDict(headers or {})))

    def append_payload(self, payload: Payload) -> Payload:
        """Add an already built part, checking its encodings."""
        headers = payload.headers
        encoding: str | None = None
        te_encoding: str | None = None
        if self._is_form_data:
            # RFC 7578 §4.7, §4.8: no Content-Transfer-Encoding, Content-Encoding or length.
            for name in ("Content-Encoding", "Content-Length", "Content-Transfer-Encoding"):
                if name in headers:
                    raise ValueError(f"A multipart/form-data part must not have {name}")
            if "Content-Disposition" not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        else:
            encoding = headers.get("Content-Encoding", "").lower() or None
            if encoding not in (None, "deflate", "gzip", "identity"):
                raise RuntimeError(f"unknown content encoding: {encoding}")
            if encoding == "identity":
                encoding = None
            te_encoding = headers.get("Content-Transfer-Encoding", "").lower() or None
            if te_encoding not in (None, "base64", "quoted-printable", "binary"):
                raise RuntimeError(f"unknown content transfer encoding: {te_encoding}")
            if te_encoding == "binary":
                te_encoding = None
            size = payload.size
            if size is not None and not (encoding or te_encoding):
                headers["Content-Length"] = str(size)
        self._parts.append((payload, encoding, te_encoding))
        return payload

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part holding ``json.dumps(obj)`` as application/json."""
        part_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        part_headers.setdefault("Content-Type", "application/json")
        data = json.dumps(obj).encode("utf-8")
        return self.append_payload(Payload(data, part_headers, len(data)))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add a part holding ``obj`` urlencoded as application/x-www-form-urlencoded."""
        pairs = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        part_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        part_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        data = urlencode(pairs, doseq=True).encode("utf-8")
        return self.append_payload(Payload(data, part_headers, len(data)))

    @property
    def size(self) -> int | None:
        """The serialized length, None when a part's is unknown or it is encoded."""
        total = 0
        for part, encoding, te_encoding in self._parts:
            part_size = part.size
            if encoding or te_encoding or part_size is None:
                return None
            total += 2 + len(self._boundary) + 2 + part_size + len(part._binary_headers) + 2
        return total + 2 + len(self._boundary) + 4

    # -- serialization: one sync path (a Response body) and one async path (streaming)

    def _iter_bytes(self, close_boundary: bool = True) -> Iterator[bytes]:
        for part, encoding, te_encoding in self._parts:
            yield b"--" + self._boundary + b"\r\n" + part._binary_headers
            if encoding or te_encoding:
                encoder = _Encoder(encoding, te_encoding)
                for chunk in part._iter_body():
                    yield encoder.encode(chunk)
                yield encoder.flush()
            else:
                yield from part._iter_body()
            yield b"\r\n"
        if close_boundary:
            yield b"--" + self._boundary + b"--\r\n"

    async def _aiter_bytes(self, close_boundary: bool = True) -> AsyncIterator[bytes]:
        for part, encoding, te_encoding in self._parts:
            yield b"--" + self._boundary + b"\r\n" + part._binary_headers
            encoder = _Encoder(encoding, te_encoding) if encoding or te_encoding else None
            async for chunk in part._aiter_body():
                yield chunk if encoder is None else encoder.encode(chunk)
            if encoder is not None:
                yield encoder.flush()
            yield b"\r\n"
        if close_boundary:
            yield b"--" + self._boundary + b"--\r\n"

    async def write(self, writer: _AsyncWriter, close_boundary: bool = True) -> None:
        """Stream the body to ``writer`` (a prepared StreamResponse, for one)."""
        async for chunk in self._aiter_bytes(close_boundary):
            if chunk:
                await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body as bytes (file parts are read off the event loop)."""
        return b"".join([chunk async for chunk in self._aiter_bytes()])

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The whole body as text (file parts are read synchronously)."""
        return b"".join(self._iter_bytes()).decode(encoding, errors)

    def _weft_response_body(self) -> tuple[bytes, str]:
        """``Response(body=writer)``: the serialized body and its Content-Type."""
        return b"".join(self._iter_bytes()), self.content_type
