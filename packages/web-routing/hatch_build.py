"""Hatch build hook: compile the router's hot modules with mypyc, or build pure Python.

A copy of packages/http-parser/hatch_build.py (each distribution must build
alone, from its own folder): identical except for the names (PURE_ENV,
PACKAGE, COMPILED_MODULES, the group and distribution names in _SETUP and
the messages) and the modules _MYPY_INI skips. Keep the two in step.

A wheel built from this folder (``pip install packages/web-routing``,
``python -m build``) gets the modules in ``COMPILED_MODULES`` compiled to C
extension modules by mypyc when that is possible: CPython, a C compiler and
the Python headers present, and mypyc succeeding. When any of that is
missing or fails, the hook says why and the wheel is the pure-Python one,
which behaves the same (the compiled modules are the same source).

- ``WEFT_WEB_ROUTING_PURE=1`` forces the pure-Python wheel (and then mypy is
  not even installed into the build environment).
- Editable installs and sdists are always pure Python.
- The ``.py`` sources stay in the compiled wheel; Python imports the extension
  module when both are present. ``weft.web_routing.COMPILED`` says which
  implementation was imported.

The compilation runs in a temporary copy of the package, so the source tree
is never written to (several builds may run from the same checkout).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Set to 1 (or true/yes/on) to build the pure-Python wheel.
PURE_ENV = "WEFT_WEB_ROUTING_PURE"

PACKAGE = "weft/web_routing"
#: The lookup path, chosen by profiling: the index and the lookup half of the
#: dispatcher (RouterCore, which UrlDispatcher subclasses; interpreted
#: subclasses allowed), and path decoding. Resources, routes, match infos
#: (dict subclasses), views, static files and sub-applications stay pure
#: Python: users and other packages subclass them.
COMPILED_MODULES = (
    "_matcher.py",
    "_quoting.py",
)
#: Installed into the build environment only when compiling.
COMPILE_REQUIREMENTS = ["mypy>=1.11", "setuptools>=68"]

# Run in the temporary copy: mypyc's setuptools integration builds the
# extensions into build/lib. Multidict, yarl and weft-web-exceptions are not
# installed in an isolated build environment; they are typed as Any there
# (skipped), which costs nothing since the compiled code only calls them.
_SETUP = """\
import inspect, sys
from setuptools import setup
from mypyc.build import mypycify

modules = sys.argv[1].split(",")
del sys.argv[1]
options = {"opt_level": "3", "debug_level": "0", "multi_file": False}
if "group_name" in inspect.signature(mypycify).parameters:
    options["group_name"] = "weft.web_routing._mypyc"
setup(
    name="weft-web-routing-mypyc",
    ext_modules=mypycify(
        ["--config-file", "mypyc.ini", "--explicit-package-bases", *modules], **options
    ),
)
"""

_MYPY_INI = """\
[mypy]
python_version = {version}
namespace_packages = True
explicit_package_bases = True
warn_unused_ignores = False

[mypy-multidict.*,yarl.*,weft.web_exceptions.*]
follow_imports = skip
ignore_missing_imports = True
"""


# "error:" from mypy or the compiler, not the -Werror of every command line.
_ERROR = re.compile(r"(?<![\w-])error\b", re.IGNORECASE)


def _forced_pure() -> bool:
    return os.environ.get(PURE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile COMPILED_MODULES into the wheel, falling back to pure Python."""

    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        return [] if _forced_pure() else list(COMPILE_REQUIREMENTS)

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._tmp: str | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        if _forced_pure():
            self._say(f"{PURE_ENV} is set: building the pure-Python wheel")
            return
        problem = self._cannot_compile()
        if problem:
            self._fallback(problem)
            return
        self._tmp = tempfile.mkdtemp(prefix="weft-web-routing-mypyc-")
        started = time.monotonic()
        try:
            built = self._compile(Path(self._tmp))
        except Exception as exc:  # any failure means: ship the pure wheel
            self._fallback(str(exc))
            return
        for path, target in built.items():
            build_data["force_include"][str(path)] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        self._say(
            f"compiled {len(COMPILED_MODULES)} modules with mypyc in "
            f"{time.monotonic() - started:.0f} s ({PURE_ENV}=1 builds the pure-Python wheel)"
        )

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- internals

    def _cannot_compile(self) -> str:
        """Why compiling cannot work here ("" when it may)."""
        if sys.implementation.name != "cpython":
            return f"mypyc needs CPython, this is {sys.implementation.name}"
        include = sysconfig.get_paths().get("include", "")
        if not (Path(include) / "Python.h").is_file():
            return f"the Python headers (Python.h) are not installed in {include!r}"
        if os.name != "nt":
            compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
            program = compiler.split()[0]
            if shutil.which(program) is None:
                return f"no C compiler: {program!r} was not found"
        try:
            import mypyc.build  # noqa: F401
        except ImportError as exc:
            return f"mypyc is not importable ({exc}); install mypy and setuptools"
        return ""

    def _compile(self, tmp: Path) -> dict[Path, str]:
        """Compile in ``tmp``; return {built file: its path in the wheel}."""
        source = Path(self.root) / "src" / PACKAGE
        work = tmp / "src"
        shutil.copytree(source, work / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
        (work / "setup_mypyc.py").write_text(_SETUP)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        (work / "mypyc.ini").write_text(_MYPY_INI.format(version=version))
        modules = ",".join(f"{PACKAGE}/{name}" for name in COMPILED_MODULES)
        jobs = str(min(os.cpu_count() or 1, 8))
        command = [
            sys.executable,
            "setup_mypyc.py",
            modules,
            "build_ext",
            f"--parallel={jobs}",
            "--build-lib",
            str(tmp / "lib"),
            "--build-temp",
            str(tmp / "temp"),
        ]
        process = subprocess.run(
            command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
        )
        output = process.stdout.decode("utf-8", "replace")
        if process.returncode:
            lines = output.splitlines()
            shown = [line for line in lines if _ERROR.search(line)][:10] or lines[-15:]
            detail = textwrap.indent("\n".join(line[:300] for line in shown), "    ")
            raise RuntimeError(f"mypyc failed (exit status {process.returncode}):\n{detail}")
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        built = {
            path: path.relative_to(tmp / "lib").as_posix()
            for path in (tmp / "lib").rglob(f"*{suffix}")
        }
        expected = {f"{PACKAGE}/{name[:-3]}{suffix}" for name in COMPILED_MODULES}
        missing = expected - set(built.values())
        if missing:
            raise RuntimeError(f"mypyc did not produce {sorted(missing)}")
        return built

    def _fallback(self, reason: str) -> None:
        self.app.display_warning(
            f"weft-web-routing: building the PURE-PYTHON wheel, the mypyc-compiled one "
            f"could not be built: {reason}"
        )

    def _say(self, message: str) -> None:
        self.app.display_info(f"weft-web-routing: {message}")
