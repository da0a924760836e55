"""A stream's writes leave together when the loop turns (StreamWriter, module doc)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable

import pytest
from web_core_support import FakeTransport, get, make_request, parse_response

from weft.web_core import Response, StreamResponse, _writer
from weft.web_core._writer import HOLD_LIMIT

CHUNK = bytes(range(256)) * 256  # 64 KiB


class CountingTransport(FakeTransport):
    """Counts the calls that hand bytes over (a writelines is one call)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls += 1
        super().write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.calls += 1
        super().writelines(list_of_data)


@pytest.mark.asyncio
async def test_writes_in_a_loop_leave_in_a_few_calls() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    head_calls = transport.calls
    for _ in range(16):
        await response.write(CHUNK)
    await response.write_eof()
    # 1 MiB in 16 writes: one call per HOLD_LIMIT kept (8 chunks), then the end.
    assert 8 * len(CHUNK) == HOLD_LIMIT
    assert transport.calls - head_calls == 3
    assert parse_response(transport.data).body == CHUNK * 16


@pytest.mark.asyncio
async def test_kept_writes_leave_when_the_loop_turns() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    await response.write(b"first")
    sent = transport.data
    assert b"first" not in sent
    await asyncio.sleep(0)  # what a handler does when it waits for anything
    assert transport.data.endswith(b"5\r\nfirst\r\n")
    await response.write(b"second")
    await asyncio.sleep(0)
    assert transport.data.endswith(b"6\r\nsecond\r\n")
    assert response.body_length == len(b"firstsecond")


@pytest.mark.asyncio
async def test_a_write_past_the_limit_leaves_at_once() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    response.content_length = HOLD_LIMIT
    await response.prepare(request)
    await response.write(b"x" * HOLD_LIMIT)
    assert transport.data.endswith(b"x" * HOLD_LIMIT)  # before the loop turns


@pytest.mark.asyncio
async def test_a_closed_connection_drops_what_was_kept_and_the_next_write_fails() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    await response.write(b"lost")
    transport.closing = True
    await asyncio.sleep(0)  # the loop turns: nothing may be written to it now
    assert b"lost" not in transport.data
    with pytest.raises(ConnectionResetError):
        await response.write(b"more")


@pytest.mark.asyncio
async def test_kept_writes_go_before_the_head_of_a_later_send_and_before_sendfile() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    response.content_length = 8
    await response.prepare(request)
    await response.write(b"kept")
    writer = request.writer
    await writer.send_headers()  # the head went at prepare(): what was kept goes now
    assert transport.data.endswith(b"kept")
    await response.write(b"more")
    with pytest.raises(NotImplementedError):  # the fake transport has no sendfile
        await writer.sendfile(io.BytesIO(b""), 0, 0)
    assert transport.data.endswith(b"keptmore")


@pytest.mark.asyncio
async def test_a_response_is_still_one_write() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = Response(text="hello")
    await response.prepare(request)
    await response.write_eof()
    assert transport.calls == 1
    assert parse_response(transport.data).body == b"hello"


@pytest.mark.asyncio
async def test_a_stream_head_goes_with_its_first_write_or_when_the_loop_turns() -> None:
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    await response.write(b"x" * 100)
    await response.write_eof()
    assert transport.calls == 1  # head, chunk and end in one call
    transport = CountingTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    assert transport.calls == 0
    await asyncio.sleep(0)  # the handler waits (an event stream): the head goes alone
    assert transport.calls == 1
    assert transport.data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.data.endswith(b"\r\n\r\n")


@pytest.mark.asyncio
async def test_chunk_framing_of_many_sizes() -> None:
    """Each write is one chunk of its own size, whatever sizes came before (the
    chunk-size lines are kept by size, a bounded table)."""
    transport = FakeTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    sizes = [*range(1, 200), 65536, 1, 65536, 4095, 4096]
    for size in sizes:
        await response.write(b"z" * size)
    await response.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.body == b"".join(b"z" * size for size in sizes)
    framing = b"".join(b"%x\r\n%s\r\n" % (size, b"z" * size) for size in sizes)
    assert parsed.raw_body == framing + b"0\r\n\r\n"
    assert len(_writer._CHUNK_HEADERS) <= _writer._CHUNK_HEADERS_SIZE


class Bytes(bytes):
    """A bytes subclass: sent as its bytes."""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data", [b"abc", Bytes(b"abc"), bytearray(b"abc"), memoryview(b"xabcx")[1:4]]
)
async def test_write_takes_bytes_like_data(data: bytes | bytearray | memoryview) -> None:
    transport = FakeTransport()
    request, _ = make_request(get(), transport=transport)
    response = StreamResponse()
    await response.prepare(request)
    await response.write(data)
    await response.write_eof()
    assert parse_response(transport.data).body == b"abc"


@pytest.mark.asyncio
@pytest.mark.parametrize("data", ["abc", 3, None, [b"a"]])
async def test_write_refuses_other_data(data: object) -> None:
    request, _ = make_request(get(), transport=FakeTransport())
    response = StreamResponse()
    await response.prepare(request)
    with pytest.raises(TypeError, match="byte-ish"):
        await response.write(data)  # type: ignore[arg-type]
