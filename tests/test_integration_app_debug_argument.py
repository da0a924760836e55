"""``Application(debug=...)`` warns as aiohttp 3.14's does, for the same arguments."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from weft import web as weft_web

ABSENT = object()


def warnings_of(web: Any, debug: object) -> list[tuple[type[Warning], str, str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if debug is ABSENT:
            web.Application()
        else:
            web.Application(debug=debug)
    return [(w.category, str(w.message), w.filename) for w in caught]


@pytest.mark.parametrize("debug", [ABSENT, True, False, None], ids=["absent", "T", "F", "None"])
def test_the_debug_argument_warns_as_aiohttps(debug: object) -> None:
    seen = {
        name: warnings_of(web, debug)
        for name, web in (("aiohttp", aiohttp_web), ("weft", weft_web))
    }
    assert seen["weft"] == seen["aiohttp"]
    assert len(seen["weft"]) == (0 if debug is ABSENT else 1)
