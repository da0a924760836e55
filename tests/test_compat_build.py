"""weft's wheel ships the compatibility switch: weft.compat and the .pth file that
honours WEFT_AS_AIOHTTP=1 at interpreter start, at the root of site-packages."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_pth_and_the_compat_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("weft-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        pth = archive.read("weft_aiohttp_compat.pth").decode()
        metadata = archive.read(next(n for n in names if n.endswith("dist-info/METADATA")))
    assert {
        "weft/compat/__init__.py",
        "weft/compat/__main__.py",
        "weft/compat/_startup.py",
    } <= names
    assert "weft/__init__.py" not in names
    # One line, which site executes: it must do nothing without the variable.
    assert pth.count("\n") == 1
    assert pth.startswith("import ")
    assert 'os.environ.get("WEFT_AS_AIOHTTP") == "1"' in pth
    assert "weft.compat._startup" in pth
    assert b"Provides-Extra: aiohttp-compat" in metadata
    assert b"Requires-Dist: aiohttp<3.15,>=3.14; extra == 'aiohttp-compat'" in metadata


def test_the_extra_pins_the_aiohttp_series_the_tests_use() -> None:
    """The compat extra and the test group name the same aiohttp series."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    (extra,) = project["project"]["optional-dependencies"]["aiohttp-compat"]
    assert extra in project["dependency-groups"]["test"]
