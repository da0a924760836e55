"""Application: the router, middlewares, sub-applications, state and lifecycle signals.

Requests reach ``_handle``: routing (``router.match``, or ``await router.resolve``
when the router needs the request), the Expect handler,
then the matched handler wrapped in the middlewares of every application the
match went through (``_chain.py``: built once per handler and cached), and
raised or returned HTTP exceptions turned into responses.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import EllipsisType, MappingProxyType
from typing import Any, Final, TypeVar, cast, overload

from weft.http_parser import HttpVersion11, RequestHead
from weft.http_parser.streams import BodyStream
from weft.web_exceptions import HTTPExpectationFailed
from weft.web_routing import (
    AbstractResource,
    AbstractRouteDef,
    UrlDispatcher,
    UrlMappingMatchInfo,
)

from ._chain import build_chain, warn_old_style
from ._file_response import FileResponse
from ._handling import AppHandling
from ._keys import AppKey, NotAppKeyWarning
from ._request import Request, RequestProtocol
from ._response import Response, StreamResponse
from ._signals import Signal
from ._types import Handler, Middleware
from ._writer import StreamWriter

__all__ = [
    "AppKey",
    "Application",
    "CleanupError",
    "NotAppKeyWarning",
    "register_server_factory",
    "web_logger",
]

web_logger = logging.getLogger("weft.web")

# What the deprecated make_handler() builds: web-runner's Server, registered when
# web-runner is imported (web-core sits below web-runner and cannot import it).
_server_factory: Callable[..., Any] | None = None


def register_server_factory(factory: Callable[..., Any]) -> None:
    """Called by web-runner: the low-level server ``Application.make_handler()`` returns."""
    global _server_factory
    _server_factory = factory


_T = TypeVar("_T")
_AppSignal = Signal[Callable[["Application"], Awaitable[None]]]
_PrepareSignal = Signal[Callable[[Request, StreamResponse], Awaitable[None]]]
# An async generator function, or a function returning an async context manager.
_CleanupCallback = Callable[
    ["Application"], AsyncIterator[None] | AbstractAsyncContextManager[object]
]


class CleanupError(RuntimeError):
    """Several cleanup callbacks failed; ``exceptions`` holds each failure."""

    @property
    def exceptions(self) -> list[BaseException]:
        return cast(list[BaseException], self.args[1])


class CleanupContext(list[_CleanupCallback]):
    """``app.cleanup_ctx``: async generators whose code after ``yield`` is cleanup, or
    functions returning an async context manager (``@contextlib.asynccontextmanager``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._exits: list[AbstractAsyncContextManager[object]] = []

    async def _on_startup(self, app: Application) -> None:
        for callback in self:
            context = callback(app)
            if not isinstance(context, AbstractAsyncContextManager):
                # An async generator function: run it as aiohttp does, as a context.
                generator = cast(Callable[[Application], AsyncIterator[None]], callback)
                context = asynccontextmanager(generator)(app)
            await context.__aenter__()
            self._exits.append(context)

    async def _on_cleanup(self, app: Application) -> None:
        """Exit every context entered, in reverse, even those of a startup that failed."""
        errors: list[BaseException] = []
        for context in reversed(self._exits):
            try:
                await context.__aexit__(None, None, None)
            except (Exception, asyncio.CancelledError) as exc:
                errors.append(exc)
        self._exits.clear()
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise CleanupError("Multiple errors on cleanup stage", errors)


async def _default_expect_handler(request: Request) -> None:
    """Accept ``Expect: 100-continue``; 417 for any other expectation (RFC 9110 §10.1.1).

    The interim "100 Continue" is sent when the handler first asks for the
    body (``request.content``, ``read()``, ``post()``...), not before: a
    handler that answers without the body spares the client from sending it.
    """
    expect = request.headers.get("Expect", "")
    if request.version >= HttpVersion11:
        if expect.lower() != "100-continue":
            raise HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
        if request.body_exists:
            request._continue_pending = True


def _file_response(path: Path, chunk_size: int) -> FileResponse:
    return FileResponse(path, chunk_size=chunk_size)


def _html_response(text: str) -> Response:
    return Response(text=text, content_type="text/html")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Application(MutableMapping[str | AppKey[Any], Any]):
    """A web application: routes, middlewares, state and lifecycle signals."""

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        router: UrlDispatcher | None = None,
        middlewares: Iterable[Middleware] = (),
        handler_args: dict[str, Any] | None = None,
        client_max_size: int = 1024**2,
        client_max_fields: int = 1000,
        debug: bool | EllipsisType = ...,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if loop is not None:
            warnings.warn("loop argument is deprecated", DeprecationWarning, stacklevel=2)
        # aiohttp 3 deprecates the argument itself, so any value given warns, False
        # included; left out, the app follows its loop's debug mode once served.
        if debug is not ...:
            warnings.warn("debug argument is deprecated", DeprecationWarning, stacklevel=2)
        self._loop = loop
        self._router = UrlDispatcher() if router is None else router
        if self._router.default_expect_handler is None:
            self._router.default_expect_handler = _default_expect_handler
        if self._router.file_response_factory is None:
            # The router's static resources answer through web-core's responses.
            self._router.set_response_factories(
                file_response_factory=_file_response, html_response_factory=_html_response
            )
        # A list that freezes with the app, as aiohttp's (app.middlewares.append(m) works).
        self._middlewares: Signal[Middleware] = Signal(self, middlewares)
        self._handler_args = handler_args or {}
        self._debug: bool | EllipsisType = debug if debug is ... else bool(debug)
        self.logger = logger
        self._state: dict[str | AppKey[Any], Any] = {}
        self._pre_frozen = False
        self._frozen = False
        self._on_startup: _AppSignal = Signal(self)
        self._on_shutdown: _AppSignal = Signal(self)
        self._on_cleanup: _AppSignal = Signal(self)
        self._on_response_prepare: _PrepareSignal = Signal(self)
        # True once on_response_prepare is frozen with no callback: then a
        # response's prepare() skips the signal (Request._prepare_hook).
        self._response_prepare_silent = False
        self._cleanup_ctx = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._subapps: list[Application] = []
        # Handler -> the handler wrapped in its middlewares, per path through the apps.
        self._chains: dict[tuple[Any, tuple[object, ...]], Handler] = {}
        # The per-request path, compiled; its flags are set at pre_freeze().
        self._handling = AppHandling(
            self, self._router, self._chains, client_max_size, client_max_fields
        )

    # -- state mapping

    @overload
    def __getitem__(self, key: AppKey[_T]) -> _T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: str | AppKey[Any]) -> Any:
        return self._state[key]

    @overload
    def __setitem__(self, key: AppKey[_T], value: _T) -> None: ...
    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __setitem__(self, key: str | AppKey[Any], value: Any) -> None:
        self._warn_frozen_state()
        if not isinstance(key, AppKey):
            warnings.warn(
                "It is recommended to use web.AppKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#application-s-config",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: str | AppKey[Any]) -> None:
        self._warn_frozen_state()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[str | AppKey[Any]]:
        return iter(self._state)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    def __call__(self) -> Application:
        """gunicorn compatibility: it only loads callables, and this one is the app."""
        return self

    # -- configuration

    @property
    def router(self) -> UrlDispatcher:
        return self._router

    @property
    def middlewares(self) -> Signal[Middleware]:
        """The middlewares, outermost first; more may be appended until the app freezes."""
        return self._middlewares

    def _uses_middlewares(self) -> bool:
        return bool(self._middlewares) or any(app._uses_middlewares() for app in self._subapps)

    @property
    def handler_args(self) -> Mapping[str, Any]:
        """Keyword arguments for the server's connections (e.g. keepalive_timeout)."""
        return MappingProxyType(self._handler_args)

    @property
    def debug(self) -> bool:
        """Deprecated, as in aiohttp 3: the app's debug mode (False until served, if not given)."""
        warnings.warn("debug property is deprecated", DeprecationWarning, stacklevel=2)
        return self._debug is True

    def _served_debug(self, loop: asyncio.AbstractEventLoop) -> bool:
        """The debug mode the app is served with: as given, else (as aiohttp) its loop's."""
        if self._debug is ...:
            self._debug = loop.get_debug()
        return self._debug

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Deprecated (aiohttp 3.5): the loop serving the app; use asyncio.get_running_loop()."""
        warnings.warn("loop property is deprecated", DeprecationWarning, stacklevel=2)
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # outside the loop: the one given to Application(loop=)
            return cast(asyncio.AbstractEventLoop, self._loop)

    def make_handler(self, *, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any) -> Any:
        """Deprecated (aiohttp 3.2): a low-level server for ``loop.create_server()``.

        The app is frozen; its start-up and clean-up callbacks do not run (as in
        aiohttp): use an AppRunner, which runs them.
        """
        warnings.warn(
            "Application.make_handler(...) is deprecated, use AppRunner API instead",
            DeprecationWarning,
            stacklevel=2,
        )
        if _server_factory is None:
            raise RuntimeError(
                "Application.make_handler() needs weft-web-runner: install it and import "
                "weft.web_runner (or weft.web), or use an AppRunner"
            )
        if loop is not None:
            self._loop = loop
        self.freeze()
        # The loop it will be served on, where known (old code calls this before it runs).
        serving = self._loop or _running_loop()
        debug = self._debug is True if serving is None else self._served_debug(serving)
        options = {**kwargs, "debug": debug, **self._handler_args}
        handler, request_factory = self._request_entry()
        return _server_factory(handler, request_factory=request_factory, **options)

    @property
    def on_startup(self) -> _AppSignal:
        return self._on_startup

    @property
    def on_shutdown(self) -> _AppSignal:
        return self._on_shutdown

    @property
    def on_cleanup(self) -> _AppSignal:
        return self._on_cleanup

    @property
    def on_response_prepare(self) -> _PrepareSignal:
        return self._on_response_prepare

    @property
    def cleanup_ctx(self) -> CleanupContext:
        return self._cleanup_ctx

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[Any]:
        """Register route definitions (a RouteTableDef or web.get(...) items)."""
        return self._router.add_routes(routes)

    # -- sub-applications

    def add_subapp(self, prefix: str, subapp: Application) -> AbstractResource:
        """Serve ``subapp`` under ``prefix``; its middlewares run inside this app's."""
        self._check_subapp(subapp)
        resource = self._router.add_prefixed_subapp(prefix, subapp)
        self._register_subapp(subapp)
        subapp.pre_freeze()
        return resource

    def add_domain(self, domain: str, subapp: Application) -> AbstractResource:
        """Serve ``subapp`` for requests whose Host matches ``domain`` (``*.example.com``)."""
        self._check_subapp(subapp)
        resource = self._router.add_domain(domain, subapp)
        self._register_subapp(subapp)
        subapp.pre_freeze()
        return resource

    def _check_subapp(self, subapp: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot add sub application to frozen application")
        if not isinstance(subapp, Application):
            raise TypeError(f"A sub-application must be a web.Application, got {subapp!r}")
        if subapp.frozen:
            raise RuntimeError("Cannot add frozen application")

    def _register_subapp(self, subapp: Application) -> None:
        # The sub-app's lifecycle follows its parent's.
        async def startup(app: Application) -> None:
            await subapp.startup()

        async def shutdown(app: Application) -> None:
            await subapp.shutdown()

        async def cleanup(app: Application) -> None:
            await subapp.cleanup()

        self._on_startup.append(startup)
        self._on_shutdown.append(shutdown)
        self._on_cleanup.append(cleanup)
        self._subapps.append(subapp)

    # -- lifecycle

    @property
    def frozen(self) -> bool:
        return self._frozen

    def _warn_frozen_state(self) -> None:
        # As aiohttp: app state set after start-up is a shared-state smell, not an error.
        if self._frozen:
            warnings.warn(
                "Changing state of started or joined application is deprecated; "
                "keep mutable state in an object stored at start-up instead",
                DeprecationWarning,
                stacklevel=3,
            )

    @property
    def pre_frozen(self) -> bool:
        return self._pre_frozen

    def pre_freeze(self) -> None:
        """Fix routes, signals and the middleware chain; the state stays writable.

        Done when the app is added as a sub-application (as aiohttp does), and
        by ``freeze()``.
        """
        if self._pre_frozen:
            return
        warn_old_style(self._middlewares)
        self._pre_frozen = True
        self._middlewares.freeze()
        for subapp in self._subapps:
            subapp.pre_freeze()
        self._router.freeze()
        handling = self._handling
        handling.needs_resolve = self._router.needs_resolve
        handling.needs_host = self._router.needs_host
        for signal in (self._on_startup, self._on_shutdown, self._on_cleanup):
            signal.freeze()
        self._on_response_prepare.freeze()
        self._response_prepare_silent = not self._on_response_prepare
        handling.tree_silent = self._response_prepare_silent and all(
            subapp._handling.tree_silent for subapp in self._subapps
        )
        handling.run_middlewares = self._uses_middlewares()

    def freeze(self) -> None:
        """``pre_freeze()``, then setting state warns; called before serving."""
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        for subapp in self._subapps:
            subapp.freeze()

    async def startup(self) -> None:
        """Run on_startup callbacks (cleanup contexts enter here).

        A runner freezes ``on_startup``, runs this, then freezes the app, so
        start-up callbacks may still store state in the app.
        """
        self._on_startup.freeze()
        await self._on_startup.send(self)

    async def shutdown(self) -> None:
        """Run on_shutdown callbacks."""
        await self._on_shutdown.send(self)

    async def cleanup(self) -> None:
        """Run on_cleanup callbacks (cleanup contexts exit here, in reverse).

        After a startup that failed (the app never froze), as aiohttp: only the
        cleanup contexts that startup entered are exited, in reverse; the
        on_cleanup callbacks, written for an app that started, do not run.
        """
        if self._on_cleanup.frozen:
            await self._on_cleanup.send(self)
        else:
            await self._cleanup_ctx._on_cleanup(self)

    # -- serving (used by web-runner)

    def _make_request(
        self,
        head: RequestHead,
        payload: BodyStream,
        protocol: RequestProtocol,
        writer: StreamWriter,
        task: asyncio.Task[None] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> Request:
        return self._handling.make_request(head, payload, protocol, writer, task, loop)

    async def _build_chain(self, handler: Handler, match_info: UrlMappingMatchInfo) -> Handler:
        """The middleware chain of ``handler`` in the matched apps, built and kept in
        ``_chains`` (which ``_handle`` looks in first), unless the match is an HTTP
        exception's."""
        apps = match_info.apps
        chain = await build_chain(handler, cast("tuple[Application, ...]", apps))
        if match_info.http_exception is None:
            self._chains[(handler, apps)] = chain
        return chain

    async def _handle(self, request: Request) -> StreamResponse:
        """Route the request and run the middleware chain (``_handling.AppHandling``).

        A raised HTTP exception leaves here, as it leaves aiohttp's
        ``Application._handle``, and the server answers it: what wraps this
        method (Sentry's aiohttp integration patches it) sees the exception and
        its status, not a response made from it.
        """
        return await self._handling.handle(request)

    def _request_entry(
        self,
    ) -> tuple[Callable[[Request], Awaitable[StreamResponse]], Callable[..., Request]]:
        """The request handler and request factory a server calls for this app.

        ``AppHandling``'s own methods, unless ``_handle`` or ``_make_request``
        was replaced, on the class (a subclass, or a patch such as Sentry's) or
        on the instance: then what replaced it, as aiohttp's runner would call it.
        """
        handle = self._handle
        make_request = self._make_request
        return (
            self._handling.handle if getattr(handle, "__func__", None) is _HANDLE else handle,
            self._handling.make_request
            if getattr(make_request, "__func__", None) is _MAKE_REQUEST
            else make_request,
        )


# The methods as defined here, before anyone replaces them (_request_entry).
_HANDLE: Final = Application._handle
_MAKE_REQUEST: Final = Application._make_request
