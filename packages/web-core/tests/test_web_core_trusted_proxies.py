"""trusted_proxies_middleware as an attacker sees it: which headers count, from whom.

Requests are mocked with the peer a connection would report; the middleware
runs with a handler that records the request it is given. The rules under
test are the numbered ones of ``weft.web_core._trusted_proxies``.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Network, ip_address, ip_network
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.web_core import (
    FORWARDED_CLIENT,
    ForwardedClient,
    ProxyHeaderError,
    Request,
    Response,
    StreamResponse,
    TrustedProxies,
    trusted_proxies_middleware,
)
from weft.web_core.test_utils import MockTransport, make_mocked_request
from weft.web_exceptions import HTTPBadRequest

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"
TRUSTED = ["10.0.0.0/8", "127.0.0.1", "2001:db8:1::/48"]


class _UnixSocket:
    family = socket.AF_UNIX


def _request(
    headers: dict[str, str] | list[tuple[str, str]], peer: Any = (PROXY, 40000)
) -> Request:
    extra: dict[str, Any] = {"peername": peer, "sockname": ("10.0.0.1", 8080)}
    if peer == "":
        extra["socket"] = _UnixSocket()
    return make_mocked_request("GET", "/path?q=1", headers, transport=MockTransport(extra))


async def _seen(
    headers: dict[str, str] | list[tuple[str, str]],
    peer: Any = (PROXY, 40000),
    trusted: list[Any] | None = None,
    header: Any = "x-forwarded",
) -> Request:
    """The request the handler behind the middleware gets."""
    seen: list[Request] = []

    async def handler(request: Request) -> StreamResponse:
        seen.append(request)
        return Response()

    mw = trusted_proxies_middleware(TRUSTED if trusted is None else trusted, header=header)
    fields = list(headers.items()) if isinstance(headers, dict) else headers
    await mw(_request([("Host", "app.internal"), *fields], peer), handler)
    return seen[0]


@pytest.mark.asyncio
async def test_untrusted_peer_headers_are_ignored() -> None:
    """A client talking to the app directly cannot claim another address, scheme or host."""
    request = await _seen(
        {
            "X-Forwarded-For": "10.0.0.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "bank.example",
        },
        peer=(CLIENT, 5555),
    )
    assert (request.remote, request.scheme, request.host) == (CLIENT, "http", "app.internal")
    assert str(request.url) == "http://app.internal/path?q=1"
    assert not request.secure
    assert request.get(FORWARDED_CLIENT) is None


@pytest.mark.asyncio
async def test_untrusted_peer_garbage_is_not_parsed() -> None:
    """Garbage from an untrusted peer is not a 400: it is never read."""
    request = await _seen(
        {"X-Forwarded-For": "not an address", "X-Forwarded-Proto": "::", "X-Forwarded-Host": "a b"},
        peer=(CLIENT, 5555),
    )
    assert request.remote == CLIENT


@pytest.mark.asyncio
async def test_trusted_peer_headers_are_applied() -> None:
    """From a trusted proxy: remote, scheme, host, url and secure follow the headers."""
    request = await _seen(
        {
            "X-Forwarded-For": CLIENT,
            "X-Forwarded-Proto": "HTTPS",
            "X-Forwarded-Host": "shop.example:8443",
        }
    )
    assert (request.remote, request.scheme, request.host) == (CLIENT, "https", "shop.example:8443")
    assert str(request.url) == "https://shop.example:8443/path?q=1"
    assert request.secure
    assert request[FORWARDED_CLIENT] == ForwardedClient(
        CLIENT, "https", "shop.example:8443", (PROXY,)
    )


@pytest.mark.asyncio
async def test_spoofed_entries_left_of_the_client_are_ignored() -> None:
    """The proxy appends the address it saw; what the client wrote stays to its left."""
    request = await _seen({"X-Forwarded-For": f"127.0.0.1, 10.9.9.9, {CLIENT}"})
    assert request.remote == CLIENT


@pytest.mark.asyncio
async def test_garbage_left_of_the_client_is_not_a_400() -> None:
    """A client's own junk entry, left of the entry the proxy wrote, changes nothing."""
    request = await _seen({"X-Forwarded-For": f"<script>, , {CLIENT}"})
    assert request.remote == CLIENT


@pytest.mark.asyncio
async def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    """Trusted hops are skipped; the first untrusted entry is the client."""
    request = await _seen({"X-Forwarded-For": f"198.51.100.1, {CLIENT}, 10.1.1.1, 127.0.0.1"})
    assert request.remote == CLIENT
    assert request[FORWARDED_CLIENT].proxies == (PROXY, "127.0.0.1", "10.1.1.1")


@pytest.mark.asyncio
async def test_every_entry_trusted_gives_the_leftmost() -> None:
    """When each entry is a trusted proxy, the farthest one is the client."""
    request = await _seen({"X-Forwarded-For": "10.3.3.3, 10.2.2.2"})
    assert request.remote == "10.3.3.3"
    assert request[FORWARDED_CLIENT].proxies == (PROXY, "10.2.2.2")


@pytest.mark.asyncio
async def test_proto_and_host_at_the_clients_position_or_the_leftmost() -> None:
    """Appending proxies give one value per hop; overwriting ones a single value."""
    appended = await _seen(
        {
            "X-Forwarded-For": f"{CLIENT}, 10.1.1.1",
            "X-Forwarded-Proto": "https, http",
            "X-Forwarded-Host": "outer.example, inner.internal",
        }
    )
    assert (appended.scheme, appended.host) == ("https", "outer.example")
    overwritten = await _seen(
        {"X-Forwarded-For": f"{CLIENT}, 10.1.1.1", "X-Forwarded-Proto": "https"}
    )
    assert (overwritten.scheme, overwritten.host) == ("https", "app.internal")
    spoofed = await _seen(
        {"X-Forwarded-For": f"6.6.6.6, {CLIENT}", "X-Forwarded-Proto": "https, http"}
    )
    assert spoofed.scheme == "http"  # the client's "https" is left of the proxy's entry


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("[2001:db8::1]:8443", "https://[2001:db8::1]:8443/path?q=1"),
        ("shop.example:65535", "https://shop.example:65535/path?q=1"),
        ("xn--bcher-kva.example", "https://xn--bcher-kva.example/path?q=1"),
    ],
)
async def test_hosts_at_the_edges_build_their_url(host: str, url: str) -> None:
    """Every host a trusted proxy may send builds request.url (no 500 later)."""
    request = await _seen({"X-Forwarded-Proto": "https", "X-Forwarded-Host": host})
    assert str(request.url) == url


@pytest.mark.asyncio
async def test_several_field_lines_are_one_list() -> None:
    """Repeated field lines read as one comma-joined list (RFC 9110 §5.3), in order."""
    request = await _seen([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", CLIENT)])
    assert request.remote == CLIENT


@pytest.mark.asyncio
async def test_only_proto_from_a_trusted_peer() -> None:
    """A proxy that sends only X-Forwarded-Proto keeps the peer as the remote."""
    request = await _seen({"X-Forwarded-Proto": "https"})
    assert (request.remote, request.scheme, request.host) == (PROXY, "https", "app.internal")


@pytest.mark.asyncio
async def test_no_headers_from_a_trusted_peer_is_served_as_is() -> None:
    """A health check from the proxy's host, without headers, is not refused."""
    request = await _seen({})
    assert request.remote == PROXY
    assert request.get(FORWARDED_CLIENT) is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-Forwarded-For": "garbage"}, "X-Forwarded-For"),
        ({"X-Forwarded-For": f"{CLIENT}, "}, "X-Forwarded-For"),
        ({"X-Forwarded-For": f"{CLIENT}:1234"}, "X-Forwarded-For"),
        ({"X-Forwarded-For": f"{CLIENT}", "X-Forwarded-Proto": "ht tp"}, "X-Forwarded-Proto"),
        ({"X-Forwarded-Proto": "1http"}, "X-Forwarded-Proto"),
        ({"X-Forwarded-Proto": "gopher"}, "X-Forwarded-Proto"),
        ({"X-Forwarded-Proto": "wss"}, "X-Forwarded-Proto"),
        ({"X-Forwarded-Host": "evil.example/path"}, "X-Forwarded-Host"),
        ({"X-Forwarded-Host": "a@b"}, "X-Forwarded-Host"),
        ({"X-Forwarded-Host": "host:99999999"}, "X-Forwarded-Host"),
        ({"X-Forwarded-Host": "host:65536"}, "X-Forwarded-Host"),
        ({"X-Forwarded-Host": "[:::::]"}, "X-Forwarded-Host"),
        ({"X-Forwarded-Host": "[1.2.3.4]:80"}, "X-Forwarded-Host"),
    ],
)
async def test_malformed_values_a_trusted_proxy_vouches_for_are_400(
    headers: dict[str, str], named: str
) -> None:
    """An entry the walk reads that cannot be believed: 400, naming the header."""
    with pytest.raises(ProxyHeaderError) as info:
        await _seen(headers)
    assert isinstance(info.value, HTTPBadRequest)
    assert info.value.status == 400
    assert named in (info.value.text or "")


@pytest.mark.asyncio
async def test_ipv6_peer_and_entries() -> None:
    """IPv6 peers and entries are compared as addresses, not strings."""
    request = await _seen(
        {"X-Forwarded-For": "2001:DB8:2::0:1, 2001:db8:1::9"}, peer=("2001:db8:1::5", 1, 0, 0)
    )
    assert request.remote == "2001:db8:2::1"
    assert request[FORWARDED_CLIENT].proxies == ("2001:db8:1::5", "2001:db8:1::9")


@pytest.mark.asyncio
async def test_ipv4_mapped_peer_is_its_ipv4() -> None:
    """A dual-stack socket reports an IPv4 proxy as ::ffff:a.b.c.d: still trusted."""
    request = await _seen({"X-Forwarded-For": CLIENT}, peer=("::ffff:10.0.0.5", 1, 0, 0))
    assert request.remote == CLIENT


@pytest.mark.asyncio
async def test_unix_socket_peer_only_when_unix_is_trusted() -> None:
    """A unix-socket peer (nginx on the same host) is trusted by the "unix" entry only."""
    trusting = await _seen({"X-Forwarded-For": CLIENT}, peer="", trusted=["unix"])
    assert trusting.remote == CLIENT
    assert trusting[FORWARDED_CLIENT].proxies == ("unix",)
    not_trusting = await _seen({"X-Forwarded-For": CLIENT}, peer="")
    assert not_trusting.remote == ""


@pytest.mark.asyncio
async def test_unix_trusted_does_not_trust_other_unaddressed_peers() -> None:
    """A peer with no address that is not a unix socket (a pipe) is not trusted by "unix"."""
    request = make_mocked_request(
        "GET", "/", {"X-Forwarded-For": CLIENT}, transport=MockTransport({"peername": None})
    )
    assert TrustedProxies(["unix"]).resolve(request) is None


@pytest.mark.asyncio
async def test_no_transport_is_untrusted() -> None:
    """A request whose connection is gone (no transport) has no trusted peer."""
    proxies = TrustedProxies(TRUSTED)
    request = make_mocked_request("GET", "/", {"X-Forwarded-For": CLIENT})
    request._protocol._transport = None  # type: ignore[attr-defined]
    assert proxies.resolve(request) is None


@pytest.mark.asyncio
async def test_forwarded_header() -> None:
    """RFC 7239: the client's element gives its scheme and host; ports and quotes removed."""
    request = await _seen(
        {
            "Forwarded": (
                'for=6.6.6.6;proto=https, for="[2001:db8:9::1]:4711";proto=https;host=shop.example,'
                " for=10.1.1.1:80;proto=http;host=inner"
            ),
            "X-Forwarded-For": "6.6.6.6",
        },
        header="forwarded",
    )
    assert (request.remote, request.scheme, request.host) == (
        "2001:db8:9::1",
        "https",
        "shop.example",
    )
    assert request[FORWARDED_CLIENT].proxies == (PROXY, "10.1.1.1")


@pytest.mark.asyncio
async def test_forwarded_mode_ignores_x_forwarded_for() -> None:
    """Only the configured family is read: the other one may come from the client."""
    request = await _seen({"X-Forwarded-For": "6.6.6.6"}, header="forwarded")
    assert request.remote == PROXY
    xff = await _seen({"Forwarded": "for=6.6.6.6"})
    assert xff.remote == PROXY


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("value", "remote"),
    [
        ("for=unknown;proto=https", "unknown"),
        ("for=_hidden", "_hidden"),
        ("proto=https", "unknown"),  # RFC 7239 §5.2: no "for" is an unknown client
        ("for=10.2.2.2, for=10.1.1.1", "10.2.2.2"),
    ],
)
async def test_forwarded_nodes_without_an_address(value: str, remote: str) -> None:
    """An unknown or obfuscated node ends the walk: the proxy said it does not know."""
    request = await _seen({"Forwarded": value}, header="forwarded")
    assert request.remote == remote


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "value",
    [
        "for=2001:db8::1",
        'for="2001:db8::1"',
        "for=300.1.1.1",
        "for=1.2.3.4;proto=1x",
        'for=1.2.3.4;host="a b"',
    ],
)
async def test_forwarded_malformed_is_400(value: str) -> None:
    """A node that is not one (an unbracketed IPv6 too), a bad proto or host: 400."""
    with pytest.raises(ProxyHeaderError):
        await _seen({"Forwarded": value}, header="forwarded")


def test_configuration_errors() -> None:
    """A mistake in the trusted list is refused where it is written."""
    with pytest.raises(TypeError, match="not the str"):
        TrustedProxies("10.0.0.1")
    with pytest.raises(ValueError, match=r"'10\.0\.0\.1/8' is not an address or network"):
        TrustedProxies(["10.0.0.1/8"])  # host bits set: probably not what was meant
    with pytest.raises(ValueError, match="'localhost'"):
        TrustedProxies(["localhost"])
    with pytest.raises(TypeError, match="42"):
        TrustedProxies([42])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="trusted is empty"):
        TrustedProxies([])
    with pytest.raises(ValueError, match="header must be"):
        TrustedProxies(["127.0.0.1"], header="x-real-ip")  # type: ignore[arg-type]


def test_ipaddress_objects_are_accepted() -> None:
    """ipaddress objects count as their strings do."""
    proxies = TrustedProxies([ip_address("192.0.2.1"), IPv4Network("198.51.100.0/24")])
    assert proxies.is_trusted("192.0.2.1")
    assert proxies.is_trusted(ip_address("198.51.100.77"))
    assert not proxies.is_trusted("192.0.2.2")
    assert not proxies.is_trusted("not-an-ip")


# -- chains: hypothesis

_TRUSTED_NET = ip_network("10.0.0.0/8")
_trusted_ip = st.integers(0, 2**24 - 1).map(lambda n: str(_TRUSTED_NET[n]))
_untrusted_ip = (
    st.ip_addresses(v=4).filter(lambda a: a not in _TRUSTED_NET and not a.is_loopback).map(str)
)
# What a client can put in a field value (RFC 9110 §5.5: VCHAR, SP, obs-text), commas aside.
_junk = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters=",\x7f"),
    max_size=12,
)


@pytest.mark.asyncio
@settings(max_examples=300, deadline=None)
@given(
    left=st.lists(st.one_of(_untrusted_ip, _trusted_ip, _junk), max_size=4),
    client=_untrusted_ip,
    hops=st.lists(_trusted_ip, max_size=4),
)
async def test_any_chain_gives_the_first_untrusted_from_the_right(
    left: list[str], client: str, hops: list[str]
) -> None:
    """Whatever the client puts left of its own entry, the result is that entry."""
    request = await _seen({"X-Forwarded-For": ", ".join([*left, client, *hops])})
    assert request.remote == client
    assert request[FORWARDED_CLIENT].proxies == (PROXY, *reversed(hops))


@pytest.mark.asyncio
@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(st.one_of(_untrusted_ip, _trusted_ip, _junk), min_size=1, max_size=6),
    peer=_untrusted_ip,
)
async def test_any_header_from_an_untrusted_peer_changes_nothing(
    entries: list[str], peer: str
) -> None:
    """From an untrusted peer, no X-Forwarded-For value is read, garbage included."""
    request = await _seen({"X-Forwarded-For": ", ".join(entries)}, peer=(peer, 1))
    assert request.remote == peer
    assert request.get(FORWARDED_CLIENT) is None


_field_value = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30
).map(str.strip)


@pytest.mark.asyncio
@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(
        ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"]
    ),
    value=_field_value,
)
async def test_any_value_from_a_trusted_proxy_is_a_400_or_a_usable_request(
    header: str, value: str
) -> None:
    """Whatever a (misconfigured) trusted proxy passes on: a 400, or a request whose url builds."""
    family = "forwarded" if header == "Forwarded" else "x-forwarded"
    try:
        request = await _seen({header: value}, header=family)
    except ProxyHeaderError:
        return
    assert request.url.scheme == request.scheme
    assert request.url.host is not None
