"""Sub-applications: a prefix (``/api``) or a domain (``*.example.com``) handed to another router.

The application object is opaque: the router only uses ``app.router`` (see
``SubApplication``).  As in aiohttp:

- ``PrefixedSubAppResource(prefix, app)`` adds ``prefix`` to every resource
  of ``app.router`` (so their ``url_for`` and ``canonical`` include it) and
  is filed under ``prefix``; a path under it is resolved by ``app.router``
  and the result, hit *or miss*, is the answer (a 404 inside ``/api`` is the
  sub-application's 404, so its middlewares see it);
- ``MatchedSubAppResource(rule, app)`` is tried before every path, on the
  request's Host: ``Domain('example.com')`` or ``MaskDomain('*.example.com')``;
- either way the match info gets ``add_app(app)``: ``apps`` lists the
  applications outermost first and ``current_app`` is the innermost.
"""

from __future__ import annotations

import abc
import fnmatch
import re
from collections.abc import Iterator

from yarl import URL

from weft.web_exceptions import HTTPMethodNotAllowed

from ._match_info import UrlMappingMatchInfo
from ._resources import PrefixResource, ResolveResult
from ._routes import AbstractRoute
from ._types import ExpectHandler, RequestLike, ResourceInfo, SubApplication

__all__ = [
    "AbstractRuleMatching",
    "Domain",
    "MaskDomain",
    "MatchedSubAppResource",
    "PrefixedSubAppResource",
    "request_host",
]


def request_host(request: RequestLike) -> str | None:
    """The Host a domain rule is matched against: the Host header (as aiohttp), else ``.host``."""
    headers = getattr(request, "headers", None)
    if headers is not None:
        host: str | None = headers.get("Host")
        return host
    return getattr(request, "host", None)


def _allowed_of(info: UrlMappingMatchInfo) -> set[str]:
    exc = info.http_exception
    if isinstance(exc, HTTPMethodNotAllowed):
        return exc.allowed_methods
    return set()


class PrefixedSubAppResource(PrefixResource):
    """Every path under ``prefix`` goes to ``app.router``."""

    def __init__(self, prefix: str, app: SubApplication) -> None:
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        super().__init__(prefix)
        self._app = app
        self._add_prefix_to_resources(prefix)

    @property
    def app(self) -> SubApplication:
        return self._app

    def add_prefix(self, prefix: str) -> None:
        super().add_prefix(prefix)
        self._add_prefix_to_resources(prefix)

    def _add_prefix_to_resources(self, prefix: str) -> None:
        router = self._app.router
        for resource in router.resources():
            # Its index key is about to change: unfile, prefix, file again.
            router.unindex_resource(resource)
            resource.add_prefix(prefix)
            router.index_resource(resource)

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> ResourceInfo:
        return {"app": self._app, "prefix": self._prefix}

    def freeze(self) -> None:
        # A framework freezes its sub-applications itself; a bare router
        # compiles the sub-router's index here.  Freezing twice is harmless.
        self._app.router.freeze()

    def resolve_path(
        self,
        method: str,
        path: str,
        *,
        default_expect_handler: ExpectHandler | None = None,
        host: str | None = None,
    ) -> ResolveResult:
        # The index only reaches this resource for the prefix or paths under it.
        info = self._app.router.match_path_safe(method, path, host=host)
        info.add_app(self._app)
        return info, _allowed_of(info)

    async def resolve(self, request: RequestLike) -> ResolveResult:
        info = await self._app.router.resolve(request)
        info.add_app(self._app)
        return info, _allowed_of(info)

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Iterator[AbstractRoute]:  # type: ignore[override]
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


class AbstractRuleMatching(abc.ABC):
    """A rule on the request that selects a sub-application (``add_domain``)."""

    @abc.abstractmethod
    async def match(self, request: RequestLike) -> bool:
        """Whether the request satisfies the rule (used by ``resolve(request)``)."""

    def match_host(self, host: str | None) -> bool:
        """Whether a request with this Host satisfies the rule (used by ``match``).

        Rules that need more than the Host return False here: they only take
        effect through ``resolve(request)``.
        """
        return False

    @property
    def host_based(self) -> bool:
        """Whether ``match_host`` alone decides, so ``match()`` can apply the rule."""
        return False

    @abc.abstractmethod
    def get_info(self) -> ResourceInfo:
        """Introspection data."""

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The rule as text."""


class Domain(AbstractRuleMatching):
    """The Host is ``domain`` (any port, unless the domain names one)."""

    re_part = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = self.validation(domain)

    @property
    def canonical(self) -> str:
        return self._domain

    def validation(self, domain: str) -> str:
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
        except ValueError as error:
            raise ValueError(f"Domain not valid: {error}") from None
        host = url.raw_host
        if (
            host is None
            or url.raw_path not in ("", "/")
            or url.query_string
            or url.fragment
            or url.user is not None
            or not all(self.re_part.fullmatch(x) for x in host.split("."))
        ):
            raise ValueError("Domain not valid")
        if url.port == 80:
            return host
        return f"{host}:{url.port}"

    async def match(self, request: RequestLike) -> bool:
        return self.match_host(request_host(request))

    @property
    def host_based(self) -> bool:
        # A subclass that overrides the coroutine may look at more than the Host.
        return type(self).match is Domain.match

    def match_host(self, host: str | None) -> bool:
        if not host:
            return False
        return self.match_domain(host)

    def match_domain(self, host: str) -> bool:
        host = host.lower()
        # The port only matters when the domain was registered with one.
        return host == self._domain or host.partition(":")[0] == self._domain

    def get_info(self) -> ResourceInfo:
        return {"domain": self._domain}


class MaskDomain(Domain):
    """The Host matches a mask: ``*.example.com`` (``*`` is any run of characters)."""

    re_part = re.compile(r"(?!-)[a-z\d\*-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        self._pattern = self._domain.replace(".", r"\.").replace("*", "[^:]*") + "(:.*)?"
        host_mask, _, self._port = self._domain.partition(":")
        self._mask = re.compile(fnmatch.translate(host_mask), re.I)

    @property
    def canonical(self) -> str:
        return self._pattern

    def match_domain(self, host: str) -> bool:
        hostname, _, port = host.partition(":")
        if self._port and port != self._port:
            return False
        return self._mask.match(hostname) is not None


class MatchedSubAppResource(PrefixedSubAppResource):
    """Requests that satisfy ``rule`` (a Host) go to ``app.router``, before any path."""

    def __init__(self, rule: AbstractRuleMatching, app: SubApplication) -> None:
        PrefixResource.__init__(self, "")
        self._app = app
        self._rule = rule

    @property
    def rule(self) -> AbstractRuleMatching:
        return self._rule

    @property
    def canonical(self) -> str:
        return self._rule.canonical

    @property
    def index_key(self) -> None:
        return None  # matched by a rule on the request, not filed by path

    def get_info(self) -> ResourceInfo:
        return {"app": self._app, "rule": self._rule}

    def resolve_path(
        self,
        method: str,
        path: str,
        *,
        default_expect_handler: ExpectHandler | None = None,
        host: str | None = None,
    ) -> ResolveResult:
        if not self._rule.match_host(host):
            return None, set()
        return super().resolve_path(method, path, host=host)

    async def resolve(self, request: RequestLike) -> ResolveResult:
        if not await self._rule.match(request):
            return None, set()
        return await super().resolve(request)

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"
