"""RFC 9110 §5.6.2's token, defined once for every module of web-core that checks one.

ALPHA and DIGIT are ASCII only, spelled out as ranges, so that no Unicode
letter can pass for one.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["TCHAR", "TCHARS", "TOKEN"]

#: The body of a regular-expression character class matching one tchar.
TCHAR: Final = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
#: One whole token (use ``fullmatch``).
TOKEN: Final = re.compile(rf"[{TCHAR}]+")
#: The tchars themselves, for checks character by character.
TCHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
