"""weft.web's classes and functions against aiohttp.web's, member by member.

For every public class and function of ``aiohttp.web.__all__`` (the installed
aiohttp, pinned to one series in pyproject.toml), weft.web must offer each
public attribute aiohttp's has, and accept every way aiohttp's can be called:
the same positional parameters in the same order, every keyword parameter
(or ``**kwargs``). weft may accept more.

What weft deliberately does not offer is listed in ``DIFFERENCES`` with the
reason; each is documented in the owning package's README. The list must be
exact: an entry that no longer differs fails the test too, so a gap that
gets closed is crossed off here.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

from aiohttp import web as aiohttp_web

from weft import web

_ATTRS = "aiohttp's list of attribute names its __setattr__ guard allows; weft uses __slots__"
_LOW_LEVEL = (
    "aiohttp's internal connection API; weft's RequestHandler is its own (web-runner README)"
)
_ROUTER_KWARGS = "explicit name= and expect_handler= keywords (what aiohttp forwards to add_route)"

DIFFERENCES: dict[str, str] = {
    # web-core
    "Application.ATTRS": _ATTRS,
    "BaseRequest.ATTRS": _ATTRS,
    "BaseRequest.message": "aiohttp's RawRequestMessage, deprecated in aiohttp; weft's is .head",
    "BaseRequest(): positional 0 named head not message": "built from weft's RequestHead",
    "Request.ATTRS": _ATTRS,
    "Request.message": "aiohttp's RawRequestMessage, deprecated in aiohttp; weft's is .head",
    "Request(): positional 0 named head not message": "built from weft's RequestHead",
    "StreamResponse.ATTRS": _ATTRS,
    "Response.ATTRS": _ATTRS,
    "FileResponse.ATTRS": _ATTRS,
    "WebSocketResponse.ATTRS": _ATTRS,
    "StreamResponse(): keyword _real_headers": "private to aiohttp",
    # web-routing
    "AbstractRoute.handle_expect_header": "route.expect_handler, or match_info.expect_handler"
    " with the framework's default (web-routing README)",
    "ResourceRoute.handle_expect_header": "route.expect_handler, or match_info.expect_handler"
    " with the framework's default (web-routing README)",
    "DynamicResource.DYN": "aiohttp's template regexes; weft parses templates without them",
    "DynamicResource.DYN_WITH_RE": "aiohttp's template regexes; weft parses templates without them",
    "DynamicResource.GOOD": "aiohttp's template regexes; weft parses templates without them",
    "UrlDispatcher.NAME_SPLIT_RE": "aiohttp's route-name regex; weft checks names without it",
    "UrlDispatcher.post_init": "AbstractRouter's hook, which aiohttp's Application never calls",
    "UrlDispatcher.add_get(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_post(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_put(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_patch(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_delete(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_head(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_options(): **kwargs": _ROUTER_KWARGS,
    "UrlDispatcher.add_view(): **kwargs": _ROUTER_KWARGS,
    # web-runner
    "RequestHandler(): positional 0 named server not manager": _LOW_LEVEL,
    "RequestHandler.set_parser": (
        "aiohttp's hook that hands the connection to its WebSocketReader; "
        "weft's is switch_protocol(receiver) (web-runner README)"
    ),
    "RequestHandler.start": (
        "aiohttp's per-connection request loop, started by connection_made; "
        "weft's loop is private and started the same way"
    ),
    "RequestHandler.finish_response": (
        "a step of aiohttp's request loop (prepare, write_eof, access log); "
        "weft's loop does it inline and calls no overridable step"
    ),
    "RequestHandler.handle_error": (
        "aiohttp's error-page builder inside its request loop; weft's error "
        "pages are built inside its own loop (text/plain, traceback with debug=True)"
    ),
}


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def _pure_twin(cls: type) -> type | None:
    """``cls`` as its module's source defines it, when ``cls`` is a compiled class
    whose ``__init__`` has no text signature (mypyc writes one only when every
    default is a literal): the source is run again as a module of its own, which
    imports the installed siblings."""
    module = sys.modules[cls.__module__]
    file = str(getattr(module, "__file__", "") or "")
    if (
        not file.endswith(tuple(EXTENSION_SUFFIXES))
        or getattr(cls, "__text_signature__", None) is not None
    ):
        return None
    source = Path(file).with_name(cls.__module__.rpartition(".")[2] + ".py")
    spec = importlib.util.spec_from_file_location(f"{cls.__module__}__pure_twin", source)
    assert spec is not None
    assert spec.loader is not None
    twin = importlib.util.module_from_spec(spec)
    twin.__package__ = module.__package__
    spec.loader.exec_module(twin)
    found: type = getattr(twin, cls.__name__)
    return found


def _signature(obj: object) -> inspect.Signature | None:
    if isinstance(obj, type) and (twin := _pure_twin(obj)) is not None:
        return inspect.signature(twin)
    code = getattr(obj, "__code__", None)
    if code is not None and not code.co_filename:
        # A mypyc-compiled coroutine function (the compiled router's resolve):
        # its stand-in code object lists no parameters. The pure build is
        # checked wherever it is the one installed.
        return None
    try:
        return inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # a builtin without text signature
        return None


def _call_gaps(theirs: inspect.Signature, ours: inspect.Signature) -> Iterator[str]:
    """The ways of calling aiohttp's callable that weft's does not accept."""
    params = ours.parameters.values()
    any_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
    any_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
    positional_kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    our_positional = [p for p in params if p.kind in positional_kinds]
    their_positional = [p for p in theirs.parameters.values() if p.kind in positional_kinds]
    for index, param in enumerate(their_positional):
        if index >= len(our_positional):
            if not any_positional:
                yield f"positional {param.name}"
        elif our_positional[index].name != param.name and param.kind is not param.POSITIONAL_ONLY:
            yield f"positional {index} named {our_positional[index].name} not {param.name}"
    for param in theirs.parameters.values():
        if param.kind is param.KEYWORD_ONLY and param.name not in ours.parameters:
            if not any_keyword:
                yield f"keyword {param.name}"
        elif param.kind is param.VAR_KEYWORD and not any_keyword:
            yield "**kwargs"


def _callable_gaps(
    label: str, theirs: Callable[..., Any], ours: Callable[..., Any]
) -> Iterator[str]:
    their_signature, our_signature = _signature(theirs), _signature(ours)
    if their_signature is not None and our_signature is not None:
        for gap in _call_gaps(their_signature, our_signature):
            yield f"{label}(): {gap}"


def _class_gaps(name: str, theirs: type, ours: type) -> Iterator[str]:
    for member in sorted(_public(theirs) - _public(ours)):
        yield f"{name}.{member}"
    for member in sorted(_public(theirs) & _public(ours)):
        their_member, our_member = getattr(theirs, member), getattr(ours, member)
        if callable(their_member) and not inspect.isclass(their_member):
            yield from _callable_gaps(f"{name}.{member}", their_member, our_member)
    yield from _callable_gaps(name, theirs, ours)


def _gaps() -> set[str]:
    found: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # reading deprecated members
        for name in sorted(aiohttp_web.__all__):
            theirs, ours = getattr(aiohttp_web, name), getattr(web, name)
            if inspect.isclass(theirs):
                if issubclass(theirs, aiohttp_web.HTTPException):
                    continue  # not responses in weft: test_integration_public_api
                found.update(_class_gaps(name, theirs, ours))
            elif callable(theirs):
                found.update(_callable_gaps(name, theirs, ours))
    return found


def test_weft_offers_what_aiohttp_offers() -> None:
    """Every member and call form of aiohttp.web, except the documented differences."""
    assert sorted(_gaps() - DIFFERENCES.keys()) == []


def test_differences_are_current() -> None:
    """Each listed difference still exists: a closed gap is crossed off the list."""
    assert sorted(DIFFERENCES.keys() - _gaps()) == []
