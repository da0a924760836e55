"""aiohttp's server-side advisories that land in the connection: each one over real sockets.

Each test names the advisory (or hardening item) of ``/work/shared/ADVISORIES.md``
it answers in its docstring; the README's "Security advisories" table points
from the advisory to the test. Every test starts its own server on 127.0.0.1
and talks to it with raw bytes; waits are on events, with a timeout only as a
safety bound (nothing asserts how long anything takes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from weft.http_parser import ContentDecoder
from weft.web_core import BaseRequest, FileResponse, Response, StreamResponse
from weft.web_core import _file_response as file_response_module
from weft.web_runner import RequestHandler, Server, ServerRunner, TCPSite
from weft.web_runner import _protocol as protocol_module

TIMEOUT = 30.0  # a safety bound only

Handler = Callable[[BaseRequest], Awaitable[StreamResponse]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """Serve ``handler`` on a free port of 127.0.0.1; yields the port."""
    runner = ServerRunner(Server(handler), shutdown_timeout=5.0)
    await runner.setup()
    try:
        await TCPSite(runner, "127.0.0.1", 0).start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def ok(request: BaseRequest) -> Response:
    return Response(text=request.path)


# -- 31: the pipelined-request queue is capped (GHSA-4fvr-rgm6-gqmc, CVE-2026-54273)


@pytest.mark.asyncio
async def test_ten_thousand_pipelined_requests_pause_reading_at_the_queue_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GHSA-4fvr-rgm6-gqmc / CVE-2026-54273: 10,000 requests pipelined in one write: the
    connection never reads more bytes while 32 requests wait (the queue's cap), and
    every request is answered, in order."""
    cap = protocol_module._QUEUE_HIGH
    assert cap == 32
    queued_at_read: list[int] = []
    real_data_received = RequestHandler.data_received

    def recording(self: RequestHandler, data: bytes) -> None:
        queued_at_read.append(len(self._queue))
        real_data_received(self, data)

    monkeypatch.setattr(RequestHandler, "data_received", recording)
    count = 10_000
    async with serving(ok) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        requests = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(count - 1))
        writer.write(requests + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        sending = asyncio.ensure_future(writer.drain())
        answers = await asyncio.wait_for(reader.read(), TIMEOUT)
        await sending
        writer.close()
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == count
    paths = [b"/%d" % i for i in range(count - 1)] + [b"/last"]
    bodies = [a.rpartition(b"\r\n\r\n")[2] for a in answers.split(b"HTTP/1.1 ")[1:]]
    assert bodies == paths
    assert max(queued_at_read) < cap  # reading was paused whenever the queue was full
    assert len(queued_at_read) > 1  # and the writes did come in several reads


@pytest.mark.asyncio
async def test_one_read_of_thousands_of_requests_never_queues_past_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GHSA-4fvr-rgm6-gqmc / CVE-2026-54273, the cap made hard: one socket read holding
    thousands of tiny requests (27 bytes each: ~9,700 in 256 KiB) never puts more than
    32 in the queue; the parser keeps the rest and goes on as the queue drains, and
    every request is answered, in order."""
    cap = protocol_module._QUEUE_HIGH
    longest = 0
    reads: list[int] = []
    real_data_received = RequestHandler.data_received

    # The queue is measured where it can grow: after each read (the loop calls
    # data_received by name, so the patch is seen in both builds) and when each
    # request is answered (after the queue was refilled from the kept bytes).
    def recording_read(self: RequestHandler, data: bytes) -> None:
        nonlocal longest
        reads.append(len(data))
        real_data_received(self, data)
        longest = max(longest, len(self._queue))

    async def recording_ok(request: BaseRequest) -> Response:
        nonlocal longest
        assert isinstance(request.protocol, RequestHandler)
        longest = max(longest, len(request.protocol._queue))
        return await ok(request)

    monkeypatch.setattr(RequestHandler, "data_received", recording_read)
    count = 20_000
    one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    async with serving(recording_ok) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            one * (count - 1) + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        sending = asyncio.ensure_future(writer.drain())
        answers = await asyncio.wait_for(reader.read(), TIMEOUT)
        await sending
        writer.close()
    bodies = [a.rpartition(b"\r\n\r\n")[2] for a in answers.split(b"HTTP/1.1 200 OK\r\n")[1:]]
    assert bodies == [b"/"] * (count - 1) + [b"/last"]
    assert longest == cap  # the queue filled up to the cap, never past it
    assert max(reads) > len(one) * cap  # and some read held many more requests than that


# -- 33: an unread compressed body is discarded without decoding it (GHSA-g3cq-j2xw-wf74)


@pytest.mark.asyncio
async def test_an_unread_compressed_body_is_discarded_without_decoding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GHSA-g3cq-j2xw-wf74 / CVE-2026-54278: a handler that answers without reading a
    gzip body (a bomb of 64 MiB in ~64 KB) leaves it to the connection, which discards
    the coded bytes: not one byte is decoded, and the next request on the same
    connection is answered."""
    pulls: list[int] = []
    real_pull = ContentDecoder.pull

    def counting_pull(self: ContentDecoder, n: int) -> bytes:
        pulls.append(n)
        return real_pull(self, n)

    monkeypatch.setattr(ContentDecoder, "pull", counting_pull)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(c.compress(bytes(1 << 20)) for _ in range(64)) + c.flush()
    assert len(bomb) < 2**16  # within the 64 KiB a connection drains to stay open
    async with serving(ok) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /bomb HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n%s"
            % (len(bomb), bomb)
            + b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answers = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert answers.endswith(b"/next")
    assert pulls == []


# -- 34: no fd left when the client vanishes mid-download (CVE-2026-54280)


def _open_fds_to(path: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the fd of the listing itself is gone
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.append(fd)
    return found


@pytest.mark.asyncio
@pytest.mark.parametrize("sendfile", [True, False], ids=["sendfile", "read-write"])
async def test_a_client_vanishing_mid_download_leaves_no_file_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sendfile: bool
) -> None:
    """CVE-2026-54280: a client that resets the connection after the first bytes of a
    64 MB FileResponse leaves no file descriptor of that file open in the server,
    with the sendfile path and the read/write fallback."""
    monkeypatch.setattr(file_response_module, "NOSENDFILE", not sendfile)
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    finished = asyncio.Event()
    outcome: list[BaseException | None] = []

    async def download(request: BaseRequest) -> StreamResponse:
        response = FileResponse(path)
        try:
            await response.prepare(request)
            await response.write_eof()
            outcome.append(None)
        except (ConnectionError, OSError) as exc:
            outcome.append(exc)
        finally:
            finished.set()
        return response

    async with serving(download) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        await asyncio.wait_for(reader.readexactly(65536), TIMEOUT)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # a TCP reset, as a client that vanishes
        await asyncio.wait_for(finished.wait(), TIMEOUT)
        assert _open_fds_to(path) == []
    assert len(outcome) == 1


# -- #10055: a garbage first request is logged at DEBUG only


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32) + b"\r\n\r\n",  # TLS hello
        b"\x00\x01\x02\x03\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    ],
    ids=["tls-client-hello", "binary", "ssh-banner"],
)
async def test_a_garbage_first_request_is_answered_400_and_logged_at_debug(
    garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp #10055: a connection whose first bytes are not HTTP (a TLS hello on the
    plain port, a scanner) is answered 400 and closed, and logged at DEBUG only:
    nothing at INFO or above, no traceback, so scanners cannot flood the logs."""
    called: list[BaseRequest] = []

    async def handler(request: BaseRequest) -> Response:
        called.append(request)
        return Response()

    with caplog.at_level(logging.DEBUG):
        async with serving(handler) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(garbage)
            answer = await asyncio.wait_for(reader.read(), TIMEOUT)
            writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert called == []
    weft_records = [r for r in caplog.records if r.name.startswith("weft")]
    assert [r for r in weft_records if r.levelno > logging.DEBUG] == []
    assert [r for r in weft_records if r.exc_info] == []
    assert any("Bad request" in r.getMessage() for r in weft_records)


# -- #13468: pipelining goes on after a declined upgrade


@pytest.mark.asyncio
async def test_requests_pipelined_after_a_declined_upgrade_are_answered() -> None:
    """aiohttp #13468: a request asking to upgrade (to WebSocket) that the handler answers
    as plain HTTP does not switch the connection: the requests pipelined behind it in
    the same write are read as HTTP and answered in order."""
    upgrade = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    follow = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\n"
    async with serving(ok) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(upgrade + follow + b"Connection: close\r\n\r\n")
        answers = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert b"101" not in answers.split(b"\r\n", 1)[0]
    bodies = [a.rpartition(b"\r\n\r\n")[2] for a in answers.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"/ws", b"/next", b"/last"]
