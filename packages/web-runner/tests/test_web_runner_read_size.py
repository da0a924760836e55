"""How much a connection asks of its socket per read (``READ_SIZE``).

On asyncio's own loop a transport reads with ``sock.recv(max_size)``; at
asyncio's 256 KiB a read may map and unmap memory each time (READ_SIZE's
comment, docs/speed.md §15).
The connection sets ``max_size`` on such a transport, and leaves other
transports (uvloop's, TLS's, a test's) as they are.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

import aiohttp
import pytest

from weft.web_core import BaseRequest, Response
from weft.web_runner import Server, ServerRunner, TCPSite
from weft.web_runner._protocol import READ_SIZE


async def describe(request: BaseRequest) -> Response:
    body = await request.read()
    transport = request.transport
    assert transport is not None
    size = getattr(transport, "max_size", None)
    return Response(text=f"{size} {len(body)} {hashlib.sha256(body).hexdigest()}")


@pytest.mark.asyncio
async def test_asyncio_transports_read_read_size_and_bodies_arrive_whole() -> None:
    """A selector transport reads READ_SIZE at a time; a body of many reads is whole."""
    assert READ_SIZE < 128 * 1024  # below glibc's mmap threshold: the point of it
    assert type(asyncio.get_running_loop()).__name__.endswith("SelectorEventLoop")
    runner = ServerRunner(Server(describe, access_log=None))
    await runner.setup()
    await TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    body = os.urandom(5 * READ_SIZE + 123)
    try:
        async with aiohttp.ClientSession() as client:
            for data in (b"", b"x", body):
                async with client.post(f"http://127.0.0.1:{port}/", data=data) as response:
                    assert response.status == 200
                    digest = hashlib.sha256(data).hexdigest()
                    assert await response.text() == f"{READ_SIZE} {len(data)} {digest}"
    finally:
        await runner.cleanup()


class TransportWithoutMaxSize(asyncio.Transport):
    """uvloop's and TLS transports have no ``max_size``: nothing is set on them."""

    def __init__(self) -> None:
        super().__init__({"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8080)})
        self.data = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


@pytest.mark.asyncio
async def test_other_transports_are_left_as_they_are() -> None:
    async def hello(request: BaseRequest) -> Response:
        return Response(text="hello")

    protocol = Server(hello, access_log=None)()
    transport = TransportWithoutMaxSize()
    protocol.connection_made(transport)
    assert not hasattr(transport, "max_size")
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(20):
        await asyncio.sleep(0)
        if transport.data.endswith(b"hello"):
            break
    assert transport.data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.data.endswith(b"hello")
    protocol.connection_lost(None)
