"""Whether this interpreter can switch at start: weft's .pth file and aiohttp both present."""

from __future__ import annotations

import importlib.util
import site
import sys
from pathlib import Path

PTH_NAME = "weft_aiohttp_compat.pth"


def pth_locations() -> list[Path]:
    """The .pth files named PTH_NAME in the directories site reads at start."""
    folders = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [Path(folder) / PTH_NAME for folder in folders if (Path(folder) / PTH_NAME).is_file()]


def hook_problem() -> str | None:
    """Why WEFT_AS_AIOHTTP=1 would not take effect in a child of this interpreter, or None."""
    if not pth_locations():
        return (
            f"{PTH_NAME} is not in this interpreter's site-packages ({sys.executable}), so "
            "WEFT_AS_AIOHTTP=1 would do nothing: install weft with pip "
            "(pip install 'weft[aiohttp-compat]'), which puts it there"
        )
    if importlib.util.find_spec("aiohttp") is None:
        return "aiohttp is not installed: pip install 'weft[aiohttp-compat]'"
    return None
