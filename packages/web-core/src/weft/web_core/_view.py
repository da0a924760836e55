"""``web.View``: the router's class-based view with its request typed as Request."""

from __future__ import annotations

from weft import web_routing

from ._request import Request

__all__ = ["View"]


class View(web_routing.View[Request]):
    """Subclass and define ``async def get(self)``, ``post``, ...; ``self.request`` is a Request.

    Register with ``app.router.add_view(path, MyView)`` or ``@routes.view(path)``;
    a method the class does not define answers 405 with ``Allow`` listing those it does.
    """
