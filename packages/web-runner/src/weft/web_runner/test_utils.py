"""Deprecated alias of ``weft.web_testing.test_utils`` (distribution weft-web-testing).

The test servers, the test client and the pytest plugin left weft-web-runner
for their own distribution, so that the server's distribution is the server
(docs/design.md, "The test tooling"). Import them from
``weft.web_testing.test_utils`` (or ``weft.test_utils`` with the
meta-distribution). This module re-exports them, with a DeprecationWarning,
when weft-web-testing is installed, and says what to install when it is not.
It goes in weft-web-runner 0.2.
"""

from __future__ import annotations

from ._moved import moved_error, warn_moved

try:
    # The whole module, as its __all__ says (one list of names, kept there).
    from weft.web_testing.test_utils import *  # noqa: F403
    from weft.web_testing.test_utils import __all__  # noqa: F401 (re-exported)
except ModuleNotFoundError as exc:
    error = moved_error(__name__, "weft.web_testing.test_utils", exc)
    if error is None:
        raise
    raise error from exc

warn_moved(__name__, "weft.web_testing.test_utils")
