"""The chat example (examples/chat.py) end to end: two browser tabs, and two plain clients.

The browser test drives Debian's headless Chromium through the Chrome
DevTools Protocol (CDP) over a WebSocket, with the `websockets` library: no
selenium or playwright. Chromium is started with ``--remote-debugging-port=0``
and writes the port it chose to ``DevToolsActivePort`` in its profile folder.
Two tabs open the page, each types a message into the form, and each must
see the other's. The test is skipped when /usr/bin/chromium is absent
(``apt-get install -y chromium``; the nox session installs it on CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

from weft import web

EXAMPLE = Path(__file__).parent.parent / "examples" / "chat.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("weft_example_chat", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


create_app: Callable[[], web.Application] = _load_example().create_app

ServeApp = Callable[[web.Application], Awaitable[str]]
CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
TIMEOUT = 30.0  # a safety bound: Chromium's first start in a fresh profile can be slow


# ---------------------------------------------------------------- two plain WebSocket clients


@pytest.mark.asyncio
async def test_chat_between_two_websocket_clients(serve: ServeApp) -> None:
    """Join, message and leave notices reach every client (the `websockets` library)."""
    base = (await serve(create_app())).replace("http://", "ws://")
    async with (
        connect(f"{base}/ws?name=alice") as alice,
        connect(f"{base}/ws?name=bob") as bob,
    ):

        async def next_of(ws: ClientConnection, kind: str) -> dict[str, str]:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    message: dict[str, str] = json.loads(await ws.recv())
                    if message["type"] == kind:
                        return message

        assert await next_of(alice, "join") == {"type": "join", "name": "alice"}
        assert (await next_of(alice, "join"))["name"] == "bob"
        await alice.send(json.dumps({"text": "hi bob"}))
        assert await next_of(bob, "message") == {
            "type": "message",
            "name": "alice",
            "text": "hi bob",
        }
        assert (await next_of(alice, "message"))["text"] == "hi bob"  # the sender sees it too
        await bob.send("not json")  # ignored, the connection stays
        await bob.send(json.dumps({"text": "hi alice"}))
        assert (await next_of(alice, "message"))["text"] == "hi alice"
        await bob.close()
        assert await next_of(alice, "leave") == {"type": "leave", "name": "bob"}


@pytest.mark.asyncio
async def test_chat_page_is_served(serve: ServeApp) -> None:
    base = await serve(create_app())
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /?name=%3Cb%3E HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    page = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    assert page.startswith(b"HTTP/1.1 200 OK")
    assert b"new WebSocket(" in page
    assert b"&lt;b&gt;" in page  # the name is escaped


# ---------------------------------------------------------------- Chromium through CDP


class CDP:
    """A minimal Chrome DevTools Protocol client: commands by id, sessions flattened."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._ws:
            message = json.loads(raw)
            future = self._pending.pop(message.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(message)
            # events (no id) are not needed here

    async def send(self, method: str, session: str | None = None, **params: Any) -> Any:
        self._next += 1
        future = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        command: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        await self._ws.send(json.dumps(command))
        reply = await asyncio.wait_for(future, TIMEOUT)
        if "error" in reply:
            raise RuntimeError(f"CDP {method}: {reply['error']}")
        return reply["result"]

    async def evaluate(self, session: str, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_until(self, session: str, expression: str) -> Any:
        """Evaluate ``expression`` until it is truthy (the page works asynchronously)."""
        async with asyncio.timeout(TIMEOUT):
            while not (value := await self.evaluate(session, expression)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return value

    async def open_tab(self, url: str) -> str:
        target = await self.send("Target.createTarget", url=url)
        attached = await self.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        return str(attached["sessionId"])

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _devtools_port(active: Path) -> tuple[str, str] | None:
    """(port, browser path) from Chromium's DevToolsActivePort, once it is written."""
    try:
        lines = active.read_text().splitlines()
    except FileNotFoundError:
        return None
    return (lines[0], lines[1]) if len(lines) >= 2 else None


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[CDP]:
    """Headless Chromium with a throw-away profile; its CDP connection."""
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="weft-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            *[
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            active = Path(profile) / "DevToolsActivePort"
            async with asyncio.timeout(TIMEOUT):
                while (found := _devtools_port(active)) is None:
                    if process.returncode is not None:
                        pytest.fail(f"chromium exited with {process.returncode} before CDP was up")
                    await asyncio.sleep(0.05)
            port, path = found
            async with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as ws:
                cdp = CDP(ws)
                try:
                    yield cdp
                    with contextlib.suppress(Exception):
                        await cdp.send("Browser.close")
                finally:
                    await cdp.close()
        finally:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
            if os.environ.get("WEFT_KEEP_PROFILE"):  # pragma: no cover (debugging aid)
                print("chromium profile:", profile)


@pytest.mark.asyncio
async def test_two_browser_tabs_see_each_other(serve: ServeApp, browser: CDP) -> None:
    base = await serve(create_app())
    alice = await browser.open_tab(f"{base}/?name=alice")
    await browser.wait_until(alice, "window.chatReady === true")
    bob = await browser.open_tab(f"{base}/?name=bob")  # after alice: she sees him join
    await browser.wait_until(bob, "window.chatReady === true")

    async def say(tab: str, text: str) -> None:
        await browser.evaluate(
            tab,
            f"document.getElementById('text').value = {json.dumps(text)};"
            "document.getElementById('form').requestSubmit(); true",
        )

    def log_has(line: str) -> str:
        return (
            "Array.from(document.querySelectorAll('#log li'))"
            f".some(li => li.textContent === {json.dumps(line)})"
        )

    await say(alice, "hello from alice")
    await browser.wait_until(bob, log_has("alice: hello from alice"))
    await say(bob, "hi alice, bob here")
    await browser.wait_until(alice, log_has("bob: hi alice, bob here"))
    await browser.wait_until(alice, log_has("bob joined"))
    assert await browser.evaluate(alice, "document.getElementById('status').textContent") == (
        "connected"
    )
