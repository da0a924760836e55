"""An application's per-request work, compiled: ``Application._handle`` and ``_make_request``.

``AppHandling`` holds what the two read on every request (the router, the
flags ``pre_freeze()`` computes, the middleware chains, the body limits) as
native fields, so that the compiled build routes a request and builds its
``Request`` without an interpreted frame or a lookup in the application's
``__dict__``. ``Application._handle`` and ``_make_request`` call it; a
server calls it directly (``Application._request_entry``) unless those two
were replaced on the class or the instance (Sentry's aiohttp integration
patches ``Application._handle``), and then calls what replaced them.

Data flow of one request::

    server ──make_request(head, body, ...)──▶ Request
    server ──await handle(request)──▶ route (match, or await resolve)
                                      ▶ match info: app added, frozen (a route of the
                                        app's own router: made so, see match_class),
                                        set on the request
                                      ▶ Expect handler, when the request has Expect
                                      ▶ the handler, in its middleware chain (built once)
                                      ◀ the response (a returned HTTP exception answered)
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from weft.http_parser import RequestHead
from weft.http_parser.streams import BodyStream
from weft.web_exceptions import HTTPException
from weft.web_routing import UrlMappingMatchInfo

from ._exception_response import exception_response
from ._hdrs import EXPECT
from ._request import Request, RequestProtocol
from ._response import StreamResponse, is_response
from ._writer import StreamWriter

__all__ = ["AppHandling"]


class AppHandling:
    """The application's request path; its flags are the app's, set at ``pre_freeze()``.

    ``app`` is the ``Application`` (typed loosely: ``_app`` imports this
    module); ``chains`` is the app's own cache of middleware chains, shared.
    """

    def __init__(
        self,
        app: Any,
        router: Any,
        chains: dict[tuple[Any, tuple[object, ...]], Any],
        client_max_size: int,
        client_max_fields: int,
    ) -> None:
        self.app = app
        self.router = router
        # Its routes' match infos come back already in the app and frozen (see handle).
        self.match_class: type[UrlMappingMatchInfo] = UrlMappingMatchInfo.bound_to(app)
        self.chains = chains
        self.client_max_size = client_max_size
        self.client_max_fields = client_max_fields
        # Until pre_freeze() says otherwise: the cautious answers.
        self.needs_resolve = False
        self.needs_host = True
        self.run_middlewares = True
        self.tree_silent = False  # no on_response_prepare callback in the app's tree

    def make_request(
        self,
        head: RequestHead,
        payload: BodyStream,
        protocol: RequestProtocol,
        writer: StreamWriter,
        task: asyncio.Task[None] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> Request:
        # Compiled, a native call of the constructor: its keywords are resolved
        # at compile time, not parsed per request.
        return Request(
            head,
            payload,
            protocol,
            writer,
            task,
            loop,
            client_max_size=self.client_max_size,
            client_max_fields=self.client_max_fields,
        )

    async def handle(self, request: Request) -> StreamResponse:
        """Route the request and run the middleware chain (``Application._handle``)."""
        head = request._head
        match_class = self.match_class
        if self.needs_resolve:
            match_info = await self.router.resolve(request)
        else:
            host = request._routing_host() if self.needs_host else None
            match_info = self.router.match(
                head.method, head.path, host=host, match_class=match_class
            )
        if type(match_info) is not match_class:  # a miss, a sub-application's route
            match_info.add_app(self.app)
            match_info.freeze()
        request._match_info = match_info
        request._apps_silent = self.tree_silent
        # As aiohttp: an empty Expect field asks for nothing.
        if head.headers.get(EXPECT):
            expected = await match_info.expect_handler(request)
            if expected is not None:
                return expected  # type: ignore[no-any-return]
        handler = match_info.handler
        if self.run_middlewares:
            # Looked up here, without a coroutine: built once per handler and apps.
            chain = self.chains.get((handler, match_info.apps))
            handler = await self.app._build_chain(handler, match_info) if chain is None else chain
        response: object = await handler(request)
        if is_response(response):
            return response
        if isinstance(response, HTTPException):
            # aiohttp 3 still answers a returned exception, and warns: raise it instead.
            warnings.warn(
                f"returning {type(response).__name__} is deprecated, raise it instead",
                DeprecationWarning,
                stacklevel=2,
            )
            return exception_response(response)
        # Anything else goes on as it is, as from aiohttp's _handle: the server
        # logs what the handler returned and answers 500, keeping the connection.
        return response  # type: ignore[return-value]
