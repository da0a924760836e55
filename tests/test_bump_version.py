"""tools/bump_version.py: bumping one package and checking its dependants' ranges."""

from __future__ import annotations

from pathlib import Path

import bump_version
import pytest

REPO = Path(__file__).resolve().parent.parent


def test_repository_ranges_are_consistent() -> None:
    """Every sibling range in the repository admits the sibling's current version."""
    assert bump_version.check(bump_version.discover(REPO)) == []


@pytest.mark.parametrize(
    ("specifier", "version", "expected"),
    [
        (">=0.1,<0.2", "0.1.0", True),
        (">=0.1,<0.2", "0.1.9", True),
        (">=0.1,<0.2", "0.2.0", False),
        (">=0.1,<0.2", "0.0.9", False),
        ("~=0.1.2", "0.1.5", True),
        ("~=0.1.2", "0.2.0", False),
        ("", "3.0.0", True),
    ],
)
def test_admits(specifier: str, version: str, expected: bool) -> None:
    """Version specifiers are evaluated numerically, clause by clause."""
    assert bump_version.admits(specifier, version) is expected


def test_patch_bump_is_admitted(repo_copy: Path) -> None:
    """A patch release of web-exceptions stays inside every dependant's range."""
    assert bump_version.main(["bump", "--repo", str(repo_copy), "web-exceptions", "0.1.1"]) == 0
    packages = bump_version.discover(repo_copy)
    assert packages["weft-web-exceptions"].version == "0.1.1"


def test_minor_bump_reports_dependants(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A minor bump of web-exceptions names each dependant whose range now excludes it."""
    assert bump_version.main(["bump", "--repo", str(repo_copy), "web-exceptions", "0.2.0"]) == 1
    out = capsys.readouterr().out
    for dependant in ("weft-web-routing", "weft-web-core", "weft-web-runner", "weft "):
        assert dependant in out
