"""aiohttp extensions' own test suites, on aiohttp and on weft in compat mode, compared.

    python tools/compat_extensions/run.py WORKDIR

Run by ``nox -s compat-extensions`` in a venv holding weft[aiohttp-compat]
(so aiohttp 3.14 and weft's .pth file), the extensions' test dependencies
and PINNED_TEST_TOOLS. For each extension in SUITES it downloads the pinned
sdist, runs its tests once on aiohttp and once with WEFT_AS_AIOHTTP=1, prints
a table and fails if a test that passes on aiohttp does not pass on weft.

aiohttp-session's Redis and memcached storages are tested against Debian's
redis-server and memcached when present (the session installs them as root),
started here on a free loopback address; the suite's conftest asks docker
for them, which the shim in ``shim/docker`` answers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
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
    #: Folders of other suites' sdists its tests import (aiohttp-security's import aiohttp-session).
    needs: tuple[str, ...] = ()
    #: pytest arguments after the defaults; each exclusion says why.
    args: tuple[str, ...] = ("tests",)


#: The newest release of each that works with aiohttp 3.14 and ships its tests
#: in its sdist. aiohttp-remotes 1.4.0's sdist has no tests: 1.3.0 is the
#: newest that has them.
SUITES: tuple[Suite, ...] = (
    Suite("aiohttp-jinja2", "1.6"),
    Suite("aiohttp-session", "2.12.1"),
    Suite(
        "aiohttp-cors",
        "0.8.1",
        # Drives a real browser through selenium (not installed): its own skip
        # condition is an import error, so neither run could collect it.
        args=("tests", "--ignore=tests/integration/test_real_browser.py"),
    ),
    Suite("aiohttp-sse", "3.0"),
    Suite("aiohttp-security", "0.5.0", needs=("aiohttp-session",)),
    Suite("aiohttp-remotes", "1.3.0"),
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
    import re

    return re.fullmatch(f"{stem}-{re.escape(version)}\\.tar\\.gz", filename) is not None


def _free_loopback(port: int) -> str:
    """A loopback address on which ``port`` is free (the suite's conftest fixes the port)."""
    for last in range(2, 255):
        host = f"127.0.0.{last}"
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return host
    raise RuntimeError(f"no loopback address with port {port} free")


def _wait_listening(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{process.args!r} is not listening on {host}:{port}")


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """Start redis-server and memcached where installed; the shim's environment."""
    env: dict[str, str] = {}
    started: list[subprocess.Popen[bytes]] = []
    as_nobody = ["-u", "nobody"] if os.geteuid() == 0 else []  # memcached refuses root
    commands: dict[str, tuple[str, int, Callable[[str], list[str]]]] = {
        "WEFT_COMPAT_REDIS_HOST": (
            "redis-server",
            6379,
            lambda host: ["redis-server", "--bind", host, "--port", "6379", "--save", ""],
        ),
        "WEFT_COMPAT_MEMCACHED_HOST": (
            "memcached",
            11211,
            lambda host: ["memcached", "-l", host, "-p", "11211", "-U", "0", *as_nobody],
        ),
    }
    try:
        for variable, (program, port, command) in commands.items():
            if shutil.which(program) is None:
                print(f"{program} not installed: its storage's tests fail on both sides")
                continue
            host = _free_loopback(port)
            process = subprocess.Popen(
                command(host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            started.append(process)
            _wait_listening(host, port, process)
            env[variable] = host
            print(f"{program} on {host}:{port}")
        yield env
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
    with services() as env:
        for suite in SUITES:
            for side in ("aiohttp", "weft"):
                results[suite.name, side] = run_suite(
                    suite, folders[suite.name], folders, side, env, reports
                )
    rows = [("suite", "tests", "passed on aiohttp 3.14", "passed on weft", "lost on weft")]
    lost_all: list[str] = []
    gained_all: list[str] = []
    for suite in SUITES:
        on_aiohttp = results[suite.name, "aiohttp"]
        on_weft = results[suite.name, "weft"]
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
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]).resolve()))
