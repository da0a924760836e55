"""An absolute-form request-target (RFC 9112 §3.2.2): host from the target, scheme never.

A proxy in front routes such a request by its target; if the app read Host
instead, the two would disagree on which site the request is for. The scheme
is the connection's alone: a plain-HTTP request naming ``https://`` must not
make the app believe it is secure (aiohttp's PYSEC-2026-4369).
"""

from __future__ import annotations

import pytest
from web_core_support import exchange, make_request
from yarl import URL

from weft.web_core import Application, Request, Response


def absolute(target: str, host: str = "public.example") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("target", "host", "url"),
    [
        ("http://admin.example/a?x=1", "admin.example", "http://admin.example/a?x=1"),
        ("http://admin.example:8080/", "admin.example:8080", "http://admin.example:8080/"),
        ("http://[::1]:8443/p", "[::1]:8443", "http://[::1]:8443/p"),
        # The target's https is not the connection's: scheme stays http.
        ("https://admin.example/", "admin.example", "http://admin.example/"),
    ],
)
async def test_host_and_url_come_from_the_target(target: str, host: str, url: str) -> None:
    request, _ = make_request(absolute(target))
    assert request.host == host
    assert request.url == URL(url)
    assert request.scheme == "http"
    assert request.secure is False
    assert request.headers["Host"] == "public.example"  # the field itself is still there


@pytest.mark.asyncio
async def test_origin_form_keeps_the_host_header() -> None:
    request, _ = make_request(b"GET /a HTTP/1.1\r\nHost: public.example:81\r\n\r\n")
    assert request.host == "public.example:81"
    assert request.url == URL("http://public.example:81/a")


@pytest.mark.asyncio
async def test_clone_host_still_overrides() -> None:
    """A proxy-aware middleware's clone(host=) wins over the target, as over Host."""
    request, _ = make_request(absolute("http://admin.example/"))
    assert request.clone(host="edge.example").host == "edge.example"


@pytest.mark.asyncio
async def test_domain_sub_apps_route_by_the_same_host() -> None:
    """add_domain matches the host request.host reports, not a Host the target overrides."""
    root, admin = Application(), Application()

    async def who(request: Request) -> Response:
        return Response(text=f"admin app, host {request.host}")

    async def public(request: Request) -> Response:
        return Response(text="public app")

    admin.router.add_get("/", who)
    root.router.add_get("/", public)
    root.add_domain("admin.example", admin)

    ex = await exchange(root, absolute("http://admin.example/"))
    assert ex.parsed.body == b"admin app, host admin.example"
    ex = await exchange(root, absolute("http://public.example/", host="admin.example"))
    assert ex.parsed.body == b"public app"
