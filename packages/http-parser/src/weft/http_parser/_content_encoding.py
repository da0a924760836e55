"""Content-Encoding decoding with a cap on the decoded size (RFC 9110 §8.4).

A body compressed 1000:1 is easy to make (10 KB of gzip can hold 10 MB of
zeros, nested codings far more), so the decoder never produces more than
``max_size`` bytes in total: zlib's ``decompressobj`` is asked for at most
the bytes still allowed plus one (``max_length``), in steps of ``_STEP``
bytes, and one byte over the cap raises PayloadTooLarge (413) before more
is inflated. Memory use is therefore bounded by the cap, not by the input.
With ``push``/``pull`` it is bounded by the step the caller pulls: each
stage keeps its undecoded input and decodes only what is asked of it.

Codings (names compared case-insensitively; a list is undone right to left,
since the last coding listed was applied last):

- ``gzip`` and its alias ``x-gzip`` (RFC 9110 §8.4.1.3), several members
  concatenated allowed (RFC 1952 §2.2);
- ``deflate``: the zlib format (RFC 1950) as RFC 9110 §8.4.1.2 specifies,
  and raw deflate (RFC 1951) when the first two bytes are not a zlib header,
  because many servers have sent that for decades;
- ``br`` when the optional ``brotli`` package (>= 1.2, for its output limit)
  is importable: ``pip install weft-http-parser[brotli]``;
- ``zstd`` (RFC 8878) with Python 3.14's ``compression.zstd`` or the optional
  ``backports.zstd`` (``pip install weft-http-parser[zstd]``), as aiohttp;
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

# zstd (RFC 8878): the standard library's from Python 3.14, else the optional
# extra "zstd" (backports.zstd, the package aiohttp 3.14 uses too).
_ZstdDecompressor: Any = None
_ZstdError: Any = None
try:  # pragma: no cover - depends on the Python version and the environment
    import compression.zstd as _zstd  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    try:
        import backports.zstd as _zstd  # type: ignore[import-not-found, import-untyped, no-redef, unused-ignore]
    except ImportError:
        _zstd = None
if _zstd is not None:  # pragma: no cover - depends on the environment
    _ZstdDecompressor = _zstd.ZstdDecompressor
    _ZstdError = _zstd.ZstdError

_STEP = 256 * 1024  # the most inflated in one go before the cap is checked again
_ALIASES = {"x-gzip": "gzip"}


def supported_encodings() -> tuple[str, ...]:
    """The codings this installation decodes: gzip, deflate, then br and zstd where available."""
    codings = ["gzip", "deflate"]
    if _brotli_module is not None:
        codings.append("br")
    if _ZstdDecompressor is not None:
        codings.append("zstd")
    return tuple(codings)


class _Stage(Protocol):
    """One coding undone: coded bytes pushed in, decoded bytes pulled out in bounded steps."""

    def push(self, data: bytes) -> None:
        """Take the next coded bytes (nothing is decoded yet)."""

    def pull(self, limit: int) -> bytes:
        """At most ``limit`` (> 0) decoded bytes; b"" once everything pushed is decoded."""

    def finish(self) -> None:
        """Raise BadRequest if the coded stream is incomplete."""


class _ZlibStage:
    """gzip (wbits 31), zlib (15) or raw deflate (-15), found by its first bytes for deflate."""

    __slots__ = ("_coding", "_d", "_pending", "_wbits")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = 31 if coding == "gzip" else 0  # 0: deflate, format not known yet
        self._d: Any = zlib.decompressobj(31) if coding == "gzip" else None
        self._pending = b""  # pushed and not decoded yet

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data

    def pull(self, limit: int) -> bytes:
        d = self._d
        data = self._pending
        if d is None:  # deflate: the zlib header (RFC 1950 §2.2) or raw deflate?
            if len(data) < 2:
                return b""
            cmf, flg = data[0], data[1]
            self._wbits = 15 if cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0 else -15
            d = self._d = zlib.decompressobj(self._wbits)
        out: list[bytes] = []
        left = limit
        try:
            # An empty call too: inflate may hold output for input it consumed.
            while left > 0:
                piece = d.decompress(data, min(left, _STEP))
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
                if piece:
                    out.append(piece)
                    left -= len(piece)
                elif not data:
                    break
        except zlib.error as exc:
            raise BadRequest(f"the body is not valid {self._coding} data: {exc}") from None
        finally:
            self._pending = data
        return out[0] if len(out) == 1 else b"".join(out)

    def finish(self) -> None:
        d = self._d
        if d is None:
            if self._pending:
                raise BadRequest(f"the {self._coding} body ends after {len(self._pending)} byte")
            return
        if not d.eof:
            raise BadRequest(f"the {self._coding} body is truncated")


class _BrotliStage:
    __slots__ = ("_d", "_pending")

    def __init__(self) -> None:
        self._d: Any = _brotli_module.Decompressor()
        self._pending = b""

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data

    def pull(self, limit: int) -> bytes:
        d = self._d
        out: list[bytes] = []
        left = limit
        try:
            while left > 0:
                # The decompressor keeps input it could not decode within the
                # output limit; it takes new input only once that is done.
                if self._pending and d.can_accept_more_data():
                    data, self._pending = self._pending, b""
                else:
                    data = b""
                piece = d.process(data, output_buffer_limit=min(left, _STEP))
                if piece:
                    out.append(piece)
                    left -= len(piece)
                elif not data and (d.can_accept_more_data() or d.is_finished()):
                    break
        except _brotli_module.error as exc:
            raise BadRequest(f"the body is not valid br data: {exc}") from None
        return b"".join(out)

    def finish(self) -> None:
        if not self._d.is_finished():
            raise BadRequest("the br body is truncated")


class _ZstdStage:
    """zstd, several frames concatenated allowed (RFC 8878 §3.1)."""

    __slots__ = ("_d", "_in_frame", "_pending")

    def __init__(self) -> None:
        self._d: Any = _ZstdDecompressor()
        self._pending = b""
        self._in_frame = False  # a frame begun and not ended

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data

    def pull(self, limit: int) -> bytes:
        out: list[bytes] = []
        left = limit
        try:
            while left > 0:
                d = self._d
                # Input is taken only once the decompressor has given all it
                # holds (needs_input), as with lzma and bz2.
                data = b""
                if d.needs_input and self._pending:
                    data, self._pending = self._pending, b""
                    self._in_frame = True
                piece = d.decompress(data, min(left, _STEP))
                if d.eof:
                    self._in_frame = False
                    self._pending = d.unused_data + self._pending
                    self._d = _ZstdDecompressor()  # the next frame, if any
                if piece:
                    out.append(piece)
                    left -= len(piece)
                elif not self._pending and self._d.needs_input:
                    break
        except _ZstdError as exc:
            raise BadRequest(f"the body is not valid zstd data: {exc}") from None
        return b"".join(out)

    def finish(self) -> None:
        if self._in_frame or self._pending:
            raise BadRequest("the zstd body is truncated")


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

    Two ways to use it: ``decompress(data)`` decodes everything ``data``
    completes at once (up to ``max_size``); ``push(data)`` then ``pull(n)``
    decodes in steps of at most ``n`` bytes, so the caller decides how much
    decoded output exists at any time (a reader-driven stream:
    ``streams.DecodingBodyStream``).
    """

    __slots__ = ("_carry", "_identity", "_max_size", "_stages", "_total", "_totals")

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
            elif coding == "zstd" and _ZstdDecompressor is not None:
                stages.append(_ZstdStage())
            elif coding and coding != "identity":  # empty list elements are allowed
                hint = (
                    " (install the brotli package)"
                    if coding == "br"
                    else " (install backports.zstd)"
                    if coding == "zstd"
                    else ""
                )
                raise UnsupportedContentEncoding(
                    f"content coding {coding[:40]!r} is not supported{hint}; "
                    f"supported: {', '.join(supported_encodings())} (RFC 9110 §8.4)"
                )
        self._stages = stages
        self._totals = [0] * len(stages)
        # Output a stage gave past the step asked of it (brotli's output limit
        # is approximate), given first by the next pull.
        self._carry = [b""] * len(stages)
        self._identity = b""

    def push(self, data: bytes) -> None:
        """Take the next part of the coded body; nothing is decoded until ``pull``."""
        if self._stages:
            self._stages[0].push(data)
        else:
            self._identity = self._identity + data if self._identity else data

    def pull(self, n: int) -> bytes:
        """At most ``n`` (> 0) decoded bytes of what was pushed; b"" when it needs more input.

        Raises PayloadTooLarge once the decoded bytes pass ``max_size``,
        BadRequest on corrupt data.
        """
        if n < 1:
            raise ValueError(f"pull() needs n >= 1, not {n!r}")
        # One byte more than the cap allows, so that passing it is seen.
        n = min(n, _cap(self._max_size, self._total) + 1)
        if not self._stages:
            data = self._identity
            result, self._identity = data[:n], data[n:]
        else:
            result = self._pull(len(self._stages) - 1, n)
        if self._max_size is not None and self._total + len(result) > self._max_size:
            self._too_large()
        self._total += len(result)
        return result

    def _pull(self, index: int, n: int) -> bytes:
        """Up to ``n`` bytes out of stage ``index``, feeding it from the stage before."""
        carry = self._carry[index]
        if carry:
            self._carry[index] = carry[n:]
            return carry[:n]
        stage = self._stages[index]
        while True:
            piece = stage.pull(n)
            if len(piece) > n:
                self._carry[index] = piece[n:]
                piece = piece[:n]
            if piece or index == 0:
                break
            # Each inner stage's output is held to the cap as well: it is what
            # the next stage works on, and a nested bomb inflates there first.
            inner = self._pull_inner(index - 1)
            if not inner:
                break
            stage.push(inner)
        return piece

    def _pull_inner(self, index: int) -> bytes:
        limit = _cap(self._max_size, self._totals[index]) + 1
        piece = self._pull(index, min(_STEP, limit))
        self._totals[index] += len(piece)
        if self._max_size is not None and self._totals[index] > self._max_size:
            self._too_large()
        return piece

    def decompress(self, data: bytes) -> bytes:
        """The decoded bytes ``data`` (the next part of the coded body) completes."""
        self.push(data)
        out: list[bytes] = []
        while piece := self.pull(_STEP):
            out.append(piece)
        return out[0] if len(out) == 1 else b"".join(out)

    def flush(self) -> bytes:
        """The body is complete: the decoded bytes still held; BadRequest if truncated."""
        rest = self.decompress(b"")
        for stage in self._stages:
            stage.finish()
        return rest

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
