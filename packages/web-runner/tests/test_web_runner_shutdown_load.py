"""SIGTERM to a run_app process under a steady keep-alive load: nothing lost.

Several keep-alive clients send request after request (each waits for its
answer, as HTTP/1.1 clients that do not pipeline do); the process gets
SIGTERM while handlers are in flight. Every request a client sent either got
its whole answer or was never started by the server, no handler starts after
the signal, and the process exits once the last handler ends (its
``shutdown_timeout`` of 60 s is far beyond the test's safety bound).
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import textwrap
from dataclasses import dataclass, field

import pytest

SAFETY = 30.0  # a bound for a hung process only; nothing here is timed
CLIENTS = 8
WARM_UP = 20  # answers each client gets before the signal
MAX_REQUESTS = 5000  # per client: the load is bounded even if the signal went astray

SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from weft.web_core import Application, Response
    from weft.web_runner import run_app

    started = []
    after_signal = []

    async def work(request):
        started.append(request.path)
        # White-box: the server is marked shutting down in the signal's own callback.
        if request.protocol._server.shutting_down:
            after_signal.append(request.path)
        n = int(request.path.rsplit("/", 1)[1])
        await asyncio.sleep(0.001 * (n % 7))  # work in flight, some of it longer
        return Response(text=request.path)

    async def on_cleanup(app):
        print(json.dumps({"started": started, "after_signal": after_signal}), flush=True)

    app = Application()
    app.router.add_get("/{client}/{n}", work)
    app.on_cleanup.append(on_cleanup)
    run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None)
    """
)


@dataclass
class Client:
    """One keep-alive connection's record: what it sent and what came back."""

    name: str
    sent: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    told_to_close: bool = False
    end: str = ""  # how the connection ended: "close" (EOF) or "reset"


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), lines[0]
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return await reader.readexactly(int(headers["content-length"])), headers


async def keep_sending(client: Client, port: int, warmed: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for n in range(MAX_REQUESTS):
            path = f"/{client.name}/{n}"
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                client.sent.append(path)
                body, headers = await read_answer(reader)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                client.end = "reset" if isinstance(exc, ConnectionResetError) else "close"
                return
            assert body == path.encode()
            client.answered.append(path)
            if n + 1 == WARM_UP:
                warmed.set()
            if headers.get("connection") == "close":
                client.told_to_close = True
                client.end = "close" if await reader.read() == b"" else "data after close"
                return
            if int(client.name) % 2:
                # Half the clients pause between requests (a load generator's pacing,
                # not a measurement), so the signal finds some connections idle.
                await asyncio.sleep(0.001 * (n % 5))
    finally:
        writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_sigterm_under_keepalive_load_loses_nothing_and_starts_nothing() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVER,
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SAFETY):
            assert process.stdout is not None
            banner = (await process.stdout.readline()).decode()
            assert banner.startswith("======== Running on"), banner
            await process.stdout.readline()  # (Press CTRL+C to quit)
            clients = [Client(str(i)) for i in range(CLIENTS)]
            warmed = [asyncio.Event() for _ in clients]
            load = [
                asyncio.create_task(keep_sending(client, port, event))
                for client, event in zip(clients, warmed, strict=True)
            ]
            await asyncio.gather(*(event.wait() for event in warmed))
            process.send_signal(signal.SIGTERM)
            await asyncio.gather(*load)
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout.decode().splitlines()[-1])
    started = set(report["started"])
    assert report["after_signal"] == []  # 0 started after the signal
    for client in clients:
        unanswered = client.sent[len(client.answered) :]
        assert len(unanswered) <= 1  # a client waits for each answer
        assert not started & set(unanswered)  # 0 lost: what was started was answered
        assert set(client.answered) <= started
        # Each learnt it was over: Connection: close on its last answer, or a close
        # (a reset when its request crossed the server's close of an idle connection).
        assert client.end in ("close", "reset"), client.end
        assert client.end == "close" or not client.told_to_close
