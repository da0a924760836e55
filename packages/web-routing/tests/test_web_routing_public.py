"""The public surface: __all__ is complete and true."""

from __future__ import annotations

import inspect

from weft import web_routing


def test_all_names_exist() -> None:
    """Every name in __all__ is an attribute of the package."""
    for name in web_routing.__all__:
        assert hasattr(web_routing, name), name


def test_all_is_complete() -> None:
    """Every public class or function defined by the package is in __all__."""
    public = {
        name
        for name, value in vars(web_routing).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("weft.web_routing")
    }
    assert public <= set(web_routing.__all__)


def test_all_has_no_duplicates() -> None:
    """__all__ lists each name once."""
    assert len(web_routing.__all__) == len(set(web_routing.__all__))


def test_aiohttp_router_names_present() -> None:
    """The router names aiohttp.web exports are all here."""
    expected = {
        "UrlDispatcher", "UrlMappingMatchInfo", "AbstractResource", "Resource",
        "PlainResource", "DynamicResource", "AbstractRoute", "ResourceRoute", "View",
        "AbstractRouteDef", "RouteDef", "StaticDef", "RouteTableDef", "head", "options",
        "get", "post", "patch", "put", "delete", "route", "view", "static",
    }  # fmt: skip
    assert expected <= set(web_routing.__all__)


def test_version() -> None:
    """__version__ is the distribution's version string."""
    assert web_routing.__version__ == "0.1.0"
