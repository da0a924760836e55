"""MultipartWriter: build a multipart body (RFC 2046, RFC 7578) for a response.

aiohttp's API::

    with MultipartWriter("mixed") as mpwriter:
        mpwriter.append("hello")                         # text/plain; charset=utf-8
        mpwriter.append_json({"a": 1})                   # application/json
        part = mpwriter.append(open("a.bin", "rb"))      # a file, streamed
        part.set_content_disposition("attachment", filename="a.bin")
    return Response(body=mpwriter)                       # buffered, with its Content-Type
    # or, streamed:  await response.prepare(request); await mpwriter.write(response)

``append`` takes anything ``get_payload`` knows (str, bytes-like, file
objects, async iterables, another MultipartWriter for a nested multipart, a
Payload); it returns the part's Payload (``headers``, ``size``,
``set_content_disposition``). Outside form-data a part may ask for
Content-Transfer-Encoding base64 / quoted-printable and Content-Encoding
gzip / deflate, applied while writing.

A MultipartWriter is itself a Payload (as aiohttp's), so it can be a
response body or a part; ``BodyPartReaderPayload`` (an uploaded part sent on
as a body) is registered here too, beside the other multipart code.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from . import _payload_io  # noqa: F401 - registers the file payloads append() takes
from ._multipart import BOUNDARY_RE, BodyPartReader
from ._payload import (
    JsonPayload,
    Order,
    Payload,
    PayloadLookupError,
    PayloadWriter,
    StringPayload,
    get_payload,
    payload_type,
)
from ._token import TCHARS

__all__ = ["BodyPartReaderPayload", "MultipartWriter"]

_CHUNK = 2**16

_logger = logging.getLogger("weft.web_core")


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


class _EncodingWriter:
    """Encodes a part's body (``_Encoder``) on its way to the real writer."""

    def __init__(self, writer: PayloadWriter, encoder: _Encoder) -> None:
        self._writer = writer
        self._encoder = encoder

    async def write(self, data: bytes) -> None:
        encoded = self._encoder.encode(bytes(data))
        if encoded:
            await self._writer.write(encoded)

    async def flush(self) -> None:
        rest = self._encoder.flush()
        if rest:
            await self._writer.write(rest)


class _Collector:
    """A writer that keeps what it is given (``as_bytes()``)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))


class MultipartWriter(Payload):
    """A multipart body made of parts (each a Payload); serialized when written."""

    _autoclose = True

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
        super().__init__(None, content_type=f"multipart/{subtype}; boundary={self._quoted}")
        self._subtype = subtype
        self._is_form_data = subtype == "form-data"
        self._parts: list[tuple[Payload, str | None, str | None]] = []

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
    def _quoted(self) -> str:
        """The boundary as a Content-Type parameter: a token, else a quoted-string."""
        text = self._boundary.decode("ascii")
        return text if set(text) <= TCHARS else f'"{text}"'

    @property
    def boundary(self) -> str:
        return self._boundary.decode("ascii")

    @property
    def consumed(self) -> bool:
        """Whether the writer or one of its parts can no longer be written again."""
        return self._consumed or any(part.consumed for part, _, _ in self._parts)

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part: anything ``get_payload`` knows, or a Payload."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            payload = get_payload(obj, headers=headers)
        except PayloadLookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(payload)

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
        return self.append_payload(JsonPayload(obj, headers=headers))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add a part holding ``obj`` urlencoded as application/x-www-form-urlencoded."""
        pairs = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        data = urlencode(pairs, doseq=True)
        return self.append_payload(
            StringPayload(data, headers=headers, content_type="application/x-www-form-urlencoded")
        )

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

    async def write(self, writer: PayloadWriter, close_boundary: bool = True) -> None:
        """Stream the body to ``writer`` (a prepared StreamResponse, for one).

        The framing between two parts (CRLF, the delimiter, the part's head)
        goes out as one write; each part's body in the pieces it writes itself.
        """
        pending = b""
        for part, encoding, te_encoding in self._parts:
            await writer.write(pending + b"--" + self._boundary + b"\r\n" + part._binary_headers)
            if encoding or te_encoding:
                encoding_writer = _EncodingWriter(writer, _Encoder(encoding, te_encoding))
                await part.write(encoding_writer)
                await encoding_writer.flush()
            else:
                await part.write(writer)
            pending = b"\r\n"
        if close_boundary:
            await writer.write(pending + b"--" + self._boundary + b"--\r\n")
        elif pending:
            await writer.write(pending)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body as bytes: what ``write()`` sends (file parts read off the loop)."""
        collector = _Collector()
        await self.write(collector)
        return b"".join(collector.chunks)

    def _iter_bytes(self) -> Iterator[bytes]:
        for part, encoding, te_encoding in self._parts:
            yield b"--" + self._boundary + b"\r\n" + part._binary_headers
            if isinstance(part, MultipartWriter):
                body = b"".join(part._iter_bytes())
            else:  # latin-1 gives every byte back as it is
                body = part.decode("latin-1").encode("latin-1")
            if encoding or te_encoding:
                encoder = _Encoder(encoding, te_encoding)
                body = encoder.encode(body) + encoder.flush()
            yield body + b"\r\n"
        yield b"--" + self._boundary + b"--\r\n"

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The whole body as text (file parts are read synchronously: blocking)."""
        return b"".join(self._iter_bytes()).decode(encoding, errors)

    async def close(self) -> None:
        """Close every part that holds a resource (a file); never raises."""
        if self._consumed:
            return
        self._consumed = True
        for index, (part, _, _) in enumerate(self._parts):
            if not part.autoclose:
                try:
                    await part.close()
                except Exception:  # one part failing must not leave the others open
                    _logger.exception("Failed to close multipart part %d", index)


@payload_type(BodyPartReader, order=Order.try_first)
class BodyPartReaderPayload(Payload):
    """An uploaded part (``BodyPartReader``) sent on as it is read, decoded (CTE, coding)."""

    _value: BodyPartReader

    def __init__(self, value: BodyPartReader, *args: Any, **kwargs: Any) -> None:
        super().__init__(value, *args, **kwargs)
        params: dict[str, str] = {}
        if value.name is not None:
            params["name"] = value.name
        if value.filename is not None:
            params["filename"] = value.filename
        if params:
            self.set_content_disposition("attachment", True, **params)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise TypeError("Unable to read body part as bytes. Use write() to consume.")

    async def write(self, writer: PayloadWriter) -> None:
        field = self._value
        # Reading the part advances the request's body: it can be sent once.
        self._consumed = True
        while chunk := await field.read_chunk(size=_CHUNK):
            await writer.write(field.decode(chunk))
