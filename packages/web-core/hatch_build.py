"""Hatch build hook: compile a package's hot modules with mypyc, or build pure Python.

The same file is in packages/http-parser, packages/web-routing,
packages/web-core and packages/web-runner: each distribution must build
alone, from its own folder and from its sdist, so the hook cannot live
outside the folder.
tests/test_build_hooks.py checks that the copies are identical. What differs
lives in the hook's table of the package's pyproject.toml::

    [tool.hatch.build.targets.wheel.hooks.custom]
    path = "hatch_build.py"
    package = "weft/http_parser"              # the package folder under src/
    compiled-modules = ["_parser.py", ...]    # chosen by profiling
    pure-env = "WEFT_HTTP_PARSER_PURE"        # set to 1 to build pure Python
    untyped = ["multidict.*", "yarl.*"]       # imports mypyc treats as Any

A wheel built from the folder (``pip install packages/<name>``,
``python -m build``) gets those modules compiled to C extension modules by
mypyc when that is possible: CPython, a C compiler and the Python headers
present, and mypyc succeeding. When any of that is missing or fails, the hook
says why and the wheel is the pure-Python one, which behaves the same (the
compiled modules are the same source).

- The ``pure-env`` variable (1, true, yes or on) forces the pure-Python wheel,
  and then mypy is not even installed into the build environment.
- Editable installs and sdists are always pure Python.
- The ``.py`` sources stay in the compiled wheel; Python imports the extension
  module when both are present. The package's ``COMPILED`` says which
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

#: Installed into the build environment only when compiling.
COMPILE_REQUIREMENTS = ["mypy>=1.11", "setuptools>=68"]

# Run in the temporary copy: mypyc's setuptools integration builds the
# extensions into build/lib. Arguments: the modules (comma-separated), then
# the name of the shared library that holds them.
_SETUP = """\
import inspect, sys
from setuptools import setup
from mypyc.build import mypycify

modules, group = sys.argv[1].split(","), sys.argv[2]
del sys.argv[1:3]
options = {"opt_level": "3", "debug_level": "0", "multi_file": False}
if "group_name" in inspect.signature(mypycify).parameters:
    options["group_name"] = group
setup(
    name=group,
    ext_modules=mypycify(
        ["--config-file", "mypyc.ini", "--explicit-package-bases", *modules], **options
    ),
)
"""

# The third-party and sibling packages are not installed in an isolated build
# environment: the ``untyped`` ones are typed as Any (skipped), which costs
# nothing since the compiled code only calls them.
_MYPY_INI = """\
[mypy]
python_version = {version}
namespace_packages = True
explicit_package_bases = True
warn_unused_ignores = False

[mypy-{untyped}]
follow_imports = skip
ignore_missing_imports = True
"""


# "error:" from mypy or the compiler, not the -Werror of every command line.
_ERROR = re.compile(r"(?<![\w-])error\b", re.IGNORECASE)


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the configured modules into the wheel, falling back to pure Python."""

    PLUGIN_NAME = "custom"

    # -- configuration (the hook's table in pyproject.toml)

    @property
    def _package(self) -> str:
        return str(self.config["package"])

    @property
    def _modules(self) -> list[str]:
        return [str(name) for name in self.config["compiled-modules"]]

    @property
    def _pure_env(self) -> str:
        return str(self.config["pure-env"])

    def _forced_pure(self) -> bool:
        return os.environ.get(self._pure_env, "").strip().lower() in {"1", "true", "yes", "on"}

    # -- the hook

    def dependencies(self) -> list[str]:
        return [] if self._forced_pure() else list(COMPILE_REQUIREMENTS)

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._tmp: str | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        if self._forced_pure():
            self._say(f"{self._pure_env} is set: building the pure-Python wheel")
            return
        problem = self._cannot_compile()
        if problem:
            self._fallback(problem)
            return
        self._tmp = tempfile.mkdtemp(prefix=f"{self.metadata.name}-mypyc-")
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
            f"compiled {len(self._modules)} modules with mypyc in "
            f"{time.monotonic() - started:.0f} s "
            f"({self._pure_env}=1 builds the pure-Python wheel)"
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
        package = self._package
        source = Path(self.root) / "src" / package
        work = tmp / "src"
        shutil.copytree(source, work / package, ignore=shutil.ignore_patterns("__pycache__"))
        (work / "setup_mypyc.py").write_text(_SETUP)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        untyped = ",".join(str(name) for name in self.config.get("untyped", ()))
        (work / "mypyc.ini").write_text(_MYPY_INI.format(version=version, untyped=untyped))
        modules = ",".join(f"{package}/{name}" for name in self._modules)
        group = package.replace("/", ".") + "._mypyc"
        jobs = str(min(os.cpu_count() or 1, 8))
        command = [
            sys.executable,
            "setup_mypyc.py",
            modules,
            group,
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
        expected = {f"{package}/{name[:-3]}{suffix}" for name in self._modules}
        missing = expected - set(built.values())
        if missing:
            raise RuntimeError(f"mypyc did not produce {sorted(missing)}")
        return built

    def _fallback(self, reason: str) -> None:
        self.app.display_warning(
            f"{self.metadata.name}: building the PURE-PYTHON wheel, the mypyc-compiled one "
            f"could not be built: {reason}"
        )

    def _say(self, message: str) -> None:
        self.app.display_info(f"{self.metadata.name}: {message}")
