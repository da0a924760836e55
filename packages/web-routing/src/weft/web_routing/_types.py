"""Types shared by the router's modules.

The router never imports a framework: handlers, requests and applications are
opaque to it.  It only needs a request's method and URL (to resolve) and calls
nothing on handlers, so a handler is typed as "some async callable".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypedDict, TypeVar

from yarl import URL

from weft.web_exceptions import HTTPException

if TYPE_CHECKING:
    from ._dispatcher import UrlDispatcher

__all__ = [
    "METH_ALL",
    "METH_ANY",
    "ExpectHandler",
    "FileResponseFactory",
    "Handler",
    "HtmlResponseFactory",
    "SubApplication",
    "HasMethod",
    "RequestLike",
    "ResourceInfo",
    "RequestT",
    "HandlerT",
]

#: The method of a route that answers every method (``add_view``, ``route("*", ...)``).
METH_ANY = "*"
#: The methods a class-based view may define (aiohttp's ``hdrs.METH_ALL``).
METH_ALL = frozenset(
    {"CONNECT", "HEAD", "GET", "DELETE", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)

#: A request handler: called with the framework's request, awaited for its response.
Handler: TypeAlias = Callable[..., Awaitable[object]]
#: Called with the request when it carries ``Expect:``; may return an early response.
ExpectHandler: TypeAlias = Callable[..., Awaitable[object]]

HandlerT = TypeVar("HandlerT", bound=Handler)

#: Builds the response for a static file: called with the resolved path of an
#: existing regular file inside the static directory and the resource's
#: ``chunk_size``; returns the response, or an awaitable of it.  web-core
#: supplies ``lambda path, chunk_size: FileResponse(path, chunk_size=chunk_size)``.
FileResponseFactory: TypeAlias = Callable[[Path, int], object]
#: Builds an HTML response (``text/html``) from a text: the directory index page
#: of a static resource with ``show_index=True``; may return an awaitable.
HtmlResponseFactory: TypeAlias = Callable[[str], object]


class SubApplication(Protocol):
    """What the router needs from a sub-application: its own router, nothing else."""

    @property
    def router(self) -> UrlDispatcher: ...


class HasMethod(Protocol):
    """What a class-based view needs from its request."""

    @property
    def method(self) -> str: ...


class RequestLike(Protocol):
    """What ``UrlDispatcher.resolve`` needs from a request.

    Domain sub-applications also read ``request.headers.get("Host")`` when the
    request has ``headers`` (aiohttp's rule), else ``request.host``.
    """

    @property
    def method(self) -> str: ...

    @property
    def rel_url(self) -> URL: ...


RequestT = TypeVar("RequestT", bound=HasMethod)


class ResourceInfo(TypedDict, total=False):
    """``get_info()`` of a resource or route: the keys aiohttp uses, each where it applies."""

    path: str
    formatter: str
    pattern: re.Pattern[str]
    prefix: str
    directory: object
    routes: Mapping[str, object]
    app: object
    domain: str
    rule: object
    http_exception: HTTPException
