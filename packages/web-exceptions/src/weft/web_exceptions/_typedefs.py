"""Type aliases shared by the package's modules (and public for callers' annotations)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

__all__ = ["LooseHeaders", "StrOrURL"]

LooseHeaders: TypeAlias = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)
"""Anything ``CIMultiDict`` accepts as headers, as in ``aiohttp.typedefs``."""

StrOrURL: TypeAlias = str | URL
"""A URL given as text or as a ``yarl.URL``."""
