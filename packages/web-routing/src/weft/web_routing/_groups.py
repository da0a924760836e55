"""The compiled form of a bucket's resources, and building a dynamic hit's match info.

``RouteIndex`` (``_matcher``) files resources by literal prefix; at
``freeze()`` each bucket of non-plain resources is compiled into the
structures here:

- ``Bucket``: the resources filed under one prefix, split by how many '/' a
  matching path has (``Shape``), each shape split again on its most often
  literal segment;
- ``Group``: the candidates a path of one shape tries, in registration
  order, as one combined regex whose winning group names the resource;
- ``QuickMatch``: a group of one dynamic resource, the usual case, which the
  lookup matches on its own: by comparing the path's segments with the
  template's where every variable is a whole segment with the default
  pattern (``segments_fit``), else with the resource's own regex;
- ``dynamic_hit``: the match info of a hit, built without the match info's
  Python ``__init__``.

Compiled with mypyc together with ``_matcher`` (see ``pyproject.toml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, final

from ._match_info import UrlMappingMatchInfo
from ._quoting import unquote_value
from ._resources import AbstractResource, DynamicResource, PrefixResource
from ._routes import ResourceRoute
from ._types import ExpectHandler

__all__ = [
    "Alt",
    "Bucket",
    "Entry",
    "Group",
    "MatchInfo",
    "QuickMatch",
    "dynamic_hit",
    "new_dict",
    "segments_fit",
]

# Groups of this many templates or more are matched with one combined regex
# (one regex call, in C, whatever the count; with one template it costs the same
# as the template's own pattern and lets the lookup take its quick path).
_COMBINE_MIN = 1
# Below this many resources, a bucket is one group (no split by shape).
_SHAPES_MIN = 3

Entry = tuple[int, AbstractResource]
# (position in the group, the dynamic resource or None for a prefix resource,
#  its routes by method, (variable name, group number) pairs)
Alt = tuple[int, DynamicResource | None, dict[str, ResourceRoute], tuple[tuple[str, int], ...]]
# Final: mypyc reads these from C statics instead of the module's dict.
new_dict: Final = dict.__new__
MatchInfo: Final = UrlMappingMatchInfo


def dynamic_hit(
    route: ResourceRoute,
    groups: re.Match[str] | list[str],
    pairs: tuple[tuple[str, int], ...],
    path: str,
    default_expect_handler: ExpectHandler | None,
    match_class: type[UrlMappingMatchInfo],
) -> UrlMappingMatchInfo:
    """The match info of a dynamic hit: the route and its decoded variables.

    Built without the match info's Python ``__init__`` (much cheaper); the
    variables are read by index, precomputed per route: a regex group number
    in a match, or a segment index in the path's segments.
    """
    info: UrlMappingMatchInfo = new_dict(match_class)
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


def segments_fit(
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
class QuickMatch:
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
        # (variable name, segment index or group number) pairs, for ``dynamic_hit``.
        self.pairs: tuple[tuple[str, int], ...] = tuple(zip(template.names, indexes, strict=True))


class Group:
    """Candidates for one path shape, in registration order, maybe one combined regex."""

    __slots__ = ("alts", "combined", "entries", "groups", "quick")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.combined: re.Pattern[str] | None = None
        # wrapper group number -> (entry position, group numbers of its variables,
        # variable names, or None for a prefix resource that checks the path itself)
        self.groups: dict[int, tuple[int, tuple[int, ...], tuple[str, ...] | None]] = {}
        # For the lookup's quick path, indexed by the winning wrapper group number:
        # (position, the resource's route dict or None, the resource,
        # (name, group number) pairs).  None routes: a prefix resource.
        self.alts: list[Alt | None] = []
        self.quick: QuickMatch | None = None
        if len(entries) == 1 and isinstance(resource := entries[0][1], DynamicResource):
            self.quick = QuickMatch(resource)
        if len(entries) >= _COMBINE_MIN:
            self._combine()

    def _combine(self) -> None:
        alternatives: list[str] = []
        groups: dict[int, tuple[int, tuple[int, ...], tuple[str, ...] | None]] = {}
        alts: list[Alt | None] = [None]
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


class Shape:
    """The templates of one '/' count, split on the segment that is most often literal.

    A template whose segment ``position`` is the literal ``L`` can only match
    paths whose segment ``position`` is ``L``; the others (a variable there,
    or a regex that may span segments) are candidates for every path.
    """

    __slots__ = ("by_literal", "other", "position")

    def __init__(self, entries: list[Entry], slashes: int) -> None:
        self.position = -1
        self.by_literal: dict[str, Group] = {}
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
            self.other = Group(entries)
            return
        position = self.position
        split: dict[str, list[Entry]] = {}
        other: list[Entry] = []
        for entry in entries:
            segments = _segments(entry[1])
            literal = segments[position] if segments is not None else None
            if literal is None:
                other.append(entry)
                for members in split.values():
                    members.append(entry)
            else:
                split.setdefault(literal, list(other)).append(entry)
        self.by_literal = {literal: Group(members) for literal, members in split.items()}
        self.other = Group(other)

    def group_for(self, segs: list[str]) -> Group:
        if self.position < 0:
            return self.other
        return self.by_literal.get(segs[self.position], self.other)


class Bucket:
    """The non-plain resources filed under one prefix, in registration order.

    Compiled into shapes by the number of '/' in the paths they can match:
    a path with three '/' only tries templates of three segments, plus those
    whose regex may span segments (kept in every shape, in order).
    """

    __slots__ = ("by_slashes", "entries", "only", "quick", "spanning")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.by_slashes: dict[int, Shape] = {}
        self.spanning = Group([])
        self.only: Group | None = None  # small buckets: one group, no shapes
        self.quick: QuickMatch | None = None  # ``only.quick``, one attribute load away

    def compile(self) -> None:
        self.quick = None
        if len(self.entries) < _SHAPES_MIN:
            self.only = Group(self.entries)
            self.quick = self.only.quick
            return
        self.only = None

        def slashes(resource: AbstractResource) -> int | None:
            segments = _segments(resource)
            return None if segments is None else len(segments) - 1

        counts = {n for _, resource in self.entries if (n := slashes(resource)) is not None}
        self.by_slashes = {
            count: Shape([e for e in self.entries if slashes(e[1]) in (count, None)], count)
            for count in counts
        }
        self.spanning = Group([e for e in self.entries if slashes(e[1]) is None])

    def group_for(self, segs: list[str]) -> Group:
        """The group a path tries, from its '/'-separated segments."""
        if self.only is not None:
            return self.only
        shape = self.by_slashes.get(len(segs) - 1)
        return self.spanning if shape is None else shape.group_for(segs)
