"""What the mypyc-compiled modules share (``compiled-modules`` in pyproject.toml).

The ``mypyc_attr`` decorator, or its stand-in where mypy_extensions is absent.
This module itself is never compiled; nothing in it is public. web-core has
the same few lines: mypyc knows the decorator only by its own name
(``mypy_extensions.mypyc_attr``), and web-core is absent from web-runner's
build environment, so the compiled modules cannot take it from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_C = TypeVar("_C")

try:
    from mypy_extensions import mypyc_attr as mypyc_attr  # re-exported
except ImportError:
    # Not needed at run time (the "mypyc" extra, never required): mypyc reads the
    # decorator while compiling, where mypy brings mypy_extensions; both builds
    # run without it.
    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_C], _C]:
        return lambda cls: cls
