"""Application: state, lifecycle signals, cleanup contexts, middlewares and request handling."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from web_core_support import exchange, get, make_request

from weft.web_core import (
    AppKey,
    Application,
    CleanupError,
    NotAppKeyWarning,
    Request,
    Response,
    Signal,
    StreamResponse,
    exception_response,
    json_response,
    middleware,
)
from weft.web_core import _chain as chain_module
from weft.web_core._types import Handler
from weft.web_exceptions import (
    HTTPBadRequest,
    HTTPException,
    HTTPForbidden,
    HTTPFound,
    HTTPMethodNotAllowed,
    HTTPNoContent,
    HTTPNotFound,
)
from weft.web_routing import RouteTableDef

COUNTER = AppKey("counter", int)
NAME = AppKey("name", str)


async def ok(request: Request) -> Response:
    return Response(text="ok")


# -- state


def test_app_key_storage() -> None:
    """AppKey items are stored and read back; the mapping has len, iter and del."""
    app = Application()
    app[COUNTER] = 1
    app[NAME] = "x"
    assert app[COUNTER] == 1
    assert app.get(NAME) == "x"
    assert set(app) == {COUNTER, NAME}
    del app[NAME]
    assert len(app) == 1
    assert NAME not in app


def test_app_key_repr() -> None:
    """An AppKey's repr names the key (qualified by its module) and its type."""
    assert "counter" in repr(COUNTER)
    assert "type=int" in repr(COUNTER)
    assert "<<Unknown>>" in repr(AppKey("untyped"))


def test_plain_str_key_warns() -> None:
    """A plain str key works but warns with NotAppKeyWarning."""
    app = Application()
    with pytest.warns(NotAppKeyWarning, match="AppKey"):
        app["db"] = "conn"
    assert app["db"] == "conn"


def test_frozen_app_refuses_changes() -> None:
    """After freeze(), adding routes, callbacks or middlewares raises RuntimeError."""
    app = Application()
    app.freeze()
    app.freeze()  # a second freeze is harmless
    assert app.frozen
    with pytest.raises(RuntimeError):
        app.router.add_get("/late", ok)
    with pytest.raises(RuntimeError, match="frozen signal"):
        app.on_startup.append(lambda a: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError, match="frozen signal"):
        app.on_response_prepare.append(lambda r, s: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError, match="frozen signal"):
        app.middlewares.append(_tracer("late", []))


def test_frozen_app_state_change_warns() -> None:
    """Changing state of a frozen app warns with DeprecationWarning (as aiohttp), and applies."""
    app = Application()
    app[COUNTER] = 1
    app.freeze()
    with pytest.warns(DeprecationWarning, match="started or joined"):
        app[COUNTER] = 2
    assert app[COUNTER] == 2
    with pytest.warns(DeprecationWarning, match="started or joined"):
        del app[COUNTER]
    assert COUNTER not in app


def test_app_identity() -> None:
    """An application is truthy even when empty and equal only to itself."""
    app = Application()
    assert app
    assert app != Application()
    assert {app: 1}[app] == 1
    assert repr(app).startswith("<Application 0x")


def test_app_options_are_readable() -> None:
    """handler_args (read-only, for the server's connections) and debug read back."""
    with pytest.warns(DeprecationWarning, match="debug argument is deprecated"):
        app = Application(handler_args={"keepalive_timeout": 30}, debug=True)
    assert dict(app.handler_args) == {"keepalive_timeout": 30}
    with pytest.raises(TypeError):
        app.handler_args["keepalive_timeout"] = 5  # type: ignore[index]
    with pytest.warns(DeprecationWarning, match="debug property is deprecated"):
        assert app.debug is True
    assert dict(Application().handler_args) == {}


def test_app_is_its_own_factory() -> None:
    """Calling the app returns it: gunicorn's aiohttp worker loads ``module:app`` and calls it."""
    app = Application()
    assert app() is app


def test_app_keys_sort_by_name_and_before_other_keys() -> None:
    """AppKeys order by their qualified names and before any other key type (as aiohttp's)."""
    second, first = AppKey("b_second", int), AppKey("a_first", int)
    assert sorted([second, first]) == [first, second]
    assert first < "a plain string key"
    assert not second < first


# -- signals and cleanup contexts


@pytest.mark.asyncio
async def test_signals_run_in_order() -> None:
    """on_startup, on_shutdown and on_cleanup callbacks run in registration order."""
    log: list[str] = []
    app = Application()

    def recorder(name: str) -> Any:
        async def callback(a: Application) -> None:
            assert a is app
            log.append(name)

        return callback

    app.on_startup.append(recorder("start1"))
    app.on_startup.append(recorder("start2"))
    app.on_shutdown.append(recorder("shutdown"))
    app.on_cleanup.append(recorder("cleanup1"))
    app.on_cleanup.insert(1, recorder("cleanup0"))
    app.freeze()
    await app.startup()
    await app.shutdown()
    await app.cleanup()
    assert log == ["start1", "start2", "shutdown", "cleanup0", "cleanup1"]


@pytest.mark.asyncio
async def test_signal_must_be_frozen_to_send() -> None:
    """A signal is sent only once frozen; a frozen one refuses changes."""
    log: list[int] = []

    async def callback(n: int) -> None:
        log.append(n)

    signal: Signal[Callable[[int], Awaitable[None]]] = Signal(object(), [callback])
    with pytest.raises(RuntimeError, match="not frozen"):
        await signal.send(1)
    signal.freeze()
    await signal.send(2)
    assert log == [2]
    assert signal == [callback]
    with pytest.raises(RuntimeError, match="frozen signal"):
        signal.append(callback)
    with pytest.raises(RuntimeError, match="frozen signal"):
        del signal[0]


def test_signal_is_a_mutable_list_until_frozen() -> None:
    """Callbacks can be replaced and removed by index or slice before the app starts."""

    async def first(app: Application) -> None: ...
    async def second(app: Application) -> None: ...
    async def third(app: Application) -> None: ...

    app = Application()
    signal = app.on_shutdown
    signal.extend([first, second])
    signal[0] = third
    assert list(signal) == [third, second]
    signal[:] = [first, second, third]
    del signal[1]
    assert list(signal) == [first, third]
    del signal[:]
    assert len(signal) == 0
    assert repr(signal) == f"<Signal owner={app!r}, frozen=False, []>"
    signal.append(first)
    signal.freeze()
    assert repr(signal) == f"<Signal owner={app!r}, frozen=True, [{first!r}]>"
    with pytest.raises(RuntimeError, match="frozen signal"):
        signal[0] = second


@pytest.mark.asyncio
async def test_startup_freezes_on_startup_only() -> None:
    """startup() freezes on_startup; its callbacks may still store state in the app."""

    async def store(app: Application) -> None:
        app[COUNTER] = 7

    app = Application()
    app.on_startup.append(store)
    await app.startup()
    assert app[COUNTER] == 7
    assert app.on_startup.frozen
    assert not app.on_shutdown.frozen


@pytest.mark.asyncio
async def test_cleanup_ctx_enters_in_order_exits_in_reverse() -> None:
    """cleanup_ctx generators enter in order at startup and exit in reverse at cleanup."""
    log: list[str] = []

    def ctx(name: str) -> Any:
        async def gen(app: Application) -> AsyncIterator[None]:
            log.append(f"enter {name}")
            yield
            log.append(f"exit {name}")

        return gen

    app = Application()
    app.cleanup_ctx.append(ctx("a"))
    app.cleanup_ctx.append(ctx("b"))
    app.freeze()
    await app.startup()
    assert log == ["enter a", "enter b"]
    await app.cleanup()
    assert log == ["enter a", "enter b", "exit b", "exit a"]


def _failing_ctx(message: str) -> Any:
    async def gen(app: Application) -> AsyncIterator[None]:
        yield
        raise ValueError(message)

    return gen


@pytest.mark.asyncio
async def test_cleanup_error_collects_several_failures() -> None:
    """Several failing cleanups raise one CleanupError holding each failure, in exit order."""
    app = Application()
    app.cleanup_ctx.append(_failing_ctx("first"))
    app.cleanup_ctx.append(_failing_ctx("second"))
    app.freeze()
    await app.startup()
    with pytest.raises(CleanupError) as info:
        await app.cleanup()
    assert [str(e) for e in info.value.exceptions] == ["second", "first"]
    assert all(isinstance(e, ValueError) for e in info.value.exceptions)


@pytest.mark.asyncio
async def test_single_cleanup_failure_is_reraised() -> None:
    """One failing cleanup re-raises its own exception; the other contexts still exit."""
    exited: list[str] = []

    async def fine(app: Application) -> AsyncIterator[None]:
        yield
        exited.append("fine")

    app = Application()
    app.cleanup_ctx.append(fine)
    app.cleanup_ctx.append(_failing_ctx("only"))
    app.freeze()
    await app.startup()
    with pytest.raises(ValueError, match="only"):
        await app.cleanup()
    assert exited == ["fine"]


@pytest.mark.asyncio
async def test_cleanup_ctx_with_two_yields_is_an_error() -> None:
    """A cleanup context that yields twice is reported as a RuntimeError."""

    async def twice(app: Application) -> AsyncIterator[None]:
        yield
        yield

    app = Application()
    app.cleanup_ctx.append(twice)
    app.freeze()
    await app.startup()
    with pytest.raises(RuntimeError, match="didn't stop"):
        await app.cleanup()


@pytest.mark.asyncio
async def test_cleanup_ctx_takes_async_context_managers() -> None:
    """A function decorated with @contextlib.asynccontextmanager is a cleanup context too."""
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def pool(app: Application) -> AsyncIterator[None]:
        log.append("open")
        yield
        log.append("close")

    app = Application()
    app.cleanup_ctx.append(pool)
    app.freeze()
    await app.startup()
    assert log == ["open"]
    await app.cleanup()
    assert log == ["open", "close"]


@pytest.mark.asyncio
async def test_a_failed_startup_exits_the_contexts_it_entered() -> None:
    """A cleanup context fails to enter after two did: cleanup() exits those two, in
    reverse; the context after it is never entered and on_cleanup does not run (as aiohttp)."""
    log: list[str] = []

    def ctx(name: str) -> Any:
        async def gen(app: Application) -> AsyncIterator[None]:
            log.append(f"enter {name}")
            yield
            log.append(f"exit {name}")

        return gen

    async def connect(app: Application) -> None:
        raise RuntimeError("no database")

    async def no_database(app: Application) -> AsyncIterator[None]:
        await connect(app)  # fails: the context is never entered
        yield

    async def on_cleanup(app: Application) -> None:
        log.append("on_cleanup")

    app = Application()
    for context in (ctx("a"), ctx("b"), no_database, ctx("never")):
        app.cleanup_ctx.append(context)
    app.on_cleanup.append(on_cleanup)
    app.on_startup.freeze()
    with pytest.raises(RuntimeError, match="no database"):
        await app.startup()
    await app.cleanup()
    assert log == ["enter a", "enter b", "exit b", "exit a"]
    await app.cleanup()  # a second cleanup has nothing left to exit
    assert log == ["enter a", "enter b", "exit b", "exit a"]


# -- routing and handlers


@pytest.mark.asyncio
async def test_match_info_and_app_are_set() -> None:
    """The handler sees its route variables in match_info and its app in request.app."""
    routes = RouteTableDef()
    seen: dict[str, Any] = {}

    @routes.get("/items/{id}")
    async def item(request: Request) -> Response:
        seen["app"] = request.app
        seen["route"] = request.match_info.route
        return json_response({"id": request.match_info["id"]})

    app = Application()
    app.add_routes(routes)
    ex = await exchange(app, get("/items/42"))
    assert ex.parsed.body == b'{"id": "42"}'
    assert seen["app"] is app
    assert seen["route"].handler is item
    assert ex.request.match_info.apps == (app,)


@pytest.mark.asyncio
async def test_each_app_and_each_miss_carries_its_own_app() -> None:
    """Two applications with the same routes: each request's match info is of its own app,
    frozen; a 404 carries its app too."""
    apps = [Application(), Application()]
    seen: list[object] = []

    async def where(request: Request) -> Response:
        seen.append(request.app)
        with pytest.raises(RuntimeError, match="freeze"):
            request.match_info.add_app(Application())
        return Response(text="ok")

    for app in apps:
        app.router.add_get("/where/{x}", where)
        app.router.add_get("/where", where)
    for app in apps * 2:
        for path in ("/where", "/where/1"):
            ex = await exchange(app, get(path))
            assert ex.parsed.body == b"ok"
            assert ex.request.match_info.apps == (app,)
        missing = await exchange(app, get("/nowhere"))
        assert missing.parsed.status == 404
        assert missing.request.match_info.apps == (app,)
        assert missing.request.match_info.current_app is app
    assert seen == [a for a in apps * 2 for _ in range(2)]


@pytest.mark.asyncio
async def test_plain_function_handler() -> None:
    """A plain (non-async) handler that returns a Response works (with aiohttp's warning)."""

    def plain(request: Request) -> Response:
        return Response(text="plain")

    app = Application()
    with pytest.warns(DeprecationWarning, match="Bare functions"):
        app.router.add_get("/", plain)  # type: ignore[arg-type]  # aiohttp types it async too
    ex = await exchange(app, get())
    assert ex.parsed.body == b"plain"


@pytest.mark.asyncio
@pytest.mark.parametrize("returned", [None, "just a string", {"a": 1}])
async def test_handler_returning_a_non_response_is_passed_to_the_server(returned: object) -> None:
    """As aiohttp's Application._handle: what the handler returned goes on unchanged
    (through the middlewares too), and the server answers it (web-runner: a 500)."""
    seen: list[object] = []

    async def bad(request: Request) -> Any:
        return returned

    async def watch(request: Request, handler: Handler) -> StreamResponse:
        response = await handler(request)
        seen.append(response)
        return response

    app = Application(middlewares=[middleware(watch)])
    app.router.add_get("/bad", bad)
    app.freeze()
    request, _ = make_request(get("/bad"), app)
    assert await app._handle(request) is returned
    assert seen == [returned]


@pytest.mark.asyncio
async def test_not_found_and_method_not_allowed() -> None:
    """An unknown path answers 404; a known path with another method 405 with Allow."""
    app = Application()
    app.router.add_get("/only-get", ok)
    ex = await exchange(app, get("/nowhere"))
    assert ex.parsed.status == 404
    assert ex.parsed.body == b"404: Not Found"
    ex = await exchange(app, get("/only-get", method="DELETE"))
    assert ex.parsed.status == 405
    assert set(ex.parsed.headers["Allow"].split(",")) >= {"GET", "HEAD"}


@pytest.mark.asyncio
async def test_raised_http_exception_becomes_response() -> None:
    """A raised HTTPFound becomes a 302 with its Location, cookies and body."""

    async def login(request: Request) -> Response:
        exc = HTTPFound("/home", headers={"X-Why": "login"})
        exc.set_cookie("session", "s1", httponly=True)
        raise exc

    app = Application()
    app.router.add_post("/login", login)
    ex = await exchange(app, get("/login", method="POST"))
    assert ex.parsed.status == 302
    assert ex.parsed.reason == "Found"
    assert ex.parsed.headers["Location"] == "/home"
    assert ex.parsed.headers["X-Why"] == "login"
    assert ex.parsed.headers.getall("Set-Cookie") == ["session=s1; HttpOnly; Path=/"]
    assert ex.parsed.body == b"302: Found"
    assert ex.parsed.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.asyncio
async def test_returned_http_exception_becomes_response() -> None:
    """A returned HTTPException becomes a response too (text and reason kept), with
    aiohttp's DeprecationWarning."""

    async def deny(request: Request) -> Any:
        return HTTPForbidden(text="no entry", reason="Go Away")

    app = Application()
    app.router.add_get("/", deny)
    with pytest.warns(DeprecationWarning, match="raise it instead"):
        ex = await exchange(app, get())
    assert (ex.parsed.status, ex.parsed.reason) == (403, "Go Away")
    assert ex.parsed.body == b"no entry"


@pytest.mark.asyncio
async def test_raised_exception_with_a_bytes_body_is_octet_stream() -> None:
    """An exception given bytes (aiohttp's deprecated body=) answers them as octet-stream."""

    async def reject(request: Request) -> Response:
        raise HTTPBadRequest(body=b"\x00\x01bad frame")

    app = Application()
    app.router.add_get("/", reject)
    with pytest.warns(DeprecationWarning, match="body argument is deprecated"):
        ex = await exchange(app, get())
    assert (ex.parsed.status, ex.parsed.body) == (400, b"\x00\x01bad frame")
    assert ex.parsed.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.asyncio
async def test_raised_no_content_has_no_body() -> None:
    """A raised HTTPNoContent answers 204 without body or Content-Length."""

    async def empty(request: Request) -> Response:
        raise HTTPNoContent()

    app = Application()
    app.router.add_get("/", empty)
    ex = await exchange(app, get())
    assert ex.parsed.status == 204
    assert ex.parsed.raw_body == b""
    assert "Content-Length" not in ex.parsed.headers


def test_exception_response() -> None:
    """exception_response copies status, reason, headers, body and cookies."""
    exc = HTTPMethodNotAllowed("PUT", ["GET"])
    exc.set_cookie("c", "1")
    resp = exception_response(exc)
    assert (resp.status, resp.reason) == (405, "Method Not Allowed")
    assert resp.headers["Allow"] == "GET"
    assert resp.headers.getall("Set-Cookie") == ["c=1; Path=/"]
    assert resp.text == "405: Method Not Allowed"
    assert resp.content_type == "text/plain"


# -- middlewares


def _tracer(name: str, log: list[str]) -> Any:
    @middleware
    async def tracer(request: Request, handler: Handler) -> StreamResponse:
        log.append(f"{name} in")
        try:
            return await handler(request)
        except HTTPException as exc:
            log.append(f"{name} saw {exc.status}")
            raise
        finally:
            log.append(f"{name} out")

    return tracer


@pytest.mark.asyncio
async def test_middlewares_run_in_list_order() -> None:
    """Middlewares wrap the handler in list order: the first is outermost."""
    log: list[str] = []

    async def handler(request: Request) -> Response:
        log.append("handler")
        return Response(text="x")

    app = Application(middlewares=[_tracer("a", log), _tracer("b", log)])
    app.router.add_get("/", handler)
    await exchange(app, get())
    assert log == ["a in", "b in", "handler", "b out", "a out"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/x", 404), ("POST", "/", 405)])
async def test_middlewares_see_routing_errors(method: str, path: str, status: int) -> None:
    """404 and 405 from routing are raised inside the middlewares, which see them."""
    log: list[str] = []
    app = Application(middlewares=[_tracer("a", log)])
    app.router.add_get("/", ok)
    ex = await exchange(app, get(path, method=method))
    assert ex.parsed.status == status
    assert log == ["a in", f"a saw {status}", "a out"]


@pytest.mark.asyncio
async def test_middleware_replaces_not_found() -> None:
    """A middleware that catches HTTPNotFound can answer with its own response."""

    @middleware
    async def custom_404(request: Request, handler: Handler) -> StreamResponse:
        try:
            return await handler(request)
        except HTTPNotFound:
            return json_response({"error": "missing", "path": request.path}, status=404)

    app = Application(middlewares=[custom_404])
    ex = await exchange(app, get("/gone"))
    assert ex.parsed.status == 404
    assert ex.parsed.body == b'{"error": "missing", "path": "/gone"}'


@pytest.mark.asyncio
async def test_middleware_changes_the_response() -> None:
    """A middleware can add headers to the handler's response."""

    @middleware
    async def served_by(request: Request, handler: Handler) -> StreamResponse:
        response = await handler(request)
        response.headers["X-Served-By"] = "weft"
        return response

    app = Application(middlewares=[served_by])
    app.router.add_get("/", ok)
    ex = await exchange(app, get())
    assert ex.parsed.headers["X-Served-By"] == "weft"


@pytest.mark.asyncio
async def test_old_style_middleware_factory_works_with_a_warning() -> None:
    """An old-style factory(app, handler) -> handler still runs, with aiohttp's warning."""
    log: list[str] = []

    async def factory(app: Application, handler: Handler) -> Handler:
        log.append("factory")

        async def wrapped(request: Request) -> StreamResponse:
            log.append("old in")
            return await handler(request)

        return wrapped

    app = Application(middlewares=[factory])  # type: ignore[list-item]
    app.router.add_get("/", ok)
    with pytest.warns(DeprecationWarning, match="old-style middleware"):
        app.freeze()
    for _ in range(2):
        ex = await exchange(app, get())
        assert ex.parsed.status == 200
    assert log == ["factory", "old in", "old in"]


@pytest.mark.asyncio
async def test_middlewares_appended_before_freeze_run() -> None:
    """app.middlewares.append() before the app starts adds a middleware (aiohttp's API)."""
    log: list[str] = []
    app = Application()
    app.middlewares.append(_tracer("late", log))
    app.router.add_get("/", ok)
    await exchange(app, get())
    assert log == ["late in", "late out"]
    with pytest.raises(RuntimeError):
        app.middlewares.append(_tracer("too late", log))


@pytest.mark.asyncio
async def test_chain_is_composed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The middleware chain of a handler is built on its first request, never again."""
    made: list[object] = []

    def counting_partial(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        made.append(func)
        return functools.partial(func, *args, **kwargs)

    monkeypatch.setattr(chain_module, "partial", counting_partial)
    log: list[str] = []
    app = Application(middlewares=[_tracer("a", log), _tracer("b", log)])
    app.router.add_get("/", ok)
    app.freeze()
    for _ in range(3):
        ex = await exchange(app, get())
        assert ex.parsed.status == 200
    assert len(made) == 2
    assert len(app._chains) == 1
    assert log.count("a in") == 3


# -- response prepare signal


@pytest.mark.asyncio
async def test_on_response_prepare_sees_request_and_response() -> None:
    """on_response_prepare runs before the head is sent and can add headers."""
    seen: list[tuple[Request, StreamResponse]] = []

    async def add_header(request: Request, response: StreamResponse) -> None:
        seen.append((request, response))
        response.headers["X-Prepared"] = "yes"

    app = Application()
    app.on_response_prepare.append(add_header)
    app.router.add_get("/", ok)
    ex = await exchange(app, get())
    assert ex.parsed.headers["X-Prepared"] == "yes"
    assert seen == [(ex.request, ex.response)]


@pytest.mark.asyncio
async def test_head_request_to_get_route() -> None:
    """A HEAD request to a GET route answers with the GET's headers and no body."""
    app = Application()
    app.router.add_get("/", ok)
    ex = await exchange(app, get(method="HEAD"))
    assert ex.parsed.status == 200
    assert ex.parsed.headers["Content-Length"] == "2"
    assert ex.parsed.raw_body == b""
