"""RequestHandler's keyword arguments, as the Server knows them (HANDLER_KEYWORDS).

The compiled RequestHandler has no signature to read, so the names are written
out in _protocol.py; its source (shipped in both builds) says what __init__
takes.
"""

from __future__ import annotations

import ast
from pathlib import Path

from weft.web_runner import _protocol
from weft.web_runner._protocol import HANDLER_KEYWORDS


def _init_keywords() -> set[str]:
    source = (Path(_protocol.__file__).parent / "_protocol.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == "RequestHandler":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return {arg.arg for arg in item.args.kwonlyargs}
    raise AssertionError("RequestHandler.__init__ not found")


def test_handler_keywords_are_the_keyword_only_arguments_of_init() -> None:
    # loop is the Server's to give, never the caller's.
    assert _init_keywords() - {"loop"} == HANDLER_KEYWORDS
