"""Types shared by the modules of web-core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, istr

if TYPE_CHECKING:
    from ._request import Request
    from ._response import StreamResponse

__all__ = ["Handler", "LooseHeaders", "Middleware"]

LooseHeaders: TypeAlias = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)

Handler: TypeAlias = Callable[["Request"], Awaitable["StreamResponse"]]


class Middleware(Protocol):
    """``async def middleware(request, handler)``, decorated with ``@web.middleware``."""

    def __call__(self, request: Request, handler: Handler) -> Awaitable[StreamResponse]: ...
