"""weft's router against aiohttp's own, on random route tables and requests.

The router's package tests hold it to a linear reference matcher; this holds
it to aiohttp 3.x's ``UrlDispatcher`` itself: for the same table (added in
the same order) and the same request, both must pick the same route with the
same variables, or both answer 404, or both 405 with the same ``Allow``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aiohttp_web
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.differential import under_both
from weft import web as weft_web

# Escapes in a registered path are kept as written and compared with the
# request's path-safe path (aiohttp's rule, issue 14): '%2C' never matches,
# '%2F', '%25' and a lone '%' do.
ESCAPED_WORDS = ["a%2Cb", "x%2Fy", "p%25q", "100%", "a,b"]
WORDS = ["a", "b", "users", "me", "1", "42", "x-y", "caf\u00e9", *ESCAPED_WORDS]
# aiohttp's dynamic resources never match a literal that needs percent-encoding
# (aio-libs/aiohttp#13433; weft's do, see the web-routing README), so dynamic
# templates are drawn from the words both routers agree on.
ASCII_WORDS = [word for word in WORDS if word.isascii()]
REGEXES = [None, None, None, r"\d+", r"[a-z]+", r"[^/]+\.json"]
# How a route is added: add_route(method, ...), or add_get (which also answers HEAD).
ADDS = ["GET", "POST", "PUT", "*", "add_get"]
METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE"]


@st.composite
def template(draw: st.DrawFn) -> str:
    names = iter(f"v{i}" for i in range(10))
    kinds = draw(st.lists(st.sampled_from(["word", "word", "var", "glued"]), max_size=3))
    words = WORDS if set(kinds) <= {"word"} else ASCII_WORDS
    parts: list[str] = []
    for kind in kinds:
        if kind == "word":
            parts.append(draw(st.sampled_from(words)))
            continue
        regex = draw(st.sampled_from(REGEXES))
        var = "{" + next(names) + (":" + regex if regex else "") + "}"
        parts.append(var if kind == "var" else draw(st.sampled_from(words)) + var)
    trailing_slash: bool = draw(st.booleans())
    return "/" + "/".join(parts) + ("/" if parts and trailing_slash else "")


@st.composite
def request_path(draw: st.DrawFn) -> str:
    words = [
        *WORDS,
        *("12", "zz", "", "a.json", "caf%C3%A9", "a%2Fb", "%7Bx%7D", "b%20c"),
        *("a%2cb", "x%2fy", "p%q", "100%25", "%zz", "%C3"),
    ]
    parts = draw(st.lists(st.sampled_from(words), max_size=4))
    return "/" + "/".join(parts)


def _handler(index: int) -> Any:  # a handler for either framework
    async def handler(request: Any) -> None:
        return None

    handler.__name__ = f"route{index}"
    return handler


def _add(router: Any, how: str, path: str, handler: Any) -> None:
    if how == "add_get":
        router.add_get(path, handler)
    else:
        router.add_route(how, path, handler)


def _outcome(info: Any) -> tuple[object, ...]:
    exception = info.http_exception
    if exception is None:
        return ("hit", info.handler.__name__, dict(info))
    if exception.status == 405:
        return (405, sorted(exception.allowed_methods))
    return (exception.status,)


def _drive(coro: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("resolve() suspended")


_VARIABLE = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
# How a request may spell a route's escaped literal: as registered, decoded
# (what aiohttp compares), escaped again, or with a lower-case escape.
SPELLINGS = {
    "a%2Cb": ["a%2Cb", "a,b", "a%2cb", "a%252Cb"],
    "x%2Fy": ["x%2Fy", "x%2fy", "x/y"],
    "p%25q": ["p%25q", "p%q", "p%2525q"],
    "100%": ["100%", "100%25"],
    "caf\u00e9": ["caf%C3%A9", "caf%c3%a9"],
}


@st.composite
def path_of_route(draw: st.DrawFn, table: list[tuple[str, str]]) -> str:
    """A request aimed at one of the table's routes, its escapes spelled several ways."""
    path = _VARIABLE.sub(
        lambda _: draw(st.sampled_from(["1", "12", "a%2Fb", "a,b"])),
        draw(st.sampled_from(table))[0],
    )
    for word, spellings in SPELLINGS.items():
        if word in path:
            path = path.replace(word, draw(st.sampled_from(spellings)))
    return path


@st.composite
def table_and_requests(
    draw: st.DrawFn,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    table = draw(st.lists(st.tuples(template(), st.sampled_from(ADDS)), min_size=1, max_size=10))
    paths = st.one_of(request_path(), path_of_route(table))
    requests = draw(st.lists(st.tuples(st.sampled_from(METHODS), paths), min_size=1, max_size=8))
    return table, requests


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_and_requests())
def test_same_route_as_aiohttp(
    table_requests: tuple[list[tuple[str, str]], list[tuple[str, str]]],
) -> None:
    """Same table, same request: the same route and variables, or the same 404/405."""
    table, requests = table_requests
    ours, theirs = weft_web.UrlDispatcher(), aiohttp_web.UrlDispatcher()
    for index, (path, how) in enumerate(table):
        handler = _handler(index)
        try:
            _add(theirs, how, path, handler)
        except (ValueError, RuntimeError) as exc:  # a table aiohttp refuses
            with pytest.raises(type(exc)):
                _add(ours, how, path, handler)
            event("a table both refuse")
            return
        _add(ours, how, path, handler)
    for method, path in requests:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # The path as a server's parser gives it: make_mocked_request(method,
            # "//a") would read "a" as a host, as a URL reference would.
            request = make_mocked_request(method, "/").clone(
                rel_url=URL.build(path=path, encoded=True)
            )
        expected = _outcome(_drive(theirs.resolve(request)))
        event(f"outcome: {expected[0]}")
        assert _outcome(ours.match(method, path)) == expected, (method, path, table)
        assert _outcome(_drive(ours.resolve(request))) == expected, (method, path, table)


# The case and its neighbours, served for real by both frameworks:
# registered (plain, dynamic, sub-application and static) paths with escapes,
# requested with the escape, decoded, in lower case, and with '%2F'.
ROUTES = [
    "/a%2Cb",
    "/a,b2",
    "/caf\u00e9",
    "/x%2Fy",
    "/p%25q",
    "/lit%zz",
    "/d/{v}",
    "/e%2C/{v}",
    "/f/{v:.*}",
    "/g%2Fh/{v}",
    "/100%/{v}",
]
REQUESTS = [
    "/a%2Cb",
    "/a,b",
    "/a%2cb",
    "/a%252Cb",
    "/a,b2",
    "/a%2Cb2",
    "/caf%C3%A9",
    "/caf%c3%a9",
    "/x%2Fy",
    "/x%2fy",
    "/x/y",
    "/p%25q",
    "/p%q",
    "/lit%zz",
    "/lit%25zz",
    "/d/a%2Cb",
    "/d/a%2Fb",
    "/d/%25",
    "/d/%ZZ",
    "/d/%C3",
    "/d/%",
    "/e%2C/1",
    "/e,/1",
    "/f/a%2Fb/c",
    "/g%2Fh/1",
    "/g/h/1",
    "/100%/2",
    "/100%25/2",
    "/sub,/x",
    "/sub%2C/x",
    "/st/a%2Cb.txt",
    "/st/a,b.txt",
    "/st/a%252Cb.txt",
    "/s,t/a,b.txt",
    "/s%2Ct/a,b.txt",
    "/%",
]


def _escapes_app(web: Any, static_dir: Path) -> Any:
    app = web.Application()
    for index, path in enumerate(ROUTES):

        async def handler(request: Any, index: int = index) -> Any:
            info = sorted(request.match_info.items())
            return web.Response(text=f"{ROUTES[index]} {info} {request.path}")

        app.router.add_get(path, handler)
    sub = web.Application()

    async def in_sub(request: Any) -> Any:
        return web.Response(text=f"sub {request.path}")

    sub.router.add_get("/x", in_sub)
    app.add_subapp("/sub%2C", sub)
    app.router.add_static("/st", static_dir)
    app.router.add_static("/s%2Ct", static_dir)
    return app


@pytest.mark.asyncio
async def test_escaped_routes_answer_as_aiohttp(tmp_path: Path, raw: Any) -> None:
    """Each request: aiohttp's status and body (the route, its variables, request.path)."""
    (tmp_path / "a,b.txt").write_text("comma")
    (tmp_path / "a%2Cb.txt").write_text("escaped")

    async def talk(base_url: str) -> list[tuple[str, bytes, bytes]]:
        seen = []
        for path in REQUESTS:
            answer = await raw(
                base_url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
            )
            head, _, body = answer.partition(b"\r\n\r\n")
            seen.append((path, head.split(b" ", 2)[1], body))
        return seen

    seen = await under_both(lambda web: _escapes_app(web, tmp_path), talk)
    assert seen["weft"] == seen["aiohttp"]
    # Not a table of 404s: the escapes that can match did.
    assert sum(status == b"200" for _, status, _ in seen["weft"]) >= 15
