"""Property tests: the indexed router against a linear reference, url_for round trips."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from yarl import URL

from weft.web_exceptions import HTTPMethodNotAllowed, HTTPNotFound
from weft.web_routing import UrlDispatcher, UrlMappingMatchInfo
from weft.web_routing._quoting import decode_path_safe

# ---------------------------------------------------------------- strategies

LITERALS = ["a", "b", "users", "me", "x-y", "a b", "caf\u00e9", "1"]
REGEXES = [None, None, r"\d+", r"[a-z]+", r".*", r".+", r"a|b"]
METHODS = ["GET", "POST", "PUT"]


@st.composite
def segments(draw: st.DrawFn, var_names: list[str]) -> str:
    kind = draw(st.sampled_from(["literal", "literal", "var", "mixed"]))
    if kind == "literal":
        return draw(st.sampled_from(LITERALS))
    name = f"v{len(var_names)}"
    var_names.append(name)
    regex = draw(st.sampled_from(REGEXES))
    var = "{" + name + "}" if regex is None else "{" + name + ":" + regex + "}"
    if kind == "mixed":
        return draw(st.sampled_from(LITERALS)) + var
    return var


@st.composite
def templates(draw: st.DrawFn) -> str:
    names: list[str] = []
    parts = draw(st.lists(segments(names), min_size=0, max_size=3))
    path = "/" + "/".join(parts)
    trailing = draw(st.booleans())
    if parts and trailing:
        path += "/"
    return path


@st.composite
def route_tables(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    table: list[tuple[str, list[str]]] = []
    for path in draw(st.lists(templates(), min_size=1, max_size=14)):
        if table and table[-1][0] == path:
            continue  # add_resource would reuse the previous resource
        methods = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 9)) == 0:
            methods.append("*")
        table.append((path, methods))
    return table


def raw_segment(text: str) -> str:
    return quote(text, safe="!$&'()*+,;=:@")


@st.composite
def request_paths(draw: st.DrawFn) -> str:
    """Raw paths made of the table's words, odd characters and escapes."""
    words = st.sampled_from(
        [
            *LITERALS,
            *("12", "zz", "", "a%2Fb", "%25", "%zz", "caf%C3%A9", "%61", "a.b", "bb"),
            # Braces, raw or escaped: never part of a default '{name}' value.
            *("{a}", "a%7Bb", "b}"),
        ]
    )
    parts = draw(st.lists(words, min_size=0, max_size=4))
    encoded = [raw_segment(p) if "%" not in p else p for p in parts]
    return "/" + "/".join(encoded)


def instances(template: str) -> st.SearchStrategy[str]:
    """Raw paths of ``template`` with each variable replaced by a drawn word."""
    words = st.sampled_from(
        ["1", "42", "a", "zz", "a%2Fb", "x/y", "caf%C3%A9", "", "me", "{1}", "%7D"]
    )
    pieces = re.split(r"\{(?:[^{}]|\{[^{}]*\})*\}", template)
    fillers = st.lists(words, min_size=len(pieces) - 1, max_size=len(pieces) - 1)

    def fill(values: list[str]) -> str:
        out = [quote(pieces[0], safe="/!$&'()*+,;=:@")]
        for value, piece in zip(values, pieces[1:], strict=True):
            out.append(value)
            out.append(quote(piece, safe="/!$&'()*+,;=:@"))
        return "".join(out)

    return fillers.map(fill)


# ---------------------------------------------------------------- reference


def _handler(index: int, method: str) -> Callable[[object], Awaitable[None]]:
    async def handler(request: object) -> None:
        return None

    handler.__qualname__ = f"r{index}_{method}"
    return handler


@dataclass
class RefRoute:
    index: int
    pattern: re.Pattern[str]
    key: str
    methods: dict[str, Callable[[object], Awaitable[None]]] = field(default_factory=dict)


def ref_compile(path: str) -> tuple[re.Pattern[str], str]:
    """A template as a regex over the decoded path, and its literal prefix key."""
    out = []
    pos = 0
    first_var = None
    for m in re.finditer(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}", path):
        out.append(re.escape(path[pos : m.start()]))
        if first_var is None:
            first_var = m.start()
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^{}/]+'})")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    literal = path if first_var is None else path[:first_var].rpartition("/")[0]
    return re.compile("".join(out)), literal.rstrip("/") or "/"


def ref_walk(path: str) -> list[str]:
    keys = []
    part = path
    while part:
        keys.append(part)
        if part == "/":
            break
        part = part.rpartition("/")[0] or "/"
    return keys


def ref_match(
    table: list[RefRoute], method: str, raw_path: str
) -> tuple[RefRoute | None, dict[str, str], set[str]]:
    """Linear: most specific literal prefix first, then registration order."""
    path = URL.build(path=raw_path, encoded=True).path_safe
    walk = ref_walk(path)
    found: list[tuple[int, int, RefRoute, dict[str, str]]] = []
    for route in table:
        m = route.pattern.fullmatch(path)
        if m is None or route.key not in walk:
            continue
        values = {k: v.replace("%2F", "/").replace("%25", "%") for k, v in m.groupdict().items()}
        found.append((walk.index(route.key), route.index, route, values))
    found.sort(key=lambda item: (item[0], item[1]))
    allowed: set[str] = set()
    for _, _, route, values in found:
        if method in route.methods or "*" in route.methods:
            return route, values, allowed
        allowed |= set(route.methods)
    return None, {}, allowed


def build(table: list[tuple[str, list[str]]]) -> tuple[UrlDispatcher, list[RefRoute]]:
    router = UrlDispatcher()
    ref: list[RefRoute] = []
    for index, (path, methods) in enumerate(table):
        pattern, key = ref_compile(path)
        entry = RefRoute(index, pattern, key)
        for method in methods:
            handler = _handler(index, method)
            router.add_route(method, path, handler)
            entry.methods[method] = handler
        ref.append(entry)
    return router, ref


# ---------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=route_tables(),
    paths=st.lists(request_paths(), min_size=1, max_size=8),
    method=st.sampled_from([*METHODS, "DELETE"]),
    frozen=st.booleans(),
    data=st.data(),
)
def test_match_agrees_with_linear_reference(
    table: list[tuple[str, list[str]]],
    paths: list[str],
    method: str,
    frozen: bool,
    data: st.DataObject,
) -> None:
    """For random tables and paths, match() picks what the linear reference picks."""
    router, ref = build(table)
    if frozen:
        router.freeze()
    for path, _ in table:  # paths shaped like the table's own templates
        paths.append(data.draw(instances(path)))
    for raw_path in paths:
        expected, values, allowed = ref_match(ref, method, raw_path)
        info = router.match(method, raw_path)
        if expected is not None:
            assert info.http_exception is None, (raw_path, table)
            want = expected.methods.get(method) or expected.methods["*"]
            assert info.handler is want, (raw_path, table)
            assert dict(info) == values
        elif allowed:
            assert isinstance(info.http_exception, HTTPMethodNotAllowed), (raw_path, table)
            assert info.http_exception.allowed_methods == allowed
        else:
            assert isinstance(info.http_exception, HTTPNotFound), (raw_path, table)


@settings(max_examples=100)
@given(table=route_tables(), method=st.sampled_from(METHODS))
def test_big_buckets_agree_with_reference(table: list[tuple[str, list[str]]], method: str) -> None:
    """Tables repeated under one prefix (compiled into one regex) still agree with it."""
    table = [("/api" + path, methods) for path, methods in table * 3]
    deduped: list[tuple[str, list[str]]] = []
    for entry in table:
        if not deduped or deduped[-1][0] != entry[0]:
            deduped.append(entry)
    router, ref = build(deduped)
    router.freeze()
    for path, _ in deduped:
        raw = "/".join(raw_segment(p) for p in path.split("/"))
        raw = re.sub(r"%7B[^/]*?%7D", "1", raw)  # fill variables with a plausible value
        expected, _, _ = ref_match(ref, method, raw)
        info = router.match(method, raw)
        if expected is None:
            assert info.http_exception is not None
        else:
            assert info.handler is (expected.methods.get(method) or expected.methods["*"])


values_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="{}"),
    min_size=1,
    max_size=12,
)


@given(
    literal=st.sampled_from(LITERALS),
    regex=st.sampled_from([None, r".+", r".*", r"[^/]+"]),
    value=values_text,
    tail=st.booleans(),
)
def test_url_for_matches_back(literal: str, regex: str | None, value: str, tail: bool) -> None:
    """url_for(**values) routes back to the same resource with the same values."""
    var = "{v}" if regex is None else "{v:" + regex + "}"
    template = f"/{literal}/{var}" + ("/end" if tail else "")
    router = UrlDispatcher()
    router.add_get(template, _handler(0, "GET"), name="r")
    if regex == r"[^/]+":
        assume("/" not in value)
    if regex is not None:
        assume("\n" not in value)  # '.' does not match a newline
    url = router["r"].url_for(v=value)
    info = router.match("GET", url.raw_path)
    assert info.http_exception is None, (template, value, url)
    assert dict(info) == {"v": value}


escape = st.builds("%{:02X}".format, st.integers(0, 255)) | st.builds(
    "%{:02x}".format, st.integers(0, 255)
)
raw_chars = st.sampled_from([*"abz/.-%~", "\u00e9", " "])


@given(st.lists(st.one_of(escape, raw_chars), max_size=20))
def test_path_decoding_matches_yarl_path_safe(pieces: list[str]) -> None:
    """The router decodes a raw path exactly like yarl's URL.path_safe."""
    raw = "/" + "".join(pieces)
    assert decode_path_safe(raw) == URL.build(path=raw, encoded=True).path_safe


@st.composite
def shaped_tables(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    """Many templates of few shapes: variable-first, literals at varying positions."""
    pieces = st.sampled_from(["a", "b", "c", "{v}", "x{v}", "{v:\\d+}", "{v:.*}"])
    table: list[tuple[str, list[str]]] = []
    count = draw(st.integers(3, 20))
    for _ in range(count):
        parts = draw(st.lists(pieces, min_size=1, max_size=3))
        path = "/" + "/".join(
            part.replace("{v", "{v" + str(number)) for number, part in enumerate(parts)
        )
        if table and table[-1][0] == path:
            continue
        table.append(
            (path, draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True)))
        )
    return table


@settings(max_examples=300)
@given(table=shaped_tables(), method=st.sampled_from(METHODS), data=st.data())
def test_same_shape_buckets_agree_with_reference(
    table: list[tuple[str, list[str]]], method: str, data: st.DataObject
) -> None:
    """Buckets split by shape and literal segment pick what the linear reference picks."""
    router, ref = build(table)
    router.freeze()
    paths = [data.draw(instances(path)) for path, _ in table]
    paths += data.draw(st.lists(request_paths(), max_size=4))
    for raw_path in paths:
        expected, values, allowed = ref_match(ref, method, raw_path)
        info = router.match(method, raw_path)
        if expected is None:
            assert info.http_exception is not None
            exc = info.http_exception
            assert getattr(exc, "allowed_methods", set()) == allowed
        else:
            assert info.handler is (expected.methods.get(method) or expected.methods["*"])
            assert dict(info) == values


@dataclass
class _Request:
    method: str
    rel_url: URL


def _resolved(router: UrlDispatcher, method: str, raw_path: str) -> UrlMappingMatchInfo:
    """Drive ``router.resolve`` to completion (it never suspends)."""
    coro = router.resolve(_Request(method, URL.build(path=raw_path, encoded=True)))
    try:
        coro.send(None)
    except StopIteration as stop:
        result: UrlMappingMatchInfo = stop.value
        return result
    raise AssertionError("resolve() suspended")


@st.composite
def deep_tables(draw: st.DrawFn) -> list[tuple[str, list[str]]]:
    """Literal prefixes of several depths under shared first segments, empty segments,
    variable-first templates and plain paths: the shapes the lookup's start depends on."""
    pieces = st.sampled_from(["api", "v1", "r1", "r2", "", "{v}", "x{v}", "{v:\\d+}", "{v:.*}"])
    table: list[tuple[str, list[str]]] = []
    for _ in range(draw(st.integers(1, 16))):
        parts = draw(st.lists(pieces, min_size=0, max_size=5))
        path = "/" + "/".join(
            part.replace("{v", "{v" + str(number)) for number, part in enumerate(parts)
        )
        if draw(st.booleans()) and parts:
            path += "/"
        if table and table[-1][0] == path:
            continue
        methods = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True))
        table.append((path, methods))
    return table


@settings(max_examples=300)
@given(table=deep_tables(), method=st.sampled_from(METHODS), frozen=st.booleans(), data=st.data())
def test_match_and_resolve_agree_with_reference_on_deep_prefixes(
    table: list[tuple[str, list[str]]], method: str, frozen: bool, data: st.DataObject
) -> None:
    """match() and resolve(request) both pick what the linear reference picks."""
    router, ref = build(table)
    if frozen:
        router.freeze()
    words = st.sampled_from(["api", "v1", "r1", "r2", "", "1", "x1", "xa", "a%2Fb", "%25"])
    paths = [data.draw(instances(path)) for path, _ in table]
    paths += data.draw(
        st.lists(st.lists(words, max_size=6).map(lambda parts: "/" + "/".join(parts)), max_size=6)
    )
    for raw_path in paths:
        expected, values, allowed = ref_match(ref, method, raw_path)
        for info in (router.match(method, raw_path), _resolved(router, method, raw_path)):
            if expected is None:
                exc = info.http_exception
                assert isinstance(exc, HTTPMethodNotAllowed if allowed else HTTPNotFound)
                assert getattr(exc, "allowed_methods", set()) == allowed
            else:
                assert info.http_exception is None, (raw_path, table)
                assert info.handler is (expected.methods.get(method) or expected.methods["*"])
                assert dict(info) == values
