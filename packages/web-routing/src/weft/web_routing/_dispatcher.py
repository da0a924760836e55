"""``UrlDispatcher``: aiohttp's router API over ``RouteIndex``.

Registration validates (method, path template, route name) and files the
resource in the index; ``freeze()`` compiles the index and forbids changes.
``match(method, path)`` needs no request object; ``resolve(request)`` is the
aiohttp-compatible coroutine on top of it. Both come from ``RouterCore``
(``_matcher``), which the mypyc build compiles with the index.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sized
from types import MappingProxyType
from typing import TYPE_CHECKING

from ._matcher import RouterCore
from ._resources import AbstractResource, DynamicResource, PlainResource, Resource
from ._routes import AbstractRoute
from ._static import DEFAULT_CHUNK_SIZE, ResponseFactories, StaticResource
from ._subapp import (
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
)
from ._template import is_dynamic
from ._types import (
    METH_ANY,
    ExpectHandler,
    FileResponseFactory,
    Handler,
    HtmlResponseFactory,
    SubApplication,
)

if TYPE_CHECKING:
    from ._routedef import AbstractRouteDef

__all__ = ["ResourcesView", "RoutesView", "UrlDispatcher"]

_NAME_SPLIT = re.compile(r"[.:-]")


class ResourcesView(Sized, Iterable[AbstractResource], Container[AbstractResource]):
    """The registered resources, in registration order."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._resources = resources

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[AbstractResource]:
        return iter(self._resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._resources


class RoutesView(Sized, Iterable[AbstractRoute], Container[AbstractRoute]):
    """Every route of every resource, in registration order."""

    def __init__(self, resources: list[AbstractResource]) -> None:
        self._routes: list[AbstractRoute] = [route for res in resources for route in res]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes)

    def __contains__(self, route: object) -> bool:
        return route in self._routes


def _resource_needs_resolve(resource: AbstractResource) -> bool:
    if isinstance(resource, MatchedSubAppResource) and not resource.rule.host_based:
        return True
    if isinstance(resource, PrefixedSubAppResource):
        return resource.app.router.needs_resolve
    return False


def _check_name(name: str) -> None:
    for part in _NAME_SPLIT.split(name):
        if keyword.iskeyword(part):
            raise ValueError(
                f"Incorrect route name {name!r}, python keywords cannot be used for route name"
            )
        if not part.isidentifier():
            raise ValueError(
                f"Incorrect route name {name!r}, the name should be a sequence of "
                "python identifiers separated by dash, dot or column"
            )


class UrlDispatcher(RouterCore, Mapping[str, AbstractResource]):
    """Resources and routes; a mapping from route name to resource.

    >>> router = UrlDispatcher()
    >>> router.add_get("/users/{id}", get_user, name="user")
    >>> router.match("GET", "/users/42")
    <MatchInfo {'id': '42'}: <ResourceRoute [GET] ...>>
    >>> router["user"].url_for(id="42")
    URL('/users/42')
    """

    def __init__(
        self,
        *,
        default_expect_handler: ExpectHandler | None = None,
        file_response_factory: FileResponseFactory | None = None,
        html_response_factory: HtmlResponseFactory | None = None,
    ) -> None:
        # The index, the rule resources, default_expect_handler, _has_subapps.
        super().__init__(default_expect_handler)
        self._frozen = False
        self._needs_resolve: bool | None = None  # cached by needs_resolve once frozen
        self._resources: list[AbstractResource] = []
        self._named_resources: dict[str, AbstractResource] = {}
        self._factories = ResponseFactories(file_response_factory, html_response_factory)

    # ---------------------------------------------------------------- responses

    def set_response_factories(
        self,
        *,
        file_response_factory: FileResponseFactory,
        html_response_factory: HtmlResponseFactory | None = None,
    ) -> None:
        """Give the static resources of this router a way to build responses.

        ``file_response_factory(path, chunk_size)`` answers a file (an existing
        regular file inside the directory), ``html_response_factory(text)`` a
        directory index page (``show_index=True``); either may return an
        awaitable.  A framework calls this when it creates or adopts a router.
        """
        self._factories.file = file_response_factory
        self._factories.html = html_response_factory

    @property
    def file_response_factory(self) -> FileResponseFactory | None:
        return self._factories.file

    @property
    def html_response_factory(self) -> HtmlResponseFactory | None:
        return self._factories.html

    # ---------------------------------------------------------------- matching
    # match(method, path, *, host=None), match_path_safe(...) and
    # async resolve(request) are RouterCore's (_matcher.py).

    # ---------------------------------------------------------------- mapping / views

    def __iter__(self) -> Iterator[str]:
        return iter(self._named_resources)

    def __len__(self) -> int:
        return len(self._named_resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._named_resources

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named_resources[name]

    def resources(self) -> ResourcesView:
        return ResourcesView(self._resources)

    def routes(self) -> RoutesView:
        return RoutesView(self._resources)

    def named_resources(self) -> Mapping[str, AbstractResource]:
        return MappingProxyType(self._named_resources)

    # ---------------------------------------------------------------- registration

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Compile the index; from now on registration raises RuntimeError."""
        self._frozen = True
        for resource in self._resources:
            resource.freeze()
        self._index.compile()

    @property
    def needs_host(self) -> bool:
        """Whether ``match()`` reads its ``host`` argument: only once a
        sub-application is mounted (``add_subapp``, ``add_domain``; a domain
        rule, or a sub-router's own rules, may need it). While it is False, a
        framework may call ``match()`` without finding the request's Host, as
        weft.web does.
        """
        return self._has_subapps

    @property
    def needs_resolve(self) -> bool:
        """Whether only ``await resolve(request)`` gives this router's answer.

        ``match()`` answers the same without a coroutine, except when a
        subclass overrides ``resolve`` or a rule, here or in a sub-application's
        router, needs more than the Host (a custom ``AbstractRuleMatching``,
        whose ``match(request)`` is a coroutine).  A framework calls ``match()``
        when this is False, as weft.web does.  Cached once the router is frozen.
        """
        needs = self._needs_resolve
        if needs is None:
            needs = type(self).resolve is not RouterCore.resolve or any(
                _resource_needs_resolve(resource) for resource in self._resources
            )
            if self._frozen:
                self._needs_resolve = needs
        return needs

    def _check_not_frozen(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")

    def register_resource(self, resource: AbstractResource) -> None:
        """Add a resource built elsewhere (validates its name, files it in the index)."""
        if not isinstance(resource, AbstractResource):
            raise TypeError(f"Instance of AbstractResource class is required, got {resource!r}")
        self._check_not_frozen()
        name = resource.name
        if name is not None:
            _check_name(name)
            if name in self._named_resources:
                raise ValueError(
                    f"Duplicate {name!r}, already handled by {self._named_resources[name]!r}"
                )
        if isinstance(resource, StaticResource) and resource.factories is None:
            resource.factories = self._factories
        if isinstance(resource, PrefixedSubAppResource):
            self._has_subapps = True
        if resource.index_key is None:
            self._rule_resources.append(resource)
        else:
            self._index.add(resource)
        if name is not None:
            self._named_resources[name] = resource
        self._resources.append(resource)

    def index_resource(self, resource: AbstractResource) -> None:
        """File ``resource`` in the index again (after ``unindex_resource`` and a path change)."""
        if resource.index_key is not None:
            self._index.add(resource)

    def unindex_resource(self, resource: AbstractResource) -> None:
        """Take ``resource`` out of the index (before changing its path)."""
        if resource.index_key is not None:
            self._index.remove(resource)

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """The resource for ``path``: plain, or dynamic when it has ``{variables}``.

        Consecutive calls with the same path and name share one resource, so
        ``add_get(p, ...)`` then ``add_post(p, ...)`` make one resource with two routes.
        """
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        self._check_not_frozen()
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if is_dynamic(path):
            resource = DynamicResource(path, name=name)
        else:
            resource = PlainResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_static(
        self,
        prefix: str,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> StaticResource:
        """Serve the files of directory ``path`` under ``prefix`` (GET and HEAD).

        ValueError if the directory does not exist.  Serving needs the
        router's file-response factory (see ``set_response_factories``).
        """
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, got {prefix!r}")
        if not prefix.startswith("/"):
            raise ValueError(f"prefix must start with /, got {prefix!r}")
        self._check_not_frozen()
        resource = StaticResource(
            prefix.rstrip("/"),
            path,
            name=name,
            expect_handler=expect_handler,
            chunk_size=chunk_size,
            show_index=show_index,
            follow_symlinks=follow_symlinks,
            append_version=append_version,
        )
        self.register_resource(resource)
        return resource

    def add_prefixed_subapp(self, prefix: str, app: SubApplication) -> PrefixedSubAppResource:
        """Hand every path under ``prefix`` to ``app.router`` (``Application.add_subapp``).

        The prefix is added to ``app.router``'s resources now, so add routes
        to the sub-application before this call, as with aiohttp.
        """
        if not isinstance(prefix, str):
            raise TypeError("Prefix must be str")
        prefix = prefix.rstrip("/")
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        self._check_sub_router(app)
        resource = PrefixedSubAppResource(prefix, app)
        self.register_resource(resource)
        return resource

    def add_domain(self, domain: str, app: SubApplication) -> MatchedSubAppResource:
        """Hand requests whose Host is ``domain`` (``*`` wildcards allowed) to ``app.router``."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        rule: Domain = MaskDomain(domain) if "*" in domain else Domain(domain)
        self._check_sub_router(app)
        resource = MatchedSubAppResource(rule, app)
        self.register_resource(resource)
        return resource

    def _check_sub_router(self, app: SubApplication) -> None:
        self._check_not_frozen()
        router = getattr(app, "router", None)
        if not isinstance(router, UrlDispatcher):
            raise TypeError(f"a sub-application needs a UrlDispatcher as .router, got {app!r}")
        if router is self:
            raise ValueError("an application cannot be its own sub-application")
        if router.frozen:
            raise RuntimeError("Cannot add frozen application")

    def add_route(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        """Route ``method`` (``"*"`` for any) on ``path`` to ``handler``."""
        self._check_not_frozen()
        resource = self.add_resource(path, name=name)
        return resource.add_route(method, handler, expect_handler=expect_handler)

    def add_head(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("HEAD", path, handler, name=name, expect_handler=expect_handler)

    def add_options(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("OPTIONS", path, handler, name=name, expect_handler=expect_handler)

    def add_get(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        allow_head: bool = True,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        """Route GET, and HEAD too unless ``allow_head=False``; returns the GET route."""
        self._check_not_frozen()
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route("HEAD", handler, expect_handler=expect_handler)
        return resource.add_route("GET", handler, expect_handler=expect_handler)

    def add_post(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("POST", path, handler, name=name, expect_handler=expect_handler)

    def add_put(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("PUT", path, handler, name=name, expect_handler=expect_handler)

    def add_patch(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("PATCH", path, handler, name=name, expect_handler=expect_handler)

    def add_delete(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        return self.add_route("DELETE", path, handler, name=name, expect_handler=expect_handler)

    def add_view(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        """Route every method to a class-based view (a ``View`` subclass)."""
        return self.add_route(METH_ANY, path, handler, name=name, expect_handler=expect_handler)

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[AbstractRoute]:
        """Register route definitions (a ``RouteTableDef`` or ``[web.get(...), ...]``)."""
        registered: list[AbstractRoute] = []
        for route_def in routes:
            registered.extend(route_def.register(self))
        return registered
