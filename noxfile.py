"""Every task of the repository; ``nox`` with no arguments runs them all.

Sessions:
  tests-<package>  the package's own tests, in a venv holding only that package,
                   its declared dependencies and its ``test`` dependency group
                   (http-parser, web-routing, web-core and web-runner installed from
                   their folders: mypyc-compiled where a C compiler is present, and then the
                   tests check they are; a weft package the group names, as
                   web-runner's names web-testing, from its folder too)
  tests-http-parser-pure  the same tests against http-parser's pure-Python build
  tests-web-routing-pure  the same tests against web-routing's pure-Python build
  tests-web-core-pure  the same tests against web-core's pure-Python build
  tests-web-runner-pure  the same tests against web-runner's pure-Python build
  tests            the integration suite through ``weft.web`` (everything installed)
  typecheck        mypy (strict, see pyproject.toml) over sources, tests, tools, this file
  lint             ruff check + ruff format --check
  boundaries       tools/check_boundaries.py: no import outside the declared graph
  build            sdist + wheel of all seven distributions, then the meta installed
                   from those wheels into a fresh venv and ``import weft.web`` checked,
                   and the aiohttp compatibility switch (``weft[aiohttp-compat]``)
  compat-extensions  aiohttp extensions' own test suites (pinned sdists) on aiohttp 3.14
                   and on weft in compat mode; fails if weft loses a test aiohttp passes,
                   or if the environment is broken (redis-server or memcached missing,
                   a suite passing fewer tests on aiohttp than recorded)
                   (tools/compat_extensions/run.py)
  e2e              tests/e2e: Debian's nginx (installed by apt-get when root) in front of
                   gunicorn with two weft workers, on the guide's own configuration files
                   (docs/deployment/); skipped, saying why, where nginx is absent and
                   cannot be installed
  bench            tools/bench (not run by default: timings are not tests)
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import nox

REPO = Path(__file__).resolve().parent
PACKAGES = REPO / "packages"

# Sessions test what they installed: a PYTHONPATH inherited from a developer's
# shell (pointing at the sources, say) would silently shadow it.
os.environ.pop("PYTHONPATH", None)

#: Packages with a mypyc build hook -> the prefix of their environment variables.
_COMPILED_PACKAGES = {
    "http-parser": "WEFT_HTTP_PARSER",
    "web-routing": "WEFT_WEB_ROUTING",
    "web-core": "WEFT_WEB_CORE",
    "web-runner": "WEFT_WEB_RUNNER",
}

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = [
    "boundaries",
    "lint",
    "typecheck",
    *(f"tests-{p.name}" for p in sorted(PACKAGES.iterdir()) if (p / "pyproject.toml").is_file()),
    *(f"tests-{name}-pure" for name in _COMPILED_PACKAGES),
    "tests",
    "compat-extensions",
    "e2e",
    "build",
]


def _pyproject(folder: Path) -> dict[str, object]:
    with (folder / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _distribution_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return match.group(0).lower()


def _local_folders() -> dict[str, Path]:
    """Distribution name -> folder, for every distribution in packages/."""
    found: dict[str, Path] = {}
    for folder in sorted(PACKAGES.iterdir()):
        if (folder / "pyproject.toml").is_file():
            project = _pyproject(folder)["project"]
            assert isinstance(project, dict)
            found[str(project["name"])] = folder
    return found


def _local_closure(folder: Path) -> list[Path]:
    """The folder plus every sibling it depends on, transitively.

    The siblings are not on an index, so pip must be given their folders in
    the same command; it then satisfies the ``weft-*`` ranges from them.
    """
    local = _local_folders()
    seen: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.append(current)
        project = _pyproject(current)["project"]
        assert isinstance(project, dict)
        for requirement in project.get("dependencies", []):
            name = _distribution_name(requirement)
            if name in local:
                pending.append(local[name])
    return seen


def _group(folder: Path, group: str) -> tuple[str, ...]:
    return nox.project.dependency_groups(_pyproject(folder), group)


def _group_closure(folder: Path, group: str) -> list[Path]:
    """``_local_closure(folder)`` plus the weft packages its dependency group names.

    A test group may name a sibling that is not a runtime dependency (web-runner's
    tests use weft-web-testing's client, which itself depends on web-runner): pip
    must be given its folder, and those of its own dependencies, in the same command.
    """
    local = _local_folders()
    named = (_distribution_name(requirement) for requirement in _group(folder, group))
    roots = [folder, *(local[name] for name in named if name in local)]
    closure: list[Path] = []
    for root in roots:
        closure += [p for p in _local_closure(root) if p not in closure]
    return closure


def _can_compile() -> bool:
    """Whether the mypyc build hooks can compile here (their own checks, hatch_build.py)."""
    if sys.implementation.name != "cpython":
        return False
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return False
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(compiler.split()[0]) is not None


#: Every mypyc-built package forced to its pure-Python build.
_ALL_PURE = {f"{prefix}_PURE": "1" for prefix in _COMPILED_PACKAGES.values()}


def _compiled_envs(
    session: nox.Session, package: str, *, pure: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """The environments to install a compiled package with and to run its tests with.

    <PREFIX>_PURE picks the build; <PREFIX>_EXPECT_COMPILED makes the
    package's tests/test_*_build.py check that the build installed is that
    one (a compiled build that fell back to pure Python fails).
    """
    prefix = _COMPILED_PACKAGES[package]
    if pure:
        return {f"{prefix}_PURE": "1"}, {f"{prefix}_EXPECT_COMPILED": "0"}
    if _can_compile():
        return {f"{prefix}_PURE": "0"}, {f"{prefix}_EXPECT_COMPILED": "1"}
    session.log(f"no C compiler or Python headers: {package} is tested as pure Python")
    return {f"{prefix}_PURE": "0"}, {f"{prefix}_EXPECT_COMPILED": "0"}


#: Skips a test session may show, as (fnmatch pattern over the JUnit test id
#: "<module path with dots>.<test name>", reason). Any other skip fails the
#: session: a test skipped on every run is a test nobody has. Keep this short.
ALLOWED_SKIPS: tuple[tuple[str, str], ...] = (
    *(
        ()
        if os.geteuid() == 0
        else (
            (
                "tests.test_integration_chat_browser.*",
                "chromium comes from Debian's packages, which only root installs",
            ),
        )
    ),
)


def _unexpected_skips(junit: Path) -> list[str]:
    """The skipped tests in a JUnit report that ALLOWED_SKIPS does not name."""
    found: list[str] = []
    for case in ElementTree.parse(junit).iter("testcase"):
        skipped = case.find("skipped")
        if skipped is None or skipped.get("type") == "pytest.xfail":
            continue
        test_id = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        if not any(fnmatch.fnmatchcase(test_id, pattern) for pattern, _ in ALLOWED_SKIPS):
            found.append(f"{test_id}: {skipped.get('message', '')}")
    return found


def _pytest(
    session: nox.Session,
    tests: str,
    env: dict[str, str] | None = None,
    *,
    coverage_of: Path | None = None,
    ignore: tuple[str, ...] = (),
    hypothesis: bool = True,
) -> None:
    """pytest with hypothesis seeded, the skip gate and, if asked, the coverage gate.

    Seeded: with a random seed, one CI run could find a case the run before it
    missed and refuse a change that did not cause it. Plain ``pytest`` runs
    explore at random; ``nox -- --hypothesis-seed=N`` draws another fixed set.

    ``coverage_of`` is a package folder: its tests run under coverage (lines
    and branches, subprocesses too), configured by the package's own
    ``[tool.coverage]`` tables, and the session fails below its ``fail_under``.
    """
    seeded = any(arg.startswith("--hypothesis-seed") for arg in session.posargs)
    seed = () if seeded or not hypothesis else ("--hypothesis-seed=0",)
    # Not session.create_tmp(): it sets TMPDIR, which lengthens every tmp_path
    # past the 107 bytes a unix socket's path may have.
    tmp = Path(session.bin).parent / "reports"
    tmp.mkdir(exist_ok=True)
    junit = tmp / "junit.xml"
    args = [tests, *(f"--ignore={path}" for path in ignore), *seed, f"--junitxml={junit}"]
    args += session.posargs
    if coverage_of is None:
        session.run("pytest", *args, env=env)
    else:
        rcfile = f"--rcfile={coverage_of / 'pyproject.toml'}"
        cov_env = {**(env or {}), "COVERAGE_FILE": str(tmp / ".coverage")}
        session.run("coverage", "erase", rcfile, env=cov_env)
        session.run("coverage", "run", rcfile, "-m", "pytest", *args, env=cov_env)
        session.run("coverage", "combine", "--quiet", rcfile, env=cov_env)
        session.run("coverage", "report", rcfile, env=cov_env)
    unexpected = _unexpected_skips(junit)
    if unexpected:
        session.error(
            f"{len(unexpected)} skipped test(s) not in noxfile.ALLOWED_SKIPS:\n  "
            + "\n  ".join(unexpected)
        )


#: coverage.py 7.10 brought ``[run] patch = ["subprocess"]``, which measures
#: the run_app, command-line and gunicorn processes the tests start.
COVERAGE = "coverage>=7.10"


def _package_tests(session: nox.Session, folder: Path, *, pure: bool) -> None:
    """Install one package with only its declared dependencies, then run its tests.

    Coverage is measured wherever the package runs as Python: a mypyc-compiled
    build has no Python lines to trace, so http-parser, web-routing, web-core
    and web-runner are measured by their ``-pure`` sessions.
    """
    install_env: dict[str, str] = {}
    run_env: dict[str, str] = {}
    compiled = folder.name in _COMPILED_PACKAGES
    if compiled:
        install_env, run_env = _compiled_envs(session, folder.name, pure=pure)
    session.install(
        *(str(p) for p in _group_closure(folder, "test")),
        *_group(folder, "test"),
        COVERAGE,
        env=install_env,
    )
    measured = pure or not compiled
    _pytest(session, str(folder / "tests"), run_env, coverage_of=folder if measured else None)


def _make_package_session(folder: Path, *, pure: bool) -> None:
    if pure:
        name = f"tests-{folder.name}-pure"
        variable = f"{_COMPILED_PACKAGES[folder.name]}_PURE"
        doc = f"{folder.name}'s tests against its pure-Python build ({variable}=1)."
    else:
        name = f"tests-{folder.name}"
        doc = "Run one package's tests against only its declared dependencies."

    @nox.session(name=name)
    def package_tests(session: nox.Session) -> None:
        _package_tests(session, folder, pure=pure)

    package_tests.__doc__ = doc


for _folder in sorted(PACKAGES.iterdir()):
    if (_folder / "pyproject.toml").is_file():
        _make_package_session(_folder, pure=False)
for _name in _COMPILED_PACKAGES:
    _make_package_session(PACKAGES / _name, pure=True)


def _install_chromium(session: nox.Session) -> None:
    """Debian's chromium for the browser test of the chat example (issue 7).

    Only as root (CI and these machines): elsewhere the test skips with a reason
    rather than nox asking for a password. A failed install (no network, no apt)
    is logged, not fatal: the test then skips. WEFT_NO_BROWSER=1 skips the install.
    """
    if shutil.which("chromium") or os.environ.get("WEFT_NO_BROWSER"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.log("chromium absent and not installable here: the browser test will skip")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        session.log(" ".join(command))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            session.log(
                f"chromium install failed, the browser test will skip: {done.stderr[-500:]}"
            )
            return


@nox.session
def tests(session: nox.Session) -> None:
    """Integration tests of the whole framework through weft.web."""
    _install_chromium(session)
    session.install(*(str(p) for p in _local_closure(REPO)), *_group(REPO, "test"))
    # The end-to-end tests need nginx and gunicorn: their own session runs them.
    _pytest(session, "tests", ignore=("tests/e2e",))


def _install_extension_services(session: nox.Session) -> None:
    """Debian's redis-server and memcached, for aiohttp-session's storages (issue 15).

    Only as root, as _install_nginx: elsewhere, without them, the session skips
    saying why (those storages' tests would fail on aiohttp and on weft alike and
    drop out of the comparison). A failed install as root is left to run.py,
    which fails the session, saying the environment is broken.
    """
    missing = [name for name in ("redis-server", "memcached") if not shutil.which(name)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.skip(
            f"{', '.join(missing)} not installed and only root can install it here "
            "(apt-get install redis-server memcached, or run nox as root as CI does)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        session.log(" ".join(command))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            session.log(f"install of {missing} failed: {done.stderr[-500:]}")
            return


@nox.session(name="compat-extensions")
def compat_extensions(session: nox.Session) -> None:
    """aiohttp extensions' own test suites on aiohttp and on weft in compat mode, compared."""
    _install_extension_services(session)
    spec = importlib.util.spec_from_file_location(
        "compat_extensions_run", REPO / "tools" / "compat_extensions" / "run.py"
    )
    assert spec is not None
    assert spec.loader is not None
    runner = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = runner  # its dataclasses look their module up there
    spec.loader.exec_module(runner)
    # Pure-Python builds: the suites test behaviour, which the mypyc builds share
    # (their own sessions check that), and compiling would take most of the time.
    # But web-core's compiled build: the extensions subclass its compiled classes
    # (aiohttp-sse's EventSourceResponse is a StreamResponse), which only the
    # compiled build can get wrong.
    pure = {name: value for name, value in _ALL_PURE.items() if name != "WEFT_WEB_CORE_PURE"}
    weft = [str(p) for p in _local_closure(REPO) if p != REPO]
    session.install(*weft, f"{REPO}[aiohttp-compat]", *runner.PINNED_TEST_TOOLS, env=pure)
    work = Path(session.bin).parent / "compat-extensions"
    session.run("python", str(REPO / "tools" / "compat_extensions" / "run.py"), str(work))


def _nginx() -> str | None:
    """Debian puts nginx in /usr/sbin, which is not on a normal user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _install_nginx(session: nox.Session) -> None:
    """Debian's nginx for the end-to-end tests (issue 17), as root only (see _install_chromium).

    The package lists are refreshed only when the install fails without them,
    which saves the update on a machine that has them. Where nginx cannot be
    had the session skips, saying why; as root (CI) a failed install fails it.
    """
    if _nginx():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.skip(
            "nginx is not installed and only root can install it here "
            "(apt-get install nginx, or run nox as root as CI does)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"]
    for command in (install, ["apt-get", "update", "-qq"], install):
        session.log(" ".join(command))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        # The binary is what the tests need: a post-install step that fails
        # (starting the system's nginx where port 80 is taken) does not matter.
        if command is install and _nginx():
            return
    session.error(f"nginx could not be installed: {done.stderr[-500:]}")


@nox.session
def e2e(session: nox.Session) -> None:
    """nginx in front of gunicorn's weft workers, on docs/deployment/'s files, end to end."""
    _install_nginx(session)
    # Pure-Python builds, to keep the session short: what these tests look at
    # (processes, sockets, signals) is the same with the mypyc builds, which
    # their own sessions test.
    session.install(
        *(str(p) for p in _local_closure(REPO)),
        f"{PACKAGES / 'web-runner'}[gunicorn,uvloop]",  # as the guide installs it
        *_group(REPO, "e2e"),
        env=_ALL_PURE,
    )
    _pytest(session, "tests/e2e", hypothesis=False)  # not installed: nothing here draws


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (plus the stricter flags in pyproject.toml) over everything."""
    session.install(*(str(p) for p in _local_closure(REPO)), *_group(REPO, "typecheck"))
    sources = [str(p / "src") for p in sorted(PACKAGES.iterdir()) if (p / "src").is_dir()]
    session.run("mypy", *sources, "src", "tools", "tests", "examples", "typing_tests", "noxfile.py")
    # Each package's tests in their own run: their conftest modules share a name.
    for folder in sorted(PACKAGES.iterdir()):
        if (folder / "tests").is_dir():
            session.run("mypy", str(folder / "tests"))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*_group(REPO, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none")
def boundaries(session: nox.Session) -> None:
    """No package imports anything outside its declared dependencies."""
    session.run("python", str(REPO / "tools" / "check_boundaries.py"), str(REPO))


@nox.session
def build(session: nox.Session) -> None:
    """Build all seven distributions, then install the meta from the wheels alone."""
    session.install("build")
    dist = Path(session.create_tmp()) / "dist"
    for folder in [*sorted(_local_folders().values()), REPO]:
        session.run("python", "-m", "build", "--outdir", str(dist), str(folder))
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) != 7:
        session.error(f"expected 7 wheels, built {[w.name for w in wheels]}")
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        if "weft/__init__.py" in names:
            session.error(f"{wheel.name} ships weft/__init__.py (PEP 420 namespace)")
        if not any(n.startswith("weft/") for n in names):
            session.error(f"{wheel.name} ships no module under weft/")
    venv = Path(session.create_tmp()) / "fresh"
    session.run("python", "-m", "venv", "--clear", str(venv))
    python = str(venv / "bin" / "python")
    session.run(
        python, "-m", "pip", "install", "--quiet", "--find-links", str(dist), "weft", external=True
    )
    session.run(
        python,
        "-c",
        "import weft.web as web; assert web.Application and web.run_app; print('weft.web ok')",
        external=True,
    )
    # The test tooling comes with the meta from weft-web-testing, whose pytest plugin is
    # the only one registered under the name ``weft``.
    check_testing = (
        "import importlib.metadata as m, weft.test_utils as t; assert t.TestClient; "
        "found = [e.value for e in m.entry_points(group='pytest11') if e.name == 'weft']; "
        "assert found == ['weft.web_testing.pytest_plugin'], found; print('weft.test_utils ok')"
    )
    session.run(python, "-c", check_testing, external=True)
    # The compatibility switch as a user gets it: the extra brings aiohttp, the
    # wheel's .pth honours WEFT_AS_AIOHTTP=1 at start, python -m weft.compat sets it.
    session.run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--find-links",
        str(dist),
        "weft[aiohttp-compat]",
        external=True,
    )
    check = "import aiohttp.web, weft.web; assert aiohttp.web is weft.web; print('compat ok')"
    session.run(python, "-c", check, env={"WEFT_AS_AIOHTTP": "1"}, external=True)
    session.run(python, "-m", "weft.compat", "--", python, "-c", check, external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks of tools/bench, weft beside aiohttp in one run, ratios printed."""
    session.install(
        *(str(p) for p in _local_closure(REPO)),
        "aiohttp>=3.14,<3.15",
        "h11",
        "httptools",
        # bench_server.py: every server on uvloop, and the peers it measures weft against
        # (BlackSheep served by granian, Sanic). Benchmark-only: no package depends on them.
        "uvloop",
        "blacksheep>=2.6,<2.7",
        "granian>=2.8,<2.9",
        "sanic>=25.12,<25.13",
        # bench_observability.py: the prometheus and otel extras, and the SDK they record into.
        "prometheus-client",
        "opentelemetry-api",
        "opentelemetry-sdk",
    )
    for script in sorted((REPO / "tools" / "bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
