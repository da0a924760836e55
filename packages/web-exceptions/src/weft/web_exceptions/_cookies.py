"""Response cookies: a ``SimpleCookie`` with aiohttp's ``set_cookie`` / ``del_cookie``.

``ResponseCookies`` is what ``HTTPException.cookies`` holds and what a
response object (web-core's ``StreamResponse``, or any other framework's) can
hold too.  ``cookie_headers`` turns any ``BaseCookie`` into the values of the
``Set-Cookie`` headers to send, one per cookie.

Two things go beyond ``http.cookies`` on Python 3.11:

* the ``Partitioned`` flag (CHIPS) is accepted on every Python version, not
  only on 3.14+ where the standard library learnt it;
* attribute values (``path``, ``domain``, ``expires``, ``samesite``, ...) that
  contain a control character or ``;`` are refused with ``ValueError``, so a
  value taken from a request cannot inject attributes or header lines.
"""

from __future__ import annotations

import re
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any, ClassVar

__all__ = ["ResponseCookies", "cookie_headers"]

# The value aiohttp (and browsers) use to expire a cookie at once.
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"

# Control characters and ";" would end the attribute (or the header line) early.
_UNSAFE_ATTRIBUTE = re.compile(r"[\x00-\x1f\x7f;]")

_BASE_RESERVED: dict[str, str] = dict(Morsel.__dict__["_reserved"])
_BASE_FLAGS: frozenset[str] = frozenset(Morsel.__dict__["_flags"])


class _Morsel(Morsel[str]):
    """A ``Morsel`` that also knows the ``Partitioned`` flag on every Python."""

    _reserved: ClassVar[dict[str, str]] = {**_BASE_RESERVED, "partitioned": "Partitioned"}
    _flags: ClassVar[frozenset[str]] = _BASE_FLAGS | {"partitioned"}

    def copy(self) -> _Morsel:
        """Return a copy that keeps this class (``Morsel.copy`` returns a plain one)."""
        clone = _Morsel()
        dict.update(clone, self)
        clone.__dict__.update(self.__dict__)
        return clone


def _check_attribute(name: str, value: str) -> str:
    if _UNSAFE_ATTRIBUTE.search(value):
        raise ValueError(
            f"cookie attribute {name!r} must not contain control characters or ';': {value!r}"
        )
    return value


class ResponseCookies(SimpleCookie):
    """The cookies a response sets: a ``SimpleCookie`` plus aiohttp's helpers.

    ``jar[name]`` is a ``Morsel``; ``set_cookie`` / ``del_cookie`` behave as
    ``aiohttp.web.StreamResponse.set_cookie`` / ``del_cookie``, and
    ``header_values()`` gives the ``Set-Cookie`` header values to send.
    """

    # ``BaseCookie.__setitem__`` and ``BaseCookie.load`` store values through the
    # name-mangled ``__set``; defining it here makes them create ``_Morsel``s.
    def _BaseCookie__set(self, key: str, real_value: str, coded_value: str) -> None:
        previous = self.get(key)
        if isinstance(previous, _Morsel):
            morsel = previous
        else:
            morsel = _Morsel()
            if previous is not None:  # a plain Morsel stored directly: keep its attributes
                dict.update(morsel, previous)
        morsel.set(key, real_value, coded_value)
        dict.__setitem__(self, key, morsel)

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | int | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Set a cookie, or update the one already set under ``name``.

        Attributes left as ``None`` keep their previous value, except
        ``max_age`` (dropped when ``None``) and an ``expires`` that is still
        the epoch left by ``del_cookie`` (dropped too), as in aiohttp.
        Raises ``http.cookies.CookieError`` for an illegal name and
        ``ValueError`` for an attribute value with a control character or ``;``.
        """
        self[name] = value
        morsel = self[name]

        if expires is not None:
            morsel["expires"] = _check_attribute("expires", expires)
        elif morsel.get("expires") == _EPOCH:
            morsel["expires"] = ""

        if domain is not None:
            morsel["domain"] = _check_attribute("domain", domain)

        if max_age is not None:
            morsel["max-age"] = _check_attribute("max_age", str(max_age))
        else:
            morsel["max-age"] = ""

        morsel["path"] = _check_attribute("path", path)

        if secure is not None:
            morsel["secure"] = secure
        if httponly is not None:
            morsel["httponly"] = httponly
        if version is not None:
            # aiohttp takes an int too (its oldest docs show version=1): kept as given.
            _check_attribute("version", str(version))
            morsel["version"] = version
        if samesite is not None:
            morsel["samesite"] = _check_attribute("samesite", samesite)
        if partitioned is not None:
            morsel["partitioned"] = partitioned

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Tell the client to delete cookie ``name``: an empty value that expired at once.

        Any cookie set earlier under ``name`` is replaced, as in aiohttp.
        """
        self.pop(name, None)
        self.set_cookie(
            name,
            "",
            max_age=0,
            expires=_EPOCH,
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def header_values(self) -> list[str]:
        """Return the ``Set-Cookie`` header values, one per cookie, in insertion order."""
        return cookie_headers(self)


def cookie_headers(cookies: BaseCookie[Any]) -> list[str]:
    """Return the ``Set-Cookie`` header values for every cookie in ``cookies``.

    Works on any ``http.cookies.BaseCookie`` (``ResponseCookies``,
    ``SimpleCookie``, ...); each value is ``Morsel.OutputString()``, what
    aiohttp sends, e.g. ``"session=abc; HttpOnly; Path=/"``.
    """
    return [morsel.OutputString() for morsel in cookies.values()]
