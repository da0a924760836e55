"""docs/deployment.md shows the configuration files the end-to-end tests run, verbatim.

The guide embeds each file after a ``<!-- file: PATH -->`` marker; tests/e2e
runs the files themselves. A change to one without the other fails here, so
what a reader copies is what was tested. The gunicorn worker classes the
guide names must be the ones weft ships.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "deployment.md"
EMBEDDED = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)\n```\n", re.DOTALL)


def _embedded() -> dict[str, str]:
    return dict(EMBEDDED.findall(GUIDE.read_text()))


def test_the_guide_embeds_every_deployment_file() -> None:
    files = {str(path.relative_to(REPO)) for path in (REPO / "docs" / "deployment").iterdir()} | {
        "examples/deployment.py"
    }
    assert set(_embedded()) == files


@pytest.mark.parametrize("path", sorted(_embedded()))
def test_an_embedded_file_is_the_file(path: str) -> None:
    assert _embedded()[path] == (REPO / path).read_text().rstrip("\n")


def _exported(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{module} has no __all__")


def test_the_worker_classes_named_are_weft_s() -> None:
    # Read, not imported: gunicorn is not installed in this suite's venv.
    shipped = {
        "weft.web_runner.worker": _exported(
            REPO / "packages/web-runner/src/weft/web_runner/worker.py"
        ),
        "weft.worker": _exported(REPO / "src/weft/worker.py"),
    }
    named = re.findall(r"(weft(?:\.web_runner)?\.worker)\.(\w+)", GUIDE.read_text())
    named += re.findall(
        r"(weft(?:\.web_runner)?\.worker)\.(\w+)",
        (REPO / "docs/deployment/gunicorn.conf.py").read_text(),
    )
    assert {name for _, name in named} == {"GunicornWebWorker", "GunicornUVLoopWebWorker"}
    for module, name in named:
        assert name in shipped[module], f"{module}.{name}"
