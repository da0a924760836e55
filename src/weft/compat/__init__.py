"""weft.compat: run code written for aiohttp's server on weft, unchanged.

``install_as_aiohttp()`` makes the import names of aiohttp's server side
(``aiohttp.web``, ``aiohttp.web_app``, ... ``aiohttp.worker``) resolve to
weft's objects for the rest of the process, as ``pymysql.install_as_MySQLdb()``
does for MySQLdb. aiohttp itself stays installed and imported: its client,
``aiohttp.abc``, ``aiohttp.hdrs`` and the rest of what is not the server are
aiohttp's own and keep working. ``aiohttp.test_utils`` stays aiohttp's file,
run on weft's server: its TestClient is aiohttp's client, as tests written
for aiohttp expect.

It must run before anything imports ``aiohttp.web``; a process that already
holds aiohttp's server modules is refused (AiohttpServerAlreadyImported)
and left as it was. To switch before any import, for tests and servers
started by other tools: ``WEFT_AS_AIOHTTP=1`` in the environment (honoured at
interpreter start by the ``weft_aiohttp_compat.pth`` file that weft
installs), or ``python -m weft.compat -- <command...>``. See docs/compat.md.
"""

from __future__ import annotations

import importlib
import sys
import types

from ._modules import ALIASED, IDENTICAL, KEPT, REBUILT, build_module, build_rebuilt_module

__all__ = ["ENV_VAR", "AiohttpServerAlreadyImported", "install_as_aiohttp", "is_installed"]

#: The environment variable that switches a process at interpreter start.
ENV_VAR = "WEFT_AS_AIOHTTP"

#: Every aiohttp module this mode replaces, and those it keeps but must load
#: after the switch (they import the replaced ones when they load).
SERVER_MODULES: tuple[str, ...] = (*IDENTICAL, *ALIASED, *REBUILT, *KEPT)

_installed = False


class AiohttpServerAlreadyImported(RuntimeError):
    """install_as_aiohttp() was called after aiohttp's server side was imported."""

    def __init__(self, modules: list[str]) -> None:
        self.modules = modules
        super().__init__(
            f"weft.compat.install_as_aiohttp() must run before aiohttp's server side is "
            f"imported, but {', '.join(modules)} already is: objects made from it would be "
            f"aiohttp's while later imports gave weft's. Nothing was changed. Switch at "
            f"interpreter start instead: set {ENV_VAR}=1 (with weft's .pth file installed) "
            f"or run the command under `python -m weft.compat -- <command...>`."
        )


def is_installed() -> bool:
    """Whether this process runs aiohttp's server names on weft."""
    return _installed


def install_as_aiohttp() -> None:
    """Make aiohttp's server-side modules weft's, for the rest of the process.

    Idempotent. Raises AiohttpServerAlreadyImported, changing nothing, if one
    of those modules was imported before; ImportError if aiohttp is not
    installed (``pip install 'weft[aiohttp-compat]'``).
    """
    global _installed
    if _installed:
        return
    present = [name for name in SERVER_MODULES if name in sys.modules]
    if present:
        raise AiohttpServerAlreadyImported(present)
    try:
        import aiohttp
        import aiohttp.abc
    except ImportError as exc:
        raise ImportError(
            "weft.compat.install_as_aiohttp() needs aiohttp itself installed (its client, "
            "abc and hdrs modules stay aiohttp's): pip install 'weft[aiohttp-compat]'"
        ) from exc
    # aiohttp's package import never loads its server side (checked by
    # tests/test_compat.py); should a release start to, refuse rather than mix.
    present = [name for name in SERVER_MODULES if name in sys.modules]
    if present:
        raise AiohttpServerAlreadyImported(present)

    modules: dict[str, types.ModuleType] = {}
    for name, target in IDENTICAL.items():
        modules[name] = importlib.import_module(target)
    for name in ALIASED:
        modules[name] = build_module(name)
    for name in REBUILT:
        modules[name] = build_rebuilt_module(name)
    for name, module in modules.items():
        sys.modules[name] = module
        setattr(aiohttp, name.rpartition(".")[2], module)
    _register_abcs(aiohttp.abc)
    _installed = True


def _register_abcs(abc: types.ModuleType) -> None:
    """weft's classes as virtual subclasses of aiohttp.abc's ABCs.

    isinstance() checks written against aiohttp.abc then accept weft's objects.
    An ABC registration is one-way (the other direction would be a cycle), so
    for the access logger, the direction users need is the other one: a logger
    written as a subclass of aiohttp.abc.AbstractAccessLogger must pass
    weft's check of ``access_log_class``.
    """
    from weft.web_core import StreamWriter
    from weft.web_routing import AbstractView, UrlDispatcher, UrlMappingMatchInfo
    from weft.web_runner import AbstractAccessLogger

    abc.AbstractRouter.register(UrlDispatcher)
    abc.AbstractMatchInfo.register(UrlMappingMatchInfo)
    abc.AbstractView.register(AbstractView)
    abc.AbstractStreamWriter.register(StreamWriter)
    AbstractAccessLogger.register(abc.AbstractAccessLogger)
