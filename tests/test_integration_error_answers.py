"""Error answers held to aiohttp's (issue 14): the same app, the same bytes, under both.

The 500 page and its text variant must be the same bytes; with debug mode the
traceback differs in its frames (each framework's own code), so only its
shape and its last line are compared. The log line must read the same.
Bytes that cannot start a request get 400 and EOF at once from both.

One documented difference is pinned here, so that it cannot change unseen:
aiohttp 3.14 answers every parser error with 400, where weft answers a
request-line over max_line_size with 414 and a header over its limits with
431 (packages/web-runner/README.md, "Error answers").
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.differential import under_both

IGNORED = {"Date", "Server"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLIENT_HELLO = bytes.fromhex("16030100f4010000f00303") + bytes(32)
LOGGERS = ("aiohttp.server", "weft.server")


def build(web: Any, debug: bool = False) -> Any:
    async def fail(request: Any) -> Any:
        raise ValueError("the <b>cause</b> & more")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp: debug= is deprecated
        app = web.Application(debug=True) if debug else web.Application()
    app.router.add_get("/fail", fail)
    return app


def fetch(accept: str | None) -> Any:
    async def talk(base: str) -> tuple[int, str, dict[str, str], bytes]:
        headers = {"Accept": accept} if accept is not None else {}
        async with (
            aiohttp.ClientSession(skip_auto_headers=["Accept"]) as session,
            session.get(f"{base}/fail", headers=headers) as response,
        ):
            kept = {k: v for k, v in response.headers.items() if k not in IGNORED}
            return response.status, response.reason or "", kept, await response.read()

    return talk


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT, None, "*/*", "application/json"])
async def test_the_500_is_aiohttps_to_the_byte(accept: str | None) -> None:
    seen = await under_both(build, fetch(accept))
    assert seen["weft"] == seen["aiohttp"]
    status, _reason, headers, _body = seen["weft"]
    assert status == 500
    html = accept is not None and "text/html" in accept
    assert headers["Content-Type"] == ("text/html" if html else "text/plain") + "; charset=utf-8"


def _traceback_shape(body: bytes) -> tuple[str, str, str]:
    """(text before the traceback, its first line, its last lines): what debug mode adds."""
    text = body.decode()
    start = text.index("Traceback (most recent call last):")
    lines = text[start:].splitlines()
    last = next(i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("ValueError"))
    return text[:start], lines[0], "\n".join(lines[last:])


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", ["text/html", None])
async def test_debug_mode_shows_the_traceback_as_aiohttp(accept: str | None) -> None:
    seen = await under_both(lambda web: build(web, debug=True), fetch(accept))
    shapes = {name: _traceback_shape(answer[3]) for name, answer in seen.items()}
    assert shapes["weft"] == shapes["aiohttp"]
    # The frames differ, so the lengths do; the rest of the head does not.
    heads = {
        name: (status, reason, {k: v for k, v in headers.items() if k != "Content-Length"})
        for name, (status, reason, headers, _body) in seen.items()
    }
    assert heads["weft"] == heads["aiohttp"]
    cause = "the &lt;b&gt;cause&lt;/b&gt; &amp; more" if accept else "the <b>cause</b> & more"
    assert shapes["weft"][2].startswith(f"ValueError: {cause}")


@pytest.mark.asyncio
async def test_the_error_is_logged_with_aiohttps_line(caplog: pytest.LogCaptureFixture) -> None:
    async def talk(base: str) -> list[tuple[str, str, str]]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            await fetch(None)(base)
        return [
            (r.levelname, r.getMessage(), type(r.exc_info[1]).__name__ if r.exc_info else "")
            for r in caplog.records
            if r.name in LOGGERS
        ]

    seen = await under_both(build, talk)
    assert (
        seen["weft"]
        == seen["aiohttp"]
        == [("ERROR", "Error handling request from 127.0.0.1", "ValueError")]
    )


def raw(data: bytes) -> Any:
    """Send ``data`` alone, the socket left open: the status and whether EOF followed."""

    async def talk(base: str) -> tuple[int, bool]:
        url = URL(base)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        try:
            writer.write(data)
            received = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
        return int(received.split(b" ", 2)[1]), reader.at_eof()

    return talk


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data",
    [CLIENT_HELLO, b"\x16\x03\x01", b"\x01GET", b" GET / HTTP/1.1"],
    ids=["client-hello", "tls-record-start", "ctl", "leading-sp"],
)
async def test_bytes_that_cannot_start_a_request_get_400_and_eof_at_once(data: bytes) -> None:
    seen = await under_both(build, raw(data))
    assert seen["weft"] == seen["aiohttp"] == (400, True)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("data", "weft_status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X" * 9000 + b": 1\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X%d: 1\r\n" % i for i in range(200)), 431),
    ],
    ids=["request-line", "field-value", "field-name", "field-count"],
)
async def test_a_head_over_a_limit_is_414_or_431_where_aiohttp_says_400(
    data: bytes, weft_status: int
) -> None:
    seen = await under_both(build, raw(data))
    assert seen == {"aiohttp": (400, True), "weft": (weft_status, True)}
