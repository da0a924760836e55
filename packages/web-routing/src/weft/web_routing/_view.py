"""Class-based views: one class per resource, one method per HTTP method.

``router.add_view("/items", ItemsView)`` registers the class for every
method; for each request the framework calls the class with the request and
awaits the instance, which runs ``get``, ``post``, ... by the request's method
and answers 405 (with ``Allow``) when the class has no such method.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Generator
from typing import Generic, NoReturn

from weft.web_exceptions import HTTPMethodNotAllowed

from ._types import METH_ALL, RequestT

__all__ = ["AbstractView", "View"]


class AbstractView(abc.ABC, Generic[RequestT]):
    """A handler class: constructed with the request, then awaited."""

    def __init__(self, request: RequestT) -> None:
        self._request = request

    @property
    def request(self) -> RequestT:
        """The request this view answers."""
        return self._request

    @abc.abstractmethod
    def __await__(self) -> Generator[object, None, object]:
        """Run the view; the result is the response."""


class View(AbstractView[RequestT]):
    """Dispatch to the method named like the request's, lower-cased.

    >>> class Items(View[Request]):
    ...     async def get(self) -> Response: ...
    A POST to it raises ``HTTPMethodNotAllowed`` with ``Allow: GET``.
    """

    async def _dispatch(self) -> object:
        method = self.request.method
        if method not in METH_ALL:
            self._raise_allowed_methods()
        run: Callable[[], Awaitable[object]] | None = getattr(self, method.lower(), None)
        if run is None:
            self._raise_allowed_methods()
        return await run()

    def __await__(self) -> Generator[object, None, object]:
        return self._dispatch().__await__()

    def _raise_allowed_methods(self) -> NoReturn:
        allowed = {m for m in METH_ALL if hasattr(self, m.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)
