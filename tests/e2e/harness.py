"""Real nginx and gunicorn processes for the end-to-end tests, on free loopback ports.

Both are started from the deployment guide's own files (docs/deployment/):
gunicorn with ``gunicorn.conf.py``, nginx with ``nginx-weft.conf.template``
rendered and included in a minimal main configuration that keeps every path
nginx writes (pid, temp files, logs) in the test's folder, so it runs as any
user and touches no system configuration.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import trustme
from aiohttp.client_proto import ResponseHandler
from aiohttp.tracing import Trace

from weft.test_utils import unused_port

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT = REPO / "docs" / "deployment"
NGINX_TEMPLATE = DEPLOYMENT / "nginx-weft.conf.template"
GUNICORN_CONF = DEPLOYMENT / "gunicorn.conf.py"

#: A bound on every wait for a process, so a hung one fails the test instead of
#: hanging the session; no test asserts how long anything takes.
PROCESS_TIMEOUT = 30.0

_PLACEHOLDER = re.compile(r"\$\{(WEFT_[A-Z_]+)\}")


def nginx_binary() -> str | None:
    """Debian puts nginx in /usr/sbin, which is not on a normal user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render_template(template: str, values: dict[str, str]) -> str:
    """``${WEFT_*}`` replaced as envsubst would; a placeholder left without a value fails."""
    missing = sorted(set(_PLACEHOLDER.findall(template)) - values.keys())
    if missing:
        raise KeyError(f"no value for {missing} in {NGINX_TEMPLATE.name}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


class LoggedProcess:
    """A subprocess whose merged output is read line by line by a thread.

    Tests wait for a line the process logs (a worker booted, nginx started),
    never for time.
    """

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                with self._changed:
                    self._lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def matching(self, pattern: str) -> list[str]:
        with self._changed:
            return [line for line in self._lines if re.search(pattern, line)]

    def wait_for_log(self, pattern: str, count: int = 1) -> list[str]:
        """The first ``count`` lines matching ``pattern``, once there are that many."""

        def enough() -> bool:
            found = [line for line in self._lines if re.search(pattern, line)]
            return len(found) >= count or self._ended

        with self._changed:
            if not self._changed.wait_for(enough, PROCESS_TIMEOUT):
                raise AssertionError(f"{self.name} did not log {pattern!r}:\n{self.log}")
        found = self.matching(pattern)
        if len(found) < count:
            raise AssertionError(f"{self.name} exited before logging {pattern!r}:\n{self.log}")
        return found[:count]

    def send_signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        """The exit status, once the process and its output have ended."""
        try:
            status = self.process.wait(PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit:\n{self.log}") from None
        self._reader.join(PROCESS_TIMEOUT)
        return status

    def stop(self, signum: signal.Signals) -> None:
        """Ask it to stop; kill it if it does not (a test that failed left it running)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(PROCESS_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(PROCESS_TIMEOUT)


class Gunicorn(LoggedProcess):
    """gunicorn on the guide's gunicorn.conf.py, two weft workers, the test app."""

    def __init__(self, runtime: Path, tcp_port: int | None = None) -> None:
        env = {
            **os.environ,
            # gunicorn.conf.py puts its unix socket (and control socket) here,
            # as under systemd's RuntimeDirectory.
            "RUNTIME_DIRECTORY": str(runtime),
            "WEB_CONCURRENCY": "2",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "WEFT_E2E_RECORD_DIR": str(runtime),
        }
        env.pop("WEFT_BIND", None)
        self.socket = runtime / "weft.sock"
        if tcp_port is not None:
            # The guide's TCP upstream: gunicorn on a loopback port, nginx the
            # only proxy the app trusts.
            env["WEFT_BIND"] = f"127.0.0.1:{tcp_port}"
            env["WEFT_TRUSTED_PROXIES"] = "127.0.0.1"
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "tests.e2e.e2e_app:create_app",
        ]
        super().__init__("gunicorn", args, env, runtime)
        self.wait_for_log(r"Listening at: ")

    @property
    def pid(self) -> int:
        return self.process.pid

    def ready_workers(self) -> list[int]:
        """Workers whose app has started (see e2e_app's on_startup line), in order."""
        return [int(m.split()[-1]) for m in self.matching(r"^e2e app ready in \d+$")]

    def wait_ready(self, count: int) -> list[int]:
        """The pids of the first ``count`` workers whose app has started."""
        self.wait_for_log(r"^e2e app ready in \d+$", count)
        return self.ready_workers()[:count]


class _ClosingConnector(aiohttp.TCPConnector):
    """A TCPConnector whose close() returns once every connection it made is closed.

    aiohttp ends a TLS connection its response ends (nginx's 413 to a body too
    large comes with Connection: close, a WebSocket's connection) gracefully:
    close_notify, and the socket once nginx answers it. It forgets the
    connection at once, so the session's close() does not wait for it, and the
    test's loop could end first: the socket was then never closed, and its
    ResourceWarning came up when the garbage collector got to it, in whichever
    later test that was (aiohttp#1115: closing a transport takes the loop
    iterations after close()). Here close() aborts them, as aiohttp aborts
    the TLS connections it pools (ssl_shutdown_timeout=0), and waits for each
    to be lost, when asyncio has closed its socket.
    """

    def __init__(self, context: ssl.SSLContext, limit: int) -> None:
        super().__init__(ssl=context, limit=limit)
        self._made: dict[ResponseHandler, asyncio.Transport] = {}

    async def connect(
        self, req: aiohttp.ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> aiohttp.connector.Connection:
        connection = await super().connect(req, traces, timeout)
        if connection.protocol is not None and connection.transport is not None:
            self._made.setdefault(connection.protocol, connection.transport)
        return connection

    async def close(self, *, abort_ssl: bool = False) -> None:
        await super().close(abort_ssl=abort_ssl)
        lost: list[asyncio.Future[None]] = []
        for protocol, transport in self._made.items():
            if (closed := protocol.closed) is not None:
                lost.append(closed)
            transport.abort()  # a no-op on one already lost
        self._made.clear()
        # A connection lost to an error carries it in its future: not this close()'s.
        await asyncio.wait_for(asyncio.gather(*lost, return_exceptions=True), PROCESS_TIMEOUT)


def client_session(
    context: ssl.SSLContext, timeout: float, limit: int = 100
) -> aiohttp.ClientSession:
    """An aiohttp client for nginx's TLS port whose close leaves no socket open."""
    return aiohttp.ClientSession(
        connector=_ClosingConnector(context, limit),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


class Tls:
    """A throw-away CA and nginx's certificate for 127.0.0.1, as files nginx reads."""

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        server = self.ca.issue_cert("127.0.0.1", "localhost")
        self.certificate = folder / "server.pem"
        self.key = folder / "server.key"
        server.cert_chain_pems[0].write_to_path(str(self.certificate))
        for pem in server.cert_chain_pems[1:]:
            pem.write_to_path(str(self.certificate), append=True)
        server.private_key_pem.write_to_path(str(self.key))


_MAIN_CONF = """\
# The test's main context: the guide's weft.conf is included in http {{}}.
daemon off;
master_process on;
worker_processes 2;
{user}
pid {folder}/nginx.pid;
error_log stderr notice;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    # What each upstream attempt gave, for a failed test's report.
    log_format upstreams '$remote_addr [$time_local] "$request" $status '
                         'upstream $upstream_status $upstream_addr '
                         '$upstream_header_time $request_time';
    access_log {folder}/access.log upstreams;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    include {folder}/weft.conf;
}}
"""


class Nginx(LoggedProcess):
    """Debian's nginx on the guide's template, TLS on a free port of 127.0.0.1."""

    def __init__(self, binary: str, folder: Path, upstream: str, max_body: int, tls: Tls) -> None:
        self.port = unused_port()
        values = {
            "WEFT_UPSTREAM": upstream,
            "WEFT_LISTEN": f"127.0.0.1:{self.port}",
            "WEFT_SERVER_NAME": "localhost",
            "WEFT_TLS_CERTIFICATE": str(tls.certificate),
            "WEFT_TLS_KEY": str(tls.key),
            "WEFT_MAX_BODY": str(max_body),
        }
        (folder / "weft.conf").write_text(render_template(NGINX_TEMPLATE.read_text(), values))
        # As root nginx would hand its workers to "nobody", who may not enter
        # the test's folder; as anyone else the directive is ignored with a warning.
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(_MAIN_CONF.format(folder=folder, user=user))
        args = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
        super().__init__("nginx", args, dict(os.environ), folder)
        # Logged once the listening socket is open.
        self.wait_for_log(r"start worker processes")

    def url(self, path: str = "/", scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"
