"""The test client's CookieJar against aiohttp's ``CookieJar(unsafe=True)``.

The same Set-Cookie fields, set by the same response URLs, go into both jars;
each test then asks both which cookies they would send to some URLs and
requires the same answer, besides stating the answer itself.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import aiohttp
import pytest
from yarl import URL

from weft.web_testing.test_utils import CookieJar


class Jars:
    """A weft jar and an aiohttp jar fed the same cookies."""

    def __init__(self) -> None:
        self.weft = CookieJar()
        self.aiohttp = aiohttp.CookieJar(unsafe=True)

    def set(self, response_url: str, *set_cookie: str) -> None:
        """The Set-Cookie fields of a response from ``response_url``."""
        for field in set_cookie:
            cookies = SimpleCookie()
            cookies.load(field)
            self.weft.update_cookies(cookies, URL(response_url))
            self.aiohttp.update_cookies(cookies, URL(response_url))

    def sent(self, request_url: str) -> dict[str, str]:
        """What both jars send to ``request_url`` (they must agree)."""
        ours = {name: m.value for name, m in self.weft.filter_cookies(URL(request_url)).items()}
        theirs = {
            name: m.value for name, m in self.aiohttp.filter_cookies(URL(request_url)).items()
        }
        assert ours == theirs, request_url
        return ours

    def names(self) -> list[str]:
        """The names of every cookie kept (len and iteration agree with aiohttp's)."""
        ours = sorted(m.key for m in self.weft)
        assert ours == sorted(m.key for m in self.aiohttp)
        assert len(self.weft) == len(self.aiohttp) == len(ours)
        return ours


@pytest.mark.asyncio
async def test_domain_cookies_reach_subdomains_and_other_domains_are_refused() -> None:
    """Domain=example.test is sent to its subdomains; a Domain the host is not in is dropped."""
    jars = Jars()
    jars.set(
        "http://a.example.test/",
        "wide=1; Domain=example.test",
        "dotted=2; Domain=.example.test",
        "foreign=3; Domain=other.test",
        "host=4",
    )
    assert jars.sent("http://a.example.test/") == {"wide": "1", "dotted": "2", "host": "4"}
    assert jars.sent("http://b.example.test/") == {"wide": "1", "dotted": "2"}
    assert jars.sent("http://example.test/") == {"wide": "1", "dotted": "2"}
    assert jars.sent("http://other.test/") == {}
    assert jars.names() == ["dotted", "host", "wide"]


@pytest.mark.asyncio
async def test_default_path_is_the_response_directory() -> None:
    """Without Path, the cookie's path is the response URL's directory (RFC 6265 §5.1.4)."""
    jars = Jars()
    jars.set("http://h.test/dir/sub/page", "deep=1")
    jars.set("http://h.test/top", "top=2")
    assert jars.sent("http://h.test/dir/sub") == {"deep": "1", "top": "2"}
    assert jars.sent("http://h.test/dir/sub/other") == {"deep": "1", "top": "2"}
    assert jars.sent("http://h.test/dir/subway") == {"top": "2"}
    assert jars.sent("http://h.test/dir") == {"top": "2"}


@pytest.mark.asyncio
async def test_the_most_specific_path_wins_for_a_name() -> None:
    """Two cookies of one name: a request under both paths gets the longer path's value."""
    jars = Jars()
    jars.set("http://h.test/", "id=root; Path=/", "id=app; Path=/app")
    assert jars.sent("http://h.test/app/page") == {"id": "app"}
    assert jars.sent("http://h.test/elsewhere") == {"id": "root"}


@pytest.mark.asyncio
async def test_secure_cookies_go_to_https_only() -> None:
    """A Secure cookie is sent over https (and wss), never over http."""
    jars = Jars()
    jars.set("https://h.test/", "token=s; Secure", "plain=p")
    assert jars.sent("http://h.test/") == {"plain": "p"}
    assert jars.sent("https://h.test/") == {"token": "s", "plain": "p"}


@pytest.mark.asyncio
async def test_expiry_from_max_age_and_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    """Max-Age wins over Expires; a bad Max-Age falls back to Expires; a bad Expires never expires.

    The clock is moved (time.time, which both jars read) rather than waited for.
    """
    now = time.time()
    jars = Jars()
    jars.set(
        "http://h.test/",
        "session=s",
        "short=1; Max-Age=100",
        "later=2; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        "past=3; Expires=Wed, 01 Jan 2020 00:00:00 GMT",
        "bad_age=4; Max-Age=soon; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        "bad_date=5; Expires=never",
        "gone=6; Max-Age=0",
    )
    everything = {"session": "s", "short": "1", "later": "2", "bad_age": "4", "bad_date": "5"}
    assert jars.sent("http://h.test/") == everything
    assert jars.names() == sorted(everything)

    monkeypatch.setattr(time, "time", lambda: now + 200)
    del everything["short"]
    assert jars.names() == sorted(everything)
    assert jars.sent("http://h.test/") == everything


@pytest.mark.asyncio
async def test_a_cookie_set_again_replaces_and_can_be_deleted() -> None:
    """Setting a name again replaces its value; an expired copy deletes it."""
    jars = Jars()
    jars.set("http://h.test/", "a=1; Max-Age=100")
    jars.set("http://h.test/", "a=2")
    assert jars.sent("http://h.test/") == {"a": "2"}
    jars.set("http://h.test/", "a=; Max-Age=0")
    assert jars.sent("http://h.test/") == {}
    assert jars.names() == []


@pytest.mark.asyncio
async def test_clear_and_clear_domain() -> None:
    """clear(predicate) forgets the matching cookies, clear_domain a domain and its subdomains."""
    jars = Jars()
    jars.set("http://a.example.test/", "x=1; Domain=example.test", "y=2")
    jars.set("http://other.test/", "z=3", "keep=4")
    for jar in (jars.weft, jars.aiohttp):
        jar.clear(lambda morsel: morsel.key == "z")
    assert jars.names() == ["keep", "x", "y"]
    for jar in (jars.weft, jars.aiohttp):
        jar.clear_domain("example.test")
    assert jars.names() == ["keep"]
    for jar in (jars.weft, jars.aiohttp):
        jar.clear()
    assert jars.names() == []


@pytest.mark.asyncio
async def test_cookies_given_without_a_url_go_everywhere() -> None:
    """update_cookies(mapping) with no URL (ClientSession(cookies=...)): sent to every host."""
    jars = Jars()
    for jar in (jars.weft, jars.aiohttp):
        jar.update_cookies({"shared": "v"})
    assert jars.sent("http://a.test/") == {"shared": "v"}
    assert jars.sent("http://127.0.0.1:8080/deep/path") == {"shared": "v"}
