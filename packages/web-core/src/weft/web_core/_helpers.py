"""Small shared helpers: content-type parsing and the cached Date header value."""

from __future__ import annotations

import time
from email.utils import formatdate
from functools import lru_cache
from types import MappingProxyType
from typing import Final

__all__ = ["http_date", "parse_content_type", "sentinel"]

sentinel: Final = object()

_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The current time as an IMF-fixdate (RFC 9110 §5.6.7), recomputed once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


@lru_cache(maxsize=256)
def parse_content_type(value: str) -> tuple[str, MappingProxyType[str, str]]:
    """Split ``text/html; charset=UTF-8`` into ``("text/html", {"charset": "UTF-8"})``.

    The media type is lower-cased (RFC 9110 §8.3.1: it is case-insensitive);
    parameter names are lower-cased, values kept, quotes removed.
    """
    mimetype, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        name, eq, param = item.partition("=")
        name = name.strip().lower()
        if name and eq:
            param = param.strip()
            if len(param) >= 2 and param[0] == param[-1] == '"':
                param = param[1:-1].replace('\\"', '"')
            params[name] = param
    return mimetype.strip().lower(), MappingProxyType(params)
