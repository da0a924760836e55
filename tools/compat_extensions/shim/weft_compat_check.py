"""pytest plugin (``-p weft_compat_check``): the run is on the side it claims.

A weft run that was silently left on aiohttp (the .pth file missing, say)
would pass everything aiohttp passes and prove nothing; so would an aiohttp
run that was switched. WEFT_COMPAT_EXPECT is "weft" or "aiohttp".
"""

from __future__ import annotations

import os
import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    import aiohttp.web

    expected = os.environ["WEFT_COMPAT_EXPECT"]
    actual = "weft" if aiohttp.web.__name__ == "weft.web" else "aiohttp"
    if actual != expected:
        raise pytest.UsageError(f"expected a run on {expected}, aiohttp.web is {actual}'s")
    sys.stderr.write(f"weft_compat_check: aiohttp.web is {aiohttp.web.__name__}\n")
