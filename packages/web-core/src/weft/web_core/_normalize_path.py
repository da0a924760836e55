"""normalize_path_middleware: redirect to the canonical form of a path that exists.

Only a request that routing could not answer (404/405) is considered; the
candidate paths are tried in aiohttp's order and the first that resolves to a
route (for the request's method and Host) is the redirect target, with the
query string kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from weft.web_exceptions import HTTPMove, HTTPPermanentRedirect

from ._middleware import middleware
from ._request import Request
from ._response import StreamResponse
from ._types import Handler, Middleware

__all__ = ["normalize_path_middleware"]

_SLASHES = re.compile("//+")


def _candidates(
    path: str, *, append_slash: bool, remove_slash: bool, merge_slashes: bool
) -> list[str]:
    found: list[str] = []
    if merge_slashes:
        found.append(_SLASHES.sub("/", path))
    if append_slash and not path.endswith("/"):
        found.append(path + "/")
    if remove_slash and path.endswith("/"):
        found.append(path[:-1])
    if merge_slashes and append_slash:
        found.append(_SLASHES.sub("/", path + "/"))
    if merge_slashes and remove_slash and path.endswith("/"):
        found.append(_SLASHES.sub("/", path)[:-1])
    # A leading "//" would make the Location protocol-relative: an open redirect.
    return [re.sub("^//+", "/", p) for p in found if p and p != path]


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: Callable[..., HTTPMove] = HTTPPermanentRedirect,
) -> Middleware:
    """Redirect ``/a//b`` to ``/a/b``, ``/a`` to ``/a/`` (or back) when that path has a route.

    ``append_slash`` and ``remove_slash`` exclude each other (ValueError).
    """
    if append_slash and remove_slash:
        raise ValueError("Cannot both remove and append slash")

    @middleware
    async def normalize_path(request: Request, handler: Handler) -> StreamResponse:
        if request.match_info.http_exception is not None:
            raw_path, sep, query = request.raw_path.partition("?")
            router = request.app.router
            # A candidate is looked up as the request itself was: with its Host
            # (domain sub-apps), or through resolve() when only that can answer.
            host = request._routing_host()
            for path in _candidates(
                raw_path,
                append_slash=append_slash,
                remove_slash=remove_slash,
                merge_slashes=merge_slashes,
            ):
                if router.needs_resolve:
                    found = await router.resolve(request.clone(rel_url=path))
                else:
                    found = router.match(request.method, path, host=host)
                if found.http_exception is None:
                    raise redirect_class(path + sep + query)
        return await handler(request)

    return normalize_path
