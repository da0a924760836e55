"""How an error escaping a handler is answered, held to aiohttp's answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.differential import under_both

IGNORED = {"Date", "Server"}


def build(web: Any) -> Any:
    async def timeout(request: Any) -> Any:
        raise TimeoutError("the backend did not answer")

    app = web.Application()
    app.router.add_get("/timeout", timeout)
    return app


async def talk(base: str) -> tuple[int, str, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/timeout") as response:
        headers = {k: v for k, v in response.headers.items() if k not in IGNORED}
        return response.status, response.reason or "", headers, await response.read()


@pytest.mark.asyncio
async def test_a_handler_timeout_is_504_as_aiohttp() -> None:
    """A TimeoutError escaping the handler is 504 Gateway Timeout, with aiohttp's headers."""
    seen = await under_both(build, talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"][0] == 504


def build_returning(web: Any) -> Any:
    async def nothing(request: Any) -> Any:
        return None  # the forgotten `return`

    async def a_dict(request: Any) -> Any:
        return {"not": "a response"}

    async def ok(request: Any) -> Any:
        return web.Response(text="next")

    app = web.Application()
    app.router.add_get("/none", nothing)
    app.router.add_get("/dict", a_dict)
    app.router.add_get("/ok", ok)
    return app


def two_requests(path: str, caplog: pytest.LogCaptureFixture) -> Any:
    """The answer to ``path`` and to a second request on the same connection, and the log."""

    async def talk(base: str) -> tuple[list[bytes], bool, list[tuple[str, str, str]]]:
        url = URL(base)
        caplog.clear()
        reader, writer = await asyncio.open_connection(url.host, url.port)
        answers = []
        try:
            with caplog.at_level(logging.DEBUG):
                for target in (path, "/ok"):
                    writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target.encode())
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                    lines = [
                        line
                        for line in head.split(b"\r\n")
                        if not line.startswith((b"Date:", b"Server:"))
                    ]
                    length = next(
                        int(line.split(b":")[1])
                        for line in lines
                        if line.startswith(b"Content-Length:")
                    )
                    body = await asyncio.wait_for(reader.readexactly(length), 10)
                    answers.append(b"\r\n".join(lines) + body)
            writer.write_eof()
            closed = await asyncio.wait_for(reader.read(), 10) == b""
        finally:
            writer.close()
        logged = [
            (r.levelname, r.getMessage(), type(r.exc_info[1]).__name__ if r.exc_info else "")
            for r in caplog.records
            if r.name in ("aiohttp.server", "weft.server")
        ]
        return answers, closed, logged

    return talk


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/none", "Missing return statement on request handler"),
        ("/dict", "Web-handler should return a response instance, got {'not': 'a response'}"),
    ],
)
async def test_a_handler_that_returns_no_response_is_500_and_the_connection_stays(
    path: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp logs what the handler returned and answers its plain 500, keep-alive kept."""
    seen = await under_both(build_returning, two_requests(path, caplog))
    answers, closed, logged = seen["weft"]
    assert answers == seen["aiohttp"][0]
    assert closed == seen["aiohttp"][1] is True
    assert answers[0].startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert answers[0].endswith(b"\r\n\r\n500: Internal Server Error")
    assert b"Connection: close" not in answers[0]
    assert answers[1].endswith(b"next")
    # aiohttp logs from inside the AttributeError its own code raised (no `.prepare`),
    # so its record carries that traceback; weft's has none to give.
    assert [entry[:2] for entry in seen["aiohttp"][2]] == [("ERROR", message)]
    assert seen["aiohttp"][2][0][2] == "AttributeError"
    assert logged == [("ERROR", message, "")]
