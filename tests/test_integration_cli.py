"""``python -m weft.web`` and the bundled example, run as a user runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env() -> dict[str, str]:
    """The environment with the repository root importable (for examples.hello)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def served_example() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The README's first command (without the install): the example app on a free port."""
    port = _free_port()
    env = _env()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "weft.web",
            "-H",
            "127.0.0.1",
            "-P",
            str(port),
            "examples.hello:create_app",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"server did not start: {out}\n{err}")
            time.sleep(0.05)
    try:
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_example_app_serves(served_example: tuple[subprocess.Popen[str], str]) -> None:
    """The example answers on /, a variable route and a 404."""
    _, base = served_example
    assert _get(base + "/") == (200, "Hello from weft!\n")
    assert _get(base + "/hello/ada") == (200, "Hello, ada!\n")
    assert _get(base + "/missing")[0] == 404


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_shuts_down_gracefully(
    served_example: tuple[subprocess.Popen[str], str], signum: int
) -> None:
    """SIGINT or SIGTERM stops the server cleanly, after its start-up message."""
    proc, base = served_example
    assert _get(base + "/")[0] == 200
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"======== Running on {base} ========" in out
    assert "(Press CTRL+C to quit)" in out
    assert "Traceback" not in err


def test_bad_entry_func_is_reported() -> None:
    """A factory not in module:function form exits with a usage error."""
    result = subprocess.run(
        [sys.executable, "-m", "weft.web", "examples.hello"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(),
    )
    assert result.returncode == 2
    assert "'entry-func' not in 'module:function' syntax" in result.stderr
