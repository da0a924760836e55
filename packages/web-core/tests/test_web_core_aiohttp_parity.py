"""web-core beside aiohttp.web: the same constructor calls give the same results."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import make_mocked_request
from web_core_support import get, make_request

from weft.web_core import Response, json_response
from weft.web_core.test_utils import make_mocked_request as make_mocked_weft_request

_TEXTS: list[dict[str, Any]] = [
    {},
    {"text": "é"},
    {"body": b"\xc3\xa9"},
    {"text": "a", "body": b"a"},
]
_TYPES: list[dict[str, Any]] = [
    {},
    {"content_type": "text/html"},
    {"content_type": "text/html; charset=utf-8"},
]
_CHARSETS: list[dict[str, Any]] = [{}, {"charset": "latin-1"}]
_HEADERS: list[dict[str, Any]] = [{}, {"headers": {"Content-Type": "text/csv; charset=utf-8"}}]
_COMBOS = [
    {**a, **b, **c, **d} for a, b, c, d in itertools.product(_TEXTS, _TYPES, _CHARSETS, _HEADERS)
]


def _outcome(factory: Any, kwargs: dict[str, Any]) -> object:
    try:
        resp = factory(**kwargs)
    except (ValueError, TypeError) as exc:
        return type(exc)
    return (resp.status, resp.content_type, resp.charset, resp.body, resp.text)


@pytest.mark.parametrize("kwargs", _COMBOS, ids=[repr(c) for c in _COMBOS])
def test_response_constructor_matches_aiohttp(kwargs: dict[str, Any]) -> None:
    """Response(text/body/content_type/charset/headers) behaves as aiohttp's, errors included."""
    assert _outcome(Response, kwargs) == _outcome(aioweb.Response, kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"a": 1}},
        {"data": None},
        {"data": [1, 2], "status": 202},
        {"text": "[]"},
        {"body": b"{}"},
        {},
        {"data": 1, "text": "1"},
    ],
)
def test_json_response_matches_aiohttp(kwargs: dict[str, Any]) -> None:
    """json_response gives aiohttp's status, content type, charset and body."""
    assert _outcome(json_response, kwargs) == _outcome(aioweb.json_response, kwargs)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "target",
    ["/", "/a%20b/c", "/caf%C3%A9?q=%C3%A9&x=1&x=2", "/p?flag&e=", "/a%2Fb?x=a+b", "/?"],
)
async def test_request_url_parts_match_aiohttp(target: str) -> None:
    """path, raw_path, path_qs, query_string and query equal aiohttp's for the same target."""
    ours, _ = make_request(get(target))
    theirs = make_mocked_request("GET", target, headers={"Host": "example.com"})
    for name in ("path", "raw_path", "path_qs", "query_string", "host"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert list(ours.query.items()) == list(theirs.query.items())
    assert ours.rel_url == theirs.rel_url


_CLONES: list[dict[str, Any]] = [
    {},
    {"scheme": "https"},
    {"host": "proxy.example:8443"},
    {"remote": "203.0.113.9"},
    {"scheme": "https", "host": "a.example", "remote": "10.0.0.1", "rel_url": "/x?y=1"},
    {"client_max_size": 10, "client_max_fields": 2, "method": "POST"},
]


@pytest.mark.asyncio
@pytest.mark.parametrize("kwargs", _CLONES, ids=[repr(c) for c in _CLONES])
async def test_clone_overrides_match_aiohttp(kwargs: dict[str, Any]) -> None:
    """clone(scheme=, host=, remote=, client_max_*=) reports what aiohttp's clone reports."""
    ours = make_mocked_weft_request("GET", "/p", headers={"Host": "example.com"}).clone(**kwargs)
    theirs = make_mocked_request("GET", "/p", headers={"Host": "example.com"}).clone(**kwargs)
    names = ["method", "scheme", "host", "secure", "url", "client_max_size", "client_max_fields"]
    if "remote" in kwargs:  # aiohttp's mocked transport invents a peer otherwise
        names.append("remote")
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_request_constructor_overrides() -> None:
    """Request(..., scheme=, host=, remote=) fixes what the request reports (as aiohttp's)."""
    plain = make_mocked_weft_request("GET", "/p", headers={"Host": "example.com"})
    request = type(plain)(
        plain._head,
        plain._payload,
        plain.protocol,
        plain.writer,
        None,
        plain.loop,
        scheme="https",
        host="b.example",
        remote="198.51.100.1",
    )
    assert (request.scheme, request.host, request.remote) == ("https", "b.example", "198.51.100.1")
    assert str(request.url) == "https://b.example/p"
    assert (plain.scheme, plain.host) == ("http", "example.com")
