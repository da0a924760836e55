"""The public surface: __all__ is complete and true, with aiohttp.web's names."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import aiohttp.web
import pytest

import weft.web_runner
from weft.web_runner import GracefulExit

EXPECTED = {
    "__version__",
    "COMPILED",
    "AbstractAccessLogger",
    "AccessLogger",
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "BodyReadTimeoutError",
    "GracefulExit",
    "JsonAccessFormatter",
    "NamedPipeSite",
    "PayloadAccessError",
    "RequestHandler",
    "RequestPayloadError",
    "Server",
    "ServerRunner",
    "SockSite",
    "StructuredAccessLogger",
    "TCPSite",
    "UnixSite",
    "access_logger",
    "main",
    "run_app",
    "server_logger",
}

# aiohttp.web's serving names that web-runner owns but has not shipped yet (README, "Not yet").
NOT_YET: set[str] = set()


def test_all_is_exactly_the_public_names() -> None:
    """__all__ lists each public name once, and nothing else."""
    names = weft.web_runner.__all__
    assert len(names) == len(set(names))
    assert set(names) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_name_in_all_exists(name: str) -> None:
    """Every name in __all__ is an attribute of weft.web_runner."""
    assert getattr(weft.web_runner, name) is not None


def test_no_public_name_is_missing_from_all() -> None:
    """Every public class or function the package defines is listed in __all__."""
    defined = {
        name
        for name, value in vars(weft.web_runner).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__.startswith("weft.web_runner")
    }
    assert defined <= set(weft.web_runner.__all__)


def test_aiohttp_serving_names_are_here() -> None:
    """aiohttp.web's runner, site and server names exist here (save those not yet shipped)."""
    serving = {
        "AppRunner",
        "BaseRunner",
        "BaseSite",
        "GracefulExit",
        "NamedPipeSite",
        "RequestHandler",
        "Server",
        "ServerRunner",
        "SockSite",
        "TCPSite",
        "UnixSite",
        "run_app",
    }
    assert serving <= set(aiohttp.web.__all__)
    assert serving - NOT_YET <= set(weft.web_runner.__all__)


def test_version_matches_the_about_module() -> None:
    """__version__ is a PEP 440 release string, the one hatch builds the wheel with."""
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", weft.web_runner.__version__)
    about = Path(weft.web_runner.__file__).with_name("__about__.py").read_text()
    assert weft.web_runner.__version__ in about


def test_graceful_exit_is_a_system_exit() -> None:
    """GracefulExit is a SystemExit with exit code 1, as aiohttp's."""
    assert issubclass(GracefulExit, SystemExit)
    assert GracefulExit().code == 1
    assert aiohttp.web.GracefulExit().code == GracefulExit().code


def test_access_logger_name() -> None:
    """access_logger is weft's counterpart of aiohttp's aiohttp.access logger."""
    assert weft.web_runner.access_logger.name == "weft.access"


def test_server_logger_name() -> None:
    """server_logger is the logging.Logger that error pages are logged to."""
    assert weft.web_runner.server_logger.name == "weft.server"


def test_names_are_imported_on_first_use() -> None:
    """Importing the package loads none of the server; each public name then
    comes from the module that defines it."""
    import subprocess
    import sys

    probe = (
        "import sys, weft.web_runner as r\n"
        "heavy = [m for m in ('weft.web_core', 'weft.web_runner._runners') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert r.AppRunner.__module__ == 'weft.web_runner._runners'\n"
        "assert 'weft.web_runner._runners' in sys.modules\n"
        "assert 'AppRunner' in dir(r)\n"
        "try:\n"
        "    r.NoSuchName\n"
        "except AttributeError as exc:\n"
        "    assert 'NoSuchName' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
