"""aiohttp extensions' own test suites, on aiohttp and on weft in compat mode, compared.

    python tools/compat_extensions/run.py WORKDIR

Run by ``nox -s compat-extensions`` in a venv holding weft[aiohttp-compat]
(so aiohttp 3.14 and weft's .pth file), the extensions' test dependencies
and PINNED_TEST_TOOLS. For each extension in SUITES it downloads the pinned
sdist, runs its tests once on aiohttp and once with WEFT_AS_AIOHTTP=1, prints
a table and fails if a test that passes on aiohttp does not pass on weft.

aiohttp-session's Redis and memcached storages are tested against Debian's
redis-server and memcached (the session installs them as root), started here
on a loopback address no other server uses; the suite's conftest asks docker
for them, which the shim in ``shim/docker`` answers.

A missing service, or one that dies during the runs, fails the same tests on
both sides: the comparison would pass on fewer tests without saying so. So
the run fails instead, exit status 3, when a service does not answer before
or after a suite, or when a suite passes fewer tests on aiohttp than its
``expected_on_aiohttp`` (what it passes where the environment is whole).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    version: str
    #: Tests it passes on aiohttp 3.14 in a whole environment (its services
    #: running, its dependencies installed); fewer means a broken environment.
    expected_on_aiohttp: int
    #: Folders of other suites' sdists its tests import (aiohttp-security's import aiohttp-session).
    needs: tuple[str, ...] = ()
    #: pytest arguments after the defaults; each exclusion says why.
    args: tuple[str, ...] = ("tests",)


#: The newest release of each that works with aiohttp 3.14 and ships its tests
#: in its sdist. aiohttp-remotes 1.4.0's sdist has no tests: 1.3.0 is the
#: newest that has them.
SUITES: tuple[Suite, ...] = (
    Suite("aiohttp-jinja2", "1.6", 29),
    Suite("aiohttp-session", "2.12.1", 78),
    Suite(
        "aiohttp-cors",
        "0.8.1",
        93,
        # Drives a real browser through selenium (not installed): its own skip
        # condition is an import error, so neither run could collect it.
        args=("tests", "--ignore=tests/integration/test_real_browser.py"),
    ),
    Suite("aiohttp-sse", "3.0", 59),
    Suite("aiohttp-security", "0.5.0", 18, needs=("aiohttp-session",)),
    Suite("aiohttp-remotes", "1.3.0", 73),
)

#: What the suites' own requirement files pin or need, to install beside weft[aiohttp-compat].
PINNED_TEST_TOOLS: tuple[str, ...] = (
    "pytest==8.3.5",
    "pytest-asyncio==0.24.0",
    "pytest-aiohttp==1.1.0",
    "pytest-mock>=3.14",
    "jinja2>=3.1",
    "cryptography>=43",
    "pynacl>=1.5",
    "redis>=5",
    "aiomcache>=0.8",
    # aiohttp-security's tests sign with 3-byte keys, which PyJWT 2.10 warns about
    # and their filterwarnings = error fails on: the release of their time.
    "pyjwt==2.8.0",
    "trustme>=1.2",
    "typing-extensions>=4.12",
)


@dataclasses.dataclass
class Result:
    outcomes: dict[str, str]
    returncode: int

    @property
    def passed(self) -> set[str]:
        return {test for test, outcome in self.outcomes.items() if outcome == "passed"}


def download(suite: Suite, sdists: Path) -> Path:
    """The pinned sdist, unpacked; its folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(sdists),
            f"{suite.name}=={suite.version}",
        ],
        check=True,
    )
    stem = suite.name.replace("-", "[-_]")
    (archive,) = (p for p in sdists.glob("*.tar.gz") if _matches(p.name, stem, suite.version))
    with tarfile.open(archive) as tar:
        tar.extractall(sdists, filter="data")
    return sdists / archive.name.removesuffix(".tar.gz")


def _matches(filename: str, stem: str, version: str) -> bool:
    return re.fullmatch(f"{stem}-{re.escape(version)}\\.tar\\.gz", filename) is not None


class EnvironmentBroken(Exception):
    """What is compared would shrink without saying so: a service is missing or gone."""


@dataclasses.dataclass(frozen=True)
class Service:
    program: str
    #: aiohttp-session's conftest connects to the container's address on the
    #: image's default port (a free port only on macOS), and the docker shim
    #: can only name the address: the port is fixed, the address is what varies.
    port: int
    #: Names the address for the docker shim.
    variable: str
    command: Callable[[str], list[str]]
    #: The pid of the server answering on (host, port): which server answers,
    #: since a port taken by another one (another run's) answers as well.
    pid: Callable[[str, int], int]


def _exchange(host: str, port: int, request: bytes, complete: Callable[[bytes], bool]) -> bytes:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(request)
        reply = b""
        while not complete(reply):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply


def _redis_bulk_complete(reply: bytes) -> bool:
    head, newline, rest = reply.partition(b"\r\n")
    if not newline:
        return False
    if not head.startswith(b"$"):
        return True  # an error: one line
    return len(rest) >= int(head[1:]) + 2


def _redis_pid(host: str, port: int) -> int:
    reply = _exchange(host, port, b"INFO server\r\n", _redis_bulk_complete)
    match = re.search(rb"^process_id:(\d+)", reply, re.MULTILINE)
    if match is None:
        raise OSError(f"unexpected answer to INFO: {reply[:200]!r}")
    return int(match.group(1))


def _memcached_pid(host: str, port: int) -> int:
    reply = _exchange(
        host, port, b"stats\r\n", lambda data: data.endswith((b"END\r\n", b"ERROR\r\n"))
    )
    match = re.search(rb"^STAT pid (\d+)", reply, re.MULTILINE)
    if match is None:
        raise OSError(f"unexpected answer to stats: {reply[:200]!r}")
    return int(match.group(1))


_AS_NOBODY = ["-u", "nobody"] if os.geteuid() == 0 else []  # memcached refuses root

SERVICES: tuple[Service, ...] = (
    Service(
        "redis-server",
        6379,
        "WEFT_COMPAT_REDIS_HOST",
        lambda host: ["redis-server", "--bind", host, "--port", "6379", "--save", ""],
        _redis_pid,
    ),
    Service(
        "memcached",
        11211,
        "WEFT_COMPAT_MEMCACHED_HOST",
        lambda host: ["memcached", "-l", host, "-p", "11211", "-U", "0", *_AS_NOBODY],
        _memcached_pid,
    ),
)


def _answers(service: Service, host: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether ``process`` comes to answer on (host, port); False if it exits or another does."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # the address was taken between the probe and its bind
        try:
            pid = service.pid(host, service.port)
        except OSError:
            time.sleep(0.05)
            continue
        return pid == process.pid
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start(service: Service) -> tuple[subprocess.Popen[bytes], str]:
    """The service, answering on a loopback address where no other server does.

    A random address of 127.0.0.0/8 rather than the first free one: runs on
    one machine at once (CI's sessions, several checkouts) would all pick the
    same, and one run stopping its server would take it from the others.
    """
    for _ in range(20):
        host = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        with socket.socket() as probe:
            try:
                probe.bind((host, service.port))
            except OSError:
                continue
        process = subprocess.Popen(
            service.command(host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if _answers(service, host, process):
            return process, host
        _stop(process)
    raise EnvironmentBroken(
        f"{service.program} could not be started on a loopback address of its own "
        f"(port {service.port}: is a server listening on it on every address?)"
    )


class Services:
    """The servers this run started, each on its own address; the shim's environment."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {}
        self.running: list[tuple[Service, subprocess.Popen[bytes], str]] = []

    def check(self, when: str) -> None:
        """Each server still answers, itself: else the suite just run lost tests to it."""
        for service, process, host in self.running:
            try:
                answered = service.pid(host, service.port) == process.pid
            except OSError:
                answered = False
            if not answered:
                raise EnvironmentBroken(
                    f"{service.program} on {host}:{service.port} no longer answers {when} "
                    f"(exit status {process.poll()})"
                )


@contextlib.contextmanager
def services() -> Iterator[Services]:
    """redis-server and memcached started, answering; stopped at the end."""
    started = Services()
    try:
        for service in SERVICES:
            if shutil.which(service.program) is None:
                raise EnvironmentBroken(
                    f"{service.program} is not installed: aiohttp-session's storage tests "
                    "would fail on both sides (apt-get install redis-server memcached; "
                    "nox -s compat-extensions installs them when run as root)"
                )
            process, host = _start(service)
            started.running.append((service, process, host))
            started.env[service.variable] = host
            print(f"{service.program} on {host}:{service.port} (pid {process.pid})")
        yield started
    finally:
        for _, process, _ in started.running:
            _stop(process)


def outcomes(junit: Path) -> dict[str, str]:
    """test id -> passed / failed / skipped (a test with any error or failure, at setup,
    call or teardown, has not passed)."""
    found: dict[str, str] = {}
    rank = {"passed": 0, "skipped": 1, "failed": 2}
    for case in ElementTree.parse(junit).iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        if rank[outcome] >= rank[found.get(test, "passed")]:
            found[test] = outcome
    return found


def _stop_config_search(folder: Path) -> None:
    """Give a suite whose sdist has no pytest configuration an empty one.

    Without one, pytest looks for a configuration in the folders above, and
    under nox the work folder is inside weft's checkout: weft's pyproject.toml
    would set the suite's asyncio fixture loop scope and turn its warnings into
    errors (aiohttp-session's session-scoped async fixtures then fail to set up,
    on aiohttp and on weft alike).
    """
    sections = {
        "pytest.ini": "",
        ".pytest.ini": "",
        "pyproject.toml": "[tool.pytest.ini_options]",
        "tox.ini": "[pytest]",
        "setup.cfg": "[tool:pytest]",
    }
    for name, section in sections.items():
        config = folder / name
        if config.is_file() and section in config.read_text(encoding="utf-8"):
            return
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")


def run_suite(
    suite: Suite,
    folder: Path,
    folders: dict[str, Path],
    side: str,
    env: dict[str, str],
    reports: Path,
) -> Result:
    junit = reports / f"{suite.name}-{side}.xml"
    path = [str(HERE / "shim"), str(folder), *(str(folders[name]) for name in suite.needs)]
    run_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(path)}
    run_env["WEFT_COMPAT_EXPECT"] = side
    run_env.pop("WEFT_AS_AIOHTTP", None)
    if side == "weft":
        run_env["WEFT_AS_AIOHTTP"] = "1"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "weft_compat_check",
        # The suites' addopts ask for pytest-cov and its reports, which are not the point.
        "-o",
        "addopts=",
        # As upstream runs them (aiohttp-cors' and aiohttp-sse's sdists leave out
        # the pytest configuration that says so; the others set it themselves).
        "-o",
        "asyncio_mode=auto",
        f"--junitxml={junit}",
        *suite.args,
    ]
    _stop_config_search(folder)
    log = reports / f"{suite.name}-{side}.log"
    with log.open("wb") as out:
        done = subprocess.run(
            command,
            cwd=folder,
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if not junit.is_file():
        raise RuntimeError(f"{suite.name} on {side} wrote no report; see {log}")
    return Result(outcomes(junit), done.returncode)


def main(work: Path) -> int:
    import aiohttp

    if not aiohttp.__version__.startswith("3.14."):
        print(f"aiohttp {aiohttp.__version__} installed, the comparison is with 3.14")
        return 2
    sdists = work / "sdists"
    reports = work / "reports"
    for folder in (sdists, reports):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    folders = {suite.name: download(suite, sdists) for suite in SUITES}
    results: dict[tuple[str, str], Result] = {}
    try:
        with services() as running:
            for suite in SUITES:
                for side in ("aiohttp", "weft"):
                    results[suite.name, side] = run_suite(
                        suite, folders[suite.name], folders, side, running.env, reports
                    )
                    running.check(f"after {suite.name} on {side}")
    except EnvironmentBroken as broken:
        print(f"\nenvironment broken, nothing compared: {broken}")
        return 3
    rows = [("suite", "tests", "passed on aiohttp 3.14", "passed on weft", "lost on weft")]
    lost_all: list[str] = []
    gained_all: list[str] = []
    short: list[str] = []
    for suite in SUITES:
        on_aiohttp = results[suite.name, "aiohttp"]
        on_weft = results[suite.name, "weft"]
        passed = len(on_aiohttp.passed)
        if passed < suite.expected_on_aiohttp:
            short.append(
                f"{suite.name}: {passed} passed on aiohttp, {suite.expected_on_aiohttp} expected"
            )
        elif passed > suite.expected_on_aiohttp:
            print(
                f"{suite.name} passes {passed} on aiohttp, more than the "
                f"{suite.expected_on_aiohttp} recorded: raise its expected_on_aiohttp"
            )
        lost = sorted(on_aiohttp.passed - on_weft.passed)
        gained = sorted(on_weft.passed - on_aiohttp.passed)
        tests = len(on_aiohttp.outcomes.keys() | on_weft.outcomes.keys())
        rows.append(
            (
                f"{suite.name} {suite.version}",
                str(tests),
                str(len(on_aiohttp.passed)),
                str(len(on_weft.passed)),
                str(len(lost)),
            )
        )
        lost_all += [f"{suite.name}: {test}" for test in lost]
        gained_all += [f"{suite.name}: {test}" for test in gained]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))
    if gained_all:
        print("\npassed on weft only (failing on aiohttp 3.14):\n  " + "\n  ".join(gained_all))
    print(f"\nreports and logs: {reports}")
    if lost_all:
        print("\npassed on aiohttp, not on weft:\n  " + "\n  ".join(lost_all))
    if short:
        # Tests failing on aiohttp too are out of the comparison: fewer of them
        # passing there means less compared, not a weft result.
        print(
            "\nenvironment broken, fewer tests compared than it should be (a service, "
            "a dependency missing? see the logs):\n  " + "\n  ".join(short)
        )
        return 3
    return 1 if lost_all else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]).resolve()))
