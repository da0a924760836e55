"""Bump one distribution's version and check every dependant still admits it.

Usage::

    python tools/bump_version.py web-routing 0.2.0     # write the new version
    python tools/bump_version.py --check               # only check the ranges

Each package keeps its version in ``src/weft/<pkg>/__about__.py`` (the meta in
``src/weft/web.py``); siblings depend on each other by range in their
``pyproject.toml``. After a bump, a dependant whose range excludes the new
version is reported (exit status 1) so its range is widened in the same
change, never forgotten.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)
_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<spec>[^;]*)")


@dataclass(frozen=True)
class Package:
    name: str  # distribution name, e.g. weft-web-routing
    folder: str  # folder name, e.g. web-routing ("." for the meta)
    version_file: Path
    requires: dict[str, str]  # weft-* dependency -> its specifier ("" when none)

    @property
    def version(self) -> str:
        match = _VERSION_LINE.search(self.version_file.read_text(encoding="utf-8"))
        if match is None:
            raise ValueError(f"{self.version_file} has no __version__ line")
        return match.group("version")


def _read(folder: Path, folder_name: str) -> Package:
    with (folder / "pyproject.toml").open("rb") as f:
        data = tomllib.load(f)
    name = data["project"]["name"]
    path = data["tool"]["hatch"]["version"]["path"]
    requires: dict[str, str] = {}
    for requirement in data["project"].get("dependencies", []):
        match = _REQUIREMENT.match(requirement)
        if match and match.group("name").startswith("weft"):
            requires[match.group("name")] = match.group("spec").strip()
    return Package(name, folder_name, folder / path, requires)


def discover(repo: Path) -> dict[str, Package]:
    packages = [
        _read(folder, folder.name)
        for folder in sorted((repo / "packages").iterdir())
        if (folder / "pyproject.toml").is_file()
    ]
    packages.append(_read(repo, "."))
    return {p.name: p for p in packages}


def _as_tuple(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)
    if not parts:
        raise ValueError(f"not a release version: {version!r}")
    return tuple(int(p) for p in parts[:3])


def admits(specifier: str, version: str) -> bool:
    """Whether a comma-separated specifier like ``>=0.1,<0.2`` admits ``version``."""
    have = _as_tuple(version)
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        match = re.fullmatch(r"(>=|<=|==|!=|>|<|~=)\s*(\S+)", clause)
        if match is None:
            raise ValueError(f"unsupported version clause {clause!r}")
        op, bound_text = match.groups()
        bound = _as_tuple(bound_text)
        width = max(len(have), len(bound))
        a = have + (0,) * (width - len(have))
        b = bound + (0,) * (width - len(bound))
        ok = {
            ">=": a >= b,
            "<=": a <= b,
            "==": a == b,
            "!=": a != b,
            ">": a > b,
            "<": a < b,
            "~=": a >= b and a[: len(bound) - 1] == b[: len(bound) - 1],
        }[op]
        if not ok:
            return False
    return True


def check(packages: dict[str, Package]) -> list[str]:
    """Every dependant whose range excludes its sibling's current version."""
    problems = []
    for package in packages.values():
        for dependency, specifier in package.requires.items():
            if dependency not in packages:
                problems.append(f"{package.name} depends on unknown sibling {dependency}")
                continue
            version = packages[dependency].version
            if not admits(specifier, version):
                problems.append(
                    f"{package.name} requires {dependency}{specifier}, "
                    f"which excludes its version {version}: widen the range in "
                    f"{package.folder}/pyproject.toml"
                )
    return problems


def bump(packages: dict[str, Package], folder: str, version: str) -> None:
    matches = [p for p in packages.values() if p.folder == folder or p.name == folder]
    if not matches:
        raise SystemExit(f"no package {folder!r}; choose one of {sorted(packages)}")
    target = matches[0]
    _as_tuple(version)
    text = target.version_file.read_text(encoding="utf-8")
    target.version_file.write_text(
        _VERSION_LINE.sub(f'__version__ = "{version}"', text, count=1), encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    repo = Path(__file__).resolve().parent.parent
    args = argv[1:]
    if args and args[0] == "--repo":
        repo = Path(args[1])
        args = args[2:]
    packages = discover(repo)
    if args and args[0] != "--check":
        if len(args) != 2:
            print(__doc__)
            return 2
        bump(packages, args[0], args[1])
    problems = check(packages)
    for problem in problems:
        print(problem)
    if not problems:
        print("versions ok: " + ", ".join(f"{p.name} {p.version}" for p in packages.values()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
