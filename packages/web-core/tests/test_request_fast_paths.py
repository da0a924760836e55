"""The request's fast paths: JSON decoding, read() of a finished body, the charset.

Each one stands in for a slower, obvious path, so each is held to that path:
``_json_decode.decode`` to ``json.loads``, ``BaseRequest.read()`` to the
concatenation of the chunks fed into the body stream (with client_max_size's
413 where it was raised), ``charset`` to ``parse_content_type``; and
``request.query`` to yarl's and aiohttp's.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request as aiohttp_request
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from weft.http_parser.streams import BodyStream
from weft.web_core import BaseRequest
from weft.web_core._helpers import parse_content_type
from weft.web_core._json_decode import LOADS, decode
from weft.web_core.test_utils import make_mocked_request
from weft.web_exceptions import HTTPRequestEntityTooLarge

# -- 1. _json_decode.decode is json.loads

Outcome = tuple[str, ...]


def outcome(function: Callable[[str], Any], text: str) -> Outcome:
    """What ``function(text)`` gives, comparable with ``==`` (NaN included).

    A value is kept as its json.dumps (NaN is "NaN" there, and 1, 1.0 and True
    differ); an exception as its type, message and, for a JSONDecodeError, the
    position, line and column it reports.
    """
    try:
        value = function(text)
    except json.JSONDecodeError as exc:
        return ("JSONDecodeError", str(exc), exc.msg, str(exc.pos), str(exc.lineno), str(exc.colno))
    except (ValueError, RecursionError, TypeError) as exc:
        return (type(exc).__name__, str(exc))
    return ("value", json.dumps(value))


JSON_WHITESPACE = " \t\n\r"
# JSON's whitespace and two characters that str.strip() takes but json.loads refuses.
WHITESPACE = JSON_WHITESPACE + "\x0b\u3000"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
# What may follow a document: more values, closing brackets, a BOM, broken escapes.
junk = st.lists(
    st.sampled_from(
        ["1", " 2", "]", "}", ",", ":", '"', "x", "\ufeff", "NaN", "\\", "\x00", "{", "[", "\x0b"]
    ),
    min_size=1,
    max_size=4,
).map("".join)


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    """A serialised JSON value in random whitespace, sometimes cut short or followed by junk."""
    text = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    mutation = draw(st.sampled_from(["none", "truncate", "append", "bom"]))
    if mutation == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    # Often nothing before: the document then starts with its value (decode's fast path).
    before = draw(st.just("") | st.text(WHITESPACE, max_size=3))
    after = draw(st.text(WHITESPACE, max_size=3))
    text = before + text + after
    if mutation == "append":
        text += draw(junk)
    elif mutation == "bom":
        text = "\ufeff" + text
    return text


@given(json_documents())
def test_decode_is_json_loads(text: str) -> None:
    """decode(text) gives json.loads(text)'s value, or raises its exception."""
    assert outcome(decode, text) == outcome(json.loads, text)


@given(
    json_values,
    st.sampled_from(["", " ", "\t\n\r", "\x0b", "\u3000", "\ufeff"]),
    st.text(WHITESPACE, min_size=1, max_size=4),
)
def test_decode_whitespace_around_valid_documents(value: Any, before: str, after: str) -> None:
    """A valid document followed by whitespace: JSON's is ignored, any other is extra data."""
    text = before + json.dumps(value) + after
    assert outcome(decode, text) == outcome(json.loads, text)


@given(json_values)
def test_decode_round_trips_values(value: Any) -> None:
    """A document with nothing around it (the fast path itself) decodes to its value."""
    text = json.dumps(value)
    assert outcome(decode, text) == ("value", text)
    assert outcome(decode, text) == outcome(json.loads, text)


@given(st.text(alphabet=st.sampled_from(list('[]{}",:.-+eE0123456789 \t\n\r\x0b\\ntrufalsNI'))))
def test_decode_is_json_loads_on_json_like_text(text: str) -> None:
    """Text made of JSON's own characters (mostly invalid) fails or succeeds as json.loads."""
    assert outcome(decode, text) == outcome(json.loads, text)


@given(st.text())
def test_decode_is_json_loads_on_any_text(text: str) -> None:
    """Any string at all: the same value or the same error."""
    assert outcome(decode, text) == outcome(json.loads, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " \t\n\r",
        "\x0b",
        "\u3000",
        "1",
        " 1",
        "1 ",
        "\t\n\r 1 \r\n\t",
        "1\x0b",
        "1\u3000",
        "\x0b1",
        "\u30001",
        "1 \x0b",
        "1 2",
        "1,2",
        "[1] [2]",
        "{}{}",
        "\ufeff",
        "\ufeff1",
        "\ufeff{}",
        " \ufeff1",
        "NaN",
        "Infinity",
        "-Infinity",
        "[NaN, Infinity, -Infinity]",
        "nan",
        "-NaN",
        "true",
        "tru",
        "null",
        "nul",
        "01",
        "1.",
        "-",
        "1e400",
        "-0.0",
        "-0",
        '"abc',
        '"a\x00b"',
        '"\\ud800"',
        '"\\ud83d\\ude00"',
        '"\\x"',
        "[1,]",
        '{"a": 1,}',
        "{'a': 1}",
        '{"a" 1}',
        "[",
        "]",
        '{"a": [1, 2.5, null, true, false, "x"], "b": {"c": {}}}',
        '{"a": 1, "a": 2}',
        "9" * 5000,  # past int's digit limit: ValueError, not JSONDecodeError
        "1" * 4300,
    ],
)
def test_decode_examples(text: str) -> None:
    """Whitespace of each kind, BOM, NaN and Infinity, extra data, broken documents."""
    assert outcome(decode, text) == outcome(json.loads, text)


@pytest.mark.parametrize("depth", [1, 50, 200])
def test_decode_nested_values(depth: int) -> None:
    """Nesting the stack allows decodes to the same arrays and objects."""
    array = "[" * depth + "]" * depth
    obj = '{"a": ' * depth + "1" + "}" * depth
    mixed = '[{"a": ' * depth + "[]" + "}]" * depth
    for text in (array, obj, mixed):
        assert decode(text) == json.loads(text)


@pytest.mark.parametrize("depth", [20_000, 200_000])
def test_decode_too_deep(depth: int) -> None:
    """Nesting past the recursion limit is json.loads's RecursionError, same message."""
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        result = outcome(decode, text)
        assert result[0] == "RecursionError"
        assert result == outcome(json.loads, text)


def test_decode_returns_fresh_objects() -> None:
    """Each call builds new containers (the shared scanner keeps nothing between calls)."""
    first = decode('{"a": [1], "key": "key"}')
    second = decode('{"a": [1], "key": "key"}')
    assert first == second == {"a": [1], "key": "key"}
    assert first is not second
    assert first["a"] is not second["a"]
    first["a"].append(2)
    assert second == {"a": [1], "key": "key"}


def test_loads_is_json_loads() -> None:
    """LOADS, the default that decode replaces, is json.loads itself."""
    assert LOADS is json.loads


def json_request(body: bytes, content_type: str = "application/json") -> BaseRequest:
    return make_mocked_request("POST", "/", headers={"Content-Type": content_type}, payload=body)


@pytest.mark.asyncio
async def test_json_default_and_json_loads_passed() -> None:
    """request.json() with its default loads, or json.loads passed, decodes as json.loads.

    (Which path it takes is not observed here: the compiled build calls decode
    natively, past any patch of the module's name.)
    """
    body = '{"a": [1, 2], "b": "é"}'
    assert await json_request(body.encode()).json() == json.loads(body)
    (nan,) = await json_request(b"[NaN]").json(loads=json.loads)
    assert math.isnan(nan)


@pytest.mark.asyncio
async def test_json_custom_loads_gets_the_text() -> None:
    """A custom loads is called with the decoded text, and its value is json()'s."""
    calls: list[str] = []
    marker = object()

    def loads(text: str) -> Any:
        calls.append(text)
        return marker

    request = json_request(b'{"caf\xe9": 1}', "application/json; charset=latin-1")
    assert await request.json(loads=loads) is marker
    assert calls == ['{"café": 1}']


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body", [b"", b" ", b"{", b'{"a": 1} x', b"\xef\xbb\xbf{}", b"1\x0b", b"[1,]", b' {"a": 1} ']
)
async def test_json_body_same_as_json_loads(body: bytes) -> None:
    """request.json() gives json.loads's value or raises its error, position included."""
    request = json_request(body)
    try:
        got: Outcome = ("value", json.dumps(await request.json()))
    except json.JSONDecodeError as exc:
        got = ("JSONDecodeError", str(exc), exc.msg, str(exc.pos), str(exc.lineno), str(exc.colno))
    assert got == outcome(json.loads, body.decode("utf-8"))


# -- 2. request.query: yarl's pairs, as aiohttp's (a speed path was tried here
# and left: yarl caches the parsing of a query string it has seen)


QUERY_CASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("limit=10&offset=20", [("limit", "10"), ("offset", "20")]),
    ("a=1&a=2", [("a", "1"), ("a", "2")]),
    ("", []),
    ("a=1%20b", [("a", "1 b")]),
    ("a+b=c", [("a b", "c")]),
    ("x", [("x", "")]),
    ("a=&b=", [("a", ""), ("b", "")]),
    ("q=caf%C3%A9&x.y=~_-", [("q", "café"), ("x.y", "~_-")]),
]


@pytest.mark.parametrize(("query_string", "expected"), QUERY_CASES)
def test_request_query(query_string: str, expected: list[tuple[str, str]]) -> None:
    """request.query, asked first, holds the decoded pairs rel_url.query holds."""
    request = make_mocked_request("GET", "/p?" + query_string if query_string else "/p")
    query = request.query
    assert list(query.items()) == expected
    assert query is request.query  # computed once
    assert list(query.items()) == list(request.rel_url.query.items())
    assert dict(query) == dict(request.rel_url.query)
    assert list(query.items()) == list(aiohttp_request("GET", request.raw_path).query.items())


@pytest.mark.parametrize(("query_string", "expected"), QUERY_CASES)
def test_request_query_after_rel_url(query_string: str, expected: list[tuple[str, str]]) -> None:
    """request.query asked after rel_url gives the same pairs."""
    request = make_mocked_request("GET", "/p?" + query_string if query_string else "/p")
    rel_url = request.rel_url
    assert list(request.query.items()) == expected == list(rel_url.query.items())


def test_request_query_getall() -> None:
    """A repeated name keeps every value, in order."""
    request = make_mocked_request("GET", "/p?a=1&b=x&a=2")
    assert request.query.getall("a") == ["1", "2"]
    assert request.query["b"] == "x"
    assert request.query.get("c") is None


@pytest.mark.parametrize("first", ["query", "rel_url", "nothing"])
def test_clone_has_its_own_query(first: str) -> None:
    """A clone with another rel_url reads its own query, not its original's cached one."""
    request = make_mocked_request("GET", "/p?a=1&a=2")
    if first == "query":
        assert request.query.getall("a") == ["1", "2"]
    elif first == "rel_url":
        assert request.rel_url.query.getall("a") == ["1", "2"]
    clone = request.clone(rel_url="/p?z=9")
    assert dict(clone.query) == {"z": "9"}
    assert list(clone.query.items()) == list(clone.rel_url.query.items())
    assert request.query.getall("a") == ["1", "2"]
    encoded = request.clone(rel_url=URL("/p?z=a%20b", encoded=True))
    assert dict(encoded.query) == {"z": "a b"}
    bare = request.clone(rel_url="/p")
    assert list(bare.query.items()) == []
    same = request.clone(method="POST")
    assert same.query.getall("a") == ["1", "2"]


# -- 3. read() of a body stream, and the charset text() decodes with


def body_request(
    stream: BodyStream, *, client_max_size: int = 1024**2, headers: dict[str, str] | None = None
) -> BaseRequest:
    """A POST whose body is ``stream`` (chunked: no Content-Length to check beforehand)."""
    return make_mocked_request(
        "POST",
        "/",
        headers={"Transfer-Encoding": "chunked", **(headers or {})},
        payload=stream,
        client_max_size=client_max_size,
    )


def finished(*chunks: bytes) -> BodyStream:
    """A body stream fed ``chunks`` and ended."""
    stream = BodyStream()
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return stream


async def until_drained(stream: BodyStream) -> None:
    """Let the reading task take what was fed (it wakes on the next loop turn)."""
    for _ in range(10):
        if not stream.buffered_bytes:
            return
        await asyncio.sleep(0)
    raise AssertionError("the reader did not take the buffered bytes")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "chunks",
    [
        [b"abc"],
        [b"ab", b"cd", b"ef"],
        [b"x"] * 50,
        [b"\x00\xff", b"", b"\r\n", b"end"],
        [b"a" * 70_000, b"b" * 70_000],  # past the stream's high-water mark
    ],
)
async def test_read_finished_body(chunks: list[bytes]) -> None:
    """A body that ended before read(): its chunks joined, as bytes, the same each time."""
    stream = finished(*chunks)
    request = body_request(stream)
    body = await request.read()
    assert type(body) is bytes
    assert body == b"".join(chunks)
    assert await request.read() is body
    assert stream.at_eof()


@pytest.mark.asyncio
async def test_read_single_chunk_is_not_copied() -> None:
    """One chunk fed is the body itself."""
    chunk = b"only chunk"
    assert await body_request(finished(chunk)).read() is chunk


@pytest.mark.asyncio
async def test_read_body_arriving_while_reading() -> None:
    """Chunks fed after read() started are all read; EOF ends it."""
    stream = BodyStream()
    request = body_request(stream)
    task = asyncio.create_task(request.read())
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"ab")
    await until_drained(stream)
    stream.feed_data(b"cd")
    stream.feed_data(b"ef")  # two chunks before the reader wakes
    await until_drained(stream)
    assert not task.done()
    stream.feed_data(b"gh")
    stream.feed_eof()
    body = await task
    assert body == b"abcdefgh"
    assert type(body) is bytes
    assert await request.read() is body


@pytest.mark.asyncio
async def test_read_body_partly_there_when_read_starts() -> None:
    """Bytes buffered before read() and bytes arriving during it, in order."""
    stream = BodyStream()
    stream.feed_data(b"1")
    stream.feed_data(b"2")
    request = body_request(stream)
    task = asyncio.create_task(request.read())
    await until_drained(stream)
    stream.feed_data(b"3")
    await until_drained(stream)
    stream.feed_eof()
    assert await task == b"123"


@pytest.mark.asyncio
async def test_read_eof_while_waiting() -> None:
    """EOF alone wakes a reader that has everything already."""
    stream = BodyStream()
    stream.feed_data(b"all")
    request = body_request(stream)
    task = asyncio.create_task(request.read())
    await until_drained(stream)
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_eof()
    assert await task == b"all"


@pytest.mark.asyncio
async def test_read_empty_bodies() -> None:
    """An ended stream with nothing fed, the shared empty stream, and b"" all read b""."""
    for request in (
        body_request(finished()),
        body_request(finished(b"")),
        make_mocked_request("GET", "/"),
        make_mocked_request("POST", "/", payload=b""),
    ):
        body = await request.read()
        assert body == b""
        assert type(body) is bytes
        assert await request.read() == b""
        assert await request.text() == ""


@pytest.mark.asyncio
async def test_read_empty_body_arriving_later() -> None:
    """A reader waiting on a body that ends with no bytes gets b""."""
    stream = BodyStream()
    task = asyncio.create_task(body_request(stream).read())
    await asyncio.sleep(0)
    stream.feed_eof()
    assert await task == b""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("chunks", "limit", "actual"),
    [
        ([b"x" * 11], 10, 11),
        ([b"x" * 4, b"x" * 4, b"x" * 4], 10, 12),
        ([b"x" * 5, b"x" * 5, b"x"], 10, 11),
        ([b"x"] * 100, 1, 100),
    ],
)
async def test_read_finished_body_over_limit(chunks: list[bytes], limit: int, actual: int) -> None:
    """A complete body over client_max_size is 413 with its whole size."""
    request = body_request(finished(*chunks), client_max_size=limit)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.read()
    assert info.value.status == 413
    assert (info.value.max_size, info.value.actual_size) == (limit, actual)


@pytest.mark.asyncio
async def test_read_finished_body_at_limit() -> None:
    """Exactly client_max_size bytes is fine; 0 means no limit."""
    assert await body_request(finished(b"x" * 5, b"y" * 5), client_max_size=10).read() == (
        b"x" * 5 + b"y" * 5
    )
    big = [b"z" * 1000] * 5
    assert await body_request(finished(*big), client_max_size=0).read() == b"".join(big)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("chunks", "limit", "actual"),
    [
        ([b"x" * 4, b"x" * 4, b"x" * 4], 10, 12),
        ([b"x" * 4, b"x" * 4, b"x" * 8], 10, 16),
        ([b"x" * 10, b"x"], 10, 11),
        ([b"x" * 20], 10, 20),
    ],
)
async def test_read_arriving_body_over_limit(chunks: list[bytes], limit: int, actual: int) -> None:
    """A body that grows past client_max_size while read() waits is 413 at that chunk."""
    stream = BodyStream()
    request = body_request(stream, client_max_size=limit)
    task = asyncio.create_task(request.read())
    await asyncio.sleep(0)
    for chunk in chunks:
        assert not task.done()
        stream.feed_data(chunk)
        await until_drained(stream)
    stream.feed_eof()
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await task
    assert (info.value.max_size, info.value.actual_size) == (limit, actual)


@pytest.mark.asyncio
async def test_read_declared_length_over_limit() -> None:
    """A Content-Length over client_max_size is 413 with that length, nothing read."""
    stream = finished(b"x" * 11)
    request = make_mocked_request(
        "POST", "/", headers={"Content-Length": "11"}, payload=stream, client_max_size=10
    )
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.read()
    assert (info.value.max_size, info.value.actual_size) == (10, 11)
    assert stream.buffered_bytes == 11


class BodyError(Exception):
    """The failure set on a body stream."""


@pytest.mark.asyncio
@pytest.mark.parametrize("ended", [False, True])
async def test_read_failed_body(ended: bool) -> None:
    """A body whose stream failed before read() raises the stream's exception."""
    stream = BodyStream()
    stream.feed_data(b"partial")
    if ended:
        stream.feed_eof()
    error = BodyError("connection lost")
    stream.set_exception(error)
    request = body_request(stream)
    with pytest.raises(BodyError) as info:
        await request.read()
    assert info.value is error
    with pytest.raises(BodyError):
        await request.read()  # nothing was cached


@pytest.mark.asyncio
async def test_read_body_failing_while_reading() -> None:
    """A failure set while read() waits is raised by read()."""
    stream = BodyStream()
    task = asyncio.create_task(body_request(stream).read())
    stream.feed_data(b"some")
    await until_drained(stream)
    error = BodyError("reset")
    stream.set_exception(error)
    with pytest.raises(BodyError) as info:
        await task
    assert info.value is error


@pytest.mark.asyncio
async def test_text_and_json_of_a_chunked_body() -> None:
    """text() and json() decode the joined chunks (a character cut between two chunks)."""
    raw = '{"name": "café", "n": [1, 2]}'.encode()
    cut = raw.index(b"\xa9")  # inside é's two bytes
    assert await body_request(finished(raw[:cut], raw[cut:])).text() == raw.decode()
    assert await body_request(finished(raw[:cut], raw[cut:])).json() == {
        "name": "café",
        "n": [1, 2],
    }


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        (None, None),
        ("application/json", None),
        ("text/plain", None),
        ("text/plain; charset=latin-1", "latin-1"),
        ("text/plain;charset=utf-8", "utf-8"),
        ('text/plain; charset="latin-1"', "latin-1"),
        ("text/plain; CHARSET=latin-1", "latin-1"),
        ("text/plain; format=flowed", None),
        ("charset=latin-1", None),
        ("", None),
    ],
)
def test_charset(content_type: str | None, charset: str | None) -> None:
    """The charset parameter of Content-Type, None without one, as aiohttp reads it."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    request = make_mocked_request("POST", "/", headers=headers)
    assert request.charset == charset
    assert aiohttp_request("POST", "/", headers=headers).charset == charset


@given(st.text(alphabet=st.sampled_from(list('text/plain;charset= "utf-8,\t')), max_size=30))
def test_charset_is_parse_content_types(content_type: str) -> None:
    """Skipping the parse when there is no ';' gives what the parse gives."""
    request = make_mocked_request("POST", "/", headers={"Content-Type": content_type})
    assert request.charset == parse_content_type(content_type)[1].get("charset")


@pytest.mark.asyncio
async def test_text_decodes_with_charset() -> None:
    """text() decodes with the charset given, UTF-8 without one."""
    body = "café €".encode("cp1252")
    request = body_request(finished(body), headers={"Content-Type": "text/plain; charset=cp1252"})
    assert request.charset == "cp1252"
    assert await request.text() == "café €"
    latin = body_request(
        finished(b"caf", b"\xe9"), headers={"Content-Type": "text/plain; charset=latin-1"}
    )
    assert await latin.text() == "café"
    utf8 = body_request(finished("café".encode()), headers={"Content-Type": "application/json"})
    assert utf8.charset is None
    assert await utf8.text() == "café"
    bare = body_request(finished("café".encode()))
    assert bare.charset is None
    assert await bare.text() == "café"
