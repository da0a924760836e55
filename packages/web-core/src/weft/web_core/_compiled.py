"""What the mypyc-compiled modules share (``compiled-modules`` in pyproject.toml).

One definition for the package: the ``mypyc_attr`` decorator (or its stand-in),
whether a module was imported as the C extension, and the ABC state that a
compiled class must be given. This module itself is never compiled; it has no
``__all__``: nothing in it is public.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from importlib.machinery import EXTENSION_SUFFIXES
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


_SUFFIXES = tuple(EXTENSION_SUFFIXES)


def is_native(module_file: str | None) -> bool:
    """Whether the module of ``__file__`` ``module_file`` is the C extension mypyc built.

    Its functions have no Python frame, which a warning's stack level counts.
    """
    return (module_file or "").endswith(_SUFFIXES)


def own_abc_state(*classes: type) -> None:
    """Give each compiled ABC class ABC state of its own, as ABCMeta gives every class.

    mypyc builds a native class without running ``ABCMeta.__new__``, so such a
    class would use the inherited ``_abc_impl`` of MutableMapping: its registry
    and caches, where ``dict`` is, so that ``isinstance({}, StreamResponse)``
    would be True. A no-op in the pure build (and for Python subclasses).
    """
    abc_init: Callable[[type], None] = getattr(abc, "_abc_init")  # noqa: B009
    for cls in classes:
        if "_abc_impl" not in cls.__dict__:
            abc_init(cls)
