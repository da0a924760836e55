"""The end-to-end tests' fixtures: nginx in front of gunicorn, as docs/deployment.md has it.

The repository is on sys.path (tests/conftest.py puts it there): the guide's
example app and the harness are imported from the checkout.
"""

from __future__ import annotations

import shutil
import signal
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.deployment import CLIENT_MAX_SIZE
from tests.e2e.harness import Gunicorn, Nginx, Tls, nginx_binary
from weft.test_utils import unused_port


class Deployment:
    """nginx on a free loopback port, gunicorn with two weft workers behind it."""

    def __init__(self, folder: Path, binary: str, tls: Tls, upstream: str = "unix") -> None:
        self.folder = folder
        tcp_port = unused_port() if upstream == "tcp" else None
        self.gunicorn = Gunicorn(folder, tcp_port)
        address = f"unix:{self.gunicorn.socket}" if tcp_port is None else f"127.0.0.1:{tcp_port}"
        try:
            self.nginx = Nginx(binary, folder, address, max_body=CLIENT_MAX_SIZE, tls=tls)
        except BaseException:
            self.gunicorn.stop(signal.SIGTERM)
            raise
        self.ssl = ssl.create_default_context()
        tls.ca.configure_trust(self.ssl)
        try:
            self.workers = self.gunicorn.wait_ready(2)
        except BaseException:
            self.close()
            raise

    def url(self, path: str = "/", scheme: str = "https") -> str:
        return self.nginx.url(path, scheme)

    def started_ids(self) -> list[str]:
        """The ids of /load requests the workers started (see e2e_app)."""
        return [
            line
            for record in sorted(self.folder.glob("started-*.txt"))
            for line in record.read_text().splitlines()
        ]

    def nginx_access_log(self) -> list[str]:
        """nginx's access log: each request with what every upstream attempt gave."""
        return (self.folder / "access.log").read_text().splitlines()

    def close(self) -> None:
        self.gunicorn.stop(signal.SIGTERM)
        self.nginx.stop(signal.SIGQUIT)


@pytest.fixture(scope="session")
def nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        pytest.skip(
            "nginx is not installed (apt-get install nginx; nox -s e2e installs it as root)"
        )
    return binary


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls(tmp_path_factory.mktemp("tls"))


def _folder() -> Path:
    # Not tmp_path: a unix socket's path must stay under 108 bytes.
    return Path(tempfile.mkdtemp(prefix="weft-e2e-"))


@pytest.fixture(scope="module", params=["unix", "tcp"])
def deployment(request: pytest.FixtureRequest, nginx: str, tls: Tls) -> Iterator[Deployment]:
    """One deployment for a module's tests that leave it as they found it, on each
    of the guide's upstreams: the unix socket, and TCP on a loopback port."""
    folder = _folder()
    served = Deployment(folder, nginx, tls, request.param)
    yield served
    served.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_deployment(nginx: str, tls: Tls) -> Iterator[Deployment]:
    """A deployment for one test, which may reload or stop it."""
    folder = _folder()
    served = Deployment(folder, nginx, tls)
    yield served
    served.close()
    shutil.rmtree(folder, ignore_errors=True)
