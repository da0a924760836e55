"""The test tooling moved to weft-web-testing: the deprecated aliases left behind.

``weft.web_runner.test_utils`` and ``weft.web_runner.pytest_plugin`` re-export
weft-web-testing's modules with a DeprecationWarning where it is installed
(here: this package's test group has it), and say what to install where it
is not. They go in 0.2 (README, "Changelog").
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import textwrap
import types

import pytest
from _pytest.assertion import rewrite as pytest_rewrite

pytest_plugins = ["pytester"]

ALIASES = [
    ("weft.web_runner.test_utils", "weft.web_testing.test_utils"),
    ("weft.web_runner.pytest_plugin", "weft.web_testing.pytest_plugin"),
]


class _Missing(importlib.abc.MetaPathFinder):
    """Imports of ``module`` fail as if ``missing`` were not installed."""

    def __init__(self, module: str, missing: str) -> None:
        self.module = module
        self.missing = missing

    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.module:
            raise ModuleNotFoundError(f"No module named {self.missing!r}", name=self.missing)
        return None


@pytest.mark.parametrize(("old", "new"), ALIASES)
def test_an_alias_is_the_new_module_with_a_deprecation_warning(
    old: str, new: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each public name is weft-web-testing's object; the warning points at the importer.

    (Here the importer of ``test_utils`` is pytest's assertion rewriter, which
    loads every ``test_*.py`` module, aiohttp's ``test_utils.py`` included.)
    """
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated.* import {new}") as record:
        __import__(old)
    assert record[0].filename in (__file__, pytest_rewrite.__file__)
    alias, target = sys.modules[old], importlib.import_module(new)
    assert alias.__all__
    for name in alias.__all__:
        assert getattr(alias, name) is getattr(target, name), name


@pytest.mark.parametrize(("old", "new"), ALIASES)
@pytest.mark.parametrize("missing", ["weft.web_testing", "new"])
def test_without_weft_web_testing_the_error_says_what_to_install(
    old: str, new: str, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)
    monkeypatch.delitem(sys.modules, new)
    finder = _Missing(new, new if missing == "new" else missing)
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    with pytest.raises(ImportError, match=r"pip install weft-web-testing") as info:
        importlib.import_module(old)
    assert info.value.name == old
    assert f"{old} moved to {new}" in str(info.value)


@pytest.mark.parametrize(("old", "new"), ALIASES)
def test_another_missing_module_is_not_blamed_on_the_move(
    old: str, new: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken weft-web-testing (one of its own imports missing) shows its own error."""
    monkeypatch.delitem(sys.modules, old, raising=False)
    monkeypatch.delitem(sys.modules, new)
    monkeypatch.setattr(sys, "meta_path", [_Missing(new, "a_dependency"), *sys.meta_path])
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module(old)
    assert info.value.name == "a_dependency"


def test_the_old_plugin_name_still_gives_the_fixtures(pytester: pytest.Pytester) -> None:
    """``-p weft.web_runner.pytest_plugin`` beside the entry point's plugin: fixtures once."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        test_port=textwrap.dedent(
            """
            def test_port(weft_unused_port):
                assert 0 < weft_unused_port() < 65536
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "weft.web_runner.pytest_plugin")
    result.assert_outcomes(passed=1)
