"""weft.web_testing.test_utils: TestServer, RawTestServer and TestClient against real apps."""

from __future__ import annotations

import asyncio
import gzip
import unittest
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from yarl import URL

from weft.web_core import (
    AppKey,
    Application,
    BaseRequest,
    FileField,
    Request,
    Response,
    StreamResponse,
    json_response,
)
from weft.web_exceptions import HTTPFound, HTTPSeeOther
from weft.web_testing.test_utils import (
    AioHTTPTestCase,
    ClientConnectionError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
    RawTestServer,
    ServerDisconnectedError,
    TestClient,
    TestServer,
    TooManyRedirects,
    WSServerHandshakeError,
    loop_context,
    make_mocked_request,
    unused_port,
)

# What TestClient(TestServer(app)) is, as aiohttp's generic client.
AppClient = TestClient[Request, Application]

if TYPE_CHECKING:
    from conftest import VirtualClock

TIMEOUT = 10.0  # a safety bound only
#: Set by /slow once it is in its handler (which then never answers).
SLOW_STARTED = AppKey("slow_started", asyncio.Event)


def make_app() -> Application:
    """An app with a route for each behaviour under test."""
    app = Application()

    async def hello(request: Request) -> Response:
        return Response(text="hello")

    async def echo_json(request: Request) -> Response:
        return json_response({"body": await request.json(), "query": dict(request.query)})

    async def echo_raw(request: Request) -> Response:
        body = await request.read()
        return json_response(
            {
                "length": len(body),
                "text": body.decode("utf-8", "replace"),
                "content_type": request.headers.get("Content-Type"),
                "content_length": request.headers.get("Content-Length"),
                "transfer_encoding": request.headers.get("Transfer-Encoding"),
            }
        )

    async def form(request: Request) -> Response:
        data = await request.post()
        fields: dict[str, object] = {}
        for name, value in data.items():
            if isinstance(value, FileField):
                with value.file:
                    fields[name] = {"filename": value.filename, "size": len(value.file.read())}
            else:
                fields[name] = value
        return json_response(fields)

    async def peer(request: Request) -> Response:
        return Response(text=str(request.transport.get_extra_info("peername")[1]))  # type: ignore[union-attr]

    async def closing(request: Request) -> Response:
        response = Response(text=str(request.transport.get_extra_info("peername")[1]))  # type: ignore[union-attr]
        response.force_close()
        return response

    async def set_cookie(request: Request) -> Response:
        response = Response(text="set")
        response.set_cookie("session", "s1")
        response.set_cookie("scoped", "s2", path="/cookies/deep")
        return response

    async def del_cookie(request: Request) -> Response:
        response = Response(text="deleted")
        response.del_cookie("session")
        return response

    async def show_cookies(request: Request) -> Response:
        return json_response(dict(request.cookies))

    async def redirect(request: Request) -> Response:
        raise HTTPFound("/hello")

    async def see_other(request: Request) -> Response:
        raise HTTPSeeOther("/method")

    async def loop(request: Request) -> Response:
        raise HTTPFound("/loop")

    async def method(request: Request) -> Response:
        return Response(text=request.method)

    async def chunked(request: Request) -> StreamResponse:
        response = StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(5):
            await response.write(f"part{i};".encode())
        await response.write_eof()
        return response

    async def compressed(request: Request) -> Response:
        response = Response(text="z" * 5000)
        response.enable_compression()
        return response

    async def big(request: Request) -> Response:
        return Response(body=b"b" * (1024 * 1024))

    async def teapot(request: Request) -> Response:
        return Response(status=418, text="short and stout")

    async def slow(request: Request) -> Response:
        request.app[SLOW_STARTED].set()
        await asyncio.Event().wait()  # never set: the client gives up first
        raise AssertionError("unreachable")  # pragma: no cover

    async def hang_up(request: Request) -> Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.Event().wait()  # never set: the connection is gone
        raise AssertionError("unreachable")  # pragma: no cover

    async def auth(request: Request) -> Response:
        return Response(text=request.headers.get("Authorization", ""))

    app.router.add_get("/hello", hello)
    app.router.add_post("/json", echo_json)
    app.router.add_route("*", "/raw", echo_raw)
    app.router.add_post("/form", form)
    app.router.add_get("/peer", peer)
    app.router.add_get("/closing", closing)
    app.router.add_get("/cookies/set", set_cookie)
    app.router.add_get("/cookies/del", del_cookie)
    app.router.add_get("/cookies/show", show_cookies)
    app.router.add_get("/cookies/deep/show", show_cookies)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_post("/see-other", see_other)
    app.router.add_get("/loop", loop)
    app.router.add_route("*", "/method", method)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/compressed", compressed)
    app.router.add_get("/big", big)
    app.router.add_get("/teapot", teapot)
    app.router.add_get("/slow", slow)
    app[SLOW_STARTED] = asyncio.Event()
    app.router.add_get("/hang-up", hang_up)
    app.router.add_get("/auth", auth)
    return app


@pytest_asyncio.fixture
async def app_client() -> AsyncIterator[AppClient]:
    """A TestClient on a TestServer serving make_app(), closed after the test."""
    async with TestClient(TestServer(make_app())) as test_client:
        yield test_client


# ---------------------------------------------------------------- requests and responses


@pytest.mark.asyncio
async def test_get_text_status_and_headers(app_client: AppClient) -> None:
    """A GET returns the status, reason, headers and body the handler produced."""
    response = await app_client.get("/hello")
    assert response.status == 200
    assert response.reason == "OK"
    assert response.ok
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content_type == "text/plain"
    assert response.charset == "utf-8"
    assert await response.text() == "hello"
    assert await response.read() == b"hello"
    assert response.url == app_client.make_url("/hello")
    assert response.method == "GET"


@pytest.mark.asyncio
async def test_post_json_with_params(app_client: AppClient) -> None:
    """json= is sent as application/json and params= extends the query string."""
    response = await app_client.post("/json", json={"a": [1, 2]}, params={"x": "1", "y": "two"})
    assert response.status == 200
    assert await response.json() == {"body": {"a": [1, 2]}, "query": {"x": "1", "y": "two"}}


@pytest.mark.asyncio
async def test_data_bytes_and_str(app_client: AppClient) -> None:
    """data= bytes goes as octet-stream, str as utf-8 text, each with its Content-Length."""
    raw = await (await app_client.put("/raw", data=b"\x00\x01abc")).json()
    assert raw["length"] == 5
    assert raw["content_type"] == "application/octet-stream"
    assert raw["content_length"] == "5"
    text = await (await app_client.post("/raw", data="héllo")).json()
    assert text["text"] == "héllo"
    assert text["content_type"] == "text/plain; charset=utf-8"


@pytest.mark.asyncio
async def test_data_dict_is_urlencoded(app_client: AppClient) -> None:
    """data= a dict is sent as a urlencoded form that request.post() reads."""
    response = await app_client.post("/form", data={"name": "weft", "q": "a b&c"})
    assert await response.json() == {"name": "weft", "q": "a b&c"}


@pytest.mark.asyncio
async def test_data_with_bytes_is_multipart(app_client: AppClient) -> None:
    """A form with a bytes value is sent as multipart/form-data, the bytes as a file."""
    response = await app_client.post("/form", data={"title": "t", "upload": b"x" * 70_000})
    assert await response.json() == {"title": "t", "upload": {"filename": "upload", "size": 70_000}}


@pytest.mark.asyncio
async def test_data_and_json_together_is_an_error(app_client: AppClient) -> None:
    """Passing both data= and json= raises ValueError before anything is sent."""
    with pytest.raises(ValueError, match="data and json"):
        await app_client.post("/json", data=b"x", json={})


@pytest.mark.asyncio
async def test_async_iterable_body_is_sent_chunked(app_client: AppClient) -> None:
    """An async iterable body goes out with Transfer-Encoding: chunked."""

    async def parts() -> AsyncIterator[bytes]:
        for i in range(4):
            yield f"chunk{i}-".encode()

    body = await (await app_client.post("/raw", data=parts())).json()
    assert body["text"] == "chunk0-chunk1-chunk2-chunk3-"
    assert body["transfer_encoding"] == "chunked"
    assert body["content_length"] is None


@pytest.mark.asyncio
async def test_chunked_flag_sends_bytes_chunked(app_client: AppClient) -> None:
    """chunked=True sends a bytes body with chunked framing."""
    body = await (await app_client.post("/raw", data=b"abc", chunked=True)).json()
    assert body["text"] == "abc"
    assert body["transfer_encoding"] == "chunked"


@pytest.mark.asyncio
async def test_body_methods_without_data_send_zero_length(app_client: AppClient) -> None:
    """POST without a body says Content-Length: 0, as aiohttp's client does."""
    body = await (await app_client.post("/raw")).json()
    assert body["length"] == 0
    assert body["content_length"] == "0"


@pytest.mark.asyncio
async def test_head_has_no_body(app_client: AppClient) -> None:
    """HEAD gets the GET's headers and no body, and the connection stays usable."""
    response = await app_client.head("/hello")
    assert response.status == 200
    assert response.headers["Content-Length"] == "5"
    assert await response.read() == b""
    assert await (await app_client.get("/hello")).text() == "hello"


@pytest.mark.asyncio
async def test_every_method_helper(app_client: AppClient) -> None:
    """get/post/put/patch/delete/options/request send their method."""
    for call, method in [
        (app_client.get, "GET"),
        (app_client.post, "POST"),
        (app_client.put, "PUT"),
        (app_client.patch, "PATCH"),
        (app_client.delete, "DELETE"),
        (app_client.options, "OPTIONS"),
    ]:
        assert await (await call("/method")).text() == method
    assert await (await app_client.request("propfind", "/method")).text() == "PROPFIND"


@pytest.mark.asyncio
async def test_chunked_response(app_client: AppClient) -> None:
    """A chunked response is read whole, or piece by piece through content."""
    response = await app_client.get("/chunked")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert await response.text() == "part0;part1;part2;part3;part4;"
    async with app_client.get("/chunked") as streamed:
        pieces = [chunk async for chunk in streamed.content.iter_chunked(6)]
    assert b"".join(pieces) == b"part0;part1;part2;part3;part4;"


@pytest.mark.asyncio
async def test_compressed_response_is_decoded(app_client: AppClient) -> None:
    """A gzip/deflate response body is decoded, as aiohttp's client does by default."""
    response = await app_client.get("/compressed")
    assert response.headers["Content-Encoding"] in ("gzip", "deflate")
    assert await response.text() == "z" * 5000
    raw = await app_client.get("/compressed", auto_decompress=False)
    coded = await raw.read()
    assert len(coded) < 5000
    if raw.headers["Content-Encoding"] == "gzip":
        assert gzip.decompress(coded) == b"z" * 5000


@pytest.mark.asyncio
async def test_json_checks_the_content_type(app_client: AppClient) -> None:
    """json() refuses a non-JSON media type unless content_type=None."""
    response = await app_client.get("/hello")
    with pytest.raises(ContentTypeError):
        await response.json()
    with pytest.raises(ValueError, match="Expecting value"):
        await response.json(content_type=None)


@pytest.mark.asyncio
async def test_raise_for_status(app_client: AppClient) -> None:
    """raise_for_status() (or raise_for_status=True) raises ClientResponseError for 4xx."""
    response = await app_client.get("/teapot")
    assert response.status == 418
    assert not response.ok
    with pytest.raises(ClientResponseError) as info:
        response.raise_for_status()
    assert info.value.status == 418
    with pytest.raises(ClientResponseError):
        await app_client.get("/teapot", raise_for_status=True)


@pytest.mark.asyncio
async def test_basic_auth(app_client: AppClient) -> None:
    """auth=(login, password) sends Basic credentials."""
    response = await app_client.get("/auth", auth=("user", "pass"))
    assert await response.text() == "Basic dXNlcjpwYXNz"


# ---------------------------------------------------------------- connections


@pytest.mark.asyncio
async def test_keep_alive_reuses_the_connection(app_client: AppClient) -> None:
    """Requests in a row go over one kept-alive connection."""
    ports = {await (await app_client.get("/peer")).text() for _ in range(5)}
    assert len(ports) == 1
    assert len(app_client.server.handler.connections) == 1


@pytest.mark.asyncio
async def test_connection_close_is_not_reused(app_client: AppClient) -> None:
    """After a response with Connection: close the next request opens a new connection."""
    first = await app_client.get("/closing")
    assert first.headers["Connection"] == "close"
    second = await app_client.get("/closing")
    assert await first.text() != await second.text()


@pytest.mark.asyncio
async def test_unread_body_closes_its_connection(app_client: AppClient) -> None:
    """Releasing a response whose body has not all arrived closes its connection."""
    big = await app_client.get("/big")
    big.release()
    assert big.closed
    assert await (await app_client.get("/hello")).text() == "hello"


@pytest.mark.asyncio
async def test_context_manager_reads_and_releases(app_client: AppClient) -> None:
    """async with app_client.get(...) gives the response and releases it on exit."""
    async with app_client.get("/hello") as response:
        assert await response.text() == "hello"
    assert response.closed
    await response.release()  # aiohttp's older awaitable form works too


@pytest.mark.asyncio
async def test_timeout(app_client: AppClient, clock: VirtualClock) -> None:
    """A response head that does not arrive within timeout= raises TimeoutError."""
    assert app_client.app is not None
    request = asyncio.ensure_future(app_client.get("/slow", timeout=60.0))
    await asyncio.wait_for(app_client.app[SLOW_STARTED].wait(), TIMEOUT)
    await clock.advance(55.0)
    assert not request.done()
    await clock.advance(10.0)
    done, _ = await asyncio.wait([request], timeout=TIMEOUT)  # the safety bound, not timeout=
    assert done
    with pytest.raises(TimeoutError):
        request.result()


@pytest.mark.asyncio
async def test_server_hang_up_is_reported(app_client: AppClient) -> None:
    """A connection the server closes without answering raises ServerDisconnectedError."""
    with pytest.raises(ServerDisconnectedError):
        await app_client.get("/hang-up")


@pytest.mark.asyncio
async def test_nothing_listening_is_a_connection_error() -> None:
    """A request to a port nobody listens on raises ClientConnectionError."""
    async with TestClient(TestServer(make_app())) as test_client:
        url = URL(f"http://127.0.0.1:{unused_port()}/")
        with pytest.raises(ClientConnectionError):
            await test_client.session.get(url)


@pytest.mark.asyncio
async def test_truncated_body_is_a_payload_error() -> None:
    """A body cut short by the server raises ClientPayloadError on read()."""

    async def short(request: BaseRequest) -> StreamResponse:
        response = StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"only this")
        assert request.transport is not None
        request.transport.close()
        return response

    async with TestClient(RawTestServer(short)) as test_client:
        response = await test_client.get("/")
        with pytest.raises(ClientPayloadError):
            await response.read()


# ---------------------------------------------------------------- redirects


@pytest.mark.asyncio
async def test_redirect_is_followed_by_default(app_client: AppClient) -> None:
    """A 302 is followed (as aiohttp's client does); history holds the redirect."""
    response = await app_client.get("/redirect")
    assert response.status == 200
    assert await response.text() == "hello"
    assert [r.status for r in response.history] == [302]
    assert response.url == app_client.make_url("/hello")


@pytest.mark.asyncio
async def test_redirect_not_followed_when_disallowed(app_client: AppClient) -> None:
    """allow_redirects=False returns the 302 itself."""
    response = await app_client.get("/redirect", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/hello"
    assert response.history == ()


@pytest.mark.asyncio
async def test_see_other_turns_post_into_get(app_client: AppClient) -> None:
    """A 303 after a POST is followed with a GET and no body."""
    response = await app_client.post("/see-other", data=b"payload")
    assert await response.text() == "GET"


@pytest.mark.asyncio
async def test_redirect_loop_stops(app_client: AppClient) -> None:
    """More than max_redirects redirects raises TooManyRedirects."""
    with pytest.raises(TooManyRedirects):
        await app_client.get("/loop", max_redirects=3)


# ---------------------------------------------------------------- cookies


@pytest.mark.asyncio
async def test_cookies_are_kept_across_requests(app_client: AppClient) -> None:
    """Set-Cookie is stored in the session and sent back, honouring Path."""
    response = await app_client.get("/cookies/set")
    assert response.cookies["session"].value == "s1"
    assert await (await app_client.get("/cookies/show")).json() == {"session": "s1"}
    deep = await (await app_client.get("/cookies/deep/show")).json()
    assert deep == {"session": "s1", "scoped": "s2"}
    assert len(app_client.session.cookie_jar) == 2


@pytest.mark.asyncio
async def test_deleted_cookie_is_not_sent(app_client: AppClient) -> None:
    """A cookie the server deletes (Max-Age=0) is dropped from the jar."""
    await app_client.get("/cookies/set")
    await app_client.get("/cookies/del")
    assert await (await app_client.get("/cookies/show")).json() == {}


@pytest.mark.asyncio
async def test_request_and_session_cookies(app_client: AppClient) -> None:
    """cookies= on a request is sent once; on the client it is kept."""
    once = await app_client.get("/cookies/show", cookies={"a": "1"})
    assert await once.json() == {"a": "1"}
    assert await (await app_client.get("/cookies/show")).json() == {}
    async with TestClient(TestServer(make_app()), cookies={"kept": "yes"}) as other:
        assert await (await other.get("/cookies/show")).json() == {"kept": "yes"}


# ---------------------------------------------------------------- servers


@pytest.mark.asyncio
async def test_raw_test_server() -> None:
    """RawTestServer serves a plain handler; TestClient.app is None for it."""

    async def handler(request: BaseRequest) -> Response:
        return Response(text=f"raw {request.method} {request.path_qs}")

    async with TestClient(RawTestServer(handler)) as test_client:
        assert test_client.app is None
        response = await test_client.get("/x", params={"q": "1"})
        assert await response.text() == "raw GET /x?q=1"


@pytest.mark.asyncio
async def test_server_urls_and_lifecycle() -> None:
    """make_url joins a path to the server's root; close() shuts the server down."""
    app = make_app()
    server = TestServer(app)
    with pytest.raises(RuntimeError, match="not started"):
        server.make_url("/")
    test_client = TestClient(server)
    await test_client.start_server()
    assert test_client.app is app
    assert server.started
    assert str(test_client.make_url("/a?b=1")) == f"http://127.0.0.1:{server.port}/a?b=1"
    with pytest.raises(ValueError, match="make_url"):
        server.make_url("http://example.com/")
    await test_client.close()
    assert server.closed
    await test_client.close()  # idempotent


@pytest.mark.asyncio
async def test_server_is_an_async_context_manager() -> None:
    """async with TestServer(app) starts and stops it; plain with is refused."""
    async with TestServer(make_app()) as server:
        assert server.started
        with pytest.raises(TypeError, match="async with"), server:
            pass
    assert server.closed


@pytest.mark.asyncio
async def test_client_checks_its_server() -> None:
    """TestClient takes a test server, not an Application."""
    with pytest.raises(TypeError, match="TestServer"):
        TestClient(make_app())  # type: ignore[call-overload]


@pytest.mark.asyncio
async def test_ws_connect_to_a_plain_route_fails(app_client: AppClient) -> None:
    """ws_connect to a route that answers 200 raises WSServerHandshakeError with the status.

    (ws_connect itself: test_web_testing_ws.py.)
    """
    with pytest.raises(WSServerHandshakeError) as info:
        await app_client.ws_connect("/hello")
    assert info.value.status == 200


# ---------------------------------------------------------------- helpers


def test_make_mocked_request_is_reexported() -> None:
    """make_mocked_request is importable from weft.web_testing.test_utils."""
    request = make_mocked_request("GET", "/a?b=1", headers={"X": "y"})
    assert request.path == "/a"
    assert request.query["b"] == "1"
    assert request.headers["X"] == "y"


def test_unused_port_and_loop_context() -> None:
    """unused_port gives a bindable port; loop_context runs and closes a loop."""
    port = unused_port()
    assert 0 < port < 65536
    with loop_context() as loop:
        assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
    assert loop.is_closed()


def test_aiohttp_test_case() -> None:
    """AioHTTPTestCase sets up self.client for unittest-style tests."""
    results: list[str] = []

    class Case(AioHTTPTestCase):
        async def get_application(self) -> Application:
            return make_app()

        async def test_hello(self) -> None:
            response = await self.client.get("/hello")
            results.append(await response.text())

    outcome = unittest.TextTestRunner(stream=_Null(), verbosity=0).run(Case("test_hello"))
    assert outcome.wasSuccessful(), outcome.errors + outcome.failures
    assert results == ["hello"]


class _Null:
    """A stream that drops what unittest's runner prints."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
