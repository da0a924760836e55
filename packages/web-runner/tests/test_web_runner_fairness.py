"""One loop turn answers at most PIPELINE_BATCH requests per connection.

A connection whose client pipelines many requests must not hold the loop
for all of them at once: every other connection's request, and uvloop's
accept of a new connection (one per loop turn), would wait behind them. The
connections here are fed by hand, so both are ready in the same loop turn.
"""

from __future__ import annotations

import asyncio

import pytest

from weft.web_core import BaseRequest, Response
from weft.web_runner import Server
from weft.web_runner._outbox import PIPELINE_BATCH


class Transport(asyncio.Transport):
    """Keeps what is written; closing it ends the connection as asyncio's would."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__({"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8080)})
        self.data = bytearray()
        self.writes = 0
        self.protocol = protocol
        self.closing = False
        protocol.connection_made(self)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data
        self.writes += 1

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def get_write_buffer_size(self) -> int:
        return 0


@pytest.mark.asyncio
async def test_pipelined_requests_take_turns_with_other_connections() -> None:
    order: list[str] = []

    async def handler(request: BaseRequest) -> Response:
        order.append(request.path)
        return Response(text=request.path)

    server = Server(handler, access_log=None)
    pipelining, single = server(), server()
    transports = Transport(pipelining), Transport(single)
    eight = b"".join(b"GET /a%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(8))
    pipelining.data_received(eight)
    single.data_received(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(50):
        if len(order) == 9:
            break
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # the last batch leaves when the loop turns
    # The single request is answered after the first batch of pipelined ones, not
    # after all eight; each batch's answers leave in one write.
    assert PIPELINE_BATCH == 4
    assert order == ["/a0", "/a1", "/a2", "/a3", "/b", "/a4", "/a5", "/a6", "/a7"]
    assert transports[0].data.count(b"HTTP/1.1 200 OK") == 8
    assert transports[0].writes == 2
    assert transports[1].data.count(b"HTTP/1.1 200 OK") == 1
    await server.shutdown(0.1)
