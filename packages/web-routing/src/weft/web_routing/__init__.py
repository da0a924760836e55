"""weft.web_routing: aiohttp.web's URL dispatcher, indexed, usable without a server.

>>> from weft.web_routing import UrlDispatcher
>>> router = UrlDispatcher()
>>> router.add_get("/users/{id}", get_user, name="user")
>>> info = router.match("GET", "/users/42")
>>> info["id"], info.handler is get_user
('42', True)
>>> router["user"].url_for(id="a b")
URL('/users/a%20b')

Errors::

    ValueError      bad path template, regex, route name, method; duplicate name;
                    a static directory that does not exist; a bad domain or prefix
    RuntimeError    registration after freeze(); a method registered twice on a path;
                    a static file requested from a router without a file-response factory
    KeyError        url_for() without a variable's value
    HTTPNotFound / HTTPMethodNotAllowed (weft.web_exceptions)
                    carried by MatchInfoError.http_exception and raised by its handler

``COMPILED`` is True when the lookup path (the index, ``_matcher`` and
``_groups``, and path decoding, ``_quoting``) was imported as the C extension modules that mypyc
builds into the wheel where a compiler is available, False for the
pure-Python build (same code, same behaviour).
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES as _EXTENSION_SUFFIXES

from . import _matcher as _hot_module
from .__about__ import __version__
from ._dispatcher import ResourcesView, RoutesView, UrlDispatcher
from ._match_info import MatchInfoError, UrlMappingMatchInfo
from ._resources import (
    AbstractResource,
    DynamicResource,
    PlainResource,
    PrefixResource,
    Resource,
)
from ._routedef import (
    AbstractRouteDef,
    RouteDef,
    RouteTableDef,
    StaticDef,
    delete,
    get,
    head,
    options,
    patch,
    post,
    put,
    route,
    static,
    view,
)
from ._routes import AbstractRoute, ResourceRoute, SystemRoute
from ._static import StaticResource
from ._subapp import (
    AbstractRuleMatching,
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
)
from ._types import (
    ExpectHandler,
    FileResponseFactory,
    Handler,
    HtmlResponseFactory,
    RequestLike,
    ResourceInfo,
    SubApplication,
)
from ._view import AbstractView, View

#: True when the mypyc-compiled build is loaded, False for pure Python.
COMPILED: bool = (getattr(_hot_module, "__file__", None) or "").endswith(tuple(_EXTENSION_SUFFIXES))

__all__ = [
    "__version__",
    "COMPILED",
    # the router
    "UrlDispatcher",
    "ResourcesView",
    "RoutesView",
    # resources and routes
    "AbstractResource",
    "Resource",
    "PlainResource",
    "DynamicResource",
    "PrefixResource",
    "StaticResource",
    "PrefixedSubAppResource",
    "MatchedSubAppResource",
    "AbstractRuleMatching",
    "Domain",
    "MaskDomain",
    "AbstractRoute",
    "ResourceRoute",
    "SystemRoute",
    # match results
    "UrlMappingMatchInfo",
    "MatchInfoError",
    # route definitions
    "AbstractRouteDef",
    "RouteDef",
    "StaticDef",
    "RouteTableDef",
    "route",
    "head",
    "options",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "view",
    "static",
    # class-based views
    "AbstractView",
    "View",
    # types
    "Handler",
    "ExpectHandler",
    "RequestLike",
    "ResourceInfo",
    "FileResponseFactory",
    "HtmlResponseFactory",
    "SubApplication",
]
