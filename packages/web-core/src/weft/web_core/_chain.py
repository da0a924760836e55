"""The middleware chain around a matched handler, built once per (handler, apps).

For a handler reached through applications ``apps`` (outermost first), the
chain is: the outermost app's middlewares in list order, then the next app's,
..., then the handler. It is built the first time that handler is matched
through those apps and cached, so no request pays for composing it (the
router's 404/405 handlers are new objects per request and are not cached).

When a request passes through sub-applications, each app's middlewares see
``request.app`` (``match_info.current_app``) as their own app, as in aiohttp.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ._middleware import is_new_style, middleware
from ._response import StreamResponse
from ._types import Handler

if TYPE_CHECKING:
    from ._app import Application
    from ._request import Request

__all__ = ["build_chain", "warn_old_style"]


def warn_old_style(middlewares: Sequence[Any]) -> None:
    """aiohttp's DeprecationWarning for each old-style middleware factory."""
    for m in middlewares:
        if not is_new_style(m):
            warnings.warn(
                f'old-style middleware "{m!r}" deprecated, see #2252', DeprecationWarning, 4
            )


def _current_app_setter(app: Application) -> Callable[..., Awaitable[StreamResponse]]:
    @middleware
    async def set_current_app(request: Request, handler: Handler) -> StreamResponse:
        match_info = request.match_info
        previous = match_info.current_app
        match_info.current_app = app
        try:
            return await handler(request)
        finally:
            match_info.current_app = previous

    return set_current_app


async def build_chain(handler: Handler, apps: Sequence[Application]) -> Handler:
    """Wrap ``handler`` in the middlewares of ``apps``, innermost app first."""
    nested = len(apps) > 1
    for app in reversed(apps):
        for m in reversed(app.middlewares):
            if is_new_style(m):
                new_style = cast(Callable[..., Awaitable[StreamResponse]], m)
                handler = partial(new_style, handler=handler)
            else:
                # Old style: ``async def factory(app, handler) -> handler`` (seed API).
                factory = cast(Callable[[Any, Handler], Awaitable[Handler]], m)
                handler = await factory(app, handler)
        if nested:
            # Outside this app's middlewares, so they see it as request.app.
            handler = partial(_current_app_setter(app), handler=handler)
    return handler
