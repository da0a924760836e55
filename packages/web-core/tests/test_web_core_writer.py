"""StreamWriter: the end of a message, a connection that goes away, and sendfile's edges.

The framing and write-joining of ordinary responses are covered through
StreamResponse in test_web_core_response.py; these are the writer's own rules,
met by a server (web-runner) or a handler that writes to ``request.writer``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO

import pytest
from web_core_support import FakeProtocol, FakeTransport, get, make_request, parse_response

from weft.web_core import FileResponse, StreamResponse, StreamWriter

DATA = b"0123456789" * 100


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


@pytest.mark.asyncio
async def test_writer_reports_its_framing_and_transport() -> None:
    """A streamed HTTP/1.1 response switches the writer to chunked; HTTP/1.0 does not."""
    request, transport = make_request(get())
    assert request.writer.transport is transport
    before = request.writer.chunked
    await StreamResponse().prepare(request)
    assert (before, request.writer.chunked) == (False, True)

    old, _ = make_request(get(version="1.0"))
    await StreamResponse().prepare(old)
    assert old.writer.chunked is False


@pytest.mark.asyncio
async def test_nothing_is_written_after_the_end_of_the_message() -> None:
    """Once the message ended, the writer refuses body bytes; a second end is a no-op."""
    request, transport = make_request(get())
    response = StreamResponse()
    await response.prepare(request)
    await response.write(b"body")
    await response.write_eof()
    sent = transport.data
    writer = request.writer
    with pytest.raises(RuntimeError, match="after the end of the message"):
        await writer.write(b"late")
    await writer.write_eof(b"late")
    assert transport.data == sent
    assert parse_response(sent).body == b"body"


@pytest.mark.asyncio
async def test_send_headers_without_a_held_head_writes_nothing() -> None:
    """send_headers() flushes a held head once; called again it has nothing to send."""
    transport = FakeTransport()
    writer = StreamWriter(FakeProtocol(transport))
    writer.buffer_headers(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    await writer.send_headers()
    await writer.send_headers()
    assert transport.writes == [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]


# -- sendfile


async def _file_exchange(
    data_file: Path, transport: FakeTransport, protocol: FakeProtocol | None = None
) -> FileResponse:
    request, _ = make_request(get(), transport=transport, protocol=protocol)
    response = FileResponse(data_file)
    await response.prepare(request)
    return response


@pytest.mark.asyncio
async def test_loop_without_sendfile_falls_back_to_reads(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop whose sendfile is not implemented (NotImplementedError): the file is read instead."""

    async def not_implemented(
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
    ) -> int:
        raise NotImplementedError("this loop has no sendfile")

    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", not_implemented)
    transport = FakeTransport()
    response = await _file_exchange(data_file, transport)
    parsed = parse_response(transport.data)
    assert (parsed.status, parsed.body) == (200, DATA)
    assert response.keep_alive is True


@pytest.mark.asyncio
async def test_sendfile_to_a_closed_connection(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client went away before the file is sent: ConnectionResetError, nothing written."""
    calls: list[int] = []

    async def sendfile(
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
    ) -> int:
        calls.append(offset)
        return 0

    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", sendfile)
    transport = FakeTransport()
    transport.closing = True
    with pytest.raises(ConnectionResetError):
        await _file_exchange(data_file, transport)
    assert (transport.writes, calls) == ([], [])


class _DisconnectOnDrain(FakeProtocol):
    """The client disconnects while the head is being flushed."""

    async def drain(self) -> None:
        await super().drain()
        assert self.transport is not None
        self.transport.close()


@pytest.mark.asyncio
async def test_connection_lost_while_sending_the_head(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the connection closes while the head drains, sendfile is not tried."""
    calls: list[int] = []

    async def sendfile(
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
    ) -> int:
        calls.append(offset)
        return 0

    monkeypatch.setattr(asyncio.get_running_loop(), "sendfile", sendfile)
    transport = FakeTransport()
    with pytest.raises(ConnectionResetError):
        await _file_exchange(data_file, transport, _DisconnectOnDrain(transport))
    assert parse_response(transport.data).status == 200  # the head went out
    assert calls == []


@pytest.mark.asyncio
async def test_sendfile_after_the_end_of_the_message(data_file: Path) -> None:
    """A finished message takes no file."""
    request, _ = make_request(get())
    response = StreamResponse()
    response.content_length = 0
    await response.prepare(request)
    await response.write_eof()
    with (
        data_file.open("rb") as file,
        pytest.raises(RuntimeError, match="after the end of the message"),
    ):
        await request.writer.sendfile(file, 0, len(DATA))


@pytest.mark.asyncio
async def test_head_time_is_measured_only_when_asked() -> None:
    """time_head(clock): the clock at the call and when the held head goes out."""
    untimed, _ = make_request(get())
    await StreamResponse().prepare(untimed)
    assert untimed.writer.head_time is None

    ticks = iter([10.0, 10.25])
    request, transport = make_request(get())
    request.writer.time_head(lambda: next(ticks))
    unsent = request.writer.head_time  # nothing sent yet
    response = StreamResponse()
    await response.prepare(request)  # a StreamResponse sends its head at once
    sent = request.writer.head_time
    await response.write(b"body")
    await response.write_eof()
    assert (unsent, sent, request.writer.head_time) == (None, 0.25, 0.25)  # writes don't move it
    assert parse_response(transport.data).body == b"body"
