"""``python -m weft.compat -- <command...>``: run a command with aiohttp's server names on weft.

The command runs in a child process with WEFT_AS_AIOHTTP=1, which weft's
.pth file honours when that process's interpreter starts, before pytest's
plugins or anything else can import aiohttp.web. The exit status is the
command's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from . import ENV_VAR
from ._hook import hook_problem

USAGE = "usage: python -m weft.compat -- <command> [args...]"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not args else sys.stdout)
        return 2 if not args else 0
    problem = hook_problem()
    if problem is not None:
        print(f"weft.compat: {problem}", file=sys.stderr)
        return 2
    env = {**os.environ, ENV_VAR: "1"}
    try:
        return subprocess.run(args, env=env, check=False).returncode
    except FileNotFoundError:
        print(f"weft.compat: command not found: {args[0]}", file=sys.stderr)
        return 127
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
