"""Which build is installed: the mypyc-compiled response path or pure Python.

The nox sessions say which one they installed through
WEFT_WEB_CORE_EXPECT_COMPILED ("1": compiled, "0": pure), so a build that
silently fell back to pure Python where a compiler is present fails here.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import weft.web_core as web_core

#: The modules the build hook compiles: ``compiled-modules`` in pyproject.toml.
_HOOK = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"]["hatch"][
    "build"
]["targets"]["wheel"]["hooks"]["custom"]
HOT_MODULES = tuple(name.removesuffix(".py") for name in _HOOK["compiled-modules"])


def _is_extension(name: str) -> bool:
    module = importlib.import_module(f"weft.web_core.{name}")
    return str(getattr(module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES))


def test_compiled_flag_matches_the_modules() -> None:
    """COMPILED is a bool, and True exactly when every hot module is an extension module."""
    assert isinstance(web_core.COMPILED, bool)
    assert [_is_extension(name) for name in HOT_MODULES] == [web_core.COMPILED] * len(HOT_MODULES)


def test_the_rest_stays_pure() -> None:
    """What is not on the response path (the request, the application, files,
    WebSockets, payloads, multipart) is not compiled."""
    for name in ("_file_response", "_websocket", "_payload", "_multipart", "_keys"):
        assert not _is_extension(name), name


def test_subclasses_of_the_compiled_classes_are_python_classes() -> None:
    """Applications and extensions subclass StreamResponse and Response (aiohttp-sse
    does; FileResponse and WebSocketResponse are such subclasses), and the
    server's writer: the compiled classes allow it."""
    from weft.web_core import FileResponse, Response, StreamResponse, StreamWriter

    class Custom(Response):
        extra = 1

    class Stream(StreamResponse):
        pass

    class Writer(StreamWriter):
        pass

    assert Custom().extra == 1
    assert isinstance(Stream(), StreamResponse)
    assert issubclass(FileResponse, StreamResponse)
    assert issubclass(Writer, StreamWriter)


def test_the_compiled_classes_have_their_own_abc_state() -> None:
    """StreamResponse is a MutableMapping; a dict is not a StreamResponse (mypyc's
    classes would otherwise share MutableMapping's registry, where dict is)."""
    from collections.abc import MutableMapping

    from weft.web_core import Response, StreamResponse

    assert isinstance(Response(), MutableMapping)
    assert not isinstance({}, StreamResponse)
    assert not issubclass(dict, Response)


def test_the_expected_build_is_installed() -> None:
    """The build the session asked for is the one imported."""
    expected = os.environ.get("WEFT_WEB_CORE_EXPECT_COMPILED")
    if expected is None:
        pytest.skip("WEFT_WEB_CORE_EXPECT_COMPILED is not set (nox sets it)")
    assert web_core.COMPILED is (expected == "1"), (
        f"expected the {'compiled' if expected == '1' else 'pure-Python'} build, imported "
        f"{'compiled' if web_core.COMPILED else 'pure-Python'} modules from "
        f"{os.path.dirname(web_core.__file__)}"
    )


@pytest.mark.asyncio
async def test_a_subclass_class_attribute_is_seen_by_the_compiled_code() -> None:
    """A subclass that holds its head (``_send_headers_immediately = False``, as
    Response and FileResponse do) sends nothing in prepare(); the WebSocket answer
    has no length check (no chunking). As in the pure build."""
    from web_core_support import get, make_request

    from weft.web_core import StreamResponse, WebSocketResponse

    class Held(StreamResponse):
        _send_headers_immediately = False

    request, transport = make_request(get())
    await Held().prepare(request)
    await asyncio.sleep(0)  # a stream's head leaves when the loop turns
    assert transport.writes == []
    request, transport = make_request(get())
    await StreamResponse().prepare(request)
    await asyncio.sleep(0)
    assert transport.writes != []
    assert not WebSocketResponse()._length_check


def test_a_clone_keeps_what_a_middleware_added_and_computes_the_rest_again() -> None:
    """clone() copies the attributes a middleware or subclass set (the compiled
    Request has them in an instance dict made on first use) and the state; the
    lazily computed values (url, host...) are the clone's own."""
    from weft.web_core import RequestKey
    from weft.web_core.test_utils import make_mocked_request

    key = RequestKey("k", int)
    request = make_mocked_request("GET", "/a?x=1", headers={"Host": "one.example"})
    assert request.clone().host == "one.example"  # no attribute added yet
    assert str(request.url) == "http://one.example/a?x=1"
    request.user = "ann"  # type: ignore[attr-defined]
    request[key] = 1
    clone = request.clone(host="two.example", rel_url="/b")
    assert clone.user == "ann"  # type: ignore[attr-defined]
    assert clone[key] == 1
    assert str(clone.url) == "http://two.example/b"
    assert str(request.url) == "http://one.example/a?x=1"
