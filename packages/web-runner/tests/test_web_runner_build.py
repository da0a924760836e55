"""Which build is installed: the mypyc-compiled connection core or pure Python.

The nox sessions say which one they installed through
WEFT_WEB_RUNNER_EXPECT_COMPILED ("1": compiled, "0": pure), so a build that
silently fell back to pure Python where a compiler is present fails here.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import weft.web_runner as web_runner

#: The modules the build hook compiles: ``compiled-modules`` in pyproject.toml.
_HOOK = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"]["hatch"][
    "build"
]["targets"]["wheel"]["hooks"]["custom"]
HOT_MODULES = tuple(name.removesuffix(".py") for name in _HOOK["compiled-modules"])


def _is_extension(name: str) -> bool:
    module = importlib.import_module(f"weft.web_runner.{name}")
    return str(getattr(module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES))


def test_compiled_flag_matches_the_modules() -> None:
    """COMPILED is a bool, and True exactly when every hot module is an extension module."""
    assert isinstance(web_runner.COMPILED, bool)
    assert [_is_extension(name) for name in HOT_MODULES] == [web_runner.COMPILED] * len(HOT_MODULES)


def test_the_server_and_the_runners_stay_pure() -> None:
    """What applications subclass or patch at run time (the server, the runners)
    is never compiled; RequestHandler is, and admits Python subclasses."""
    for name in ("_server", "_runners"):
        assert not _is_extension(name), name


def test_the_expected_build_is_installed() -> None:
    """The build the session asked for is the one imported."""
    expected = os.environ.get("WEFT_WEB_RUNNER_EXPECT_COMPILED")
    if expected is None:
        pytest.skip("WEFT_WEB_RUNNER_EXPECT_COMPILED is not set (nox sets it)")
    assert web_runner.COMPILED is (expected == "1"), (
        f"expected the {'compiled' if expected == '1' else 'pure-Python'} build, imported "
        f"{'compiled' if web_runner.COMPILED else 'pure-Python'} modules from "
        f"{os.path.dirname(web_runner.__file__)}"
    )
