"""Parity with aiohttp.web: names, MRO, signatures, defaults and cookie output.

The only test module that imports aiohttp (skipped when it is not installed).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import weft.web_exceptions as we

aiohttp_web: Any = pytest.importorskip("aiohttp.web")

AIOHTTP_NAMES = sorted(
    name
    for name in aiohttp_web.__all__
    if isinstance(getattr(aiohttp_web, name), type)
    and issubclass(getattr(aiohttp_web, name), aiohttp_web.HTTPException)
)


def _hierarchy_names(cls: type) -> list[str]:
    """The MRO names that belong to the exception hierarchy (aiohttp adds Response classes)."""
    return [c.__name__ for c in cls.__mro__ if c.__name__.startswith("HTTP")]


def test_same_set_of_names() -> None:
    """weft exports exactly aiohttp.web's HTTP exception classes."""
    ours = sorted(
        name
        for name in we.__all__
        if isinstance(getattr(we, name), type) and issubclass(getattr(we, name), we.HTTPException)
    )
    assert ours == AIOHTTP_NAMES
    assert "NotAppKeyWarning" not in we.__all__


@pytest.mark.parametrize("name", AIOHTTP_NAMES)
def test_same_mro_status_and_empty_body(name: str) -> None:
    """Each class has aiohttp's MRO (hierarchy part), status_code and empty_body."""
    theirs, ours = getattr(aiohttp_web, name), getattr(we, name)
    assert _hierarchy_names(ours) == _hierarchy_names(theirs)
    assert ours.status_code == theirs.status_code
    assert ours.empty_body == theirs.empty_body


@pytest.mark.parametrize("name", AIOHTTP_NAMES)
def test_same_constructor_parameters(name: str) -> None:
    """Constructors take aiohttp's parameters, with the same names, kinds and defaults."""
    theirs = inspect.signature(getattr(aiohttp_web, name))
    ours = inspect.signature(getattr(we, name))
    if any(p.kind is p.VAR_KEYWORD for p in theirs.parameters.values()):
        # aiohttp's 413 forwards **kwargs; ours spells the keywords out.
        positional = [p for p in theirs.parameters.values() if p.kind is not p.VAR_KEYWORD]
        assert list(ours.parameters)[: len(positional)] == [p.name for p in positional]
        assert set(ours.parameters) >= {"headers", "reason", "body", "text", "content_type"}
        return
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ]


def _build(module: Any, name: str) -> Any:
    cls = getattr(module, name)
    if issubclass(cls, module.HTTPMove):
        return cls("/a b?x=1")
    if name == "HTTPMethodNotAllowed":
        return cls("get", ["PUT", "POST"])
    if name == "HTTPRequestEntityTooLarge":
        return cls(100, 200)
    if name == "HTTPUnavailableForLegalReasons":
        return cls("https://example.com/why")
    return cls()


@pytest.mark.parametrize("name", [n for n in AIOHTTP_NAMES if getattr(we, n).status_code > 0])
def test_same_defaults(name: str) -> None:
    """Built with the same arguments, status, reason, text, body and headers match aiohttp's."""
    theirs, ours = _build(aiohttp_web, name), _build(we, name)
    assert ours.status == theirs.status
    assert ours.reason == theirs.reason
    assert ours.text == theirs.text
    assert ours.body == theirs.body
    assert str(ours) == str(theirs)
    assert dict(ours.headers) == dict(theirs.headers)
    for attr in ("location", "method", "allowed_methods", "link"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr)


def test_same_text_with_options() -> None:
    """text, content_type, reason and headers give the same result as in aiohttp."""
    kwargs: dict[str, Any] = {"text": "hé", "content_type": "text/html", "reason": "Nope"}
    theirs = aiohttp_web.HTTPForbidden(headers={"X-A": "1"}, **kwargs)
    ours = we.HTTPForbidden(headers={"X-A": "1"}, **kwargs)
    assert dict(ours.headers) == dict(theirs.headers)
    assert (ours.body, ours.text, ours.reason) == (theirs.body, theirs.text, theirs.reason)


def test_same_cookie_headers() -> None:
    """set_cookie/del_cookie produce the Set-Cookie values aiohttp sends."""
    theirs = aiohttp_web.Response()
    ours = we.ResponseCookies()
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("set", "a", {"value": "1", "httponly": True, "samesite": "Lax", "max_age": 5}),
        ("set", "b", {"value": "x y", "domain": "example.com", "secure": True, "path": "/p"}),
        ("del", "c", {"domain": "example.com", "path": "/q"}),
        ("set", "c", {"value": "again"}),
        ("set", "a", {"value": "2", "expires": "Wed, 21 Oct 2065 07:28:00 GMT"}),
    ]
    for kind, name, kwargs in calls:
        if kind == "set":
            theirs.set_cookie(name, **kwargs)
            ours.set_cookie(name, **kwargs)
        else:
            theirs.del_cookie(name, **kwargs)
            ours.del_cookie(name, **kwargs)
    expected = [m.output(header="")[1:] for m in theirs.cookies.values()]
    assert ours.header_values() == expected
