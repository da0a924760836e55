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
- other resources: ``dict[prefix, Bucket]``; inside a bucket, templates are
  grouped by how many '/' a matching path has (templates whose regex may
  span segments join every group), and a group is compiled into one
  alternation regex, tried in C in registration order, whose matched group
  tells which resource won (a group of one dynamic resource uses that
  resource's own named pattern, its variables read by group number).

A lookup (``RouteIndex.resolve``) starts at the deepest prefix of the path
that can be a key (keys are indexed by first segment), costs one dict probe
per prefix from there plus, per bucket reached, one regex call over the
templates of the path's shape: the number of routes barely matters.
Variable-first templates (``/{tenant}/...``) all share the ``/`` bucket, split
by shape like any other.  That quick path handles hits; a 405, a prefix
resource that declines or a group that cannot be combined continue in
``_walk``, the general algorithm, from where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeVar, final

from weft.web_exceptions import HTTPMethodNotAllowed, HTTPNotFound

from ._match_info import MatchInfoError, UrlMappingMatchInfo
from ._quoting import decode_path_safe, unquote_value
from ._resources import (
    AbstractResource,
    DynamicResource,
    PlainResource,
    PrefixResource,
    Resource,
    key_of,
)
from ._routes import ResourceRoute
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

# Groups of this many templates or more are matched with one combined regex
# (one regex call, in C, whatever the count; with one template it costs the same
# as the template's own pattern and lets the lookup take its quick path).
_COMBINE_MIN = 1
# Below this many resources, a bucket is one group (no split by shape).
_SHAPES_MIN = 3

_Entry = tuple[int, AbstractResource]
# (position in the group, the dynamic resource or None for a prefix resource,
#  its routes by method, (variable name, group number) pairs)
_Alt = tuple[int, DynamicResource | None, dict[str, ResourceRoute], tuple[tuple[str, int], ...]]
# Final: mypyc reads these from C statics instead of the module's dict.
_new_dict: Final = dict.__new__
_MatchInfo: Final = UrlMappingMatchInfo


def _hit(
    route: ResourceRoute,
    groups: re.Match[str] | list[str],
    pairs: tuple[tuple[str, int], ...],
    path: str,
    default_expect_handler: ExpectHandler | None,
) -> UrlMappingMatchInfo:
    """The match info of a dynamic hit: the route and its decoded variables.

    Built without the match info's Python ``__init__`` (much cheaper); the
    variables are read by index, precomputed per route: a regex group number
    in a match, or a segment index in the path's segments.
    """
    info: UrlMappingMatchInfo = _new_dict(_MatchInfo)
    decode = "%" in path
    if isinstance(groups, list):  # compiled: a native list read, no boxed index
        for name, index in pairs:
            value = groups[index]
            info[name] = unquote_value(value) if decode else value
    else:
        for name, index in pairs:
            value = groups[index]
            info[name] = unquote_value(value) if decode else value
    info._route = route
    if default_expect_handler is not None:
        info._default_expect = default_expect_handler
    return info


def _segments_fit(
    segs: list[str], literals: tuple[str | None, ...], start: int, braces: bool
) -> bool:
    """Whether a path's segments fit a template whose variables are whole segments.

    ``literals`` holds the template's segments, None for a variable (the
    default pattern, ``[^{}/]+``: a non-empty segment without braces; whether
    the path has a brace at all is ``braces``, one check per path instead of
    one per variable).  The segments before ``start`` are the prefix the
    lookup found the template under, equal already, except the first: a path
    may lack the leading '/'.
    """
    if len(segs) != len(literals) or segs[0]:
        return False
    for index in range(start, len(segs)):
        literal = literals[index]
        seg = segs[index]
        if literal is None:
            if not seg or (braces and ("{" in seg or "}" in seg)):
                return False
        elif seg != literal:
            return False
    return True


@final
class _Quick:
    """A group of one dynamic resource (each under its own literal prefix: the
    common case), matched on its own by the lookup's quick path.

    Where every variable is a whole segment with the default pattern, the
    path's segments are compared with the template's: cheaper than a regex,
    and the values come without a match object.  Otherwise the resource's own
    named pattern is used, its variables read by group number.
    """

    __slots__ = ("fullmatch", "literals", "pairs", "resource", "routes")

    def __init__(self, resource: DynamicResource) -> None:
        template = resource.template
        pattern = template.pattern
        self.resource = resource
        # The resource's own dict, so that routes added later are seen.
        self.routes: dict[str, ResourceRoute] = resource.routes_by_method
        self.fullmatch: Callable[[str], re.Match[str] | None] = pattern.fullmatch
        self.literals: tuple[str | None, ...] | None = None
        indexes = template.var_segments
        if indexes is not None and template.segments is not None:
            self.literals = template.segments
        else:
            indexes = tuple(pattern.groupindex[name] for name in template.names)
        # (variable name, segment index or group number) pairs, for ``_hit``.
        self.pairs: tuple[tuple[str, int], ...] = tuple(zip(template.names, indexes, strict=True))


class _Group:
    """Candidates for one path shape, in registration order, maybe one combined regex."""

    __slots__ = ("alts", "combined", "entries", "groups", "quick")

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.combined: re.Pattern[str] | None = None
        # wrapper group number -> (entry position, group numbers of its variables,
        # variable names, or None for a prefix resource that checks the path itself)
        self.groups: dict[int, tuple[int, tuple[int, ...], tuple[str, ...] | None]] = {}
        # For the lookup's quick path, indexed by the winning wrapper group number:
        # (position, the resource's route dict or None, the resource,
        # (name, group number) pairs).  None routes: a prefix resource.
        self.alts: list[_Alt | None] = []
        self.quick: _Quick | None = None
        if len(entries) == 1 and isinstance(resource := entries[0][1], DynamicResource):
            self.quick = _Quick(resource)
        if len(entries) >= _COMBINE_MIN:
            self._combine()

    def _combine(self) -> None:
        alternatives: list[str] = []
        groups: dict[int, tuple[int, tuple[int, ...], tuple[str, ...] | None]] = {}
        alts: list[_Alt | None] = [None]
        group = 1
        for pos, (_, resource) in enumerate(self.entries):
            if isinstance(resource, PrefixResource):
                # Filed under its prefix, so reached only for paths under it:
                # a candidate for any path here (it checks the rest itself).
                source: str | None = r"[\s\S]*"
                count = 0
                names: tuple[str, ...] | None = None
                dynamic: DynamicResource | None = None
            elif isinstance(resource, DynamicResource):
                source = resource.template.alternative
                names = resource.template.names
                count = len(names)
                dynamic = resource
            else:
                return
            if source is None:
                return
            numbers = tuple(range(group + 1, group + 1 + count))
            groups[group] = (pos, numbers, names)
            pairs = tuple(zip(names or (), numbers, strict=True))
            routes = dynamic.routes_by_method if dynamic is not None else {}
            alts.append((pos, dynamic, routes, pairs))
            alts.extend([None] * count)
            alternatives.append(f"({source})")
            group += 1 + count
        # The wrapper group closes last, so ``lastindex`` names the alternative.
        self.combined = re.compile("|".join(alternatives))
        self.groups = groups
        self.alts = alts


def _segments(resource: AbstractResource) -> tuple[str | None, ...] | None:
    if isinstance(resource, DynamicResource):
        return resource.template.segments
    return None


class _Shape:
    """The templates of one '/' count, split on the segment that is most often literal.

    A template whose segment ``position`` is the literal ``L`` can only match
    paths whose segment ``position`` is ``L``; the others (a variable there,
    or a regex that may span segments) are candidates for every path.
    """

    __slots__ = ("by_literal", "other", "position")

    def __init__(self, entries: list[_Entry], slashes: int) -> None:
        self.position = -1
        self.by_literal: dict[str, _Group] = {}
        best = 0
        for position in range(1, slashes + 1):
            literals = {
                segments[position]
                for _, resource in entries
                if (segments := _segments(resource)) is not None and segments[position] is not None
            }
            if len(literals) > best:
                best, self.position = len(literals), position
        if best < 2:
            self.other = _Group(entries)
            return
        position = self.position
        split: dict[str, list[_Entry]] = {}
        other: list[_Entry] = []
        for entry in entries:
            segments = _segments(entry[1])
            literal = segments[position] if segments is not None else None
            if literal is None:
                other.append(entry)
                for members in split.values():
                    members.append(entry)
            else:
                split.setdefault(literal, list(other)).append(entry)
        self.by_literal = {literal: _Group(members) for literal, members in split.items()}
        self.other = _Group(other)

    def group_for(self, segs: list[str]) -> _Group:
        if self.position < 0:
            return self.other
        return self.by_literal.get(segs[self.position], self.other)


class _Bucket:
    """The non-plain resources filed under one prefix, in registration order.

    Compiled into shapes by the number of '/' in the paths they can match:
    a path with three '/' only tries templates of three segments, plus those
    whose regex may span segments (kept in every shape, in order).
    """

    __slots__ = ("by_slashes", "entries", "only", "quick", "spanning")

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.by_slashes: dict[int, _Shape] = {}
        self.spanning = _Group([])
        self.only: _Group | None = None  # small buckets: one group, no shapes
        self.quick: _Quick | None = None  # ``only.quick``, one attribute load away

    def compile(self) -> None:
        self.quick = None
        if len(self.entries) < _SHAPES_MIN:
            self.only = _Group(self.entries)
            self.quick = self.only.quick
            return
        self.only = None

        def slashes(resource: AbstractResource) -> int | None:
            segments = _segments(resource)
            return None if segments is None else len(segments) - 1

        counts = {n for _, resource in self.entries if (n := slashes(resource)) is not None}
        self.by_slashes = {
            count: _Shape([e for e in self.entries if slashes(e[1]) in (count, None)], count)
            for count in counts
        }
        self.spanning = _Group([e for e in self.entries if slashes(e[1]) is None])

    def group_for(self, segs: list[str]) -> _Group:
        """The group a path tries, from its '/'-separated segments."""
        if self.only is not None:
            return self.only
        shape = self.by_slashes.get(len(segs) - 1)
        return self.spanning if shape is None else shape.group_for(segs)


class RouteIndex:
    """Resources filed by literal prefix; ``resolve`` walks the path's prefixes."""

    def __init__(self) -> None:
        self._plain: dict[str, list[tuple[int, Resource]]] = {}
        self._buckets: dict[str, _Bucket] = {}
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
            bucket = self._buckets[key] = _Bucket()
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
                    info: UrlMappingMatchInfo = _new_dict(_MatchInfo)
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
                    elif _segments_fit(
                        segs, literals, 1 if part == "/" else depth + 1, "{" in path or "}" in path
                    ):
                        groups = segs
                    if groups is not None:
                        route = quick.routes.get(method)
                        if route is None:
                            route = quick.resource._any_route
                        if route is not None:
                            return _hit(route, groups, quick.pairs, path, default_expect_handler)
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
                                return _hit(route, match, pairs, path, default_expect_handler)
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
        bucket: _Bucket,
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
        filed: _Bucket | None,
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
        entries: list[_Entry] = bucket.entries if bucket is not None else []
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

    def match(self, method: str, path: str, *, host: str | None = None) -> UrlMappingMatchInfo:
        """Resolve a raw, percent-encoded path (no query): a match info or a ``MatchInfoError``.

        ``host`` is the request's Host header; without it, domain
        sub-applications (``add_domain``) never match.

        >>> router.match("GET", "/caf%C3%A9/a%2Fb")   # '/caf\u00e9/{x}' gives {'x': 'a/b'}
        """
        if "%" in path:
            path = decode_path_safe(path)
        if self._rule_resources:
            return self.match_path_safe(method, path, host=host)
        found = self._index.resolve(method, path, self.default_expect_handler, host)
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
