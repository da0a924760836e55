"""Deprecated alias of ``weft.web_testing.pytest_plugin`` (distribution weft-web-testing).

weft's pytest plugin moved to weft-web-testing, which registers it under the
``pytest11`` entry point (plugin name ``weft``, as before): with it installed
the fixtures load by themselves, and ``-p weft.web_runner.pytest_plugin`` is
not needed (where it is still given, this module's hook finds the fixtures
registered and does nothing). Without weft-web-testing, importing this
module says what to install. It goes in weft-web-runner 0.2.
"""

from __future__ import annotations

from ._moved import moved_error, warn_moved

try:
    from weft.web_testing.pytest_plugin import pytest_configure
except ModuleNotFoundError as exc:
    error = moved_error(__name__, "weft.web_testing.pytest_plugin", exc)
    if error is None:
        raise
    raise error from exc

warn_moved(__name__, "weft.web_testing.pytest_plugin")

__all__ = ["pytest_configure"]
