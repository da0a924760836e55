"""weft's pytest plugin: the fixtures ``weft_client``, ``weft_server``, ``weft_raw_server``
and ``weft_unused_port``.

It is registered through the ``pytest11`` entry point (plugin name ``weft``),
so pytest loads it in every run of an environment where weft-web-testing is
installed. Hence it imports nothing but pytest here and defines no hooks but
``pytest_configure``, where it registers the fixtures:

* with pytest-asyncio active (any mode), ``weft_client``, ``weft_server`` and
  ``weft_raw_server`` are async fixtures (``pytest_asyncio.fixture``) in the
  default fixture loop scope (``asyncio_default_fixture_loop_scope``), so use
  them from ``@pytest.mark.asyncio`` tests (strict mode) or any async test
  (auto mode);
* without it, asking for one of them fails the test with a message that says
  to install pytest-asyncio; ``weft_unused_port`` works either way.

pytest-asyncio is imported only then, after pytest has loaded every
entry-point plugin (importing it earlier could stop pytest from rewriting
its asserts, with a warning). weft's own modules are imported only when a
fixture is used. Without the entry point (a source checkout), enable the
plugin with ``-p weft.web_testing.pytest_plugin`` or
``pytest_plugins = ["weft.web_testing.pytest_plugin"]`` in a conftest.
"""

from __future__ import annotations

import importlib.util

import pytest

__all__ = ["pytest_configure"]

_FIXTURES_PLUGIN = "weft.web_testing.fixtures"


def _asyncio_active(config: pytest.Config) -> bool:
    manager = config.pluginmanager
    if manager.is_blocked("asyncio") or importlib.util.find_spec("pytest_asyncio") is None:
        return False
    return any(
        manager.has_plugin(name) for name in ("asyncio", "pytest_asyncio", "pytest_asyncio.plugin")
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the fixtures that fit the environment (see the module docstring)."""
    if config.pluginmanager.has_plugin(_FIXTURES_PLUGIN):
        return
    if _asyncio_active(config):
        from . import _pytest_fixtures as fixtures
    else:
        from . import _pytest_no_asyncio as fixtures  # type: ignore[no-redef]
    config.pluginmanager.register(fixtures, _FIXTURES_PLUGIN)
