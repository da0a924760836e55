"""Keep-alive, pipelining and the keep-alive timeout, checked byte by byte."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from typing import TYPE_CHECKING

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weft.web_core import Application, BaseRequest, Request, Response

if TYPE_CHECKING:
    from conftest import Serve, ServerReads, Until, VirtualClock

GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"


async def echo(request: BaseRequest) -> Response:
    """Answer with the method, the path and the length of the body."""
    body = await request.read()
    return Response(text=f"{request.method} {request.path} {len(body)}")


async def ignore_body(request: BaseRequest) -> Response:
    return Response(text=f"ignored {request.path}")


@pytest.mark.asyncio
async def test_several_requests_on_one_connection(serve: Serve) -> None:
    """An HTTP/1.1 connection serves request after request."""
    served = await serve(echo)
    connection = await served.connect()
    for i in range(5):
        connection.send(GET % f"/{i}".encode())
        response = await connection.response()
        assert response.status == 200
        assert response.body == f"GET /{i} 0".encode()
        assert "Connection" not in response.headers
    assert served.server.requests_count == 5
    assert len(served.server.connections) == 1


@pytest.mark.asyncio
async def test_requests_count_is_writable_and_counts_on_from_there(serve: Serve) -> None:
    """aiohttp's Server.requests_count is a plain attribute: a reset holds."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(GET % b"/a")
    assert (await connection.response()).status == 200
    assert served.server.requests_count == 1
    served.server.requests_count = 10
    connection.send(GET % b"/b")
    assert (await connection.response()).status == 200
    assert served.server.requests_count == 11


@pytest.mark.asyncio
async def test_aiohttp_client_reuses_the_connection(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """aiohttp's pooled client sends many requests over one kept-alive connection."""
    peers: set[object] = set()

    async def handler(request: BaseRequest) -> Response:
        transport = request.transport
        assert transport is not None
        peers.add(transport.get_extra_info("peername"))
        return Response(text="ok")

    served = await serve(handler)
    for _ in range(4):
        async with client.get(served.url()) as response:
            assert await response.text() == "ok"
    assert len(peers) == 1


@pytest.mark.asyncio
async def test_http10_closes_by_default(serve: Serve) -> None:
    """An HTTP/1.0 request without keep-alive is answered, then the connection closes."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(b"GET /old HTTP/1.0\r\n\r\n")
    response = await connection.response()
    assert response.raw.startswith(b"HTTP/1.0 200 OK\r\n")
    assert response.body == b"GET /old 0"
    assert response.headers.get("Connection", "close").lower() == "close"
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_http10_keep_alive_when_requested(serve: Serve) -> None:
    """HTTP/1.0 with Connection: keep-alive keeps the connection for the next request."""
    served = await serve(echo)
    connection = await served.connect()
    for path in (b"/one", b"/two"):
        connection.send(b"GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % path)
        response = await connection.response()
        assert response.headers["Connection"].lower() == "keep-alive"
        assert response.body == b"GET %s 0" % path


@pytest.mark.asyncio
async def test_connection_close_is_honoured(serve: Serve) -> None:
    """Connection: close from the client gets Connection: close back, then EOF."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    response = await connection.response()
    assert response.body == b"GET /bye 0"
    assert response.headers["Connection"] == "close"
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_response_force_close_closes(serve: Serve) -> None:
    """A response with force_close() ends the connection after it."""

    async def handler(request: BaseRequest) -> Response:
        response = Response(text="last")
        response.force_close()
        return response

    served = await serve(handler)
    connection = await served.connect()
    connection.send(GET % b"/" + GET % b"/never")
    response = await connection.response()
    assert response.body == b"last"
    assert response.headers["Connection"] == "close"
    assert await connection.read_to_eof() == b""
    assert served.server.requests_count == 1


@pytest.mark.asyncio
async def test_pipelined_requests_answered_in_order(serve: Serve, until: Until) -> None:
    """Requests written at once are answered in order, even when the first is slow."""

    async def handler(request: BaseRequest) -> Response:
        if request.path == "/slow":
            # Slow until the three requests behind it have arrived: a server that
            # answered them as they came would send theirs first.
            await until(lambda: repr(request.protocol).endswith(" queued=3>"))
        return await echo(request)

    served = await serve(handler)
    connection = await served.connect()
    connection.send(
        GET % b"/slow"
        + b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        + b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"3\r\nabc\r\n0\r\n\r\n"
        + GET % b"/last"
    )
    bodies = [(await connection.response()).body for _ in range(4)]
    assert bodies == [b"GET /slow 0", b"POST /post 5", b"POST /chunked 3", b"GET /last 0"]


@pytest.mark.asyncio
async def test_head_response_keeps_the_connection(serve: Serve) -> None:
    """A HEAD answer has no body, so the next response on the connection parses cleanly."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + GET % b"/g")
    head = await connection.response(head_request=True)
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(b"HEAD /h 0"))
    assert (await connection.response()).body == b"GET /g 0"


@pytest.mark.asyncio
async def test_unread_body_is_drained_for_the_next_request(serve: Serve) -> None:
    """A body the handler never read is drained so the pipelined request after it is answered."""
    served = await serve(ignore_body)
    connection = await served.connect()
    body = b"x" * 20000
    connection.send(
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        + b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"5\r\nhello\r\n0\r\n\r\n"
        + GET % b"/c"
    )
    bodies = [(await connection.response()).body for _ in range(3)]
    assert bodies == [b"ignored /a", b"ignored /b", b"ignored /c"]
    assert served.server.requests_count == 3


@pytest.mark.asyncio
async def test_parse_error_after_good_pipelined_requests(serve: Serve) -> None:
    """Good pipelined requests are answered first, then the error status, then the close."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(GET % b"/one" + GET % b"/two" + b"GARBAGE\r\n\r\n" + GET % b"/never")
    first = await connection.response()
    second = await connection.response()
    error = await connection.response()
    assert (first.body, second.body) == (b"GET /one 0", b"GET /two 0")
    assert error.status == 400
    assert error.headers["Connection"] == "close"
    assert await connection.read_to_eof() == b""
    assert served.server.requests_count == 2


@pytest.mark.asyncio
async def test_parse_error_in_a_later_write(serve: Serve) -> None:
    """A request answered, then garbage on the same connection: 400 and close."""
    served = await serve(echo)
    connection = await served.connect()
    connection.send(GET % b"/ok")
    assert (await connection.response()).body == b"GET /ok 0"
    connection.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    error = await connection.response()
    assert error.status == 400
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
async def test_idle_connection_closed_after_keepalive_timeout(
    serve: Serve, clock: VirtualClock
) -> None:
    """An idle kept-alive connection is closed by the server after keepalive_timeout."""
    app = Application()

    async def hello(request: Request) -> Response:
        return Response(text="hi")

    app.router.add_get("/", hello)
    served = await serve(app, keepalive_timeout=60.0)
    connection = await served.connect()
    connection.send(GET % b"/")
    response = await connection.response()
    assert response.body == b"hi"
    assert "Connection" not in response.headers  # kept alive ...
    await clock.advance(55.0)
    assert len(served.server.connections) == 1  # ... through 55 idle seconds ...
    await clock.advance(10.0)
    assert await connection.read_to_eof() == b""  # ... until the timeout closes it


@pytest.mark.asyncio
async def test_keepalive_timeout_counts_from_the_last_response(
    serve: Serve, clock: VirtualClock
) -> None:
    """A connection busy past keepalive_timeout stays open: the timeout counts
    from the end of the last answer, not from when the timer was first armed."""
    served = await serve(echo, keepalive_timeout=60.0)
    connection = await served.connect()
    for _ in range(4):  # 160 s in all, the first timer long overdue by the end
        connection.send(GET % b"/")
        assert (await connection.response()).status == 200
        await clock.advance(40.0)
    connection.send(GET % b"/")
    assert (await connection.response()).status == 200
    await clock.advance(55.0)
    assert len(served.server.connections) == 1  # not closed early after the last answer
    await clock.advance(10.0)
    assert await connection.read_to_eof() == b""  # closed once idle long enough


@pytest.mark.asyncio
async def test_connection_without_requests_closed_after_keepalive_timeout(
    serve: Serve, clock: VirtualClock, until: Until
) -> None:
    """A connection that never sends a request is closed after keepalive_timeout too."""
    served = await serve(echo, keepalive_timeout=60.0)
    connection = await served.connect()
    await until(lambda: len(served.server.connections) == 1)
    # The connection's task, created with it, starts its idle wait (and the timer)
    # on the next loop turn: let that turn pass before the clock moves.
    await clock.advance(0.0)
    await clock.advance(55.0)
    assert len(served.server.connections) == 1
    await clock.advance(10.0)
    assert await connection.read_to_eof() == b""


@pytest.mark.asyncio
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    paths=st.lists(st.from_regex(r"/[a-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
)
async def test_pipelining_survives_any_split(
    serve: Serve, server_reads: ServerReads, paths: list[str], cuts: list[int]
) -> None:
    """However pipelined bytes are split into reads, every request is answered in order."""
    data = b"".join(
        b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" % p.encode() for p in paths
    )
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    read_before = server_reads.total  # the count goes on across hypothesis's examples
    served = await serve(echo)
    connection = await served.connect()
    try:
        for start, end in itertools.pairwise(points):
            connection.send(data[start:end])
            await connection.writer.drain()
            # Each piece is read before the next is sent: one read per piece.
            await server_reads.reach(read_before + end)
        bodies = [(await connection.response()).body for _ in paths]
        assert bodies == [f"POST {p} 3".encode() for p in paths]
    finally:
        await connection.close()
        await served.cleanup()


@pytest.mark.asyncio
async def test_unread_body_over_the_drain_limit_closes(serve: Serve) -> None:
    """A body left unread beyond the 64 KiB drain limit ends the connection after the answer."""
    served = await serve(ignore_body)
    body = b"y" * (200 * 1024)
    loop = asyncio.get_running_loop()
    with socket.socket() as sock:  # a plain socket: received bytes stay readable after a reset
        sock.setblocking(False)
        await asyncio.wait_for(loop.sock_connect(sock, (served.host, served.port)), 10)
        await asyncio.wait_for(
            loop.sock_sendall(
                sock,
                b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                + GET % b"/after",
            ),
            10,
        )
        received = b""
        with contextlib.suppress(ConnectionResetError):  # the unread rest may reset the close
            while True:
                data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 10)
                if not data:
                    break
                received += data
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    # Said in the answer, so that a client sends its next request elsewhere (aiohttp's
    # client otherwise reuses the connection and its request is lost in the drain).
    assert b"\r\nConnection: close" in head
    assert answer == b"ignored /big"
    assert served.server.requests_count == 1


@pytest.mark.asyncio
async def test_a_client_told_to_close_loses_no_request(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """aiohttp's client posts a 100 kB body the handler ignores, then asks again: both answered."""
    served = await serve(ignore_body)
    url = f"http://{served.host}:{served.port}"
    async with client.post(f"{url}/big", data=b"z" * 100_000) as response:
        assert response.headers["Connection"] == "close"
        assert await response.text() == "ignored /big"
    async with client.get(f"{url}/next") as response:
        assert await response.text() == "ignored /next"
    assert served.server.requests_count == 2


@pytest.mark.asyncio
async def test_an_unread_chunked_body_still_arriving_closes_with_notice(serve: Serve) -> None:
    """Its length is unknown, so it may not fit the drain: the answer says Connection: close."""
    served = await serve(ignore_body)
    connection = await served.connect()
    connection.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    connection.send(b"5\r\nhello\r\n")  # and more to come
    response = await connection.response()
    assert response.body == b"ignored /stream"
    assert response.headers["Connection"] == "close"


@pytest.mark.asyncio
async def test_a_small_unread_body_keeps_the_connection_without_notice(serve: Serve) -> None:
    """Within the drain limit, even with bytes still on their way, the connection is kept."""
    served = await serve(ignore_body)
    connection = await served.connect()
    connection.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    response = await connection.response()
    assert "Connection" not in response.headers
    connection.send(b"x" * 990 + GET % b"/b")
    assert (await connection.response()).body == b"ignored /b"
