"""RFC 9110 §5.6.2's token, defined once for every module of the parser that checks one.

    token = 1*tchar
    tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
            "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA

ALPHA and DIGIT are ASCII only: the ranges are spelled out so that no
Unicode letter (U+212A KELVIN SIGN, say) can pass for one.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["TCHAR", "TCHAR_BYTES", "TOKEN_STR"]

#: The body of a regular-expression character class matching one tchar.
TCHAR: Final = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
#: The same class for patterns over bytes.
TCHAR_BYTES: Final = TCHAR.encode("ascii")
#: One whole token, as str (use ``fullmatch``).
TOKEN_STR: Final = re.compile(rf"[{TCHAR}]++")
