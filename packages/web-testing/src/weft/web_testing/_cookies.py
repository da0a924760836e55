"""The test client's cookie jar: what aiohttp's ``CookieJar(unsafe=True)`` keeps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from http.cookies import Morsel, SimpleCookie

from yarl import URL

__all__ = ["CookieJar"]


class CookieJar:
    """The session's cookies, as aiohttp's ``CookieJar(unsafe=True)``.

    Cookies are kept per (domain, path, name); IP-address hosts are allowed
    (test servers listen on 127.0.0.1). Expiry (Max-Age, Expires), Path,
    Domain and Secure are honoured; SameSite is not.
    """

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Morsel[str]] = {}
        self._host_only: set[tuple[str, str, str]] = set()
        self._expires: dict[tuple[str, str, str], float] = {}

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._purge()
        return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        self._purge()
        return len(self._cookies)

    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Forget every cookie, or those ``predicate(morsel)`` is true for."""
        for key, morsel in list(self._cookies.items()):
            if predicate is None or predicate(morsel):
                self._forget(key)

    def clear_domain(self, domain: str) -> None:
        """Forget the cookies of ``domain`` and its subdomains."""
        domain = domain.lower()
        self.clear(lambda m: m["domain"] == domain or m["domain"].endswith("." + domain))

    def update_cookies(
        self,
        cookies: Mapping[str, str | Morsel[str]] | SimpleCookie,
        response_url: URL = URL(),  # noqa: B008 (an immutable value)
    ) -> None:
        """Store ``cookies`` (values or Morsels) as set by a response from ``response_url``.

        Without a URL (``ClientSession(cookies=...)``) a cookie with no Domain
        is sent to every host.
        """
        host = (response_url.raw_host or "").lower()
        for name, value in cookies.items():
            if isinstance(value, Morsel):
                morsel: Morsel[str] = Morsel()
                morsel.update(value)
                morsel.set(value.key, value.value, value.coded_value)
            else:
                single = SimpleCookie()
                single[name] = value
                morsel = single[name]
            domain = morsel["domain"].lstrip(".").lower()
            host_only = not domain and bool(host)
            if host_only:
                domain = host
            elif host and not _domain_match(host, domain):
                continue  # a server may not set cookies for another domain
            path = morsel["path"]
            if not path.startswith("/"):
                path = _default_path(response_url)
            morsel["domain"] = domain
            morsel["path"] = path
            key = (domain, path, morsel.key)
            expires = _expiry(morsel)
            if expires is not None and expires <= time.time():
                self._forget(key)
                continue
            self._cookies[key] = morsel
            if expires is None:
                self._expires.pop(key, None)
            else:
                self._expires[key] = expires
            if host_only:
                self._host_only.add(key)
            else:
                self._host_only.discard(key)

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        """The cookies to send to ``request_url``, most specific path first."""
        self._purge()
        host = (request_url.raw_host or "").lower()
        path = request_url.raw_path or "/"
        secure = request_url.scheme in ("https", "wss")
        found = SimpleCookie()
        matching = [
            (key, morsel)
            for key, morsel in self._cookies.items()
            if (host == key[0] if key in self._host_only else _domain_match(host, key[0]))
            and _path_match(path, key[1])
            and (secure or not morsel["secure"])
        ]
        for (_, cookie_path, name), morsel in sorted(matching, key=lambda kv: -len(kv[0][1])):
            if name not in found:
                found[name] = morsel.value
                found[name].set(name, morsel.value, morsel.coded_value)
                found[name]["path"] = cookie_path
        return found

    def _forget(self, key: tuple[str, str, str]) -> None:
        self._cookies.pop(key, None)
        self._expires.pop(key, None)
        self._host_only.discard(key)

    def _purge(self) -> None:
        now = time.time()
        for key in [k for k, when in self._expires.items() if when <= now]:
            self._forget(key)


def _domain_match(host: str, domain: str) -> bool:
    # "" is a cookie given without a URL (ClientSession(cookies=...)): sent to every host.
    return not domain or host == domain or host.endswith("." + domain)


def _path_match(path: str, cookie_path: str) -> bool:
    if path == cookie_path:
        return True
    if not path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or path[len(cookie_path)] == "/"


def _default_path(url: URL) -> str:
    path = url.raw_path or "/"
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


def _expiry(morsel: Morsel[str]) -> float | None:
    max_age = morsel["max-age"]
    if max_age:
        try:
            return time.time() + int(max_age)
        except ValueError:
            pass
    expires = morsel["expires"]
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError):
            return None
    return None
