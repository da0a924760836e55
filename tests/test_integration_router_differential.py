"""weft's router against aiohttp's own, on random route tables and requests.

The router's package tests hold it to a linear reference matcher; this holds
it to aiohttp 3.x's ``UrlDispatcher`` itself: for the same table (added in
the same order) and the same request, both must pick the same route with the
same variables, or both answer 404, or both 405 with the same ``Allow``.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from aiohttp import web as aiohttp_web
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from weft import web as weft_web

WORDS = ["a", "b", "users", "me", "1", "42", "x-y", "caf\u00e9"]
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
    words = [*WORDS, "12", "zz", "", "a.json", "caf%C3%A9", "a%2Fb", "%7Bx%7D", "b%20c"]
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


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.lists(st.tuples(template(), st.sampled_from(ADDS)), min_size=1, max_size=10),
    requests=st.lists(st.tuples(st.sampled_from(METHODS), request_path()), min_size=1, max_size=8),
)
def test_same_route_as_aiohttp(
    table: list[tuple[str, str]], requests: list[tuple[str, str]]
) -> None:
    """Same table, same request: the same route and variables, or the same 404/405."""
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
