"""weft's pytest fixtures where pytest-asyncio is not active: the async ones explain
what is missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

__all__ = ["weft_client", "weft_raw_server", "weft_server", "weft_unused_port"]

_MISSING = (
    "the {name} fixture needs pytest-asyncio: `pip install pytest-asyncio`, then mark the "
    "test with @pytest.mark.asyncio (or set asyncio_mode = auto)"
)


@pytest.fixture
def weft_unused_port() -> Callable[[], int]:
    """A function returning a port that is free on 127.0.0.1."""
    from .test_utils import unused_port

    return unused_port


@pytest.fixture
def weft_server() -> NoReturn:
    """Needs pytest-asyncio."""
    pytest.fail(_MISSING.format(name="weft_server"), pytrace=False)


@pytest.fixture
def weft_raw_server() -> NoReturn:
    """Needs pytest-asyncio."""
    pytest.fail(_MISSING.format(name="weft_raw_server"), pytrace=False)


@pytest.fixture
def weft_client() -> NoReturn:
    """Needs pytest-asyncio."""
    pytest.fail(_MISSING.format(name="weft_client"), pytrace=False)
