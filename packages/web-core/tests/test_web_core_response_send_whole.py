"""Response._send_whole: prepare() and write_eof() in one call, as the server answers.

It must write exactly what the two coroutines write, and refuse (doing
nothing) whenever one of their steps could wait or be someone else's code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from web_core_support import get, make_request

from weft.web_core import Application, Response, StreamResponse, json_response
from weft.web_core._request import Request
from weft.web_core._response import _PLAIN_HEADS, _PLAIN_HEADS_SIZE
from weft.web_routing import UrlMappingMatchInfo

_DATE = re.compile(rb"\r\nDate: [^\r]*")


def without_date(data: bytes) -> bytes:
    return _DATE.sub(b"", data)


MAKERS: dict[str, Callable[[], Response]] = {
    "text": lambda: Response(text="Hello, World!"),
    "bytes": lambda: Response(body=b"\x00\x01", content_type="application/x-thing"),
    "bytearray": lambda: Response(body=bytearray(b"ba")),
    "empty": lambda: Response(),
    "204": lambda: Response(status=204),
    "304 with a length": lambda: Response(status=304, headers={"Content-Length": "10"}),
    "headers and cookies": lambda: _with_cookie(Response(text="c", headers={"X-A": "1"})),
    "closing": lambda: _closing(Response(text="bye")),
    "chunked": lambda: _chunked(Response(text="chunks")),
    "headers asked for": lambda: _asked(Response(text="asked", content_type="text/html")),
    "json": lambda: json_response({"message": "Hello, World!"}),
}


def _asked(response: Response) -> Response:
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"  # made now
    return response


def _with_cookie(response: Response) -> Response:
    response.set_cookie("k", "v", path="/")
    return response


def _closing(response: Response) -> Response:
    response.force_close()
    return response


def _chunked(response: Response) -> Response:
    response.enable_chunked_encoding()
    return response


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize(
    "raw",
    [get(), get(method="HEAD"), get(version="1.0"), get("/", "Connection: close")],
    ids=["GET", "HEAD", "HTTP/1.0", "close"],
)
async def test_the_bytes_are_those_of_prepare_and_write_eof(name: str, raw: bytes) -> None:
    request2, transport2 = make_request(raw)
    response2 = MAKERS[name]()
    request, transport = make_request(raw)
    response = MAKERS[name]()
    try:
        await response2.prepare(request2)
        await response2.write_eof()
    except RuntimeError as exc:  # chunked coding asked for an HTTP/1.0 client
        with pytest.raises(RuntimeError, match=re.escape(str(exc))):
            response._send_whole(request)
        assert transport.data == b""
        return
    assert response._send_whole(request)
    assert response.prepared
    assert response.keep_alive is not None

    assert transport.data.startswith(b"HTTP/1.")
    assert without_date(transport.data) == without_date(transport2.data)
    assert response.keep_alive == response2.keep_alive
    assert response.body_length == response2.body_length
    # The headers, made after the head went out without them, are the same, in order.
    sent = [(name, value) for name, value in response.headers.items() if name != "Date"]
    assert sent == [(name, value) for name, value in response2.headers.items() if name != "Date"]
    assert response.headers["Date"]


class Mine(Response):
    pass


def _compressed() -> Response:
    response = Response(text="x" * 100)
    response.enable_compression()
    return response


REFUSED: dict[str, Callable[[], Response]] = {
    "a subclass": lambda: Mine(text="x"),
    "a payload body": lambda: Response(body="a str body is a StringPayload"),
    "compression": _compressed,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(REFUSED))
async def test_what_the_coroutines_must_do_is_refused(name: str) -> None:
    request, transport = make_request(get("/", "Accept-Encoding: gzip"))
    response = REFUSED[name]()
    assert not response._send_whole(request)
    assert not response.prepared
    assert transport.data == b""


@pytest.mark.asyncio
async def test_a_prepared_response_is_refused() -> None:
    request, transport = make_request(get())
    response = Response(text="x")
    await response.prepare(request)
    assert not response._send_whole(request)
    await response.write_eof()
    assert not response._send_whole(request)
    assert transport.data.endswith(b"\r\n\r\nx")


def _routed(app: Application, request: Request) -> None:
    match_info = UrlMappingMatchInfo({}, None)  # type: ignore[arg-type]
    match_info.add_app(app)
    match_info.freeze()
    request._match_info = match_info


@pytest.mark.asyncio
async def test_an_on_response_prepare_callback_is_refused() -> None:
    seen: list[StreamResponse] = []

    async def callback(request: object, response: StreamResponse) -> None:
        seen.append(response)

    app = Application()
    app.on_response_prepare.append(callback)
    app.freeze()
    request, transport = make_request(get(), app)
    _routed(app, request)
    response = Response(text="x")
    assert not request._prepare_silent()
    assert not response._send_whole(request)
    assert transport.data == b""
    assert seen == []


@pytest.mark.asyncio
async def test_an_app_without_callbacks_is_silent_once_frozen() -> None:
    app = Application()
    request, _ = make_request(get(), app)
    _routed(app, request)
    assert not request._prepare_silent()  # not frozen: prepare() must reach send(), which refuses
    app.freeze()
    assert request._prepare_silent()
    assert Response(text="x")._send_whole(request)


def _tree_with_a_prepare_callback_in_the_sub_app(
    seen: list[str],
) -> tuple[Application, Application]:
    async def callback(request: Request, response: StreamResponse) -> None:
        seen.append(request.path)

    async def hello(request: Request) -> Response:
        return Response(text="hello")

    root, sub = Application(), Application()
    root.router.add_get("/", hello)
    sub.router.add_get("/", hello)
    sub.on_response_prepare.append(callback)
    root.add_subapp("/sub", sub)
    root.freeze()
    return root, sub


@pytest.mark.asyncio
async def test_a_callback_in_a_sub_app_is_sent_for_its_requests_only() -> None:
    """The root routes both; the sub-app's callback makes its requests not silent."""
    seen: list[str] = []
    root, _ = _tree_with_a_prepare_callback_in_the_sub_app(seen)
    for path, silent in (("/", True), ("/sub/", False)):
        request, _transport = make_request(get(path), root)
        response = await root._handle(request)
        assert isinstance(response, Response)
        assert request._prepare_silent() is silent
        assert response._send_whole(request) is silent
        if not silent:
            await response.prepare(request)
            await response.write_eof()
    assert seen == ["/sub/"]


@pytest.mark.asyncio
async def test_a_tree_without_callbacks_routes_silent_requests() -> None:
    async def hello(request: Request) -> Response:
        return Response(text="hello")

    root, sub = Application(), Application()
    sub.router.add_get("/", hello)
    root.add_subapp("/sub", sub)
    root.freeze()
    request, _ = make_request(get("/sub/"), root)
    response = await root._handle(request)
    assert isinstance(response, Response)
    assert request._apps_silent
    assert request._prepare_silent()
    assert response._send_whole(request)


@pytest.mark.asyncio
async def test_the_table_of_plain_heads_stays_bounded() -> None:
    """A head per length: the table is emptied when full, not grown."""
    for size in range(3 * _PLAIN_HEADS_SIZE):
        request, transport = make_request(get())
        assert Response(body=b"x" * size)._send_whole(request)
        assert len(_PLAIN_HEADS) <= _PLAIN_HEADS_SIZE
        assert b"\r\nContent-Length: %d\r\n" % size in transport.data


@pytest.mark.asyncio
async def test_plain_heads_differ_where_their_fields_do() -> None:
    """Heads taken from the table are those of their own status, length and type."""
    sent = []
    for response in [
        Response(text="one"),
        Response(text="one"),
        Response(text="three"),
        Response(text="one", status=201),
        Response(text="one", content_type="text/html"),
        _closing(Response(text="one")),
    ]:
        request, transport = make_request(get())
        request2, transport2 = make_request(get())
        twin = Response(
            text=response.text,
            status=response.status,
            content_type=response.content_type,
        )
        if not response.keep_alive and response.keep_alive is not None:
            twin.force_close()
        assert response._send_whole(request)
        await twin.prepare(request2)
        await twin.write_eof()
        assert without_date(transport.data) == without_date(transport2.data)
        sent.append(without_date(transport.data))
    assert sent[0] == sent[1]
    assert len(set(sent)) == 5
