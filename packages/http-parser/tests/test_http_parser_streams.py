"""BodyStream: reading, waiting, flow control and failures."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from weft.http_parser import BadRequest, ContentDecoder, streams
from weft.http_parser.streams import EMPTY_BODY, BodyStream, DecodingBodyStream


class Flow:
    """A FlowControl that records its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def filled(*chunks: bytes, eof: bool = True) -> BodyStream:
    stream = BodyStream()
    for chunk in chunks:
        stream.feed_data(chunk)
    if eof:
        stream.feed_eof()
    return stream


@pytest.mark.asyncio
async def test_read_all() -> None:
    """read() returns the whole body once it is complete."""
    assert await filled(b"ab", b"cd").read() == b"abcd"


@pytest.mark.asyncio
async def test_read_all_waits_for_eof() -> None:
    """read() keeps reading until feed_eof()."""
    stream = BodyStream()

    async def produce() -> None:
        for part in (b"a", b"b", b"c"):
            await asyncio.sleep(0)
            stream.feed_data(part)
        stream.feed_eof()

    task = asyncio.create_task(produce())
    assert await stream.read() == b"abc"
    await task


@pytest.mark.asyncio
async def test_read_n() -> None:
    """read(n) returns at most n bytes, across chunk boundaries."""
    stream = filled(b"abc", b"def")
    assert await stream.read(2) == b"ab"
    assert await stream.read(3) == b"cde"
    assert await stream.read(10) == b"f"
    assert await stream.read(10) == b""
    assert await stream.read(0) == b""


@pytest.mark.asyncio
async def test_single_chunk_is_not_copied() -> None:
    """A read that takes a whole fed chunk returns that very object."""
    data = b"x" * 1000
    stream = filled(data)
    assert await stream.readany() is data


@pytest.mark.asyncio
async def test_readany_returns_what_is_buffered() -> None:
    """readany() returns the buffered bytes, then b"" at the end."""
    stream = filled(b"ab", b"cd")
    assert await stream.readany() == b"abcd"
    assert await stream.readany() == b""
    assert stream.at_eof()


@pytest.mark.asyncio
async def test_readany_waits_for_data() -> None:
    """readany() waits until data arrives."""
    stream = BodyStream()
    loop = asyncio.get_running_loop()
    loop.call_soon(stream.feed_data, b"late")
    assert await stream.readany() == b"late"


@pytest.mark.asyncio
async def test_readexactly() -> None:
    """readexactly(n) returns n bytes, or raises IncompleteReadError at an early end."""
    stream = filled(b"abc", b"de")
    assert await stream.readexactly(4) == b"abcd"
    assert await stream.readexactly(0) == b""
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await stream.readexactly(3)
    assert info.value.partial == b"e"
    assert info.value.expected == 3


@pytest.mark.asyncio
async def test_readline_and_line_iteration() -> None:
    """readline() splits on LF across chunks; async iteration yields lines."""
    stream = filled(b"one\ntw", b"o\nthree")
    assert await stream.readline() == b"one\n"
    assert await stream.readline() == b"two\n"
    assert await stream.readline() == b"three"
    assert await stream.readline() == b""
    lines = [line async for line in filled(b"a\nb\n", b"c")]
    assert lines == [b"a\n", b"b\n", b"c"]


@pytest.mark.asyncio
async def test_readuntil_too_long_raises() -> None:
    """A line longer than high_water raises ValueError instead of waiting forever."""
    stream = BodyStream(high_water=8)
    stream.feed_data(b"x" * 20)
    with pytest.raises(ValueError, match="high_water"):
        await stream.readline()


@pytest.mark.asyncio
async def test_readuntil_separator() -> None:
    """readuntil() reads through a multi-byte separator split across chunks."""
    stream = filled(b"a--", b"-b")
    assert await stream.readuntil(b"---") == b"a---"
    assert await stream.read() == b"b"


@pytest.mark.asyncio
@pytest.mark.parametrize("separator", [b"\n", b"\r\n", b"--boundary"])
async def test_readuntil_searches_each_byte_once(
    monkeypatch: pytest.MonkeyPatch, separator: bytes
) -> None:
    """A line arriving one byte per feed costs readuntil() linear work: each wake-up
    searches the new bytes plus len(separator) - 1 before them, not the whole buffer
    again (which was quadratic up to high_water)."""
    examined = 0

    def counting_find(window: bytes, sep: bytes, start: int) -> int:
        nonlocal examined
        examined += len(window) - start
        return window.find(sep, start)

    monkeypatch.setattr(streams, "_find", counting_find)
    size = 20_000
    stream = BodyStream(high_water=size + len(separator))
    reader = asyncio.ensure_future(stream.readuntil(separator))
    line = b"x" * size + separator
    for at in range(len(line)):
        stream.feed_data(line[at : at + 1])
        await asyncio.sleep(0)  # the reader wakes and searches after every byte
    stream.feed_data(b"rest")
    stream.feed_eof()
    assert await reader == line
    assert examined <= len(line) * len(separator)
    assert await stream.read() == b"rest"


@pytest.mark.asyncio
async def test_readuntil_finds_a_separator_straddling_chunks_at_any_split() -> None:
    """Every split of a body into chunks, fed while readuntil() waits, gives the same
    lines (the carried-over tail finds a separator cut anywhere, an offset into the
    first chunk is honoured)."""
    body = b"ab--cd-e---f---"
    for cut1 in range(1, len(body)):
        for cut2 in range(cut1, len(body) + 1):
            stream = BodyStream()
            stream.feed_data(b"zz")
            assert await stream.read(1) == b"z"  # an offset into the first chunk
            reader = asyncio.ensure_future(stream.readuntil(b"---"))
            for piece in (body[:cut1], body[cut1:cut2], body[cut2:]):
                if piece:
                    stream.feed_data(piece)
                    await asyncio.sleep(0)
            stream.feed_eof()
            assert await reader == b"zab--cd-e---"
            assert await stream.readuntil(b"---") == b"f---"
            assert await stream.readuntil(b"---") == b""


@pytest.mark.asyncio
async def test_iterators() -> None:
    """iter_chunked, iter_any and iter_chunks yield the whole body."""
    assert [c async for c in filled(b"abcde").iter_chunked(2)] == [b"ab", b"cd", b"e"]
    assert b"".join([c async for c in filled(b"ab", b"c").iter_any()]) == b"abc"
    assert [c async for c in filled(b"ab").iter_chunks()] == [(b"ab", False)]


@pytest.mark.asyncio
async def test_readchunk_at_end() -> None:
    """readchunk() gives (b"", False) at the end, as aiohttp's does."""
    assert await filled().readchunk() == (b"", False)


@pytest.mark.asyncio
async def test_state_and_total_bytes() -> None:
    """is_eof, at_eof, total_bytes and buffered_bytes track feeding and reading."""
    stream = BodyStream()
    stream.feed_data(b"abc")
    assert (stream.total_bytes, stream.buffered_bytes) == (3, 3)
    assert not stream.is_eof()
    assert await stream.readexactly(1) == b"a"
    assert (stream.total_bytes, stream.buffered_bytes) == (3, 2)
    stream.feed_eof()
    assert stream.is_eof()
    assert not stream.at_eof()
    await stream.read()
    assert stream.at_eof()
    assert (stream.total_bytes, stream.buffered_bytes) == (3, 0)


@pytest.mark.asyncio
async def test_exception_wakes_reader_and_is_raised() -> None:
    """set_exception() fails a waiting read and every later one."""
    stream = BodyStream()
    error = ConnectionResetError("gone")
    asyncio.get_running_loop().call_soon(stream.set_exception, error)
    with pytest.raises(ConnectionResetError):
        await stream.read()
    assert stream.exception() is error
    with pytest.raises(ConnectionResetError):
        await stream.readany()
    with pytest.raises(ConnectionResetError):
        stream.read_nowait()


@pytest.mark.asyncio
async def test_concurrent_readers_are_refused() -> None:
    """A second coroutine waiting on the same stream is a RuntimeError."""
    stream = BodyStream()
    first = asyncio.create_task(stream.read())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await stream.readany()
    stream.feed_eof()
    assert await first == b""


@pytest.mark.asyncio
async def test_flow_control_pauses_and_resumes() -> None:
    """pause_reading above high_water, resume_reading once drained to low_water."""
    flow = Flow()
    stream = BodyStream(flow, high_water=10, low_water=4)
    stream.feed_data(b"x" * 6)
    assert flow.calls == []
    stream.feed_data(b"x" * 6)
    assert flow.calls == ["pause"]
    stream.feed_data(b"x" * 6)
    assert flow.calls == ["pause"]
    assert await stream.read(10) == b"x" * 10
    assert flow.calls == ["pause"]
    assert await stream.read(4) == b"x" * 4
    assert flow.calls == ["pause", "resume"]
    await stream.read(4)
    assert flow.calls == ["pause", "resume"]


@pytest.mark.asyncio
async def test_read_all_drains_so_a_paused_owner_resumes() -> None:
    """read() consumes as it goes, so a body larger than high_water completes."""
    flow = Flow()
    stream = BodyStream(flow, high_water=4)

    async def produce() -> None:
        for _ in range(10):
            stream.feed_data(b"12345")
            await asyncio.sleep(0)
        stream.feed_eof()

    task = asyncio.create_task(produce())
    assert await stream.read() == b"12345" * 10
    await task
    assert flow.calls.count("pause") == flow.calls.count("resume") >= 1


@pytest.mark.asyncio
async def test_wait_eof_and_on_eof() -> None:
    """wait_eof() returns when the body ends; on_eof callbacks run then."""
    stream = BodyStream()
    seen: list[str] = []
    stream.on_eof(lambda: seen.append("eof"))
    asyncio.get_running_loop().call_soon(stream.feed_eof)
    await stream.wait_eof()
    assert seen == ["eof"]
    stream.on_eof(lambda: seen.append("again"))
    assert seen == ["eof", "again"]


def test_read_nowait() -> None:
    """read_nowait() returns what is buffered without waiting."""
    stream = filled(b"abc", eof=False)
    assert stream.read_nowait(2) == b"ab"
    assert stream.read_nowait() == b"c"
    assert stream.read_nowait() == b""


def test_feed_after_eof_is_refused() -> None:
    """feed_data() after feed_eof() is a usage error."""
    stream = filled()
    with pytest.raises(RuntimeError):
        stream.feed_data(b"x")


@pytest.mark.asyncio
async def test_empty_body_is_finished_and_shared() -> None:
    """EMPTY_BODY is at its end, reads nothing, takes no data and ignores failures."""
    assert BodyStream.empty() is EMPTY_BODY
    assert EMPTY_BODY.at_eof()
    assert await EMPTY_BODY.read() == b""
    assert await EMPTY_BODY.readany() == b""
    with pytest.raises(RuntimeError):
        EMPTY_BODY.feed_data(b"x")
    EMPTY_BODY.set_exception(ValueError())
    EMPTY_BODY.feed_eof()
    assert EMPTY_BODY.exception() is None


def test_bad_water_marks_are_refused() -> None:
    """high_water must be positive and low_water within 0..high_water."""
    with pytest.raises(ValueError, match="high_water"):
        BodyStream(high_water=0)
    with pytest.raises(ValueError, match="low_water"):
        BodyStream(high_water=4, low_water=5)


def _decoding(coded: bytes, encoding: str = "gzip", step: int = 1024) -> DecodingBodyStream:
    raw = BodyStream()
    if coded:
        raw.feed_data(coded)
    raw.feed_eof()
    return DecodingBodyStream(raw, ContentDecoder(encoding, max_size=None), step=step)


@pytest.mark.asyncio
async def test_decoding_stream_reads_like_a_body_stream() -> None:
    """The decoded view has the reader API: lines, exact reads, the rest, the end."""
    text = b"".join(b"line %d\n" % i for i in range(500))
    stream = _decoding(gzip.compress(text), step=100)
    assert stream.raw.at_eof() is False
    assert await stream.readline() == b"line 0\n"
    assert await stream.readexactly(7) == b"line 1\n"
    assert await stream.readuntil(b"3\n") == b"line 2\nline 3\n"
    rest = await stream.read()
    assert rest == text[len(b"line 0\nline 1\nline 2\nline 3\n") :]
    assert stream.at_eof()
    assert stream.total_bytes == len(text)
    assert await stream.read() == b""


@pytest.mark.asyncio
async def test_decoding_is_driven_by_the_reader_in_bounded_steps() -> None:
    """A 64 MiB bomb in a few KB of gzip: nothing is decoded until the reader asks, and
    then at most one step at a time; the coded bytes wait in the raw stream, whose
    flow control pauses the owner (the decoded view never does)."""
    flow = Flow()
    raw = BodyStream(flow, high_water=4096)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    coded = b"".join(c.compress(bytes(1 << 20)) for _ in range(64)) + c.flush()
    for at in range(0, len(coded), 1000):
        raw.feed_data(coded[at : at + 1000])
    raw.feed_eof()
    assert flow.calls == ["pause"]
    step = 8192
    stream = DecodingBodyStream(raw, ContentDecoder("gzip", max_size=None), step=step)
    assert stream.total_bytes == 0  # nothing decoded ahead of the reader
    total = 0
    while piece := await stream.readany():
        assert len(piece) <= step
        assert stream._size == 0  # the reader took all there was: one step
        total += len(piece)
        if total >= 1 << 20:
            break
    assert flow.calls == ["pause", "resume"]  # raw drained as the reader went on
    assert stream.total_bytes == total < 1 << 20 + step


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("coded", "match"),
    [
        (b"\x1f\x8b not gzip at all", "not valid gzip"),
        (gzip.compress(b"abc" * 100)[:-6], "truncated"),
    ],
    ids=["corrupt", "truncated"],
)
async def test_decoding_errors_reach_the_reader_and_stay(coded: bytes, match: str) -> None:
    """Corrupt or truncated data is BadRequest (400) at the read that meets it, and
    every later read raises it again."""
    stream = _decoding(coded)
    with pytest.raises(BadRequest, match=match):
        await stream.read()
    with pytest.raises(BadRequest, match=match):
        await stream.readany()


@pytest.mark.asyncio
async def test_decoding_stream_wait_eof_and_one_reader() -> None:
    """wait_eof() waits for the coded body without decoding it; a second reader while
    one waits is a RuntimeError, as with BodyStream."""
    raw = BodyStream()
    stream = DecodingBodyStream(raw, ContentDecoder("gzip", max_size=None))
    first = asyncio.ensure_future(stream.readany())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await stream.readany()
    waiting = asyncio.ensure_future(stream.wait_eof())
    raw.feed_data(gzip.compress(b"hello"))
    raw.feed_eof()
    await waiting
    assert await first == b"hello"
    assert await stream.read() == b""
