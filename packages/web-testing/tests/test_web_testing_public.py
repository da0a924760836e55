"""weft.web_testing's public names: test_utils' (aiohttp.test_utils'), imported on first use."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import weft.web_testing
from weft.web_testing import test_utils


def test_the_package_has_test_utils_names() -> None:
    """Every name of weft.web_testing.test_utils is the package's, the same object."""
    assert set(weft.web_testing.__all__) == {"__version__", *test_utils.__all__}
    for name in test_utils.__all__:
        assert getattr(weft.web_testing, name) is getattr(test_utils, name), name
    assert dir(weft.web_testing) == sorted(weft.web_testing.__all__)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", weft.web_testing.__version__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        weft.web_testing.NoSuchName  # noqa: B018


def test_importing_the_package_imports_neither_client_nor_server() -> None:
    """pytest imports the package for its plugin in every run: that must cost nothing."""
    probe = (
        "import sys, weft.web_testing as t\n"
        "loaded = [m for m in sys.modules if m.startswith('weft.')]\n"
        "assert sorted(loaded) == ['weft.web_testing', 'weft.web_testing.__about__'], loaded\n"
        "assert t.TestClient.__module__ == 'weft.web_testing.test_utils'\n"
        "assert 'weft.web_runner' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
