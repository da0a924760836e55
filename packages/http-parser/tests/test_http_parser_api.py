"""The public surface of weft.http_parser."""

from __future__ import annotations

import ast
import pathlib

import weft.http_parser as http_parser
from weft.http_parser import streams

SRC = pathlib.Path(http_parser.__file__).parent


def test_all_names_exist() -> None:
    """Every name in __all__ is defined by the package."""
    for name in http_parser.__all__:
        assert hasattr(http_parser, name), name


def test_all_is_complete() -> None:
    """Every public name the package defines is listed in __all__."""
    public = {
        name
        for name, value in vars(http_parser).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("weft.")
    }
    assert public - {"streams"} <= set(http_parser.__all__)


def test_all_has_no_duplicates() -> None:
    """__all__ lists each name once."""
    assert len(http_parser.__all__) == len(set(http_parser.__all__))


def test_streams_all_is_true_and_complete() -> None:
    """streams.__all__ names exactly the stream module's public classes and constant."""
    assert set(streams.__all__) == {"BodyStream", "DecodingBodyStream", "FlowControl", "EMPTY_BODY"}
    for name in streams.__all__:
        assert hasattr(streams, name)


def test_contract_names_are_exported() -> None:
    """The names the design contract promises to web-core and web-runner are public."""
    promised = {
        "HttpVersion",
        "HttpVersion10",
        "HttpVersion11",
        "RequestHead",
        "BodyChunk",
        "EndOfMessage",
        "RequestParser",
        "HttpParserError",
        "BadRequest",
        "RequestTargetTooLong",
        "HeaderFieldsTooLarge",
        "PayloadTooLarge",
        "NotImplementedCoding",
        "VersionNotSupported",
        "reason_phrase",
        "serialize_response_head",
    }
    assert promised <= set(http_parser.__all__)


def test_errors_carry_status_and_subclass_value_error() -> None:
    """Each parser error is a ValueError with the status and reason to answer with."""
    expected = {
        http_parser.BadRequest: 400,
        http_parser.RequestTargetTooLong: 414,
        http_parser.HeaderFieldsTooLarge: 431,
        http_parser.PayloadTooLarge: 413,
        http_parser.NotImplementedCoding: 501,
        http_parser.VersionNotSupported: 505,
    }
    for cls, status in expected.items():
        error = cls("what went wrong")
        assert isinstance(error, http_parser.HttpParserError)
        assert isinstance(error, ValueError)
        assert error.status == status
        assert error.reason == http_parser.reason_phrase(status)
        assert str(error) == "what went wrong"
    assert issubclass(http_parser.HeaderInjectionError, ValueError)


def test_core_modules_do_not_import_asyncio() -> None:
    """Only streams.py imports asyncio: the parser and serializer are sans-IO."""
    for path in SRC.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
        if path.name == "streams.py":
            assert "asyncio" in imported
        else:
            assert "asyncio" not in imported, path.name


def test_no_namespace_init() -> None:
    """The package ships no weft/__init__.py (weft is a PEP 420 namespace)."""
    assert not (SRC.parent / "__init__.py").exists()


def test_docstring_examples() -> None:
    """The examples in public docstrings give the output they show.

    The examples are read from the ``.py`` sources and run against the
    imported modules: a mypyc-compiled function keeps no docstring, so
    ``doctest.testmod`` would find nothing to run in the compiled build.
    """
    import doctest

    from weft.http_parser import _request_parser, _serializer

    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner()
    for module in (http_parser, _request_parser, _serializer):
        name = module.__name__.rpartition(".")[2]
        source = SRC / ("__init__.py" if name == "http_parser" else f"{name}.py")
        tree = ast.parse(source.read_text())
        tests = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                docstring = ast.get_docstring(node)
                if docstring and ">>>" in docstring:
                    where = getattr(node, "name", module.__name__)
                    runner.run(
                        parser.get_doctest(docstring, dict(vars(module)), where, str(source), 0)
                    )
                    tests += 1
        assert tests > 0, source
    assert runner.failures == 0
    assert runner.tries > 0
