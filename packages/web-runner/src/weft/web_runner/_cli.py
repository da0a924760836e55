"""``python -m weft.web [-H HOST] [-P PORT] [-U PATH] package.module:factory [args...]``.

As aiohttp's command line: the factory is called with the remaining
arguments (a list of strings) and returns an Application, or a coroutine
that returns one.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from ._run_app import run_app

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m weft.web",
        description="Serve a weft (aiohttp.web-style) application.",
    )
    parser.add_argument(
        "entry_func",
        metavar="entry-func",
        help="callable returning the application, as package.module:function",
    )
    parser.add_argument(
        "-H",
        "--hostname",
        default="localhost",
        help="TCP/IP hostname to serve on (default: localhost)",
    )
    parser.add_argument("-P", "--port", type=int, default=8080, help="TCP/IP port (default: 8080)")
    parser.add_argument("-U", "--path", help="Unix file system path to serve on")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args, extra_argv = parser.parse_known_args(argv)
    module_name, sep, func_name = args.entry_func.partition(":")
    if not sep or not module_name or not func_name:
        parser.error("'entry-func' not in 'module:function' syntax")
    if module_name.startswith("."):
        parser.error("relative module names not supported")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        parser.error(f"unable to import {module_name}: {exc}")
    try:
        func = getattr(module, func_name)
    except AttributeError:
        parser.error(f"module {module_name!r} has no attribute {func_name!r}")
    if args.path is not None and sys.platform == "win32":
        parser.error("file system paths not supported by your operating environment")
    app = func(extra_argv)
    run_app(app, host=args.hostname, port=args.port, path=args.path)
