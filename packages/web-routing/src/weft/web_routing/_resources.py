"""Resources: a path (plain or a template) and its routes, one per method.

Every resource has the same small interface, so the dispatcher and its index
treat them alike and later kinds (static files, sub-applications) slot in:

- ``index_key``: the literal path prefix under which the index files it
  (``'/users'`` for ``'/users/{id}'``), or None for resources the index
  cannot place (matched by a rule on the request, like a domain);
- ``match_path(path)``: the decoded variables if the path-safe ``path``
  matches, else None;
- ``resolve_path(method, path, host=...)``: a match info, or None and the
  methods the resource would have answered (for 405).

``PrefixResource`` is the base of resources that own every path under a
prefix (static files, sub-applications); they live in ``_static`` and
``_subapp``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator, Sized

from yarl import URL

from ._match_info import UrlMappingMatchInfo
from ._quoting import decode_path_safe, quote_value, requote, unquote_value
from ._routes import ResourceRoute
from ._template import Template, parse_template
from ._types import METH_ANY, ExpectHandler, Handler, RequestLike, ResourceInfo

__all__ = [
    "AbstractResource",
    "DynamicResource",
    "PlainResource",
    "PrefixResource",
    "Resource",
    "ResolveResult",
    "key_of",
]

ResolveResult = tuple[UrlMappingMatchInfo | None, set[str]]
_NO_METHODS: frozenset[str] = frozenset()


def key_of(literal_path: str) -> str:
    """The index key of a path-safe literal path: ``'/a/b/'`` -> ``'/a/b'``."""
    return literal_path.rstrip("/") or "/"


class AbstractResource(Sized, abc.ABC):
    """A path the router can match, holding routes."""

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name

    @property
    def name(self) -> str | None:
        return self._name

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The path as registered, variables in braces: ``'/users/{id}'``."""

    @property
    @abc.abstractmethod
    def index_key(self) -> str | None:
        """The literal prefix the router indexes this resource under."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build this resource's URL from variable values."""

    @abc.abstractmethod
    def get_info(self) -> ResourceInfo:
        """Introspection data (``path``, or ``formatter`` and ``pattern``, ...)."""

    @abc.abstractmethod
    def add_prefix(self, prefix: str) -> None:
        """Prepend ``prefix`` (``'/api'``) to the path, for sub-applications."""

    @abc.abstractmethod
    def raw_match(self, path: str) -> bool:
        """Whether ``path`` is exactly the path this resource was registered with."""

    @abc.abstractmethod
    def resolve_path(
        self,
        method: str,
        path: str,
        *,
        default_expect_handler: ExpectHandler | None = None,
        host: str | None = None,
    ) -> ResolveResult:
        """Match a path-safe ``path``: a match info, or None and the methods answered here.

        ``host`` (the request's Host header) matters only to sub-applications,
        which pass it on to their router for its domain resources.
        """

    @abc.abstractmethod
    def __iter__(self) -> Iterator[ResourceRoute]: ...

    async def resolve(self, request: RequestLike) -> ResolveResult:
        """aiohttp's resource-level resolve: match the request's method and path."""
        return self.resolve_path(request.method, decode_path_safe(request.rel_url.raw_path))

    def freeze(self) -> None:
        """Called by the router's ``freeze()``."""


class Resource(AbstractResource):
    """A resource whose routes are keyed by method."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: dict[str, ResourceRoute] = {}
        self._any_route: ResourceRoute | None = None
        self._allowed_methods: set[str] = set()
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    @property
    def routes_by_method(self) -> dict[str, ResourceRoute]:
        """The routes keyed by method (the index reads it; do not change it)."""
        return self._routes

    @property
    def any_route(self) -> ResourceRoute | None:
        """The ``"*"`` route, if any."""
        return self._any_route

    @property
    def allowed_methods(self) -> set[str]:
        """The methods registered here (``"*"`` included when present)."""
        return self._allowed_methods

    def add_route(
        self, method: str, handler: Handler, *, expect_handler: ExpectHandler | None = None
    ) -> ResourceRoute:
        """Add a route for ``method`` (``"*"`` for any); a method may be added once."""
        route = ResourceRoute(method, handler, self, expect_handler=expect_handler)
        existing = self._routes.get(route.method, self._any_route)
        if existing is not None:
            raise RuntimeError(
                "Added route will never be executed, "
                f"method {existing.method} is already registered"
            )
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        if not isinstance(route, ResourceRoute):
            raise TypeError(f"Instance of Route class is required, got {route!r}")
        if self._frozen:
            raise RuntimeError(f"Cannot add a route to {self!r}: its router is frozen")
        if route.method == METH_ANY:
            self._any_route = route
        self._allowed_methods.add(route.method)
        self._routes[route.method] = route

    @abc.abstractmethod
    def match_path(self, path: str) -> dict[str, str] | None:
        """The decoded variables if the path-safe ``path`` matches, else None."""

    def resolve_with(
        self,
        method: str,
        match_dict: dict[str, str],
        default_expect_handler: ExpectHandler | None = None,
    ) -> ResolveResult:
        """Pick the route for ``method`` once the path is known to match."""
        route = self._routes.get(method, self._any_route)
        if route is None:
            return None, self._allowed_methods
        return UrlMappingMatchInfo(match_dict, route, default_expect_handler), self._allowed_methods

    def resolve_path(
        self,
        method: str,
        path: str,
        *,
        default_expect_handler: ExpectHandler | None = None,
        host: str | None = None,
    ) -> ResolveResult:
        match_dict = self.match_path(path)
        if match_dict is None:
            return None, set()
        return self.resolve_with(method, match_dict, default_expect_handler)

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[ResourceRoute]:
        return iter(self._routes.values())


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
        raise ValueError(f"prefix must start with / and not end with /, got {prefix!r}")


class PlainResource(Resource):
    """A path without variables, matched by string equality."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        self._set_path(path)

    def _set_path(self, path: str) -> None:
        self._path = path
        # What a request's path-safe path must equal: the path as written, as
        # aiohttp compares it, so an escape in it ('/a%2Cb') is not decoded
        # and only a '%2F' or '%25' there can ever match; '' is served as '/'.
        self._match_key = path or "/"

    @property
    def canonical(self) -> str:
        return self._path

    @property
    def index_key(self) -> str:
        return key_of(self._match_key)

    @property
    def match_key(self) -> str:
        """The path-safe path a request must have to match."""
        return self._match_key

    def freeze(self) -> None:
        super().freeze()
        if not self._path:
            self._path = "/"

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._set_path(prefix + self._path)

    def match_path(self, path: str) -> dict[str, str] | None:
        return {} if path == self._match_key else None

    def raw_match(self, path: str) -> bool:
        return self._path == path

    def get_info(self) -> ResourceInfo:
        return {"path": self._path}

    def url_for(self) -> URL:  # type: ignore[override]
        """The path as a URL: ``URL('/a%20b')`` for ``'/a b'``."""
        return URL.build(path=requote(self._path or "/"), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name} {self._path}>"


class DynamicResource(Resource):
    """A path template with ``{name}`` / ``{name:regex}`` variables."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if not path.startswith("/"):
            raise ValueError("path should be started with /")
        self._orig_path = path
        self._prefixes = ""  # added by add_prefix (sub-applications), outermost first
        self._template: Template = parse_template(path)

    @property
    def canonical(self) -> str:
        return self._template.formatter

    @property
    def index_key(self) -> str:
        # Only whole literal segments before the first variable count:
        # '/users/{id}' and '/users/x{id}' both live under '/users'.
        return key_of(self._template.literal_prefix.rpartition("/")[0])

    @property
    def template(self) -> Template:
        return self._template

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._prefixes = prefix + self._prefixes
        self._template = parse_template(self._prefixes + self._orig_path)

    def match_path(self, path: str) -> dict[str, str] | None:
        match = self._template.pattern.fullmatch(path)
        if match is None:
            return None
        values: dict[str, str] = match.groupdict()
        if "%" in path:  # only '%2F' and '%25' are left to decode
            return {key: unquote_value(value) for key, value in values.items()}
        return values

    def values_from(self, groups: tuple[str, ...], path: str) -> dict[str, str]:
        """Decoded variables from the groups of a combined match of ``path`` (in order)."""
        if "%" in path:
            return {
                name: unquote_value(value)
                for name, value in zip(self._template.names, groups, strict=True)
            }
        return dict(zip(self._template.names, groups, strict=True))

    def raw_match(self, path: str) -> bool:
        return self._orig_path == path

    def get_info(self) -> ResourceInfo:
        return {"formatter": self._template.formatter, "pattern": self._template.pattern}

    def url_for(self, **parts: str) -> URL:  # type: ignore[override]
        """Fill the template: ``url_for(id='a b')`` -> ``URL('/users/a%20b')``.

        Values are percent-encoded; a ``/`` in a value is kept only where the
        variable's own regex accepts it (``{tail:.*}``), else it is sent as
        ``%2F`` so the URL routes back to the same values.
        """
        template = self._template
        quoted: dict[str, str] = {}
        for name, var_re in zip(template.names, template.var_res, strict=True):
            try:
                value = parts[name]
            except KeyError:
                raise KeyError(
                    f"url_for() of {template.formatter!r} needs a value for {name!r}"
                ) from None
            if not isinstance(value, str):
                raise TypeError(f"url_for() value of {name!r} must be str, got {value!r}")
            keep_slash = (
                "/" in value
                and var_re is not None
                and re.fullmatch(var_re, value.replace("%", "%25")) is not None
            )
            quoted[name] = quote_value(value, keep_slash=keep_slash)
        return URL.build(path=template.formatter.format_map(quoted), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name} {self._template.formatter}>"


class PrefixResource(AbstractResource):
    """A resource that owns every path under a prefix (static files, sub-applications).

    ``prefix`` is ``''`` or starts with ``/`` and does not end with one.  It
    is filed in the index under the prefix, so it is only tried for paths
    equal to it or under it (``/static``, ``/static/...``).
    """

    def __init__(self, prefix: str, *, name: str | None = None) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, got {prefix!r}")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"prefix must start with / and not end with /, got {prefix!r}")
        super().__init__(name=name)
        self._set_prefix(prefix)

    def _set_prefix(self, prefix: str) -> None:
        self._prefix = requote(prefix)  # encoded, as in URLs: '/my%20files'
        # Compared with path-safe paths as written, like a plain path.
        self._match_prefix = prefix
        self._prefix2 = prefix + "/"

    @property
    def canonical(self) -> str:
        return self._prefix

    @property
    def prefix(self) -> str:
        """The (encoded) prefix: ``'/static'``."""
        return self._prefix

    @property
    def index_key(self) -> str | None:
        return key_of(self._match_prefix)

    def add_prefix(self, prefix: str) -> None:
        _check_prefix(prefix)
        self._set_prefix(prefix + self._match_prefix)

    def raw_match(self, prefix: str) -> bool:  # the parameter's name is aiohttp's
        return False
