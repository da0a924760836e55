"""Which aiohttp module names the compatibility mode takes over, and from where.

aiohttp.web is weft.web itself, so a patch applied to one (OpenTelemetry
replaces ``aiohttp.web.Application``) is seen through the other. Every other
server-side module of aiohttp becomes a module of its own name that holds the
public names of the weft packages that own that concern: the names aiohttp's
module has are a subset (tests/test_compat_modules.py holds it to that), and
a name weft lacks fails with an AttributeError that says so instead of
reaching aiohttp's own code.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

__all__ = ["ALIASED", "IDENTICAL", "KEPT", "build_module"]

#: aiohttp module -> the weft module it *is* (the same module object).
IDENTICAL: dict[str, str] = {
    "aiohttp.web": "weft.web",
    "aiohttp.test_utils": "weft.test_utils",
}

#: aiohttp module -> the weft modules whose public names it holds, after
#: weft.web's, the first one that has a name winning (aiohttp's modules re-export each other's names
#: in the same way, web_request.FileField and web_response.ContentCoding say).
ALIASED: dict[str, tuple[str, ...]] = {
    "aiohttp.web_app": ("weft.web_core", "weft.web_routing"),
    "aiohttp.web_exceptions": ("weft.web_exceptions", "weft.web_core"),
    "aiohttp.web_fileresponse": ("weft.web_core",),
    "aiohttp.web_log": ("weft.web_runner",),
    "aiohttp.web_middlewares": ("weft.web_core", "weft.web_routing"),
    "aiohttp.web_protocol": ("weft.web_runner", "weft.web_core"),
    "aiohttp.web_request": ("weft.web_core",),
    "aiohttp.web_response": ("weft.web_core",),
    "aiohttp.web_routedef": ("weft.web_routing",),
    "aiohttp.web_runner": ("weft.web_runner",),
    "aiohttp.web_server": ("weft.web_runner", "weft.web_core"),
    "aiohttp.web_urldispatcher": ("weft.web_routing", "weft.web_core"),
    "aiohttp.web_ws": ("weft.web_core",),
    # Lazy: the workers import gunicorn, an optional dependency.
    "aiohttp.worker": ("weft.worker",),
}

#: aiohttp's private names that published extensions and plugins import, and
#: what stands for each. pytest-aiohttp imports web_protocol._RequestHandler
#: (a type alias there, a handler's signature here).
_PRIVATE: dict[str, dict[str, Callable[[], Any]]] = {
    "aiohttp.web_protocol": {"_RequestHandler": lambda: _handler_type()},
    "aiohttp.web_middlewares": {"_Handler": lambda: _handler_type()},
}

#: Server-side aiohttp modules left as aiohttp's own: they run on the aliases
#: above. aiohttp.pytest_plugin's fixtures (aiohttp_client, aiohttp_server,
#: loop...) are built from aiohttp.test_utils and aiohttp.web, which are weft's,
#: so they serve weft applications with weft's test server and client.
KEPT: tuple[str, ...] = ("aiohttp.pytest_plugin",)


def _handler_type() -> Any:
    from collections.abc import Awaitable

    from weft.web_core import Request, StreamResponse

    return Callable[[Request], Awaitable[StreamResponse]]


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    return [name for name in names if name != "__version__"]


def build_module(name: str) -> types.ModuleType:
    """The stand-in for aiohttp module ``name`` (one of ALIASED's keys)."""
    sources = ALIASED[name]
    # weft.web first: a name aiohttp.web exports is then the same object in every
    # module (web-core's View, bound to its Request, and not web-routing's generic one).
    searched = ("weft.web", *sources) if name != "aiohttp.worker" else sources
    module = types.ModuleType(name, f"weft's stand-in for {name} (weft.compat).")
    private = _PRIVATE.get(name, {})
    loaded: list[types.ModuleType] = []

    def source_modules() -> list[types.ModuleType]:
        if not loaded:
            loaded.extend(importlib.import_module(source) for source in searched)
        return loaded

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # Probes of a module's dunders (__file__, __path__...) by inspect, pickle
            # or the import system must not load the sources: aiohttp.worker's need gunicorn.
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        if attr in private:
            value = private[attr]()
        else:
            for source in source_modules():
                if attr in _public_names(source):
                    value = getattr(source, attr)
                    break
            else:
                raise AttributeError(
                    f"module {name!r} has no attribute {attr!r}: weft's aiohttp "
                    f"compatibility mode provides {name} from {', '.join(sources)}, "
                    f"which have no {attr!r} (see weft's docs/compat.md)"
                )
        # Cached, so that the module behaves as an ordinary one afterwards.
        setattr(module, attr, value)
        return value

    def __dir__() -> list[str]:
        names: set[str] = set(private)
        for source in source_modules():
            names.update(_public_names(source))
        return sorted(names)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__dir__ = __dir__  # type: ignore[method-assign]
    module.__weft_sources__ = sources  # type: ignore[attr-defined]
    if name != "aiohttp.worker":
        # Eager where it is cheap, so ``from aiohttp.web_app import *`` sees the names.
        module.__all__ = [n for n in __dir__() if n not in private]  # type: ignore[attr-defined]
    return module
