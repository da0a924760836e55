"""Per-function tables from py-spy's collapsed stacks (``py-spy record -f raw``).

Each sample is charged to its innermost Python function (with ``--native``,
a mypyc-compiled function counts as one: ``mypyc:<module>___<function>``);
native frames below it are that function's self time, except the socket's
system calls and the event loop's own C work, which get rows of their own.
Prints the top functions by self time (share, and µs per request when
``--us`` gives the run's µs per request measured without the profiler) with
their total (inclusive) time, then the same samples by component. Used for
docs/speed.md.

Run: ``python tools/profile/stacks.py STACKS.raw [--us 16.1] [--top 20]``.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator

_PYTHON_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?\.py):\d+\)$")
_MYPYC_FRAME = re.compile(r"^CPyDef_+(?P<function>\w+) \(.*mypyc")

#: The framework's parts, by the module (or mypyc name) of a function; first match wins.
COMPONENTS: list[tuple[str, str]] = [
    (r"^mypyc:(serializer|status)", "head serializer (http-parser, compiled)"),
    (r"http_parser|^mypyc:(parser|request_parser|fields|head|request_line|token|types)", "parser"),
    (r"^mypyc:Connection|web_runner/_connection", "connection core (web-runner, compiled)"),
    (r"web_runner/", "connection glue (web-runner _protocol)"),
    (r"web_routing/|^mypyc:(matcher|dispatcher|resources)", "router (web-routing)"),
    (r"web_core/_writer", "writer (web-core StreamWriter)"),
    (r"web_core/_(response|json_response|helpers)|web_exceptions", "response (web-core)"),
    (r"web_core/", "request, app, middlewares (web-core)"),
    (r"\(json/", "json (stdlib)"),
    (r"\(yarl/|\(multidict/|\(functools", "yarl, multidict, functools (Python parts)"),
    (r"server_app|tools/profile|tools/bench|\(path\.py\)", "handler (server_app) and the harness"),
    (r"^<module>|\((re|dataclasses|enum|inspect|typing|ssl)[/.]", "start-up (imports)"),
]
_OWN_ROWS = ("socket write", "socket read", "epoll_wait", "event loop")
#: Innermost Python frames that only run the loop: the samples are the loop's own C work.
_LOOP_RUNNERS = re.compile(
    r"^(Runner\.run|run_app|run_until_complete) \(|^run \(uvloop"
    r"|^(main|<module>) \((server_app|tools/profile/path|path)\.py\)"
)


def read_stacks(path: str) -> Iterator[tuple[list[str], int]]:
    with open(path, encoding="utf-8") as file:
        for line in file:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if stack:
                yield stack.split(";"), int(count)


def function_name(frame: str) -> str | None:
    """``function (package/module.py)`` for a Python frame, ``mypyc:...`` for a compiled one."""
    match = _PYTHON_FRAME.match(frame)
    if match is not None:
        file = re.sub(r".*(site-packages|lib/python3\.\d+)/", "", match["file"])
        return f"{match['function']} ({file})"
    match = _MYPYC_FRAME.match(frame)
    return None if match is None else f"mypyc:{match['function']}"


def component(function: str) -> str:
    if function.startswith(_OWN_ROWS) or function.startswith("("):
        return function
    for pattern, name in COMPONENTS:
        if re.search(pattern, function):
            return name
    return "other"


def charge(path: str) -> tuple[Counter[str], Counter[str], int]:
    """Self and total samples per function, and the number of samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, count in read_stacks(path):
        total += count
        names = [function_name(frame) for frame in frames]
        python = [name for name in names if name is not None]
        if not python:
            own["(no Python frame)"] += count
            continue
        innermost = max(i for i, name in enumerate(names) if name is not None)
        below = " ".join(frames[innermost + 1 :])
        key = python[-1]
        if "UVStream__try_write" in below or "UVStream__exec_write" in below:
            key = "socket write: transport.write's write(2)"
        elif "uv__read" in below:
            key = "socket read: read(2) and uvloop's read callback"
        elif "epoll_pwait" in below or "epoll_wait" in below:
            key = "epoll_wait"
        elif _LOOP_RUNNERS.search(key):
            key = "event loop: uvloop's C (task steps, handles, futures)"
        own[key] += count
        for name in set(python):
            inclusive[name] += count
    return own, inclusive, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stacks", help="py-spy record -f raw output")
    parser.add_argument("--us", type=float, help="µs per request of the run, unprofiled")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    own, inclusive, total = charge(args.stacks)
    us: float | None = args.us

    def scaled(samples: int) -> str:
        return "" if us is None else f" {samples / total * us:.2f} |"

    unit = "" if us is None else " self µs/req | total µs/req |"
    print(f"{total} samples\n")
    print(f"| # | function | self % |{unit}")
    print("|---|---|---|" + ("---|---|" if us is not None else ""))
    for rank, (name, samples) in enumerate(own.most_common(args.top), 1):
        total_us = (
            "" if us is None or name not in inclusive else f"{inclusive[name] / total * us:.2f}"
        )
        tail = "" if us is None else f"{scaled(samples)} {total_us} |"
        print(f"| {rank} | {name} | {samples / total * 100:.1f} |{tail}")
    parts: Counter[str] = Counter()
    for name, samples in own.items():
        parts[component(name)] += samples
    print(f"\n| component | self % |{'' if us is None else ' µs/req |'}")
    print("|---|---|" + ("---|" if us is not None else ""))
    for name, samples in parts.most_common():
        print(f"| {name} | {samples / total * 100:.1f} |{scaled(samples)}")


if __name__ == "__main__":
    main()
