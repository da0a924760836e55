"""RFC 9110 §5.6.2's token, defined once for every module of the parser that checks one.

    token = 1*tchar
    tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
            "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA

ALPHA and DIGIT are ASCII only: the ranges are spelled out so that no
Unicode letter (U+212A KELVIN SIGN, say) can pass for one.

Tokens are compared case-insensitively, and only ASCII letters have a case
here: ``str.lower()`` applies Unicode rules, under which U+212A lowers to
ASCII ``k`` (so ``"chun\u212aed".lower() == "chunked"``, aiohttp's
CVE-2025-69224). ``ascii_lower`` is the lowering every token comparison uses.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["TCHAR", "TCHAR_BYTES", "TOKEN_STR", "ascii_lower"]

#: The body of a regular-expression character class matching one tchar.
TCHAR: Final = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
#: The same class for patterns over bytes.
TCHAR_BYTES: Final = TCHAR.encode("ascii")
#: One whole token, as str (use ``fullmatch``).
TOKEN_STR: Final = re.compile(rf"[{TCHAR}]++")

#: A-Z to a-z, for str.translate; every other character maps to itself.
_ASCII_LOWER: Final[dict[int, int]] = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(value: str) -> str:
    """``value`` with the ASCII letters A-Z lowered and every other character kept.

    >>> ascii_lower("Chun\u212aED") == "chun\u212aed"
    True
    """
    # str.isascii() is O(1) (CPython keeps the flag), and on ASCII text lower()
    # is exact and much faster than translate().
    return value.lower() if value.isascii() else value.translate(_ASCII_LOWER)
