"""Small shared helpers: content-type parsing, the ChainMapProxy, a sentinel."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

__all__ = ["ChainMapProxy", "parse_content_type", "sentinel"]

sentinel: Final = object()


@lru_cache(maxsize=256)
def parse_content_type(value: str) -> tuple[str, MappingProxyType[str, str]]:
    """Split ``text/html; charset=UTF-8`` into ``("text/html", {"charset": "UTF-8"})``.

    The media type is lower-cased (RFC 9110 §8.3.1: it is case-insensitive);
    one that is not ``type/subtype`` (no slash, or several) is
    ``application/octet-stream``, as aiohttp reads it (its email-parser
    fallback). Parameter names are lower-cased, values kept, quotes removed;
    a name without ``=`` has the empty value (aiohttp's too).
    """
    mimetype, _, rest = value.partition(";")
    mimetype = mimetype.strip().lower()
    if mimetype.count("/") != 1:
        mimetype = "application/octet-stream"
    params: dict[str, str] = {}
    for item in rest.split(";"):
        name, _, param = item.partition("=")
        name = name.strip().lower()
        if name:
            param = param.strip()
            if len(param) >= 2 and param[0] == param[-1] == '"':
                param = param[1:-1].replace('\\"', '"')
            params[name] = param
    return mimetype, MappingProxyType(params)


class ChainMapProxy(Mapping[Any, Any]):
    """A read-only view of several mappings; the first that has a key wins.

    ``request.config_dict`` is one: the state of the innermost app first, so a
    sub-app sees its parents' configuration unless it sets its own.
    """

    __slots__ = ("_maps",)

    def __init__(self, maps: Sequence[Mapping[Any, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: Any) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[Any]:
        seen: dict[Any, None] = {}
        for mapping in reversed(self._maps):
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"
