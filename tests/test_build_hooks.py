"""The mypyc build hook is one file, copied into each package that compiles."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIES = sorted(REPO.glob("packages/*/hatch_build.py"))


#: The packages whose hot modules mypyc compiles (noxfile._COMPILED_PACKAGES).
COMPILED_PACKAGES = {"http-parser", "web-routing", "web-core", "web-runner"}


def test_every_compiled_package_has_the_hook() -> None:
    """Each package that compiles carries its own copy of the hook (and no other does)."""
    assert {path.parent.name for path in COPIES} == COMPILED_PACKAGES


def test_every_copy_is_identical() -> None:
    """Each package's hatch_build.py is the same bytes (its settings are in pyproject)."""
    assert len(COPIES) >= 2
    first = COPIES[0].read_bytes()
    assert [path for path in COPIES if path.read_bytes() != first] == []


def test_every_copy_is_configured() -> None:
    """Each package with the hook names its package, modules and pure-build variable,
    and every module it compiles exists."""
    for copy in COPIES:
        folder = copy.parent
        hook = tomllib.loads((folder / "pyproject.toml").read_text())["tool"]["hatch"]["build"][
            "targets"
        ]["wheel"]["hooks"]["custom"]
        assert hook["path"] == "hatch_build.py"
        assert hook["pure-env"].startswith("WEFT_")
        package = folder / "src" / hook["package"]
        assert package.is_dir(), package
        assert all((package / name).is_file() for name in hook["compiled-modules"])
