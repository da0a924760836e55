"""Class-based views."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from weft.web_exceptions import HTTPMethodNotAllowed
from weft.web_routing import UrlDispatcher, View


@dataclass
class FakeRequest:
    method: str


class ItemView(View[FakeRequest]):
    async def get(self) -> str:
        return f"get {self.request.method}"

    async def post(self) -> str:
        return "post"


@pytest.mark.asyncio
async def test_view_dispatches_by_method() -> None:
    """Awaiting a view runs the method named like the request's, lower-cased."""
    assert await ItemView(FakeRequest("GET")) == "get GET"
    assert await ItemView(FakeRequest("POST")) == "post"


@pytest.mark.asyncio
async def test_view_405_lists_defined_methods() -> None:
    """A method the view lacks (or an unknown one) raises 405 with Allow of its methods."""
    for method in ("DELETE", "PROPFIND"):
        with pytest.raises(HTTPMethodNotAllowed) as caught:
            await ItemView(FakeRequest(method))
        assert caught.value.allowed_methods == {"GET", "POST"}
        assert caught.value.headers["Allow"] == "GET,POST"


def test_view_request_property() -> None:
    """view.request is the request it was built with."""
    request = FakeRequest("GET")
    assert ItemView(request).request is request


@pytest.mark.asyncio
async def test_add_view_routes_every_method_to_the_class() -> None:
    """add_view registers '*'; the handler is the class, called then awaited."""
    router = UrlDispatcher()
    route = router.add_view("/items", ItemView)
    assert route.method == "*"
    info = router.match("POST", "/items")
    assert info.handler is ItemView
    assert await info.handler(FakeRequest("POST")) == "post"
