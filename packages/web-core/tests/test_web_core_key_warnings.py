"""NotAppKeyWarning beside aiohttp 3.14: which keys of app[...], request[...] and
response[...] warn, how often, with what message, and where the warning points.

aiohttp 3.14 warns at every store of a key that is not an AppKey in an
Application; in a request or a response, at the first store of each key that
is not a RequestKey (ResponseKey), once per process. Reading never warns. Its
``import aiohttp.web`` ignores the category unless a -W option or a test
runner asks for it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import make_mocked_request as make_aiohttp_request

from weft.web_core import AppKey, Application, RequestKey, Response, ResponseKey
from weft.web_core.test_utils import make_mocked_request

Recorded = list[tuple[str, str, str, int]]


@dataclasses.dataclass(frozen=True)
class Side:
    app: Callable[[], Any]
    request: Callable[[], Any]
    response: Callable[[], Any]
    app_key: Callable[..., Any]
    request_key: Callable[..., Any]
    response_key: Callable[..., Any]


AIOHTTP = Side(
    aioweb.Application,
    lambda: make_aiohttp_request("GET", "/"),
    aioweb.Response,
    aioweb.AppKey,
    aioweb.RequestKey,
    aioweb.ResponseKey,
)
WEFT = Side(
    Application,
    lambda: make_mocked_request("GET", "/"),
    Response,
    AppKey,
    RequestKey,
    ResponseKey,
)


def store(mapping: MutableMapping[Any, Any], key: Any) -> None:
    mapping[key] = 1


def store_by_setdefault(mapping: MutableMapping[Any, Any], key: Any) -> None:
    mapping.setdefault(key, 1)


def record(action: Callable[[], object]) -> Recorded:
    """The warnings ``action`` raises: category, message, and the file and line they
    point to (``store``'s line when the stack level is aiohttp's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.category.__name__, str(w.message), Path(w.filename).name, w.lineno) for w in caught]


def fresh() -> str:
    """A key no test stored before: request and response keys warn once per process."""
    return f"key-{uuid.uuid4()}"


def on_both(steps: Callable[[Side], Recorded]) -> Recorded:
    on_aiohttp = steps(AIOHTTP)
    assert steps(WEFT) == on_aiohttp
    return on_aiohttp


@pytest.mark.parametrize("kind", ["app", "request", "response"])
def test_which_keys_warn_and_how_often(kind: str) -> None:
    def steps(side: Side) -> Recorded:
        make = getattr(side, kind)
        mapping = make()
        typed = getattr(side, f"{kind}_key")("typed", int)
        key, other = fresh(), fresh()
        out: Recorded = []
        out += record(lambda: store(mapping, typed))
        out += record(lambda: store(mapping, key))
        out += record(lambda: store(mapping, key))
        out += record(lambda: mapping[key])
        out += record(lambda: store(mapping, (key, 2)))
        out += record(lambda: store_by_setdefault(mapping, other))
        out += record(lambda: store(make(), key))
        out += record(lambda: mapping.__delitem__(key))
        return out

    recorded = on_both(steps)
    # Not a test of aiohttp, but of the comparison: it saw warnings to compare.
    counts = {"app": 5, "request": 3, "response": 3}
    assert len(recorded) == counts[kind]
    assert {category for category, *_ in recorded} == {"NotAppKeyWarning"}


def test_a_key_of_another_kind_warns() -> None:
    """An AppKey is no RequestKey: request[app_key] warns as a str key would."""

    def steps(side: Side) -> Recorded:
        request, response = side.request(), side.response()
        return record(lambda: store(request, side.app_key(fresh(), int))) + record(
            lambda: store(response, side.request_key(fresh(), int))
        )

    assert len(on_both(steps)) == 2


SCRIPT = """
from {package} import web
from {package}{test_utils} import make_mocked_request
request = make_mocked_request("GET", "/")
app = web.Application()
app["a"] = 1
request["r"] = 1
response = web.Response()
response["s"] = 1
print("stored")
"""


@pytest.mark.parametrize("options", [(), ("-W", "default"), ("-W", "error::UserWarning")])
def test_shown_only_when_asked(options: tuple[str, ...]) -> None:
    """Ignored unless asked for (the filter aiohttp appends when imported): a -W option
    shows it, as a test runner's warning capture does."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "WEFT_AS_AIOHTTP")}
    outputs = []
    for package, test_utils in (("aiohttp", ".test_utils"), ("weft.web_core", ".test_utils")):
        script = SCRIPT.format(package=package, test_utils=test_utils)
        if package == "weft.web_core":
            script = script.replace("from weft.web_core import web", "import weft.web_core as web")
        done = subprocess.run(
            [sys.executable, *options, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        # A traceback names the class by its module, which differs.
        stderr = done.stderr.replace("aiohttp.web_exceptions.", "")
        stderr = stderr.replace("weft.web_core._keys.", "")
        outputs.append((done.returncode, done.stdout, stderr.splitlines()[-2:]))
    assert outputs[1] == outputs[0]
    assert ("stored" in outputs[0][1]) is (options[-1:] != ("error::UserWarning",))
