"""Request.json()'s default decoding: ``json.loads`` of a str, without its Python frames.

``json.loads(text)`` with its defaults runs three interpreted functions
(``loads``, ``JSONDecoder.decode``, ``raw_decode``) around json's scanner
(the C one where CPython has it): about a third of what decoding a small
request body costs. ``decode`` calls the scanner itself and gives every
document it cannot take at once (leading whitespace, anything the scanner
refuses) to ``json.loads``, so the value, and the error, are json.loads's.
(One edge: with three frames fewer on the stack, a document nested just
short of the recursion limit, which json.loads would refuse with a
RecursionError, is decoded.)
"""

from __future__ import annotations

import json
import json.decoder
from collections.abc import Callable
from typing import Any, Final

__all__ = ["LOADS", "decode"]

#: The default ``loads`` of ``Request.json()``: ``decode`` stands in for it.
LOADS: Final = json.loads

# The scanner of a decoder as json.loads's default one (JSONDecoder() with no
# hooks): the attribute JSONDecoder's own raw_decode calls (not in typeshed).
_SCAN: Final[Callable[[str, int], tuple[Any, int]]] = getattr(  # noqa: B009
    json.decoder.JSONDecoder(), "scan_once"
)
# JSON's whitespace (RFC 8259 §2), the only characters allowed around the value.
_WHITESPACE: Final = " \t\n\r"


def decode(text: str) -> Any:
    """The value of the JSON document ``text``, as ``json.loads(text)``."""
    if text and text[0] not in _WHITESPACE:
        try:
            value, end = _SCAN(text, 0)
        except (StopIteration, ValueError):
            pass  # not JSON: json.loads raises the JSONDecodeError that says where
        else:
            if end == len(text) or not text[end:].strip(_WHITESPACE):
                return value
    return LOADS(text)
