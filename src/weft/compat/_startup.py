"""Run by weft_aiohttp_compat.pth at interpreter start when WEFT_AS_AIOHTTP=1.

A failure here is reported and the interpreter goes on without the switch:
stopping it would also stop the tools needed to repair the environment (pip
itself, when aiohttp is missing). The report names the cause; a program that
needs the switch can check ``weft.compat.is_installed()``.
"""

from __future__ import annotations

import sys

from . import ENV_VAR, install_as_aiohttp

try:
    install_as_aiohttp()
except Exception as exc:
    sys.stderr.write(f"weft: {ENV_VAR}=1 was not honoured, aiohttp stays aiohttp: {exc}\n")
