"""The result of a match: the decoded variables plus the route that won.

``UrlMappingMatchInfo`` is a ``dict`` of the path's variables (already
percent-decoded).  ``MatchInfoError`` is the result of a miss: 404 when no
resource matched the path, 405 (with ``Allow``) when some did but none
answered the method; its handler raises that exception, so a framework can
await ``match_info.handler(request)`` either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING

from weft.web_exceptions import HTTPException

from ._routes import AbstractRoute, SystemRoute
from ._types import ExpectHandler, Handler, ResourceInfo

__all__ = ["MatchInfoError", "UrlMappingMatchInfo"]


async def _no_expect(request: object) -> None:
    return None


class UrlMappingMatchInfo(dict[str, str]):
    """The variables of a matched path, with the route that matched.

    >>> mi = router.match("GET", "/users/42")
    >>> mi["id"], mi.route.method
    ('42', 'GET')
    """

    # One is built per request: one slot set here, the rest are class-level
    # defaults until set (in the lazily created instance ``__dict__``), which
    # makes construction about 3x cheaper.
    __slots__ = ("__dict__", "_route")

    _default_expect: ExpectHandler | None = None  # the router's, set only if it has one
    _apps: tuple[object, ...] = ()
    _current_app: object | None = None
    _frozen: bool = False

    def __init__(
        self,
        match_dict: Mapping[str, str],
        route: AbstractRoute,
        default_expect_handler: ExpectHandler | None = None,
    ) -> None:
        dict.__init__(self, match_dict)
        self._route = route
        if default_expect_handler is not None:
            self._default_expect = default_expect_handler

    # Read on every request: properties whose getter is C (operator.attrgetter),
    # so reading them runs no Python frame.
    if TYPE_CHECKING:

        @property
        def handler(self) -> Handler: ...
        @property
        def route(self) -> AbstractRoute: ...
        @property
        def apps(self) -> tuple[object, ...]:
            """The applications the match went through, outermost first."""

    else:
        handler = property(attrgetter("_route.handler"), doc="The matched route's handler.")
        route = property(attrgetter("_route"), doc="The matched route.")
        apps = property(
            attrgetter("_apps"), doc="The applications the match went through, outermost first."
        )

    @property
    def expect_handler(self) -> ExpectHandler:
        """The route's ``expect_handler``, else the router's default, else a no-op."""
        return self._route.expect_handler or self._default_expect or _no_expect

    @property
    def http_exception(self) -> HTTPException | None:
        """None: the match succeeded (``MatchInfoError`` overrides this)."""
        return None

    def get_info(self) -> ResourceInfo:
        return self._route.get_info()

    def add_app(self, app: object) -> None:
        """Record an application the match went through (called outermost last)."""
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            self._current_app = app
        # A tuple, not a list: ``apps`` is read on every request (a key of the
        # framework's middleware-chain cache) and the stack is one to three deep.
        self._apps = (app, *self._apps)

    @property
    def current_app(self) -> object:
        app = self._current_app
        if app is None:
            raise RuntimeError("No application was added to this match info")
        return app

    @current_app.setter
    def current_app(self, app: object) -> None:
        self._current_app = app

    def freeze(self) -> None:
        """Forbid further ``add_app`` calls."""
        self._frozen = True

    @classmethod
    def bound_to(cls, app: object) -> type[UrlMappingMatchInfo]:
        """A subclass whose instances start as this class's do after ``add_app(app)``
        and ``freeze()``: ``apps == (app,)``, ``current_app is app``, frozen.

        A framework passes it to ``match(..., match_class=...)`` for its root
        application: a route its index finds comes back already in the app,
        with no state written per request (those two calls were about a
        tenth of a plain request's cost in weft.web). Any other result (a
        miss, a sub-application's route) comes back of the usual class, for
        the usual calls (see ``match``). Make it once per application: each
        call makes a new class.
        """
        namespace = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "_apps": (app,),
            "_current_app": app,
            "_frozen": True,
        }
        return type(cls.__name__, (cls,), namespace)

    def __repr__(self) -> str:
        return f"<MatchInfo {super().__repr__()}: {self._route}>"


class MatchInfoError(UrlMappingMatchInfo):
    """A failed match: ``http_exception`` is the 404 or 405 to answer."""

    __slots__ = ("_exception",)

    def __init__(self, http_exception: HTTPException) -> None:
        # Built on every 404/405: set the slots directly (the dict stays empty).
        self._exception = http_exception
        self._route = SystemRoute(http_exception)

    @property
    def http_exception(self) -> HTTPException:
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"
