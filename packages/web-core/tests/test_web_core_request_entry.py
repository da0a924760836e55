"""What a server calls for an app (``Application._request_entry``).

The compiled request path (``_handling.AppHandling``) while the app's
``_handle`` and ``_make_request`` are its own; what replaced them otherwise,
on the class (Sentry's aiohttp integration patches ``Application._handle``),
on a subclass, or on the instance, as aiohttp's runner calls them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from web_core_support import FakeProtocol, FakeTransport, get

from weft.http_parser import RequestHead, RequestParser
from weft.http_parser.streams import BodyStream
from weft.web_core import Application, Request, Response, StreamResponse, StreamWriter
from weft.web_exceptions import HTTPNotFound


async def hello(request: Request) -> Response:
    return Response(text=f"hello {request.match_info['name']}")


def app_with_a_route() -> Application:
    app = Application()
    app.router.add_get("/hello/{name}", hello)
    app.freeze()
    return app


async def serve_one(app: Application, path: str) -> StreamResponse:
    """One request as a server makes and handles it through the app's entry."""
    handler, factory = app._request_entry()
    head = RequestParser().feed(get(path))[0]  # then its end of message
    assert isinstance(head, RequestHead)
    protocol = FakeProtocol(FakeTransport())
    request = factory(
        head, BodyStream.empty(), protocol, StreamWriter(protocol), None, asyncio.get_running_loop()
    )
    return await handler(request)


def test_an_app_s_own_methods_give_the_compiled_path() -> None:
    app = app_with_a_route()
    handler, factory = app._request_entry()
    assert handler == app._handling.handle
    assert factory == app._handling.make_request


@pytest.mark.asyncio
async def test_the_compiled_path_routes_and_answers_as_handle_does() -> None:
    app = app_with_a_route()
    response = await serve_one(app, "/hello/ann")
    assert isinstance(response, Response)
    assert (response.status, response.text) == (200, "hello ann")
    with pytest.raises(HTTPNotFound):  # raised, as from Application._handle
        await serve_one(app, "/nowhere")


@pytest.mark.asyncio
async def test_a_handle_patched_on_the_class_is_what_the_server_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []
    original = Application._handle

    async def traced(self: Application, request: Request) -> StreamResponse:
        seen.append(request.path)
        return await original(self, request)

    monkeypatch.setattr(Application, "_handle", traced)
    app = app_with_a_route()
    handler, factory = app._request_entry()
    assert handler == app._handle
    assert factory == app._handling.make_request  # _make_request is still the app's own
    response = await serve_one(app, "/hello/bo")
    assert (response.status, seen) == (200, ["/hello/bo"])


@pytest.mark.asyncio
async def test_a_make_request_replaced_on_the_instance_is_what_the_server_calls() -> None:
    made: list[Request] = []
    app = app_with_a_route()
    original = app._make_request

    def counting(*args: Any) -> Request:
        request = original(*args)
        made.append(request)
        return request

    app._make_request = counting  # type: ignore[method-assign, assignment]
    handler, factory = app._request_entry()
    assert factory is counting
    assert handler == app._handling.handle
    response = await serve_one(app, "/hello/cy")
    assert response.status == 200
    assert len(made) == 1


@pytest.mark.asyncio
async def test_a_subclass_s_handle_is_what_the_server_calls() -> None:
    class Traced(Application):
        calls = 0

        async def _handle(self, request: Request) -> StreamResponse:
            Traced.calls += 1
            return await super()._handle(request)

    app: Application = Traced()
    app.router.add_get("/hello/{name}", hello)
    app.freeze()
    assert (await serve_one(app, "/hello/di")).status == 200
    assert Traced.calls == 1
