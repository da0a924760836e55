"""Request extras: Forwarded, clone, config_dict, typed keys and make_mocked_request."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request as aiohttp_request
from hypothesis import given
from hypothesis import strategies as st

from weft.web_core import AppKey, Application, NotAppKeyWarning, RequestKey, Response, ResponseKey
from weft.web_core._forwarded import parse_forwarded
from weft.web_core.test_utils import MockTransport, make_mocked_request

USER = RequestKey("user", str)
TAG = ResponseKey("tag", int)
DB = AppKey("db", str)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "for=192.0.2.60;proto=http;by=203.0.113.43",
            [{"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}],
        ),
        ('for="[2001:db8:cafe::17]:4711"', [{"for": "[2001:db8:cafe::17]:4711"}]),
        ("for=192.0.2.43, for=198.51.100.17", [{"for": "192.0.2.43"}, {"for": "198.51.100.17"}]),
        ("FOR=a;For=b", [{"for": "b"}]),
        ("for=1.2.3.4:1234", [{"for": "1.2.3.4:1234"}]),
        (";for=1.2.3.4", [{"for": "1.2.3.4"}]),
        ("for=1, ,for=2", [{"for": "1"}, {}, {"for": "2"}]),
        ('for="a\\"b"', [{"for": 'a"b'}]),
        ("garbage, for=9", [{}, {"for": "9"}]),
        ("for=1;bad, for=2", [{"for": "1"}, {"for": "2"}]),
    ],
)
def test_forwarded_parsing(header: str, expected: list[dict[str, str]]) -> None:
    """Forwarded elements become one mapping each; names lower-cased, quotes removed."""
    request = make_mocked_request("GET", "/", headers={"Forwarded": header})
    assert [dict(hop) for hop in request.forwarded] == expected


def test_forwarded_across_several_headers() -> None:
    """Several Forwarded header lines are read in order."""
    request = make_mocked_request(
        "GET", "/", headers=[("Forwarded", "for=1"), ("Forwarded", "for=2")]
    )
    assert [dict(hop) for hop in request.forwarded] == [{"for": "1"}, {"for": "2"}]


@given(
    st.lists(
        st.sampled_from(
            [
                "for",
                "proto",
                "By",
                "=",
                ";",
                ",",
                " ",
                '"',
                "\\",
                ":",
                "1",
                "80",
                "x.y",
                "[::1]",
                "_h",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_forwarded_reads_as_aiohttp_reads_it(header: str) -> None:
    """Any arrangement of Forwarded's pieces, well-formed or not, gives aiohttp's elements."""
    theirs = aiohttp_request("GET", "/", headers={"Forwarded": header}).forwarded
    assert [dict(hop) for hop in parse_forwarded([header])] == [dict(hop) for hop in theirs]


@given(st.text(max_size=60))
def test_forwarded_never_raises(header: str) -> None:
    """Any header text parses to a tuple of mappings without raising."""
    hops = parse_forwarded([header])
    assert all(isinstance(dict(hop), dict) for hop in hops)


def test_clone_changes_method_url_headers_and_keeps_state() -> None:
    """clone() gives a request with the new parts, its own cached URL and a copy of state."""
    request = make_mocked_request("GET", "/a?x=1", headers={"X-A": "1"})
    request[USER] = "ada"
    assert request.path == "/a"
    clone = request.clone(method="POST", rel_url="/b/c?y=2", headers={"X-B": "2"})
    assert clone.method == "POST"
    assert clone.path == "/b/c"
    assert clone.query_string == "y=2"
    assert clone.raw_path == "/b/c?y=2"
    assert clone.headers["X-B"] == "2"
    assert "X-A" not in clone.headers
    assert clone[USER] == "ada"
    clone[USER] = "bob"
    assert request[USER] == "ada"
    assert request.path == "/a"
    assert request.method == "GET"


def test_a_clone_of_a_request_that_stored_nothing_stores_apart() -> None:
    request = make_mocked_request("GET", "/a")
    clone = request.clone()
    clone[USER] = "bob"
    assert (USER in request, clone[USER]) == (False, "bob")
    request[USER] = "ada"
    assert clone[USER] == "bob"


def test_clone_refuses_absolute_url() -> None:
    """A clone's rel_url must be relative."""
    request = make_mocked_request("GET", "/")
    with pytest.raises(ValueError, match="relative"):
        request.clone(rel_url="http://example.com/x")


@pytest.mark.asyncio
async def test_clone_after_read_raises() -> None:
    """A request whose body was read cannot be cloned (aiohttp's rule)."""
    request = make_mocked_request("POST", "/", payload=b"body")
    assert await request.read() == b"body"
    with pytest.raises(RuntimeError, match="Cannot clone"):
        request.clone()


def test_config_dict_chains_apps_innermost_first() -> None:
    """config_dict sees the sub-app's keys first, then its parents'."""
    root = Application()
    root[DB] = "root-db"
    with pytest.warns(NotAppKeyWarning):
        root["only-root"] = 1
    sub = Application()
    sub[DB] = "sub-db"
    request = make_mocked_request("GET", "/", app=sub)
    request.match_info.add_app(root)  # the stack: root outside sub
    config = request.config_dict
    assert config[DB] == "sub-db"
    assert config["only-root"] == 1
    assert "missing" not in config
    assert config.get("missing", 5) == 5
    with pytest.raises(KeyError):
        config["missing"]


def test_typed_response_key() -> None:
    """ResponseKey and RequestKey values round-trip through the mappings."""
    response = Response()
    response[TAG] = 3
    assert response[TAG] == 3
    assert "ResponseKey" in repr(TAG)
    assert "tag" in repr(TAG)


@pytest.mark.asyncio
async def test_mocked_request_runs_a_handler_and_records_bytes() -> None:
    """make_mocked_request gives a real request whose response bytes are recorded."""
    request = make_mocked_request(
        "POST",
        "/items/7?full=1",
        headers={"Content-Type": "application/json"},
        match_info={"id": "7"},
        payload=b'{"a": 1}',
    )
    assert request.match_info["id"] == "7"
    assert request.query["full"] == "1"
    assert await request.json() == {"a": 1}
    assert request.remote == "127.0.0.1"
    response = Response(text="done")
    await response.prepare(request)
    await response.write_eof()
    transport = request.transport
    assert isinstance(transport, MockTransport)
    assert bytes(transport.written).startswith(b"HTTP/1.1 200 OK\r\n")
    assert bytes(transport.written).endswith(b"\r\n\r\ndone")


def test_mocked_request_outside_a_loop() -> None:
    """make_mocked_request works in a plain (non-async) test."""
    request = make_mocked_request("GET", "/", version=(1, 0))  # type: ignore[arg-type]
    assert request.keep_alive is False
    assert isinstance(request.app, Application)
