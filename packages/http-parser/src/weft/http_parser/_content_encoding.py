"""Content-Encoding decoding with a cap on the decoded size (RFC 9110 §8.4).

A body compressed 1000:1 is easy to make (10 KB of gzip can hold 10 MB of
zeros, nested codings far more), so the decoder never produces more than
``max_size`` bytes in total: zlib's ``decompressobj`` is asked for at most
the bytes still allowed plus one (``max_length``), in steps of ``_STEP``
bytes, and one byte over the cap raises PayloadTooLarge (413) before more
is inflated. Memory use is therefore bounded by the cap, not by the input.

Codings (names compared case-insensitively; a list is undone right to left,
since the last coding listed was applied last):

- ``gzip`` and its alias ``x-gzip`` (RFC 9110 §8.4.1.3), several members
  concatenated allowed (RFC 1952 §2.2);
- ``deflate``: the zlib format (RFC 1950) as RFC 9110 §8.4.1.2 specifies,
  and raw deflate (RFC 1951) when the first two bytes are not a zlib header,
  because many servers have sent that for decades;
- ``br`` when the optional ``brotli`` package (>= 1.2, for its output limit)
  is importable: ``pip install weft-http-parser[brotli]``;
- ``identity``: nothing to undo.

Anything else raises UnsupportedContentEncoding (415): RFC 9110 §15.5.16
names 415 for a request "in a content coding that is not supported". A
server should answer it with an ``Accept-Encoding`` field listing
``supported_encodings()``. Corrupt or truncated data raises BadRequest.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

from ._errors import BadRequest, PayloadTooLarge, UnsupportedContentEncoding
from ._token import ascii_lower

__all__ = ["ContentDecoder", "supported_encodings"]

try:  # the optional extra "brotli"
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli_module: Any = None
else:  # pragma: no cover - depends on the environment
    _brotli_module = _brotli

_STEP = 256 * 1024  # the most inflated in one go before the cap is checked again
_ALIASES = {"x-gzip": "gzip"}


def supported_encodings() -> tuple[str, ...]:
    """The codings this installation decodes: ``("gzip", "deflate", "br")`` with brotli."""
    return ("gzip", "deflate", "br") if _brotli_module is not None else ("gzip", "deflate")


class _Stage(Protocol):
    def feed(self, data: bytes, limit: int) -> list[bytes]:
        """Decoded pieces of ``data``; stop once more than ``limit`` bytes are out."""

    def finish(self) -> None:
        """Raise BadRequest if the coded stream is incomplete."""


class _ZlibStage:
    """gzip (wbits 31), zlib (15) or raw deflate (-15), found by its first bytes for deflate."""

    __slots__ = ("_coding", "_d", "_head", "_wbits")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = 31 if coding == "gzip" else 0  # 0: deflate, format not known yet
        self._d: Any = zlib.decompressobj(31) if coding == "gzip" else None
        self._head = b""

    def feed(self, data: bytes, limit: int) -> list[bytes]:
        d = self._d
        if d is None:  # deflate: the zlib header (RFC 1950 §2.2) or raw deflate?
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return []
            self._head = b""
            cmf, flg = data[0], data[1]
            self._wbits = 15 if cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0 else -15
            d = self._d = zlib.decompressobj(self._wbits)
        out: list[bytes] = []
        total = 0
        try:
            while data:
                piece = d.decompress(data, min(limit - total + 1, _STEP))
                if piece:
                    out.append(piece)
                    total += len(piece)
                    if total > limit:
                        return out
                data = d.unconsumed_tail
                if d.eof:
                    rest = d.unused_data
                    if rest and self._wbits == 31:  # another gzip member follows
                        d = self._d = zlib.decompressobj(31)
                        data = rest + data
                    elif rest or data:
                        raise BadRequest(
                            f"data after the end of the {self._coding} stream in the body"
                        )
        except zlib.error as exc:
            raise BadRequest(f"the body is not valid {self._coding} data: {exc}") from None
        return out

    def finish(self) -> None:
        d = self._d
        if d is None:
            if self._head:
                raise BadRequest(f"the {self._coding} body ends after {len(self._head)} byte")
            return
        if not d.eof:
            raise BadRequest(f"the {self._coding} body is truncated")


class _BrotliStage:
    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: Any = _brotli_module.Decompressor()

    def feed(self, data: bytes, limit: int) -> list[bytes]:
        d = self._d
        out: list[bytes] = []
        total = 0
        try:
            piece = d.process(data, output_buffer_limit=min(limit + 1, _STEP))
            while True:
                if piece:
                    out.append(piece)
                    total += len(piece)
                    if total > limit:
                        return out
                if d.can_accept_more_data():
                    return out
                piece = d.process(b"", output_buffer_limit=min(limit - total + 1, _STEP))
        except _brotli_module.error as exc:
            raise BadRequest(f"the body is not valid br data: {exc}") from None

    def finish(self) -> None:
        if not self._d.is_finished():
            raise BadRequest("the br body is truncated")


class ContentDecoder:
    """Undoes a Content-Encoding, incrementally, never giving more than ``max_size`` bytes.

    >>> import gzip
    >>> decoder = ContentDecoder("gzip", max_size=1000)
    >>> decoder.decompress(gzip.compress(b"hello")) + decoder.flush()
    b'hello'

    ``encoding`` is the field's value (``head.content_encoding``), a coding
    or a comma-separated list of them. ``max_size`` caps the decoded bytes
    (PayloadTooLarge, 413, past it); ``None`` means no cap, only for trusted
    input. Raises UnsupportedContentEncoding (415) at construction for a
    coding it cannot undo, BadRequest (400) on corrupt data.
    """

    __slots__ = ("_max_size", "_stages", "_total", "_totals")

    def __init__(self, encoding: str, *, max_size: int | None) -> None:
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be None or an int >= 0, not {max_size!r}")
        self._max_size = max_size
        self._total = 0
        stages: list[_Stage] = []
        for element in reversed(encoding.split(",")):
            coding = ascii_lower(element.strip(" \t"))
            coding = _ALIASES.get(coding, coding)
            if coding in ("gzip", "deflate"):
                stages.append(_ZlibStage(coding))
            elif coding == "br" and _brotli_module is not None:
                stages.append(_BrotliStage())
            elif coding and coding != "identity":  # empty list elements are allowed
                hint = " (install the brotli package)" if coding == "br" else ""
                raise UnsupportedContentEncoding(
                    f"content coding {coding[:40]!r} is not supported{hint}; "
                    f"supported: {', '.join(supported_encodings())} (RFC 9110 §8.4)"
                )
        self._stages = stages
        self._totals = [0] * len(stages)

    def decompress(self, data: bytes) -> bytes:
        """The decoded bytes ``data`` (the next part of the coded body) completes."""
        # Each stage's output, summed over the whole body, is held to the cap:
        # the final one because it is the body, the inner ones because their
        # output is what the next stage works on.
        pieces = [data]
        max_size = self._max_size
        totals = self._totals
        for index, stage in enumerate(self._stages):
            limit = _cap(max_size, totals[index])
            out: list[bytes] = []
            total = 0
            for piece in pieces:
                decoded = stage.feed(piece, limit - total)
                out += decoded
                total += sum(map(len, decoded))
                if total > limit:
                    self._too_large()
            totals[index] += total
            pieces = out
        if not self._stages and len(data) > _cap(max_size, self._total):
            self._too_large()
        result = b"".join(pieces)
        self._total += len(result)
        return result

    def flush(self) -> bytes:
        """The body is complete: raise BadRequest if a coded stream is truncated."""
        for stage in self._stages:
            stage.finish()
        return b""

    @property
    def total(self) -> int:
        """Decoded bytes given so far."""
        return self._total

    def _too_large(self) -> None:
        raise PayloadTooLarge(
            f"the decoded body is larger than max_size={self._max_size} bytes "
            "(a small compressed body can inflate enormously)"
        )


def _cap(max_size: int | None, total: int) -> int:
    return (2**63 - 1) if max_size is None else max_size - total
