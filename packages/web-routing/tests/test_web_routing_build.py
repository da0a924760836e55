"""Which build is installed: the mypyc-compiled modules or pure Python.

The nox sessions say which one they installed through
WEFT_WEB_ROUTING_EXPECT_COMPILED ("1": compiled, "0": pure), so a build that
silently fell back to pure Python where a compiler is present fails here.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import weft.web_routing as web_routing
from weft.web_routing import UrlDispatcher

#: The modules the build hook compiles: ``compiled-modules`` in pyproject.toml.
_HOOK = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"]["hatch"][
    "build"
]["targets"]["wheel"]["hooks"]["custom"]
HOT_MODULES = tuple(name.removesuffix(".py") for name in _HOOK["compiled-modules"])


def _is_extension(name: str) -> bool:
    module = importlib.import_module(f"weft.web_routing.{name}")
    return str(getattr(module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES))


def test_compiled_flag_matches_the_modules() -> None:
    """COMPILED is a bool, and True exactly when every hot module is an extension module."""
    assert isinstance(web_routing.COMPILED, bool)
    assert [_is_extension(name) for name in HOT_MODULES] == [web_routing.COMPILED] * len(
        HOT_MODULES
    )


def test_subclassed_modules_stay_pure() -> None:
    """Resources, routes, match infos, views and the dispatcher are never compiled."""
    for name in (
        "_dispatcher",
        "_resources",
        "_routes",
        "_match_info",
        "_view",
        "_static",
        "_subapp",
        "_routedef",
    ):
        assert not _is_extension(name), name


def test_the_dispatcher_can_be_subclassed() -> None:
    """UrlDispatcher (on the compiled RouterCore) takes interpreted subclasses and overrides."""
    seen: list[str] = []

    class Tracing(UrlDispatcher):
        def match_path_safe(
            self, method: str, path: str, *, host: str | None = None
        ) -> web_routing.UrlMappingMatchInfo:
            seen.append(path)
            return super().match_path_safe(method, path, host=host)

    async def handler(request: object) -> None:
        return None

    router = Tracing()
    router.extra = "attribute"  # type: ignore[attr-defined]
    router.add_get("/a/{x}", handler)
    router.freeze()
    assert router.match("GET", "/a/1") == {"x": "1"}
    assert seen == []  # no domain rules: match does not need match_path_safe
    assert router.match_path_safe("GET", "/a/2") == {"x": "2"}
    assert seen == ["/a/2"]


def test_the_expected_build_is_installed() -> None:
    """The build the session asked for is the one imported."""
    expected = os.environ.get("WEFT_WEB_ROUTING_EXPECT_COMPILED")
    if expected is None:
        pytest.skip("WEFT_WEB_ROUTING_EXPECT_COMPILED is not set (nox sets it)")
    assert web_routing.COMPILED is (expected == "1"), (
        f"expected the {'compiled' if expected == '1' else 'pure-Python'} build, imported "
        f"{'compiled' if web_routing.COMPILED else 'pure-Python'} modules from "
        f"{os.path.dirname(web_routing.__file__)}"
    )
