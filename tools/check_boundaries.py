"""Fail when a weft package imports something it does not declare.

Each distribution under ``packages/`` (and the meta-distribution at the root)
declares its runtime dependencies in ``pyproject.toml``. This script reads
those declarations, walks every ``import`` in the distribution's source
(including imports inside functions and under ``TYPE_CHECKING``: DESIGN.md
allows neither as a way around the graph) and reports each import of a module
that belongs neither to the standard library, nor to the distribution itself,
nor to one of its declared dependencies.

Usage: ``python tools/check_boundaries.py [ROOT]``; exit status 1 on a
violation. ``tests/test_boundaries.py`` plants a violation and sees it caught.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Distribution name -> top-level import names, for third-party dependencies
# whose import name differs from the distribution name.
IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "multidict": ("multidict",),
    "yarl": ("yarl",),
    "brotli": ("brotli",),
    "uvloop": ("uvloop",),
    "gunicorn": ("gunicorn",),
    "backports.zstd": ("backports",),
    "prometheus-client": ("prometheus_client",),
    "opentelemetry-api": ("opentelemetry",),
}

# Standard-library packages newer than the oldest Python weft supports (3.11), so
# absent from its sys.stdlib_module_names; imported only where they exist.
LATER_STDLIB: frozenset[str] = frozenset({"compression"})  # Python 3.14


@dataclass(frozen=True)
class Distribution:
    name: str
    root: Path
    source: Path
    own_module: str
    requires: frozenset[str]


@dataclass(frozen=True)
class Violation:
    distribution: str
    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.distribution} {self.reason}"


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    if match is None:
        raise ValueError(f"cannot read a distribution name from {requirement!r}")
    return match.group(0).lower().replace("_", "-")


def _module_for(distribution: str) -> str:
    """``weft-web-core`` -> ``weft.web_core``; the meta ``weft`` -> ``weft.web``."""
    if distribution == "weft":
        return "weft.web"
    return "weft." + distribution.removeprefix("weft-").replace("-", "_")


def _read_distribution(root: Path, source: Path) -> Distribution:
    with (root / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    name = _requirement_name(project["name"])
    requires = frozenset(_requirement_name(r) for r in project.get("dependencies", []))
    requires |= frozenset(
        _requirement_name(r)
        for extra in project.get("optional-dependencies", {}).values()
        for r in extra
    )
    own = _module_for(name)
    if name == "weft":
        # The meta owns each module it ships beside weft.web (weft.compat,
        # weft.test_utils, weft.worker): they may import each other.
        own = "weft"
    return Distribution(name, root, source, own, requires)


def discover(repo: Path) -> list[Distribution]:
    """Every distribution of the repository: the packages under packages/ and the meta."""
    found = [
        _read_distribution(pkg, pkg / "src")
        for pkg in sorted((repo / "packages").iterdir())
        if (pkg / "pyproject.toml").is_file()
    ]
    found.append(_read_distribution(repo, repo / "src"))
    return found


def _imports(tree: ast.AST, current_package: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative imports stay inside the distribution by construction,
                # unless they climb out of it.
                parts = current_package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                yield node.lineno, f"{base}.{node.module}" if node.module else base
            elif node.module is not None:
                if node.module == "weft":
                    for alias in node.names:
                        yield node.lineno, f"weft.{alias.name}"
                else:
                    yield node.lineno, node.module


def _allowed(module: str, dist: Distribution, by_name: dict[str, Distribution]) -> bool:
    top = module.split(".")[0]
    if top != "weft":
        if top in sys.stdlib_module_names or top in LATER_STDLIB or top == "__future__":
            return True
        return any(top in IMPORT_NAMES.get(req, (req.replace("-", "_"),)) for req in dist.requires)
    requires = [by_name[r].own_module for r in dist.requires if r in by_name]
    if dist.own_module == "weft":
        # weft.<name> of the meta's own modules; a package's module is not one of them.
        others = {d.own_module for d in by_name.values() if d is not dist}
        if not any(module == o or module.startswith(o + ".") for o in others):
            return True
    owners = [dist.own_module, *requires] if dist.own_module != "weft" else requires
    return any(module == own or module.startswith(own + ".") for own in owners)


def check(repo: Path) -> list[Violation]:
    distributions = discover(repo)
    by_name = {d.name: d for d in distributions}
    violations: list[Violation] = []
    for dist in distributions:
        for path in sorted(dist.source.rglob("*.py")):
            package = ".".join(path.relative_to(dist.source).with_suffix("").parts[:-1])
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in _imports(tree, package):
                if not _allowed(module, dist, by_name):
                    reason = f"imports {module!r}, which is not among its declared dependencies"
                    violations.append(Violation(dist.name, path, line, reason))
        namespace_init = dist.source / "weft" / "__init__.py"
        if namespace_init.exists():
            reason = "ships weft/__init__.py, which breaks the PEP 420 namespace"
            violations.append(Violation(dist.name, namespace_init, 1, reason))
    return violations


def main(argv: list[str]) -> int:
    repo = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    violations = check(repo)
    for violation in violations:
        print(violation)
    if violations:
        print(f"{len(violations)} boundary violation(s); see docs/design.md, 'Dependency graph'.")
        return 1
    print(f"boundaries ok: {len(discover(repo))} distributions checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
