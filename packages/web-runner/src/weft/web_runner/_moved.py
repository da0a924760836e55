"""What the deprecated aliases of the test tooling share (it moved to weft-web-testing).

``weft.web_runner.test_utils`` and ``weft.web_runner.pytest_plugin`` re-export
``weft.web_testing``'s modules of the same name when that distribution is
installed (with a DeprecationWarning), and say what to install when it is
not. They go in weft-web-runner 0.2 (docs/design.md, "The test tooling").
"""

from __future__ import annotations

import warnings

__all__ = ["moved_error", "warn_moved"]


def moved_error(old: str, new: str, exc: ModuleNotFoundError) -> ImportError | None:
    """The ImportError to raise for ``old`` when ``new`` cannot be imported.

    None when ``exc`` is about another module (a broken install of
    weft-web-testing): the caller then lets ``exc`` through unchanged.
    """
    if exc.name not in ("weft.web_testing", new):
        return None
    return ImportError(
        f"{old} moved to {new}, in the distribution weft-web-testing, which is not "
        f"installed: `pip install weft-web-testing` (weft and weft-web-runner[pytest] "
        f"bring it too), then import {new}",
        name=old,
    )


def warn_moved(old: str, new: str) -> None:
    """Warn, at the line that imported ``old``, that it is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and goes in weft-web-runner 0.2: import {new} "
        "(distribution weft-web-testing) instead",
        DeprecationWarning,
        stacklevel=3,
    )
