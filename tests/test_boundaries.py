"""The boundary check: passes on the repository, catches planted violations."""

from __future__ import annotations

from pathlib import Path

import check_boundaries as checker
import pytest

REPO = Path(__file__).resolve().parent.parent


def test_repository_has_no_violation() -> None:
    """The repository as committed respects the dependency graph."""
    assert checker.check(REPO) == []


def test_all_seven_distributions_are_discovered() -> None:
    """The check covers the six packages and the meta-distribution."""
    names = {d.name for d in checker.discover(REPO)}
    assert names == {
        "weft",
        "weft-web-exceptions",
        "weft-http-parser",
        "weft-web-routing",
        "weft-web-core",
        "weft-web-runner",
        "weft-web-testing",
    }


@pytest.mark.parametrize(
    "planted",
    [
        "import weft.web_core\n",
        "from weft.web_runner import AppRunner\n",
        "from weft.web_testing import TestClient\n",
        "from weft import web_core\n",
        "def f() -> None:\n    import weft.web_core._app\n",
        "if TYPE_CHECKING:\n    from weft.web_core import Request\n",
        "import aiohttp\n",
    ],
)
def test_planted_violation_in_router_is_caught(repo_copy: Path, planted: str) -> None:
    """An import of an undeclared sibling or third party, in any form, is reported."""
    target = repo_copy / "packages/web-routing/src/weft/web_routing/_planted.py"
    target.write_text(planted)
    violations = checker.check(repo_copy)
    assert [v.file for v in violations] == [target]
    assert "web-routing" in str(violations[0])


def test_relative_import_climbing_out_is_caught(repo_copy: Path) -> None:
    """A relative import that climbs from http_parser into a sibling is reported."""
    target = repo_copy / "packages/http-parser/src/weft/http_parser/_planted.py"
    target.write_text("from ..web_core import Request\n")
    violations = checker.check(repo_copy)
    assert [v.file for v in violations] == [target]


def test_declared_dependency_is_allowed(repo_copy: Path) -> None:
    """web-core may import web-routing, which it declares."""
    target = repo_copy / "packages/web-core/src/weft/web_core/_planted.py"
    target.write_text("from weft.web_routing import UrlDispatcher\nimport multidict\nimport json\n")
    assert checker.check(repo_copy) == []


def test_namespace_init_is_caught(repo_copy: Path) -> None:
    """A weft/__init__.py in any distribution breaks PEP 420 and is reported."""
    target = repo_copy / "packages/http-parser/src/weft/__init__.py"
    target.write_text("")
    violations = checker.check(repo_copy)
    assert [v.file for v in violations] == [target]


def test_main_exit_status(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command exits 1 and names the file when a violation is planted."""
    assert checker.main(["check_boundaries", str(repo_copy)]) == 0
    target = repo_copy / "packages/web-exceptions/src/weft/web_exceptions/_planted.py"
    target.write_text("import weft.http_parser\n")
    assert checker.main(["check_boundaries", str(repo_copy)]) == 1
    assert str(target) in capsys.readouterr().out


def test_the_runner_reaches_web_testing_only_through_its_pytest_extra(repo_copy: Path) -> None:
    """web-runner's deprecated aliases of the test tooling import weft.web_testing,
    which only its ``pytest`` extra declares: without the extra they are violations."""
    pyproject = repo_copy / "packages/web-runner/pyproject.toml"
    extra = 'pytest = ["weft-web-testing[pytest]>=0.1,<0.2"]\n'
    text = pyproject.read_text()
    assert extra in text
    pyproject.write_text(text.replace(extra, ""))
    violations = checker.check(repo_copy)
    assert {v.file.name for v in violations} == {"test_utils.py", "pytest_plugin.py"}
    assert all("weft.web_testing" in str(v) for v in violations)
