"""Which aiohttp module names the compatibility mode takes over, and from where.

aiohttp.web is weft.web itself, so a patch applied to one (OpenTelemetry
replaces ``aiohttp.web.Application``) is seen through the other. Every other
server-side module of aiohttp becomes a module of its own name that holds the
public names of the weft packages that own that concern: the names aiohttp's
module has are a subset (tests/test_compat_modules.py holds it to that), and
a name weft lacks fails with an AttributeError that says so instead of
reaching aiohttp's own code.

aiohttp.test_utils is the exception the other way round: it stays aiohttp's
file, run on the replaced aiohttp.web (REBUILT), so that tests written for
aiohttp get aiohttp's client while the server under test is weft's.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import types
from collections.abc import Callable
from typing import Any

__all__ = ["ALIASED", "IDENTICAL", "KEPT", "REBUILT", "build_module", "build_rebuilt_module"]

#: aiohttp module -> the weft module it *is* (the same module object).
IDENTICAL: dict[str, str] = {
    "aiohttp.web": "weft.web",
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
#: loop...) are built from aiohttp.test_utils and aiohttp.web, so they serve
#: weft applications with aiohttp's client.
KEPT: tuple[str, ...] = ("aiohttp.pytest_plugin",)

#: aiohttp modules executed from aiohttp's own source (on the replaced
#: aiohttp.web, which they import), then given weft's object for each name
#: listed, where aiohttp's would reach server internals weft does not mirror.
#: aiohttp.test_utils this way has aiohttp's TestClient, a ClientSession with
#: its exceptions, connector=, cookie jar and tracing, which extensions'
#: tests expect of it, while TestServer and RawTestServer build weft's runner
#: and Server through aiohttp.web. Its make_mocked_request would build aiohttp's
#: RawRequestMessage and RequestHandler parts for weft's Request, which takes
#: neither: weft's own stands in.
REBUILT: dict[str, dict[str, Callable[[], Any]]] = {
    "aiohttp.test_utils": {"make_mocked_request": lambda: _weft_make_mocked_request()},
}


def _weft_make_mocked_request() -> Any:
    from weft.web_core.test_utils import make_mocked_request

    return make_mocked_request


class _RebuildingLoader(importlib.abc.Loader):
    """aiohttp's loader for the module, then weft's objects for REBUILT's names."""

    def __init__(
        self, loader: importlib.abc.Loader, replaced: dict[str, Callable[[], Any]]
    ) -> None:
        self._loader = loader
        self._replaced = replaced

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        for name, make in self._replaced.items():
            setattr(module, name, make())

    def __getattr__(self, name: str) -> Any:
        # get_source, get_filename...: tracebacks, inspect and coverage read
        # aiohttp's file through the module's __loader__.
        return getattr(self._loader, name)


def build_rebuilt_module(name: str) -> types.ModuleType:
    """aiohttp's module ``name`` (one of REBUILT's keys), executed at its first use.

    Put in sys.modules by install_as_aiohttp() rather than found by an import
    hook: a finder placed before aiohttp's would still come after those that
    pytest and others insert at the front of sys.meta_path later (pytest's
    assertion rewriter takes every file named test_*.py, aiohttp's
    test_utils.py included), and they would load aiohttp's file unchanged.
    Lazy, so a server switched at interpreter start does not pay for it.
    """
    import aiohttp

    spec = importlib.machinery.PathFinder.find_spec(name, list(aiohttp.__path__))
    if spec is None or spec.loader is None:
        raise ImportError(f"aiohttp has no {name} module to run on weft", name=name)
    loader = importlib.util.LazyLoader(_RebuildingLoader(spec.loader, REBUILT[name]))
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


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
