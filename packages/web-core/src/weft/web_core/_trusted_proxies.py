"""Trusted reverse proxies: the client's address, scheme and host from proxy headers.

A reverse proxy tells the app who its client was in request headers
(``X-Forwarded-For`` / ``-Proto`` / ``-Host``, or RFC 7239 ``Forwarded``).
Any client can send those headers too, so they mean something only when a
proxy the operator trusts wrote them. The rules, in the order they apply:

1. **The peer first.** The headers are read only when the connection's peer
   (the transport's ``peername``, never a header) is a trusted address or
   network, or a unix socket when ``"unix"`` is trusted. From any other
   peer they are ignored, unparsed: the request keeps its own remote,
   scheme and host, and a client talking to the app directly cannot get a
   400 (or anything else) out of them.
2. **From the right.** Each proxy appends the address it received the
   request from, so the last entry was written by the peer itself. The walk
   goes from the right and skips entries that are trusted proxies; the
   first entry that is not is the client. Nothing to its left is read:
   the client may have written it. When every entry is trusted, the
   leftmost is the client.
3. **Scheme and host.** With ``Forwarded`` they come from the element the
   client was found in (one element per hop). ``X-Forwarded-Proto`` /
   ``-Host`` hold one value per hop only when each proxy appends; most
   overwrite (nginx's ``proxy_set_header X-Forwarded-Proto $scheme``), so the
   value at the client's position from the right is taken when there is
   one, else the leftmost (aiohttp-remotes' ``XForwardedFiltered`` rule, but
   for a chain of trusted entries only, where it takes the leftmost value).
4. **Malformed is 400, where a trusted proxy vouches for it.** An entry the
   walk reads that is not an address (or ``unknown`` / an obfuscated
   ``Forwarded`` node), a scheme that is not http or https, a host that is
   not ``host[:port]``: the chain cannot be believed, and guessing could hand
   an attacker's value to the app. aiohttp-remotes answers 400 too, but for
   any bad entry; an entry left of the client is never parsed here, so a
   client cannot turn its own garbage into a 400.
5. **One header family.** ``X-Forwarded-*`` or ``Forwarded``, as configured,
   never both: a proxy rewrites the one it speaks and passes the other
   through untouched, so reading both would read the client's.
"""

from __future__ import annotations

import functools
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Literal, NamedTuple, TypeAlias, cast

from multidict import CIMultiDictProxy

from weft.web_exceptions import HTTPBadRequest

from ._forwarded import parse_forwarded
from ._keys import RequestKey
from ._middleware import middleware as new_style
from ._request import BaseRequest, Request
from ._response import StreamResponse
from ._types import Handler, Middleware

__all__ = [
    "FORWARDED_CLIENT",
    "ForwardedClient",
    "ProxyHeaderError",
    "TrustedProxies",
    "trusted_proxies_middleware",
]

TrustedEntry: TypeAlias = str | IPv4Address | IPv6Address | IPv4Network | IPv6Network
_Address: TypeAlias = IPv4Address | IPv6Address

# What a client can have spoken to a proxy: request.secure means "https", and
# request.url (yarl's join) drops the authority of a scheme it does not know
# ("gopher://h/p" joins to "/p"), so any other scheme is refused.
_SCHEMES = frozenset({"http", "https"})
# A host as a DNS name or an IP literal and a port (RFC 3986
# §3.2.2 allows more in a reg-name, but nothing a proxy forwards needs it, and
# each such character is one more that request.url must build from as is).
_HOST = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]{1,5}))?")
# RFC 7239 §6: node = nodename [ ":" node-port ]; obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-")
_NODE = re.compile(
    r"(?:(?P<v4>[0-9.]+)|\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>unknown|_[A-Za-z0-9._\-]+))"
    r"(?::(?:[0-9]{1,5}|_[A-Za-z0-9._\-]+))?"
)


class ForwardedClient(NamedTuple):
    """What the trusted proxies said about the client, as the request now reports it.

    ``remote`` is an address (``"203.0.113.7"``), or an RFC 7239 node that
    names none (``"unknown"``, ``"_hidden"``); ``proxies`` the trusted hops
    the walk went through, the connection's peer first (``"unix"`` for a
    unix socket).
    """

    remote: str
    scheme: str
    host: str
    proxies: tuple[str, ...]


FORWARDED_CLIENT: RequestKey[ForwardedClient] = RequestKey("weft.forwarded_client", ForwardedClient)


class ProxyHeaderError(HTTPBadRequest, ValueError):
    """A trusted proxy's header that cannot be believed (400)."""

    def __init__(self, header: str, value: str, why: str) -> None:
        super().__init__(text=f"400: Bad {header} header from a trusted proxy: {why}: {value!r}")
        self.header = header
        self.value = value


class TrustedProxies:
    """Which peers are proxies, and how their headers give the client.

    ``trusted``: addresses and networks, as strings (``"10.0.0.0/8"``,
    ``"127.0.0.1"``, ``"::1"``) or ``ipaddress`` objects, and ``"unix"`` for
    connections on a unix socket. ``header``: ``"x-forwarded"`` (the
    ``X-Forwarded-For`` / ``-Proto`` / ``-Host`` family, nginx's and most
    load balancers') or ``"forwarded"`` (RFC 7239).

    >>> proxies = TrustedProxies(["10.0.0.0/8"])
    >>> proxies.is_trusted("10.1.2.3"), proxies.is_trusted("203.0.113.7")
    (True, False)
    """

    __slots__ = ("_addresses", "_is_trusted", "_networks", "header", "unix")

    def __init__(
        self,
        trusted: Iterable[TrustedEntry],
        *,
        header: Literal["x-forwarded", "forwarded"] = "x-forwarded",
    ) -> None:
        if isinstance(trusted, str):
            raise TypeError(
                f"trusted must be a list of addresses or networks, not the str {trusted!r}"
            )
        if header not in ("x-forwarded", "forwarded"):
            raise ValueError(f"header must be 'x-forwarded' or 'forwarded', not {header!r}")
        self.header = header
        self.unix = False
        addresses: set[_Address] = set()
        networks: list[IPv4Network | IPv6Network] = []
        for entry in trusted:
            if entry == "unix":
                self.unix = True
            elif isinstance(entry, (IPv4Address, IPv6Address)):
                addresses.add(entry)
            elif isinstance(entry, (IPv4Network, IPv6Network)):
                networks.append(entry)
            elif isinstance(entry, str):
                try:
                    if "/" in entry:
                        networks.append(ip_network(entry))
                    else:
                        addresses.add(ip_address(entry))
                except ValueError as exc:
                    raise ValueError(
                        f"trusted: {entry!r} is not an address or network ({exc})"
                    ) from None
            else:
                raise TypeError(f"trusted: {entry!r} is not an address or network")
        if not addresses and not networks and not self.unix:
            raise ValueError(
                "trusted is empty: no proxy would be trusted; leave the middleware out instead"
            )
        self._addresses = frozenset(addresses)
        self._networks = tuple(networks)
        # Clients come back: one parse and network scan per distinct address.
        self._is_trusted: Callable[[str], bool] = functools.lru_cache(maxsize=4096)(self._check)

    def _check(self, address: str) -> bool:
        try:
            parsed = _unmapped(ip_address(address))
        except ValueError:
            return False
        return parsed in self._addresses or any(parsed in net for net in self._networks)

    def is_trusted(self, address: str | _Address) -> bool:
        """Whether ``address`` is a trusted proxy (an IPv4-mapped IPv6 one as its IPv4)."""
        return self._is_trusted(str(address))

    def peer(self, request: BaseRequest) -> str | None:
        """The connection's peer when it is trusted (``"unix"`` for a unix socket), else None."""
        transport = request.transport
        if transport is None:
            return None
        peer = transport.get_extra_info("peername")
        if isinstance(peer, (tuple, list)):
            address = str(peer[0])
            return address if self._is_trusted(address) else None
        if self.unix:
            sock = transport.get_extra_info("socket")
            if sock is not None and getattr(sock, "family", None) == socket.AF_UNIX:
                return "unix"
        return None

    def resolve(self, request: BaseRequest) -> ForwardedClient | None:
        """The client the trusted proxies name, or None (untrusted peer, or no header).

        Raises ProxyHeaderError (a 400) for what rule 4 of the module calls
        malformed.
        """
        peer = self.peer(request)
        if peer is None:
            return None
        headers = request.headers
        if self.header == "forwarded":
            return self._from_forwarded(peer, headers, request)
        return self._from_x_forwarded(peer, headers, request)

    def _from_x_forwarded(
        self, peer: str, headers: CIMultiDictProxy[str], request: BaseRequest
    ) -> ForwardedClient | None:
        entries = _joined(headers, "X-Forwarded-For")
        protos = _joined(headers, "X-Forwarded-Proto")
        hosts = _joined(headers, "X-Forwarded-Host")
        if not entries and not protos and not hosts:
            return None
        proxies = [peer]
        remote: str | None = None
        index = 0
        for index, entry in enumerate(reversed(entries)):  # noqa: B007 - read after the loop
            try:
                address = _unmapped(ip_address(entry))
            except ValueError:
                raise ProxyHeaderError("X-Forwarded-For", entry, "not an IP address") from None
            remote = str(address)
            if not self._is_trusted(remote):
                break
            proxies.append(remote)
        else:
            if remote is not None:  # every entry a trusted proxy: the leftmost is the client
                proxies.pop()
        return ForwardedClient(
            remote if remote is not None else _original_remote(request),
            _scheme("X-Forwarded-Proto", _at(protos, index)) or request.scheme,
            _host("X-Forwarded-Host", _at(hosts, index)) or request.host,
            tuple(proxies),
        )

    def _from_forwarded(
        self, peer: str, headers: CIMultiDictProxy[str], request: BaseRequest
    ) -> ForwardedClient | None:
        elements = parse_forwarded(headers.getall("Forwarded", ()))
        if not elements:
            return None
        proxies = [peer]
        remote = ""
        element = elements[-1]
        for element in reversed(elements):
            node = element.get("for", "unknown")
            match = _NODE.fullmatch(node)
            if match is None:
                raise ProxyHeaderError("Forwarded", node, "not a node (RFC 7239 §6)")
            literal = match.group("v4") or match.group("v6")
            if literal is None:  # "unknown" or an obfuscated node: nobody to check further
                remote = match.group("name")
                break
            try:
                address = _unmapped(ip_address(literal))
            except ValueError:
                raise ProxyHeaderError("Forwarded", node, "not an IP address") from None
            remote = str(address)
            if not self._is_trusted(remote):
                break
            proxies.append(remote)
        else:
            proxies.pop()
        return ForwardedClient(
            remote,
            _scheme("Forwarded", element.get("proto")) or request.scheme,
            _host("Forwarded", element.get("host")) or request.host,
            tuple(proxies),
        )

    def middleware(self) -> Middleware:
        """The middleware applying this rule (see ``trusted_proxies_middleware``)."""

        @new_style
        async def trusted_proxies(request: Request, handler: Handler) -> StreamResponse:
            client = self.resolve(request)
            if client is None:
                return await handler(request)
            # Set before cloning, so the request the server holds (and logs) has it too.
            request[FORWARDED_CLIENT] = client
            clone = request.clone(remote=client.remote, scheme=client.scheme, host=client.host)
            return await handler(cast(Request, clone))

        return trusted_proxies


def trusted_proxies_middleware(
    trusted: Iterable[TrustedEntry],
    *,
    header: Literal["x-forwarded", "forwarded"] = "x-forwarded",
) -> Middleware:
    """A middleware that believes proxy headers only from ``trusted`` peers.

    Put it first in ``middlewares`` so that the others see the client::

        app = web.Application(middlewares=[
            trusted_proxies_middleware(["127.0.0.1", "10.0.0.0/8", "unix"]),
        ])

    The handler then gets ``request.clone(remote=..., scheme=..., host=...)``
    (``request.url`` and ``request.secure`` follow), and
    ``request[FORWARDED_CLIENT]`` says what the proxies said. The rules are
    in ``weft.web_core._trusted_proxies``' docstring and web-core's README.
    """
    return TrustedProxies(trusted, header=header).middleware()


def _unmapped(address: _Address) -> _Address:
    """An IPv4-mapped IPv6 address (a dual-stack socket's peer) as its IPv4 address."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _joined(headers: CIMultiDictProxy[str], name: str) -> list[str]:
    """The comma-separated entries of every ``name`` field line, in order (RFC 9110 §5.3)."""
    values = headers.getall(name, ())
    if not values:
        return []
    return [entry.strip() for entry in ",".join(values).split(",")]


def _at(values: Sequence[str], index: int) -> str | None:
    """The entry ``index`` from the right, or the leftmost when there are fewer."""
    if not values:
        return None
    return values[-1 - index] if index < len(values) else values[0]


def _scheme(header: str, value: str | None) -> str | None:
    if value is None:
        return None
    scheme = value.lower()
    if scheme not in _SCHEMES:
        raise ProxyHeaderError(header, value, "not http or https")
    return scheme


def _host(header: str, value: str | None) -> str | None:
    if value is None:
        return None
    match = _HOST.fullmatch(value)
    valid = match is not None
    if match is not None:
        # What request.url would refuse (a ValueError, so a 500) is refused here.
        port, literal = match.group("port"), match.group("v6")
        valid = port is None or int(port) <= 65535
        if valid and literal is not None:
            try:
                IPv6Address(literal)
            except ValueError:
                valid = False
    if not valid:
        raise ProxyHeaderError(header, value, "not host[:port]")
    return value


def _original_remote(request: BaseRequest) -> str:
    remote = request.remote
    return "" if remote is None else remote
