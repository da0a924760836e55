"""The index that turns a path into a resource without trying every route.

Resolution order (aiohttp 3.10+ semantics, which apps rely on):

1. Walk the path's literal prefixes from the longest to ``/``:
   ``/a/b/c``, ``/a/b``, ``/a``, ``/``.
2. At each prefix, try the resources indexed under it in registration order.
   A resource is indexed under the whole literal segments before its first
   variable (``/users/{id}`` under ``/users``); a plain path under itself
   without trailing slashes (``/a/b/`` under ``/a/b``).
3. The first resource whose path matches and which answers the method wins.
   A resource that matches the path but not the method adds its methods to
   the 405 ``Allow`` set, and the walk goes on.

So a more specific literal prefix beats a broader one whatever the order of
registration (``/users/me`` beats ``/users/{id}`` and ``/{any}``), and among
resources filed under the same prefix the first registered wins.

Data structures (built at registration, compiled at ``freeze()``):

- plain paths: ``dict[path_safe_path, [(seq, resource)]]``, one lookup;
- other resources: ``dict[prefix, Bucket]`` (``_groups``); inside a bucket,
  templates are grouped by how many '/' a matching path has (templates whose
  regex may span segments join every group), and a group is compiled into
  one alternation regex, tried in C in registration order, whose matched
  group tells which resource won.  A group of one dynamic resource is a
  ``QuickMatch``: its path segments compared with the template's where every
  variable is a whole segment, else the resource's own named pattern.

A lookup (``RouteIndex.resolve``) splits the path once, starts at the deepest
prefix of the path that can be a key (keys are indexed by first segment),
costs one dict probe per prefix from there plus, per bucket reached, one
segment comparison or one regex call over the templates of the path's shape:
the number of routes barely matters.
Variable-first templates (``/{tenant}/...``) all share the ``/`` bucket, split
by shape like any other.  That quick path handles hits; a 405, a prefix
resource that declines or a group that cannot be combined continue in
``_walk``, the general algorithm, from where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from weft.web_exceptions import HTTPMethodNotAllowed, HTTPNotFound

from ._groups import Bucket, Entry, MatchInfo, dynamic_hit, new_dict, segments_fit
from ._match_info import MatchInfoError, UrlMappingMatchInfo
from ._quoting import decode_path_safe
from ._resources import (
    AbstractResource,
    DynamicResource,
    PlainResource,
    Resource,
    key_of,
)
from ._subapp import request_host
from ._types import ExpectHandler, RequestLike

try:
    from mypy_extensions import mypyc_attr
except ImportError:
    # Not needed at run time (the "mypyc" extra, never required): mypyc reads the
    # decorator while compiling, where mypy brings mypy_extensions; both builds
    # run without it.
    _T = TypeVar("_T")

    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        return lambda cls: cls


__all__ = ["RouteIndex", "RouterCore"]


class RouteIndex:
    """Resources filed by literal prefix; ``resolve`` walks the path's prefixes."""

    def __init__(self) -> None:
        self._plain: dict[str, list[tuple[int, Resource]]] = {}
        self._buckets: dict[str, Bucket] = {}
        self._seq: dict[AbstractResource, int] = {}
        self._next_seq = 0
        self._dirty: set[str] = set()
        # Every plain path -> its resource if nothing can compete for it (one
        # resource, no bucket under the same key: a hit on the right method skips
        # the walk), else None (the general walk merges it with its bucket).
        self._exact: dict[str, Resource | None] = {}
        self._fast_stale = True
        self._max_depth = 0  # the most '/' in a bucket key
        # First segment of bucket keys ('api' for '/api/v1') -> the most '/' in
        # those keys: the walk starts at the path's prefix of that depth (absent: at '/').
        self._starts: dict[str, int] = {}
        self._stale = True  # compile() is due before the next lookup

    def add(self, resource: AbstractResource) -> None:
        """File ``resource``; a re-added resource keeps its registration rank."""
        seq = self._seq.get(resource)
        if seq is None:
            seq = self._seq[resource] = self._next_seq
            self._next_seq += 1
        if isinstance(resource, PlainResource):
            plain = self._plain.setdefault(resource.match_key, [])
            plain.append((seq, resource))
            plain.sort(key=_by_seq)
            self._fast_stale = self._stale = True
            return
        key = resource.index_key
        if key is None:
            raise ValueError(f"{resource!r} cannot be indexed by path")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket()
        bucket.entries.append((seq, resource))
        bucket.entries.sort(key=_by_seq)
        self._dirty.add(key)
        self._fast_stale = self._stale = True

    def remove(self, resource: AbstractResource) -> None:
        """Unfile ``resource`` (before its path changes, e.g. ``add_prefix``)."""
        self._fast_stale = self._stale = True
        if isinstance(resource, PlainResource):
            plain = self._plain[resource.match_key]
            plain[:] = [entry for entry in plain if entry[1] is not resource]
            if not plain:
                del self._plain[resource.match_key]
            return
        key = resource.index_key
        assert key is not None
        bucket = self._buckets[key]
        bucket.entries[:] = [entry for entry in bucket.entries if entry[1] is not resource]
        if bucket.entries:
            self._dirty.add(key)
        else:
            del self._buckets[key]
            self._dirty.discard(key)

    def compile(self) -> None:
        """Build the groups and combined regexes of the buckets changed since the last call."""
        for key in self._dirty:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.compile()
        self._dirty.clear()
        self._max_depth = max((key.count("/") for key in self._buckets), default=0)
        starts: dict[str, int] = {}
        for key in self._buckets:
            if key != "/":
                first = key.split("/")[1]
                starts[first] = max(starts.get(first, 0), key.count("/"))
        self._starts = starts
        if self._fast_stale:
            self._exact = {
                path: entries[0][1]
                if len(entries) == 1 and key_of(path) not in self._buckets
                else None
                for path, entries in self._plain.items()
            }
            self._fast_stale = False
        self._stale = False

    def resolve(
        self,
        method: str,
        path: str,
        default_expect_handler: ExpectHandler | None,
        host: str | None = None,
        match_class: type[UrlMappingMatchInfo] = MatchInfo,
    ) -> UrlMappingMatchInfo | set[str]:
        """Match a path-safe ``path``: the match info, or the methods for a 405 (empty: 404).

        This is the quick path for what most lookups are: a plain path that
        nothing competes for, or a walk whose first matching regex names a
        dynamic resource answering the method.  Anything else (a plain path
        shared with a bucket, a 405, a prefix resource, a group without a
        combined regex) goes on in ``_walk``, the general algorithm, from
        where the quick path stopped.
        """
        if self._stale:
            self.compile()
        exact = self._exact
        if path in exact:
            fast = exact[path]
            if fast is not None:
                route = fast._routes.get(method)
                if route is None:
                    route = fast._any_route
                if route is not None:
                    # A match info without its Python __init__ (about 3x cheaper).
                    info: UrlMappingMatchInfo = new_dict(match_class)
                    info._route = route
                    if default_expect_handler is not None:
                        info._default_expect = default_expect_handler
                    return info
            return self._walk(method, path, default_expect_handler, host, None, set())
        # Start at the deepest prefix that can be a key: the path's prefix with
        # as many segments as the deepest key sharing its first segment.  The
        # path is split once; the prefix is cut where the segments say.
        segs = path.split("/")
        depth = self._starts.get(segs[1]) if len(segs) > 1 else None
        if depth is None:
            part = "/"
            depth = 0
        else:
            if depth >= len(segs):
                depth = len(segs) - 1
            cut = depth + len(segs[1])
            if depth > 1:  # most keys are one segment deep: no loop for them
                for index in range(2, depth + 1):
                    cut += len(segs[index])
            part = path[:cut]
        # Invariant: part is '/' or '/'.join(segs[:depth + 1]).
        buckets = self._buckets
        while True:
            bucket = buckets.get(part)
            if bucket is not None:
                quick = bucket.quick
                if quick is None:
                    group = bucket.only or bucket.group_for(segs)
                    quick = group.quick
                if quick is not None:
                    # Inline rather than a method: a call costs more than this when interpreted.
                    literals = quick.literals
                    groups: re.Match[str] | list[str] | None = None
                    if literals is None:
                        groups = quick.fullmatch(path)
                    elif segments_fit(
                        segs, literals, 1 if part == "/" else depth + 1, "{" in path or "}" in path
                    ):
                        groups = segs
                    if groups is not None:
                        route = quick.routes.get(method)
                        if route is None:
                            route = quick.resource._any_route
                        if route is not None:
                            return dynamic_hit(
                                route,
                                groups,
                                quick.pairs,
                                path,
                                default_expect_handler,
                                match_class,
                            )
                        return self._resume(
                            method,
                            path,
                            default_expect_handler,
                            host,
                            part,
                            bucket,
                            0,
                            set(quick.resource.allowed_methods),
                        )
                else:
                    combined = group.combined
                    if combined is None:
                        return self._walk(method, path, default_expect_handler, host, part, set())
                    match = combined.fullmatch(path)
                    if match is not None:
                        alt = group.alts[match.lastindex]  # type: ignore[index]
                        assert alt is not None
                        pos, resource, routes, pairs = alt
                        if resource is None:  # a prefix resource checks the rest itself
                            found, methods = group.entries[pos][1].resolve_path(
                                method,
                                path,
                                default_expect_handler=default_expect_handler,
                                host=host,
                            )
                            if found is not None:
                                return found
                        else:
                            route = routes.get(method)
                            if route is None:
                                route = resource._any_route
                            if route is not None:
                                return dynamic_hit(
                                    route, match, pairs, path, default_expect_handler, match_class
                                )
                            methods = resource.allowed_methods
                        return self._resume(
                            method,
                            path,
                            default_expect_handler,
                            host,
                            part,
                            bucket,
                            pos,
                            set(methods),
                        )
            if part == "/":
                return set()
            part = part.rpartition("/")[0] or "/"
            depth -= 1

    def _resume(
        self,
        method: str,
        path: str,
        default_expect_handler: ExpectHandler | None,
        host: str | None,
        part: str,
        bucket: Bucket,
        pos: int,
        allowed: set[str],
    ) -> UrlMappingMatchInfo | set[str]:
        """Go on after candidate ``pos`` of ``bucket`` (at ``part``) matched the path only."""
        info = self._resolve_at(
            bucket, None, method, path, allowed, default_expect_handler, host, pos + 1
        )
        if info is not None:
            return info
        if part == "/":
            return allowed
        return self._walk(
            method, path, default_expect_handler, host, part.rpartition("/")[0] or "/", allowed
        )

    def _walk(
        self,
        method: str,
        path: str,
        default_expect_handler: ExpectHandler | None,
        host: str | None,
        part: str | None,
        allowed: set[str],
    ) -> UrlMappingMatchInfo | set[str]:
        """The general lookup from prefix ``part`` (None: the whole path) down to ``/``.

        With ``part`` None, plain resources of ``path`` are merged by rank with
        the bucket filed under the same key.
        """
        buckets = self._buckets
        plain = None
        plain_key: str | None = None
        if part is None:
            plain = self._plain.get(path)
            if plain is not None:
                plain_key = path.rstrip("/") or "/"
                part = path
            else:
                # No key has more '/' than max_depth: start at the path's prefix of
                # that depth instead of probing every longer prefix.
                depth = self._max_depth
                if depth == 0:
                    return allowed
                part = path
                if path.count("/") > depth:
                    idx = -1
                    for _ in range(depth + 1):
                        idx = path.find("/", idx + 1)
                    part = path[:idx] or "/"
        while True:
            bucket = buckets.get(part)
            at_plain = part == plain_key
            if bucket is not None or at_plain:
                info = self._resolve_at(
                    bucket,
                    plain if at_plain else None,
                    method,
                    path,
                    allowed,
                    default_expect_handler,
                    host,
                )
                if info is not None:
                    return info
            if part == "/":
                return allowed
            part = part.rpartition("/")[0] or "/"

    @staticmethod
    def _resolve_at(
        filed: Bucket | None,
        plain: list[tuple[int, Resource]] | None,
        method: str,
        path: str,
        allowed: set[str],
        default_expect_handler: ExpectHandler | None,
        host: str | None,
        start: int | None = None,
    ) -> UrlMappingMatchInfo | None:
        """Try the candidates at one prefix, merged by rank; from ``start`` if given."""
        bucket = filed.group_for(path.split("/")) if filed is not None else None
        entries: list[Entry] = bucket.entries if bucket is not None else []
        pos = 0 if start is None else start
        found: DynamicResource | None = None
        values: dict[str, str] = {}
        if start is None and bucket is not None and bucket.combined is not None:
            match = bucket.combined.fullmatch(path)
            if match is None:
                pos = len(entries)
            else:
                assert match.lastindex is not None
                pos, numbers, _ = bucket.groups[match.lastindex]
                resource = entries[pos][1]
                if isinstance(resource, DynamicResource):
                    found = resource
                    if len(numbers) > 1:
                        groups: tuple[str, ...] = match.group(*numbers)
                    else:
                        groups = tuple(match.group(n) for n in numbers)
                    values = resource.values_from(groups, path)
        plain_pos = 0
        plain_count = len(plain) if plain is not None else 0
        while True:
            # Merge plain and filed candidates by registration rank.
            if (
                plain is not None
                and plain_pos < plain_count
                and (pos >= len(entries) or plain[plain_pos][0] < entries[pos][0])
            ):
                info, methods = plain[plain_pos][1].resolve_with(method, {}, default_expect_handler)
                plain_pos += 1
            elif pos < len(entries):
                resource = entries[pos][1]
                pos += 1
                if found is resource and isinstance(resource, Resource):
                    info, methods = resource.resolve_with(method, values, default_expect_handler)
                    found = None
                else:
                    info, methods = resource.resolve_path(
                        method, path, default_expect_handler=default_expect_handler, host=host
                    )
            else:
                return None
            if info is not None:
                return info
            allowed |= methods


def _by_seq(entry: tuple[int, object]) -> int:
    return entry[0]


@mypyc_attr(allow_interpreted_subclasses=True)
class RouterCore:
    """The lookup half of ``UrlDispatcher``, its base class: ``match`` and ``resolve``.

    It lives beside the index so that, in the compiled build, a lookup goes
    from the caller to the regex without a Python frame; ``UrlDispatcher``
    (pure Python, subclassable as aiohttp's) adds registration and the
    mapping API.
    """

    def __init__(self, default_expect_handler: ExpectHandler | None = None) -> None:
        self._index = RouteIndex()
        # Resources matched by a rule on the whole request (domains), tried first.
        self._rule_resources: list[AbstractResource] = []
        self.default_expect_handler = default_expect_handler
        self._has_subapps = False  # resolve() reads the Host only when a sub-router may need it

    def match(
        self,
        method: str,
        path: str,
        *,
        host: str | None = None,
        match_class: type[UrlMappingMatchInfo] = MatchInfo,
    ) -> UrlMappingMatchInfo:
        """Resolve a raw, percent-encoded path (no query): a match info or a ``MatchInfoError``.

        ``host`` is the request's Host header; without it, domain
        sub-applications (``add_domain``) never match. ``match_class`` (a
        subclass of ``UrlMappingMatchInfo``, as ``UrlMappingMatchInfo.bound_to(app)``
        makes) is the class of the match info of a route the index finds by
        its own lookups, which is every plain and dynamic route of this
        router in the common case. Any other result (a miss, a
        sub-application's route, one found by walking the resources after
        an ambiguous prefix, a rule resource's) is of its usual class: a
        caller tells them apart by ``type(info) is match_class``.

        >>> router.match("GET", "/caf%C3%A9/a%2Fb")   # '/caf\u00e9/{x}' gives {'x': 'a/b'}
        """
        if "%" in path:
            path = decode_path_safe(path)
        if self._rule_resources:
            return self.match_path_safe(method, path, host=host)
        found = self._index.resolve(method, path, self.default_expect_handler, host, match_class)
        if type(found) is not set:  # cheaper than isinstance on the hot path
            return found  # type: ignore[return-value]
        if found:
            return MatchInfoError(HTTPMethodNotAllowed(method, found))
        return MatchInfoError(HTTPNotFound())

    def match_path_safe(
        self, method: str, path: str, *, host: str | None = None
    ) -> UrlMappingMatchInfo:
        """``match`` for a path already decoded like ``URL.path_safe`` (sub-routers use it)."""
        allowed: set[str] | None = None
        if self._rule_resources:
            allowed = set()
            for resource in self._rule_resources:
                info, methods = resource.resolve_path(method, path, host=host)
                if info is not None:
                    return info
                allowed |= methods
        found = self._index.resolve(method, path, self.default_expect_handler, host)
        if not isinstance(found, set):
            return found
        if allowed:
            found |= allowed
        if found:
            return MatchInfoError(HTTPMethodNotAllowed(method, found))
        return MatchInfoError(HTTPNotFound())

    async def resolve(self, request: RequestLike) -> UrlMappingMatchInfo:
        """aiohttp's entry point: match ``request.method`` and ``request.rel_url.raw_path``.

        Domain rules are evaluated with ``await rule.match(request)`` here, so
        custom ``AbstractRuleMatching`` rules work; sub-routers under a prefix
        get the request's Host header.
        """
        method = request.method
        path = request.rel_url.raw_path
        if "%" in path:
            path = decode_path_safe(path)
        if not self._rule_resources:
            found = self._index.resolve(
                method,
                path,
                self.default_expect_handler,
                request_host(request) if self._has_subapps else None,
            )
            if type(found) is not set:  # cheaper than isinstance on the hot path
                return found  # type: ignore[return-value]
            if found:
                return MatchInfoError(HTTPMethodNotAllowed(method, found))
            return MatchInfoError(HTTPNotFound())
        allowed: set[str] = set()
        for resource in self._rule_resources:
            info, methods = await resource.resolve(request)
            if info is not None:
                return info
            allowed |= methods
        host = request_host(request) if self._has_subapps else None
        found = self._index.resolve(method, path, self.default_expect_handler, host)
        if not isinstance(found, set):
            return found
        allowed |= found
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(method, allowed))
        return MatchInfoError(HTTPNotFound())
