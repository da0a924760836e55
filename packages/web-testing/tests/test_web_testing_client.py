"""The test client's requests and responses beyond the basics (test_web_testing_test_utils.py).

Request bodies of every kind ``data=`` takes, bodies larger than the
buffers both ways, interim responses, content codings the client cannot or
may not decode, malformed responses, redirects it must refuse, IPv6 and TLS
test servers, and the ClientResponse members aiohttp's has. The servers are
weft apps on 127.0.0.1; where a response has to be malformed, the handler
writes raw bytes to its transport.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
import trustme

from weft.web_core import (
    Application,
    FileField,
    MultipartWriter,
    Request,
    Response,
    StreamResponse,
    WebSocketResponse,
    json_response,
)
from weft.web_exceptions import HTTPFound, HTTPTemporaryRedirect
from weft.web_testing.test_utils import (
    ClientConnectionError,
    ClientError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    TestClient,
    TestServer,
)

# What TestClient(TestServer(app)) is, as aiohttp's generic client.
AppClient = TestClient[Request, Application]

BIG = bytes(range(256)) * (4 * 4096)  # 4 MiB, far above the client's 64 KiB buffer


async def hang_forever() -> None:
    """Wait until the handler is cancelled (the client hangs up, or the server closes)."""
    await asyncio.get_running_loop().create_future()


def make_app(client_max_size: int = 1024**2) -> Application:
    app = Application(client_max_size=client_max_size)

    async def echo(request: Request) -> Response:
        body = await request.read()
        return json_response(
            {
                "method": request.method,
                "content_type": request.headers.get("Content-Type"),
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "text": body[:200].decode("utf-8", "replace"),
                "host": request.host,
            }
        )

    async def form(request: Request) -> Response:
        fields: list[list[str]] = []
        for name, value in (await request.post()).items():
            if isinstance(value, FileField):
                fields.append([name, value.filename, value.file.read().decode()])
            else:
                fields.append([name, value if isinstance(value, str) else value.decode()])
        return json_response(fields)

    async def big(request: Request) -> Response:
        assert request.transport is not None
        port = str(request.transport.get_extra_info("peername")[1])
        return Response(body=BIG, headers={"X-Peer-Port": port})

    async def peer(request: Request) -> Response:
        assert request.transport is not None
        return Response(text=str(request.transport.get_extra_info("peername")[1]))

    async def early_hints(request: Request) -> Response:
        assert request.transport is not None
        # An interim 103 (RFC 8297) before the final answer.
        request.transport.write(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
        return Response(text="final")

    def coded(body: bytes, coding: str) -> Response:
        return Response(body=body, headers={"Content-Encoding": coding})

    async def opaque(request: Request) -> Response:
        return coded(b"\x00opaque bytes", "x-weft-custom")

    async def bad_gzip(request: Request) -> Response:
        return coded(b"this was never gzip", "gzip")

    async def truncated_gzip(request: Request) -> Response:
        return coded(gzip.compress(b"z" * 1000)[:-8], "gzip")  # no CRC and size trailer

    async def garbage(request: Request) -> Response:
        assert request.transport is not None
        request.transport.write(b"HTTP/1.1 two hundred OK\r\n\r\n")
        await hang_forever()
        raise AssertionError("unreachable")

    async def temporary(request: Request) -> Response:
        raise HTTPTemporaryRedirect("/echo")

    async def to_ftp(request: Request) -> Response:
        raise HTTPFound("ftp://files.example.test/pub")

    async def cookies(request: Request) -> Response:
        response = Response(headers={"Content-Type": "text/plain"})
        response.headers.add("Set-Cookie", "good=1")
        response.headers.add("Set-Cookie", 'broken="unterminated')
        return response

    async def empty_json(request: Request) -> Response:
        return Response(headers={"Content-Type": "application/json"})

    async def no_type(request: Request) -> Response:
        assert request.transport is not None
        request.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nraw"
        )
        await hang_forever()
        raise AssertionError("unreachable")

    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/form", form)
    app.router.add_get("/big", big)
    app.router.add_get("/peer", peer)
    app.router.add_get("/early-hints", early_hints)
    app.router.add_get("/opaque", opaque)
    app.router.add_get("/bad-gzip", bad_gzip)
    app.router.add_get("/truncated-gzip", truncated_gzip)
    app.router.add_get("/garbage", garbage)
    app.router.add_post("/temporary", temporary)
    app.router.add_get("/to-ftp", to_ftp)
    app.router.add_get("/cookies", cookies)
    app.router.add_get("/empty-json", empty_json)
    app.router.add_get("/no-type", no_type)

    async def websocket(request: Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app.router.add_get("/ws", websocket)
    return app


@pytest_asyncio.fixture
async def client() -> AsyncIterator[AppClient]:
    async with TestClient(TestServer(make_app())) as test_client:
        yield test_client


async def chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for i in range(count):
        yield bytes([i % 256]) * size


# ---------------------------------------------------------------- request bodies


@pytest.mark.asyncio
async def test_large_streamed_upload_arrives_whole() -> None:
    """An async iterable body far larger than the socket buffers is sent chunked, complete."""
    async with TestClient(TestServer(make_app(client_max_size=2**30))) as client:
        expected = hashlib.sha256(b"".join([bytes([i]) * 2**20 for i in range(12)])).hexdigest()
        response = await client.post("/echo", data=chunks(12, 2**20))
        assert await response.json() == {
            "method": "POST",
            "content_type": None,
            "length": 12 * 2**20,
            "sha256": expected,
            "text": "\x00" * 200,
            "host": f"127.0.0.1:{client.port}",
        }


@pytest.mark.asyncio
async def test_an_early_answer_to_a_streamed_upload_is_the_response(client: AppClient) -> None:
    """The server refusing a streamed body midway (413, then close) answers the request.

    As aiohttp's client: the response that arrived is returned, rather than an
    error about the body it no longer wanted.
    """
    response = await client.post("/echo", data=chunks(12, 2**20))
    assert response.status == 413
    assert "body size 1048576 exceeded" in await response.text()


@pytest.mark.asyncio
async def test_file_objects_are_read_and_sent(client: AppClient) -> None:
    """A binary file is sent as application/octet-stream, a text file as text/plain."""
    binary = await (await client.post("/echo", data=io.BytesIO(b"\x00\x01bin"))).json()
    assert (binary["content_type"], binary["length"]) == ("application/octet-stream", 5)
    text = await (await client.put("/echo", data=io.StringIO("héllo"))).json()
    assert (text["content_type"], text["text"]) == ("text/plain; charset=utf-8", "héllo")


@pytest.mark.asyncio
async def test_pairs_are_a_form_and_repeat_names(client: AppClient) -> None:
    """A list or tuple of pairs is urlencoded in order, a name may repeat."""
    response = await client.post("/form", data=[("a", "1"), ("b", "2"), ("a", "3")])
    assert await response.json() == [["a", "1"], ["b", "2"], ["a", "3"]]
    response = await client.post("/form", data=(("only", "one"),))
    assert await response.json() == [["only", "one"]]


@pytest.mark.asyncio
async def test_a_file_field_makes_the_form_multipart(client: AppClient, tmp_path: Path) -> None:
    """A file object among the fields: multipart/form-data, its filename the file's name."""
    upload = tmp_path / "notes.txt"
    upload.write_text("file body")
    with upload.open("rb") as file:
        response = await client.post("/form", data={"doc": file, "title": "t"})
    assert await response.json() == [["doc", "notes.txt", "file body"], ["title", "t"]]


@pytest.mark.asyncio
async def test_a_multipart_writer_is_sent_as_built(client: AppClient) -> None:
    """data=MultipartWriter(...): its bytes and its Content-Type with the boundary."""
    writer = MultipartWriter("form-data")
    writer.append("value").set_content_disposition("form-data", name="field")
    response = await client.post("/form", data=writer)
    assert await response.json() == [["field", "value"]]


@pytest.mark.asyncio
async def test_a_body_of_another_type_is_refused(client: AppClient) -> None:
    """data= of a type it cannot send is a TypeError naming what it takes."""
    with pytest.raises(TypeError, match="got int"):
        await client.post("/echo", data=42)


# ---------------------------------------------------------------- responses


@pytest.mark.asyncio
async def test_a_body_larger_than_the_buffer_is_read_in_pieces(client: AppClient) -> None:
    """4 MiB read 64 KiB at a time arrives whole, and the connection is then reused."""
    async with client.get("/big") as response:
        port = response.headers["X-Peer-Port"]
        received = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            received += chunk
    assert bytes(received) == BIG
    assert await (await client.get("/peer")).text() == port


@pytest.mark.asyncio
async def test_interim_responses_are_skipped(client: AppClient) -> None:
    """A 103 Early Hints before the answer is not the response: the 200 after it is."""
    response = await client.get("/early-hints")
    assert response.status == 200
    assert await response.text() == "final"


@pytest.mark.asyncio
async def test_an_unknown_content_coding_is_left_as_sent(client: AppClient) -> None:
    """A Content-Encoding the client does not know: the body as it came (as aiohttp)."""
    response = await client.get("/opaque")
    assert response.headers["Content-Encoding"] == "x-weft-custom"
    assert await response.read() == b"\x00opaque bytes"


@pytest.mark.asyncio
async def test_a_body_that_does_not_decode_is_a_payload_error(client: AppClient) -> None:
    """A gzip body that is not gzip raises ClientPayloadError on read(), as aiohttp's."""
    response = await client.get("/bad-gzip")
    with pytest.raises(ClientPayloadError, match="cannot decode"):
        await response.read()


@pytest.mark.asyncio
async def test_a_truncated_gzip_body_is_a_payload_error(client: AppClient) -> None:
    """A gzip stream cut before its trailer raises ClientPayloadError (aiohttp returns it)."""
    response = await client.get("/truncated-gzip")
    with pytest.raises(ClientPayloadError, match="truncated"):
        await response.read()


@pytest.mark.asyncio
async def test_a_malformed_response_head_is_a_400_response_error(client: AppClient) -> None:
    """A status line that is not HTTP: ClientResponseError with status 400, as aiohttp's."""
    with pytest.raises(ClientResponseError) as info:
        await client.get("/garbage")
    assert info.value.status == 400
    assert "invalid response" in info.value.message


@pytest.mark.asyncio
async def test_response_members(client: AppClient) -> None:
    """repr, content_type and charset defaults, content_length, cookies, closed, release."""
    response = await client.get("/no-type")
    assert repr(response) == f"<ClientResponse({client.make_url('/no-type')}) [200 OK]>"
    assert response.content_type == "application/octet-stream"
    assert response.charset is None
    assert response.content_length == 3
    held = not response.closed  # (a local: mypy would narrow response.closed)
    assert held
    assert await response.read() == b"raw"
    await response.release()  # awaitable, as aiohttp's older API
    assert response.closed

    response = await client.get("/cookies")
    # The malformed Set-Cookie is skipped, the good one kept.
    assert {name: m.value for name, m in response.cookies.items()} == {"good": "1"}
    assert response.content_type == "text/plain"
    response.raise_for_status()  # 200: nothing raised
    response.close()
    assert response.closed


@pytest.mark.asyncio
async def test_json_of_an_empty_body_is_none(client: AppClient) -> None:
    """json() on an empty application/json body returns None, as aiohttp's."""
    assert await (await client.get("/empty-json")).json() is None


@pytest.mark.asyncio
async def test_json_with_another_expected_content_type(client: AppClient) -> None:
    """json(content_type=...) checks for that media type instead of application/json."""
    response = await client.post("/echo", data=b"")
    assert (await response.json(content_type="application/json"))["length"] == 0
    with pytest.raises(ClientResponseError, match="unexpected mimetype: application/json"):
        await response.json(content_type="text/plain")


@pytest.mark.asyncio
async def test_a_response_is_an_async_context_manager(client: AppClient) -> None:
    """``async with response:`` gives the response and releases it at the end."""
    response = await client.get("/peer")
    async with response as same:
        assert same is response
        assert await same.text() != ""
    assert response.closed


# ---------------------------------------------------------------- redirects


@pytest.mark.asyncio
async def test_a_streamed_body_cannot_follow_a_307(client: AppClient) -> None:
    """A 307 must resend the body: an async iterable cannot be, so ClientError says so."""
    with pytest.raises(ClientError, match="cannot follow a 307 redirect"):
        await client.post("/temporary", data=chunks(2, 10))
    # bytes can be sent again: the redirect is followed with the same method and body
    response = await client.post("/temporary", data=b"again")
    assert (await response.json())["text"] == "again"
    assert [r.status for r in response.history] == [307]


@pytest.mark.asyncio
async def test_a_redirect_out_of_http_is_refused(client: AppClient) -> None:
    """Location: ftp://... is not followed: ClientError, as aiohttp's NonHttpUrlRedirect."""
    with pytest.raises(ClientError, match="cannot follow a redirect to 'ftp://"):
        await client.get("/to-ftp")


# ---------------------------------------------------------------- the session


@pytest.mark.asyncio
async def test_session_members_and_use_after_close(client: AppClient) -> None:
    """headers are the defaults sent with each request; a closed session refuses requests."""
    session = client.session
    session.headers["X-Default"] = "d"
    usable = not session.closed  # (a local: mypy would narrow session.closed)
    assert usable
    with pytest.raises(ValueError, match="absolute http"):
        await session.get("/relative")
    await session.close()
    assert session.closed
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.get(client.make_url("/echo"))


@pytest.mark.asyncio
async def test_a_request_is_a_coroutine_tasks_take(client: AppClient) -> None:
    """client.get(...) is a coroutine as aiohttp's _RequestContextManager (issue 15).

    So asyncio.create_task() and ensure_future() take it, and gather() runs
    requests side by side; it stays an async context manager.
    """
    request = client.get("/echo")
    assert asyncio.iscoroutine(request)
    task = asyncio.create_task(request)
    future = asyncio.ensure_future(client.post("/echo", data=b"abc"))
    first, second = await asyncio.gather(task, future)
    assert (await first.json())["method"] == "GET"
    assert (await second.json())["length"] == 3
    many = await asyncio.gather(*(client.get("/echo") for _ in range(3)))
    assert [response.status for response in many] == [200, 200, 200]
    async with client.get("/echo") as response:
        assert response.status == 200
    websocket = await asyncio.create_task(client.ws_connect("/ws"))
    await websocket.close()


@pytest.mark.asyncio
async def test_a_request_task_cancelled_midway_is_cancelled() -> None:
    """Cancelling the task reaches the request (through throw()), which closes its connection."""
    started = asyncio.Event()
    handler_ended = asyncio.Event()

    async def hang(request: Request) -> Response:
        started.set()
        try:
            await hang_forever()
        finally:
            handler_ended.set()
        raise AssertionError("not reached")

    async with TestClient(TestServer(hanging_app(hang))) as hanging:
        task = asyncio.create_task(hanging.get("/"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The server saw the client hang up: handler_cancellation cancels the handler.
        await handler_ended.wait()


def hanging_app(handler: Callable[[Request], Awaitable[Response]]) -> Application:
    app = Application()
    app.router.add_get("/", handler)
    return app


@pytest.mark.asyncio
async def test_a_request_not_awaited_can_be_closed(client: AppClient) -> None:
    """close() closes the request's coroutine (no 'never awaited' warning); iter() is await's."""
    request = client.get("/echo")
    request.close()
    with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
        await request
    other = client.get("/echo")
    steps = iter(other)
    assert steps.send(None) is not None  # the first step: waiting for the connection
    steps.close()


@pytest.mark.asyncio
async def test_session_close_returns_with_its_sockets_closed(client: AppClient) -> None:
    """close() returns once each connection is closed, as aiohttp's (issue 15).

    The server then sees the ends before a TestClient shuts it down, instead
    of finding the connections open and waiting for them.
    """
    responses = await asyncio.gather(*(client.get("/echo") for _ in range(3)))
    for response in responses:
        await response.read()
    connections = list(client.session._connections)
    assert len(connections) == 3
    await client.session.close()
    assert all(
        connection.lost.done() and connection.transport is None for connection in connections
    )


@pytest.mark.asyncio
async def test_session_close_aborts_an_upload_the_server_does_not_read() -> None:
    """Bytes stuck in a connection's buffer (the server stopped reading) do not hold close()."""
    started, release = asyncio.Event(), asyncio.Event()

    async def ignore_the_body(request: Request) -> Response:
        started.set()
        # The server stopped reading too (its body buffer is full), so it would
        # not see the client go: the handler ends when the test says.
        await release.wait()
        return Response()

    async with TestClient(TestServer(hanging_app(ignore_the_body))) as client:
        upload = asyncio.create_task(client.get("/", data=chunks(1024, 2**20)))
        await started.wait()
        (connection,) = client.session._connections
        transport = connection.transport
        assert transport is not None
        for _ in range(100_000):  # loop ticks, not the clock: the buffer fills as chunks go out
            if transport.get_write_buffer_size():
                break
            await asyncio.sleep(0)
        assert transport.get_write_buffer_size()
        # A bound, not a timing: a close() waiting for those bytes would never return.
        await asyncio.wait_for(client.session.close(), 30)
        assert connection.lost.done()
        release.set()
        with pytest.raises(ClientError):
            await upload


@pytest.mark.asyncio
async def test_an_ipv6_test_server() -> None:
    """TestServer(host='::1'): URLs bracket the address, the Host header too."""
    async with TestClient(TestServer(make_app(), host="::1")) as client:
        assert client.host == "::1"
        assert str(client.make_url("/echo")) == f"http://[::1]:{client.port}/echo"
        response = await client.get("/echo")
        assert (await response.json())["host"] == f"[::1]:{client.port}"


# ---------------------------------------------------------------- TLS


@pytest_asyncio.fixture
async def tls_client() -> AsyncIterator[tuple[AppClient, ssl.SSLContext]]:
    """A TestClient on an HTTPS TestServer (a trustme CA), and a context trusting that CA."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    server = TestServer(make_app())
    await server.start_server(ssl=server_context)
    async with TestClient(server) as client:
        yield client, client_context


@pytest.mark.asyncio
async def test_https_verifies_unless_told_not_to(
    tls_client: tuple[AppClient, ssl.SSLContext],
) -> None:
    """https: the system's CAs by default (refused here), ssl=False skips, a context is used."""
    client, trusting = tls_client
    assert client.make_url("/").scheme == "https"
    with pytest.raises(ClientConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await client.get("/echo")
    assert (await client.get("/echo", ssl=False)).status == 200
    assert (await client.get("/echo", ssl=trusting)).status == 200


# ---------------------------------------------------------------- the server hangs up


@pytest.mark.asyncio
async def test_a_server_hanging_up_mid_upload_is_reported(client: AppClient) -> None:
    """The server closing while a streamed body is being sent: ServerDisconnectedError."""

    async def hang_up(request: Request) -> StreamResponse:
        await request.content.readexactly(1024)
        assert request.transport is not None
        request.transport.abort()
        await hang_forever()
        raise AssertionError("unreachable")

    assert client.app is not None
    async with TestClient(TestServer(hang_up_app(hang_up))) as other:
        with pytest.raises(ServerDisconnectedError):
            await other.post("/", data=chunks(64, 2**20))


def hang_up_app(handler: object) -> Application:
    app = Application()
    app.router.add_post("/", handler)  # type: ignore[arg-type]
    return app
