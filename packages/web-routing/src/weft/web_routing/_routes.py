"""Routes: one method of one resource, bound to a handler.

A route is what a match hands back: ``match_info.route.handler`` is awaited
with the request.  ``SystemRoute`` is the route of a failed match (404, 405):
its handler raises the HTTP exception.
"""

from __future__ import annotations

import abc
import functools
import inspect
import re
import warnings
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, NoReturn

from yarl import URL

from weft.web_exceptions import HTTPException

from ._types import METH_ANY, ExpectHandler, Handler, ResourceInfo
from ._view import AbstractView

if TYPE_CHECKING:
    from ._resources import AbstractResource

__all__ = ["AbstractRoute", "ResourceRoute", "SystemRoute", "check_method"]

# RFC 9110 section 5.6.2 token, plus "*" for "any method".
_METHOD_RE = re.compile(r"[0-9A-Za-z!#$%&'*+\-.^_`|~]+")


def check_method(method: str) -> str:
    """Upper-case and validate an HTTP method: ``'get'`` -> ``'GET'``."""
    method = method.upper()
    if not _METHOD_RE.fullmatch(method):
        raise ValueError(f"{method} is not allowed HTTP method")
    return method


def _check_handler(handler: Handler) -> Handler:
    if not callable(handler):
        raise TypeError(f"handler must be an async callable, got {handler!r}")
    if inspect.iscoroutinefunction(handler) or (
        isinstance(handler, type) and issubclass(handler, AbstractView)
    ):
        return handler
    # As aiohttp 3: a plain function (or a callable object) still works, with a
    # warning; its result is awaited when it is awaitable.
    warnings.warn("Bare functions are deprecated, use async ones", DeprecationWarning, 3)
    plain: Callable[..., object] = handler

    @functools.wraps(plain)
    async def wrapper(request: object) -> object:
        result: object = plain(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    return wrapper


class AbstractRoute(abc.ABC):
    """A method and a handler, usually attached to a resource."""

    __slots__ = ("_expect_handler", "_handler", "_method", "_resource")

    def __init__(
        self,
        method: str,
        handler: Handler,
        *,
        expect_handler: ExpectHandler | None = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if expect_handler is not None and not inspect.iscoroutinefunction(expect_handler):
            raise TypeError(f"Coroutine is expected, got {expect_handler!r}")
        self._method = check_method(method)
        self._handler = _check_handler(handler)
        self._expect_handler = expect_handler
        self._resource = resource

    @property
    def method(self) -> str:
        """The upper-cased method, or ``"*"`` for any."""
        return self._method

    if TYPE_CHECKING:

        @property
        def handler(self) -> Handler: ...

    else:
        # Read on every request: a C getter, so reading it runs no Python frame.
        handler = property(attrgetter("_handler"), doc="The handler awaited with the request.")

    @property
    def expect_handler(self) -> ExpectHandler | None:
        """The ``expect_handler`` given at registration, None for the framework's default."""
        return self._expect_handler

    @property
    @abc.abstractmethod
    def name(self) -> str | None:
        """The resource's name."""

    @property
    def resource(self) -> AbstractResource | None:
        return self._resource

    @abc.abstractmethod
    def get_info(self) -> ResourceInfo:
        """Introspection data, as the resource's ``get_info()``."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build a URL for this route's resource."""


class ResourceRoute(AbstractRoute):
    """A route of a resource added with ``add_route`` (or a shortcut)."""

    __slots__ = ()

    def __init__(
        self,
        method: str,
        handler: Handler,
        resource: AbstractResource,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> None:
        super().__init__(method, handler, expect_handler=expect_handler, resource=resource)

    @property
    def resource(self) -> AbstractResource:
        assert self._resource is not None
        return self._resource

    @property
    def name(self) -> str | None:
        return self.resource.name

    def url_for(self, *args: str, **kwargs: str) -> URL:
        return self.resource.url_for(*args, **kwargs)

    def get_info(self) -> ResourceInfo:
        return self.resource.get_info()

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self._method}] {self._resource} -> {self._handler!r}"


class SystemRoute(AbstractRoute):
    """The route of a failed match: its handler raises ``http_exception``."""

    __slots__ = ("_http_exception",)

    def __init__(self, http_exception: HTTPException) -> None:
        # Built on every 404/405: skip the validation of user-supplied routes.
        self._http_exception = http_exception
        self._method = METH_ANY
        self._handler = self._raise
        self._expect_handler = None
        self._resource = None

    async def _raise(self, request: object) -> NoReturn:
        raise self._http_exception

    @property
    def name(self) -> None:
        return None

    @property
    def http_exception(self) -> HTTPException:
        return self._http_exception

    @property
    def status(self) -> int:
        return self._http_exception.status

    @property
    def reason(self) -> str:
        return self._http_exception.reason

    def url_for(self, *args: str, **kwargs: str) -> NoReturn:
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    def get_info(self) -> ResourceInfo:
        return {"http_exception": self._http_exception}

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"
