"""weft.web_core.test_utils: make_mocked_request's options and the recording transport.

Where aiohttp.test_utils.make_mocked_request takes the same option, the
request it builds reports the same (checked side by side).
"""

from __future__ import annotations

import asyncio
import ssl

import pytest
from aiohttp.http import HttpVersion10 as AiohttpVersion10
from aiohttp.test_utils import make_mocked_request as make_aiohttp_request

from weft.http_parser import HttpVersion10
from weft.http_parser.streams import BodyStream
from weft.web_core import Application, Request, Response, StreamWriter
from weft.web_core.test_utils import MockProtocol, MockTransport, make_mocked_request


def test_sslcontext_makes_an_https_request() -> None:
    """With sslcontext the request is secure and its URL https, as aiohttp's."""
    context = ssl.create_default_context()
    ours = make_mocked_request("GET", "/p", headers={"Host": "example.com"}, sslcontext=context)
    theirs = make_aiohttp_request("GET", "/p", headers={"Host": "example.com"}, sslcontext=context)
    assert (ours.scheme, ours.secure, str(ours.url)) == ("https", True, "https://example.com/p")
    assert (ours.scheme, ours.secure, ours.url) == (theirs.scheme, theirs.secure, theirs.url)
    assert ours.get_extra_info("sslcontext") is context
    plain = make_mocked_request("GET", "/p")
    assert (plain.scheme, plain.secure) == ("http", False)


@pytest.mark.parametrize(
    ("closing", "http10", "keep_alive"),
    [(False, False, True), (True, False, False), (False, True, False)],
)
def test_closing_and_version_decide_keep_alive(
    closing: bool, http10: bool, keep_alive: bool
) -> None:
    """closing=True or HTTP/1.0 gives a request that will not keep the connection, as aiohttp's."""
    ours = make_mocked_request(
        "GET",
        "/",
        closing=closing,
        version=HttpVersion10 if http10 else (1, 1),  # type: ignore[arg-type]
    )
    theirs = make_aiohttp_request(
        "GET",
        "/",
        closing=closing,
        version=AiohttpVersion10 if http10 else (1, 1),  # type: ignore[arg-type]
    )
    assert ours.keep_alive is theirs.keep_alive is keep_alive


@pytest.mark.asyncio
async def test_empty_bytes_payload_is_an_empty_body() -> None:
    """payload=b"" declares Content-Length: 0 and reads back empty."""
    request = make_mocked_request("POST", "/", payload=b"")
    assert request.headers["Content-Length"] == "0"
    assert (request.body_exists, request.can_read_body) == (False, False)
    assert await request.read() == b""


@pytest.mark.asyncio
async def test_a_body_stream_payload_is_read_as_it_arrives() -> None:
    """A BodyStream payload is the request's body stream: fed by the test, read by the handler."""
    stream = BodyStream()
    request = make_mocked_request(
        "POST", "/", headers={"Transfer-Encoding": "chunked"}, payload=stream
    )
    assert request.body_exists
    stream.feed_data(b"part 1, ")
    stream.feed_data(b"part 2")
    stream.feed_eof()
    assert await request.text() == "part 1, part 2"


@pytest.mark.asyncio
async def test_given_connection_objects_are_used() -> None:
    """transport, protocol, writer and loop given by the test are the request's own."""
    loop = asyncio.get_running_loop()
    transport = MockTransport({"peername": ("198.51.100.9", 4242)})
    protocol = MockProtocol(transport)
    writer = StreamWriter(protocol)
    request = make_mocked_request(
        "GET", "/", transport=transport, protocol=protocol, writer=writer, loop=loop
    )
    assert (request.remote, request.transport, request.writer) == (
        "198.51.100.9",
        transport,
        writer,
    )
    assert request.loop is loop
    response = Response(text="to the given transport")
    await response.prepare(request)
    await response.write_eof()
    assert bytes(transport.written).endswith(b"\r\n\r\nto the given transport")


@pytest.mark.asyncio
async def test_a_real_match_info_is_kept() -> None:
    """A match from a real router gives the request that route, its variables and the app."""

    async def user(request: Request) -> Response:
        return Response(text=f"user {request.match_info['id']}")

    app = Application()
    app.router.add_get("/users/{id}", user)
    app.freeze()
    match_info = app.router.match("GET", "/users/7")
    request = make_mocked_request("GET", "/users/7", match_info=match_info, app=app)
    assert request.match_info is match_info
    assert request.match_info.route.handler is user
    assert request.app is app
    response = await request.match_info.handler(request)
    assert isinstance(response, Response)
    assert response.text == "user 7"


@pytest.mark.asyncio
async def test_mocked_route_handler_explains_itself() -> None:
    """A mocked request's route has no handler: calling it says to call yours directly."""
    request = make_mocked_request("GET", "/items", match_info={"id": "1"})
    with pytest.raises(RuntimeError, match="call your handler with it directly"):
        await request.match_info.handler(request)


def test_mock_transport_is_closed_by_close_abort_or_write_eof() -> None:
    """Once closed, a MockTransport refuses writes as a real one does (ConnectionResetError)."""
    for close in ("close", "abort", "write_eof"):
        transport = MockTransport()
        assert (transport.is_closing(), transport.is_reading()) == (False, True)
        assert (transport.can_write_eof(), transport.get_write_buffer_size()) == (True, 0)
        transport.write(b"before")
        getattr(transport, close)()
        assert (transport.is_closing(), transport.is_reading()) == (True, False)
        with pytest.raises(ConnectionResetError):
            transport.write(b"after")
        assert (bytes(transport.written), transport.writes) == (b"before", [b"before"])


def test_mock_transport_follows_a_body_streams_flow_control() -> None:
    """As a BodyStream's flow control it stops reading above high water, resumes once read."""
    transport = MockTransport()
    stream = BodyStream(transport, high_water=4, low_water=0)
    stream.feed_data(b"12345678")
    assert transport.is_reading() is False
    assert stream.read_nowait() == b"12345678"
    assert transport.is_reading() is True
