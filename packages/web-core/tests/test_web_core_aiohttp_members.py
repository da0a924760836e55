"""Members aiohttp.web has and apps still use: each behaves as aiohttp's.

Request: ``client_max_fields``, ``POST_METHODS``, ``get_extra_info``, the
deprecated ``has_body``; responses: ``task``, the deprecated
``output_length`` and ``enable_chunked_encoding(chunk_size)``; Application:
``client_max_fields``, ``pre_freeze()`` / ``pre_frozen``.
"""

from __future__ import annotations

import asyncio

import pytest
from web_core_support import PEER, exchange, get, make_request

from weft.web_core import AppKey, Application, Request, Response, StreamResponse
from weft.web_exceptions import HTTPRequestEntityTooLarge

KEY = AppKey("key", int)


def _form(fields: int) -> bytes:
    body = "&".join(f"f{i}=v" for i in range(fields)).encode()
    head = (
        "POST /form HTTP/1.1\r\nHost: example.com\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@pytest.mark.asyncio
async def test_application_client_max_fields_limits_post() -> None:
    """Application(client_max_fields=N): a form with more fields is a 413, N fields pass."""
    app = Application(client_max_fields=3)

    async def handler(request: Request) -> Response:
        form = await request.post()
        return Response(text=f"{request.client_max_fields} {len(form)}")

    app.router.add_post("/form", handler)
    assert (await exchange(app, _form(3))).parsed.body == b"3 3"
    answer = (await exchange(app, _form(4))).parsed
    assert answer.status == 413
    assert b"Maximum number of form fields 3 exceeded" in answer.body


@pytest.mark.asyncio
async def test_clone_client_max_fields() -> None:
    """A clone may lower the field limit, as aiohttp's clone(client_max_fields=)."""
    request, _ = make_request(_form(2))
    assert request.client_max_fields == 1000
    with pytest.raises(HTTPRequestEntityTooLarge):
        await request.clone(client_max_fields=1).post()


@pytest.mark.asyncio
async def test_post_methods_decide_what_post_reads() -> None:
    """post() reads the body of POST_METHODS only; a subclass may widen them."""

    class SearchRequest(Request):
        POST_METHODS = Request.POST_METHODS | {"SEARCH"}

    raw = _form(2).replace(b"POST", b"SEARCH", 1)
    plain, _ = make_request(raw)
    assert await plain.post() == {}
    request, _ = make_request(raw)
    widened = SearchRequest(
        request._head, request._payload, request.protocol, request.writer, None, request.loop
    )
    assert dict(await widened.post()) == {"f0": "v", "f1": "v"}
    assert "TRACE" in Request.POST_METHODS
    assert "GET" not in Request.POST_METHODS


@pytest.mark.asyncio
async def test_get_extra_info_reads_the_transport() -> None:
    """request.get_extra_info(name, default) is the transport's extra info."""
    request, _ = make_request(get("/"))
    assert request.get_extra_info("peername") == PEER
    assert request.get_extra_info("sslcontext", "none") == "none"


@pytest.mark.asyncio
async def test_has_body_is_deprecated_can_read_body() -> None:
    """has_body warns and answers what can_read_body answers."""
    with_body, _ = make_request(_form(1))
    without, _ = make_request(get("/"))
    with pytest.warns(DeprecationWarning, match="can_read_body"):
        assert with_body.has_body is True
    with pytest.warns(DeprecationWarning, match="can_read_body"):
        assert without.has_body is False


@pytest.mark.asyncio
async def test_response_task_output_length_and_chunk_size() -> None:
    """task is the request's once prepared; output_length (deprecated) counts bytes sent."""
    request, transport = make_request(get("/"))
    request._task = asyncio.current_task()
    response = StreamResponse()
    assert response.task is None
    with pytest.warns(DeprecationWarning, match="Chunk size"):
        response.enable_chunked_encoding(chunk_size=1024)
    with (
        pytest.warns(DeprecationWarning, match="output_length"),
        pytest.raises(RuntimeError, match="not prepared"),
    ):
        _ = response.output_length
    await response.prepare(request)
    await response.write(b"hello")
    await asyncio.sleep(0)  # a stream's writes leave when the loop turns
    assert response.task is asyncio.current_task()
    with pytest.warns(DeprecationWarning, match="output_length"):
        assert response.output_length == len(transport.data) > len(b"hello")


def test_pre_freeze_fixes_routes_not_state() -> None:
    """pre_freeze() freezes the router and signals; state may still change without a warning."""
    app = Application()
    app.pre_freeze()
    assert (app.pre_frozen, app.frozen) == (True, False)
    with pytest.raises(RuntimeError):
        app.router.add_get("/late", _handler)
    app[KEY] = 1  # no warning: only freeze() makes state changes a smell
    app.freeze()
    with pytest.warns(DeprecationWarning, match="Changing state"):
        app[KEY] = 2
    assert app.frozen


def test_added_sub_application_is_pre_frozen() -> None:
    """add_subapp pre-freezes the sub-app, as aiohttp's: its routes are fixed from then on."""
    root, sub = Application(), Application()
    sub.router.add_get("/x", _handler)
    root.add_subapp("/sub", sub)
    assert (sub.pre_frozen, sub.frozen) == (True, False)
    with pytest.raises(RuntimeError):
        sub.router.add_get("/y", _handler)
    root.freeze()
    assert sub.frozen


async def _handler(request: Request) -> Response:
    return Response()
