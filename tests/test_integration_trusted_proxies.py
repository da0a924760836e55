"""trusted_proxies_middleware over real sockets: aiohttp's client, raw bytes, unix and IPv6.

The test client's peer is 127.0.0.1 (or ::1, or a unix socket): each test
makes it a trusted proxy or not through the app's ``trusted`` list, and
checks what the handler sees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from weft import web

SPOOFED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example",
}


async def whoami(request: web.Request) -> web.Response:
    client = request.get(web.FORWARDED_CLIENT)
    return web.json_response(
        {
            "remote": request.remote,
            "scheme": request.scheme,
            "host": request.host,
            "url": str(request.url),
            "secure": request.secure,
            "proxies": None if client is None else list(client.proxies),
        }
    )


def _app(trusted: list[str], header: Any = "x-forwarded") -> web.Application:
    app = web.Application(middlewares=[web.trusted_proxies_middleware(trusted, header=header)])
    app.router.add_get("/whoami", whoami)
    return app


Start = Callable[[web.Application, str], Awaitable[str]]


@pytest_asyncio.fixture
async def start() -> AsyncIterator[Start]:
    """Serve an app on 127.0.0.1, ::1 or a unix socket path; returns the base URL or the path."""
    runners: list[web.AppRunner] = []

    async def run(app: web.Application, where: str) -> str:
        runner = web.AppRunner(app, shutdown_timeout=5)
        await runner.setup()
        runners.append(runner)
        if where.startswith("/"):
            await web.UnixSite(runner, where).start()
            return where
        await web.TCPSite(runner, where, 0).start()
        port = runner.addresses[0][1]
        return f"http://[{where}]:{port}" if ":" in where else f"http://{where}:{port}"

    yield run
    for runner in runners:
        await runner.cleanup()


async def _get(url: str, headers: dict[str, str], unix: str | None = None) -> dict[str, Any]:
    connector = aiohttp.UnixConnector(path=unix) if unix else None
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url, headers=headers) as response,
    ):
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


@pytest.mark.asyncio
async def test_spoofed_headers_from_an_untrusted_peer_are_ignored(start: Start) -> None:
    """127.0.0.1 is not in the list: its X-Forwarded-* change nothing."""
    base = await start(_app(["10.0.0.0/8", "192.168.0.1"]), "127.0.0.1")
    seen = await _get(base + "/whoami", SPOOFED)
    assert seen["remote"] == "127.0.0.1"
    assert seen["scheme"] == "http"
    assert seen["url"] == base + "/whoami"
    assert (seen["secure"], seen["proxies"]) == (False, None)


@pytest.mark.asyncio
async def test_a_trusted_peers_headers_are_applied(start: Start) -> None:
    """127.0.0.1 trusted: remote, scheme, host, url and secure follow its headers."""
    base = await start(_app(["127.0.0.1"]), "127.0.0.1")
    seen = await _get(base + "/whoami?x=1", SPOOFED)
    assert seen == {
        "remote": "203.0.113.9",
        "scheme": "https",
        "host": "shop.example",
        "url": "https://shop.example/whoami?x=1",
        "secure": True,
        "proxies": ["127.0.0.1"],
    }


@pytest.mark.asyncio
async def test_a_chain_through_trusted_proxies(start: Start) -> None:
    """Trusted hops on the right are skipped, the client's own claims on the left ignored."""
    base = await start(_app(["127.0.0.0/8", "10.0.0.0/8"]), "127.0.0.1")
    seen = await _get(
        base + "/whoami", {"X-Forwarded-For": "1.1.1.1, 198.51.100.4, 10.0.0.2, 10.0.0.1"}
    )
    assert seen["remote"] == "198.51.100.4"
    assert seen["proxies"] == ["127.0.0.1", "10.0.0.1", "10.0.0.2"]


async def _raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_raw_bytes_malformed_from_trusted_is_400_from_untrusted_ignored(start: Start) -> None:
    """A trusted proxy's bad entry is a 400 on the wire; the same bytes from others are served."""
    request = (
        b"GET /whoami HTTP/1.1\r\nHost: app\r\nConnection: close\r\n"
        b"X-Forwarded-For: 203.0.113.9, not-an-ip\r\n\r\n"
    )
    trusting = await start(_app(["127.0.0.1"]), "127.0.0.1")
    answer = await _raw(trusting, request)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert (
        b"Bad X-Forwarded-For header from a trusted proxy: not an IP address: 'not-an-ip'" in answer
    )
    untrusting = await start(_app(["10.0.0.0/8"]), "127.0.0.1")
    answer = await _raw(untrusting, request)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["remote"] == "127.0.0.1"


@pytest.mark.asyncio
async def test_raw_bytes_repeated_fields_are_one_list(start: Start) -> None:
    """Two X-Forwarded-For field lines read as one list, in order (RFC 9110 §5.3)."""
    base = await start(_app(["127.0.0.1"]), "127.0.0.1")
    answer = await _raw(
        base,
        b"GET /whoami HTTP/1.1\r\nHost: app\r\nConnection: close\r\n"
        b"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
    )
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["remote"] == "203.0.113.9"


@pytest.mark.asyncio
async def test_forwarded_header_over_the_wire(start: Start) -> None:
    """RFC 7239 mode: Forwarded is read, X-Forwarded-For (the client's, maybe) is not."""
    base = await start(_app(["127.0.0.1"], header="forwarded"), "127.0.0.1")
    seen = await _get(
        base + "/whoami",
        {
            "Forwarded": 'for="[2001:db8::7]:4711";proto=https;host=shop.example',
            "X-Forwarded-For": "6.6.6.6",
        },
    )
    assert (seen["remote"], seen["scheme"], seen["host"]) == (
        "2001:db8::7",
        "https",
        "shop.example",
    )


@pytest.mark.asyncio
async def test_ipv6_peer(start: Start) -> None:
    """A proxy on ::1 is trusted as ::1, not as 127.0.0.1."""
    trusted = await start(_app(["::1"]), "::1")
    assert (await _get(trusted + "/whoami", SPOOFED))["remote"] == "203.0.113.9"
    untrusted = await start(_app(["127.0.0.1"]), "::1")
    assert (await _get(untrusted + "/whoami", SPOOFED))["remote"] == "::1"


@pytest.mark.asyncio
async def test_unix_socket_peer(start: Start, tmp_path: Path) -> None:
    """nginx on a unix socket: trusted only when the list says "unix"."""
    trusting = await start(_app(["unix"]), str(tmp_path / "a.sock"))
    seen = await _get("http://app.internal/whoami", SPOOFED, unix=trusting)
    assert (seen["remote"], seen["proxies"]) == ("203.0.113.9", ["unix"])
    assert seen["url"] == "https://shop.example/whoami"
    untrusting = await start(_app(["127.0.0.1"]), str(tmp_path / "b.sock"))
    seen = await _get("http://app.internal/whoami", SPOOFED, unix=untrusting)
    assert (seen["scheme"], seen["host"], seen["proxies"]) == ("http", "app.internal", None)
