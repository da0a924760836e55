"""gunicorn's reload (HUP) and stop (SIGTERM) under steady load through nginx.

Eight keep-alive clients send ``/load`` requests (each in its handler for a
few ms) through nginx while the master is signalled. Every run is bounded in
requests, and stops on its own once what it waits for has happened.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import pytest

from tests.e2e.harness import client_session

if TYPE_CHECKING:
    from tests.e2e.conftest import Deployment

CLIENTS = 8
#: Answers each client has before the signal is sent: the load is steady by then.
WARM_UP = 20
#: Requests one client may send at most: a run that never sees what it waits
#: for ends here and fails, instead of hanging the session.
MAX_REQUESTS = 3000
TIMEOUT = 60.0  # a bound on hangs only


@dataclass
class Client:
    """One keep-alive client's record of what it sent and what came back."""

    number: int
    answered: dict[str, int] = field(default_factory=dict)  # request id -> worker pid
    failures: list[str] = field(default_factory=list)
    refused_after_signal: int = 0
    sent: int = 0
    warmed_up: asyncio.Event = field(default_factory=asyncio.Event)


async def _request(session: aiohttp.ClientSession, url: str, client: Client) -> int | None:
    """One /load request: the pid of the worker that answered, or None (recorded as failed)."""
    request_id = f"{client.number}-{client.sent}"
    client.sent += 1
    try:
        async with session.get(url, params={"id": request_id}) as response:
            body = await response.text()
            status = response.status
    except aiohttp.ClientError as error:
        client.failures.append(f"{request_id}: {error!r}")
        return None
    if status != 200:
        client.failures.append(f"{request_id}: {status} {body[:200]!r}")
        return None
    answered_id, pid = body.split()
    if answered_id != request_id:
        client.failures.append(f"{request_id}: answered as {answered_id}")
        return None
    client.answered[request_id] = int(pid)
    if len(client.answered) >= WARM_UP:
        client.warmed_up.set()
    return int(pid)


def _report(deployment: Deployment, failures: list[str]) -> str:
    """The failures, with what nginx logged of each request."""
    lines = [f"{len(failures)} failed:"]
    for failure in failures[:10]:
        request_id = failure.split(":")[0]
        lines.append(failure[:120])
        target = f"/load?id={request_id} "
        lines += [f"  nginx: {line}" for line in deployment.nginx.matching(target)]
        lines += [f"  access: {line}" for line in deployment.nginx_access_log() if target in line]
    return "\n".join(lines)


def _session(deployment: Deployment) -> aiohttp.ClientSession:
    return client_session(deployment.ssl, TIMEOUT, limit=CLIENTS)


@pytest.mark.asyncio
async def test_a_hup_reload_under_load_fails_no_request(own_deployment: Deployment) -> None:
    """New workers take over from the old ones while the load goes on: no request fails."""
    deployment = own_deployment
    old_workers = set(deployment.workers)
    reloaded = asyncio.Event()
    clients = [Client(n) for n in range(CLIENTS)]

    async def run(client: Client, session: aiohttp.ClientSession) -> None:
        # Until the old workers are gone and this client has been answered by
        # the new ones WARM_UP times: the switch happened under its load.
        new_answers = 0
        url = deployment.url("/load")
        while client.sent < MAX_REQUESTS and new_answers < WARM_UP:
            pid = await _request(session, url, client)
            if reloaded.is_set() and pid is not None and pid not in old_workers:
                new_answers += 1

    async with _session(deployment) as session, asyncio.timeout(TIMEOUT):
        tasks = [asyncio.create_task(run(client, session)) for client in clients]
        await asyncio.gather(*(client.warmed_up.wait() for client in clients))
        deployment.gunicorn.send_signal(signal.SIGHUP)
        # The arbiter's log, read in a thread: the loop goes on serving the load.
        new_workers = set(await asyncio.to_thread(deployment.gunicorn.wait_ready, 4)) - old_workers
        for pid in old_workers:
            await asyncio.to_thread(
                deployment.gunicorn.wait_for_log, rf"Worker exiting \(pid: {pid}\)"
            )
        reloaded.set()
        await asyncio.gather(*tasks)

    failures = [failure for client in clients for failure in client.failures]
    assert failures == [], _report(deployment, failures)
    assert len(new_workers) == 2
    answered_by = {pid for client in clients for pid in client.answered.values()}
    # The load went on across the switch: answered by old workers and by new
    # ones (which of them accept nginx's connections is the kernel's choice).
    assert answered_by & old_workers
    assert answered_by & new_workers
    assert answered_by <= old_workers | new_workers
    # Every client reached its goal, none ran out of requests.
    assert all(client.sent < MAX_REQUESTS for client in clients)
    assert "Traceback" not in deployment.gunicorn.log


@pytest.mark.asyncio
async def test_a_sigterm_under_load_loses_no_request(own_deployment: Deployment) -> None:
    """Each request a worker started is answered whole; the rest never reached the app.

    After the signal gunicorn stops listening, so nginx answers the requests
    it can no longer pass on 502 itself: a client stops at its first one.
    """
    deployment = own_deployment
    signalled = asyncio.Event()
    clients = [Client(n) for n in range(CLIENTS)]

    async def run(client: Client, session: aiohttp.ClientSession) -> None:
        url = deployment.url("/load")
        while client.sent < MAX_REQUESTS:
            failed_before = len(client.failures)
            if await _request(session, url, client) is None and signalled.is_set():
                # Moved aside, and checked below against what the workers started.
                reason = client.failures.pop(failed_before)
                client.refused_after_signal += 1
                if " 502 " not in reason:
                    client.failures.append(f"after the signal: {reason}")
                return

    async with _session(deployment) as session, asyncio.timeout(TIMEOUT):
        tasks = [asyncio.create_task(run(client, session)) for client in clients]
        await asyncio.gather(*(client.warmed_up.wait() for client in clients))
        signalled.set()
        deployment.gunicorn.send_signal(signal.SIGTERM)
        await asyncio.gather(*tasks)
        status = await asyncio.to_thread(deployment.gunicorn.wait)

    assert status == 0, deployment.gunicorn.log
    failures = [failure for client in clients for failure in client.failures]
    assert failures == [], _report(deployment, failures)
    answered = {request_id for client in clients for request_id in client.answered}
    started = deployment.started_ids()
    lost = sorted(set(started) - answered)
    assert lost == [], f"started by a worker, never answered: {lost}"
    # Each client ran into the stop (nothing ended the run early), and the
    # requests the records name are the ones the clients sent.
    assert all(client.refused_after_signal == 1 for client in clients)
    assert answered <= set(started)
    for pid in deployment.workers:
        assert f"Worker exiting (pid: {pid})" in deployment.gunicorn.log
    assert "Traceback" not in deployment.gunicorn.log
