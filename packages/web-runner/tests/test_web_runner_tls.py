"""HTTPS through ssl_context, with a certificate made inside the test (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import trustme

from weft.web_core import Application, BaseRequest, Request, Response
from weft.web_runner import AppRunner, TCPSite


@pytest.fixture(scope="module")
def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts: a throw-away CA that issued a cert for 127.0.0.1."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest_asyncio.fixture
async def https_site(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> AsyncIterator[tuple[TCPSite, AppRunner]]:
    async def info(request: Request) -> Response:
        body = await request.text()
        return Response(text=f"{request.scheme} {request.secure} {request.url} {body}")

    app = Application()
    app.router.add_route("*", "/info", info)
    runner = AppRunner(app, shutdown_timeout=5.0)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0, ssl_context=contexts[0])
    await site.start()
    yield site, runner
    await runner.cleanup()


@pytest.mark.asyncio
async def test_https_request_is_secure(
    https_site: tuple[TCPSite, AppRunner], contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """aiohttp's client over TLS: request.scheme is https and request.secure is True."""
    site, runner = https_site
    port = runner.addresses[0][1]
    assert site.name == f"https://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(3):  # keep-alive over one TLS connection
            async with session.post(
                f"https://127.0.0.1:{port}/info", data=b"payload", ssl=contexts[1]
            ) as response:
                assert response.status == 200
                text = await response.text()
        assert text == f"https True https://127.0.0.1:{port}/info payload"


@pytest.mark.asyncio
async def test_plain_http_to_a_tls_port_fails_cleanly(
    https_site: tuple[TCPSite, AppRunner], contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """A client that speaks plain HTTP gets no HTTP answer; the server goes on serving TLS."""
    _, runner = https_site
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"http://127.0.0.1:{port}/info") as response:
                await response.read()
        async with session.get(f"https://127.0.0.1:{port}/info", ssl=contexts[1]) as response:
            assert response.status == 200


@pytest.mark.asyncio
async def test_untrusted_client_is_refused(https_site: tuple[TCPSite, AppRunner]) -> None:
    """A client that does not trust the CA fails the handshake (the cert is really checked)."""
    _, runner = https_site
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with session.get(f"https://127.0.0.1:{port}/info") as response:
                await response.read()


@pytest.mark.asyncio
async def test_low_level_server_over_tls(contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    """ServerRunner + TCPSite(ssl_context=...) serves a plain handler over HTTPS."""
    from weft.web_runner import Server, ServerRunner

    async def handler(request: BaseRequest) -> Response:
        return Response(text=request.scheme)

    runner = ServerRunner(Server(handler), shutdown_timeout=5.0)
    await runner.setup()
    try:
        await TCPSite(runner, "127.0.0.1", 0, ssl_context=contexts[0]).start()
        port = runner.addresses[0][1]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"https://127.0.0.1:{port}/", ssl=contexts[1]) as response,
        ):
            assert await response.text() == "https"
    finally:
        await runner.cleanup()
