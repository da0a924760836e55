"""aiohttp's server-side advisories that land in web-core: each one a regression test.

Each test names the advisory (or hardening item) of ``/work/shared/ADVISORIES.md``
it answers in its docstring; the README's "Security advisories" table points
from the advisory to the test. Requests are raw bytes parsed by weft.http_parser
and handled as the server would (web_core_support), with no sockets.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import gzip
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_core_support import FakeProtocol, FakeTransport, exchange, get, make_request, send
from yarl import URL

import weft.web_core
from weft.http_parser import RequestHead, RequestParser
from weft.http_parser.streams import BodyStream
from weft.web_core import (
    Application,
    FileResponse,
    MultipartReader,
    MultipartWriter,
    Request,
    Response,
    StreamWriter,
    middleware,
    normalize_path_middleware,
)
from weft.web_core._conditional import parse_range
from weft.web_exceptions import HTTPException, HTTPRequestEntityTooLarge

BOUNDARY = "adv-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def part(headers: str, content: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"


def end() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


def post(body: bytes, content_type: str = MULTIPART) -> bytes:
    head = f"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: {content_type}\r\n"
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body


class _Flow:
    """A socket's back-pressure for a body the test feeds: the feeder waits while paused."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()

    def pause_reading(self) -> None:
        self.open.clear()

    def resume_reading(self) -> None:
        self.open.set()


def streaming_request(content_type: str, client_max_size: int) -> tuple[Request, BodyStream, _Flow]:
    """A chunked request whose body the test feeds while the handler reads it."""
    head = (
        f"POST /form HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    parsed = RequestParser().feed(head)[0]
    assert isinstance(parsed, RequestHead)
    flow = _Flow()
    content = BodyStream(flow, high_water=65536)
    protocol = FakeProtocol(FakeTransport())
    loop = asyncio.get_running_loop()
    request = Request(
        parsed,
        content,
        protocol,
        StreamWriter(protocol),
        None,
        loop,
        client_max_size=client_max_size,
    )
    return request, content, flow


async def feed(content: BodyStream, flow: _Flow, pieces: list[bytes]) -> int:
    """Feed ``pieces`` as a client would, waiting whenever the stream pauses; bytes fed."""
    fed = 0
    for piece in pieces:
        await flow.open.wait()
        if content.exception() is not None:
            break
        content.feed_data(piece)
        fed += len(piece)
    return fed


# -- 1: normalize_path_middleware never redirects off-site (GHSA-v6wp-4m6f-gcjg, CVE-2021-21330)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "target",
    [
        "//evil.com/..",
        "//evil.com/%2e%2e",
        "//evil.com",
        "//evil.com/",
        "///evil.com",
        "///evil.com/",
        "//evil.com//",
        "/%2F%2Fevil.com",
        "/%5Cevil.com",
        "/%5C%5Cevil.com/",
        "//evil.com/%2F..",
        "//evil.com?x=//other",
    ],
)
@pytest.mark.parametrize(
    "options",
    [{}, {"append_slash": False, "remove_slash": True}, {"merge_slashes": False}],
    ids=["append", "remove", "no-merge"],
)
async def test_normalize_path_never_redirects_to_a_foreign_authority(
    target: str, options: dict[str, Any]
) -> None:
    """GHSA-v6wp-4m6f-gcjg / CVE-2021-21330: whatever slashes, backslashes and dots the
    path holds, a redirect from normalize_path_middleware stays on this site: its
    Location has no authority and does not start with ``//`` or ``/\\``."""

    async def hello(request: Request) -> Response:
        return Response(text="hi")

    app = Application(middlewares=[normalize_path_middleware(**options)])
    for path in ("/evil.com", "/evil.com/", "/", "/x/"):
        app.router.add_get(path, hello)
    ex = await exchange(app, get(target))
    location = ex.parsed.headers.get("Location")
    if location is not None:
        assert URL(location).host is None
        assert location.startswith("/")
        assert not location.startswith(("//", "/\\"))


# -- 11: 404/405 with middlewares do not grow memory (GHSA-27mf-ghqm-j3j8, CVE-2024-52303)


@pytest.mark.asyncio
async def test_many_404_and_405_with_middlewares_keep_memory_flat() -> None:
    """GHSA-27mf-ghqm-j3j8 / CVE-2024-52303: thousands of 404 and 405 answers through an
    app with middlewares leave memory where it was after the first hundred (aiohttp
    cached a middleware chain per MatchInfoError)."""

    @middleware
    async def passthrough(request: Request, handler: Any) -> Any:
        return await handler(request)

    async def hello(request: Request) -> Response:
        return Response(text="hi")

    app = Application(middlewares=[passthrough, normalize_path_middleware()])
    app.router.add_get("/only-get", hello)
    app.freeze()

    async def round_of(count: int) -> None:
        for i in range(count):
            raw = get(f"/missing/{i}") if i % 2 else get("/only-get", method="POST")
            request, _ = make_request(raw, app)
            status = await _status_of(app, request)
            assert status in (404, 405)

    await round_of(200)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        await round_of(4000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024  # ~0 per request; a per-request leak is >= 4000 x ~100 B


async def _status_of(app: Application, request: Request) -> int:
    try:
        return (await app._handle(request)).status
    except HTTPException as exc:
        return exc.status


# -- 16: Range with non-ASCII digits (GHSA-mqqc-3gqh-h2x8, CVE-2025-69225)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "value",
    ["bytes=\u0660-\u0669", "bytes=0-\u0669", "bytes=\uff11-2", "bytes=-\u00b2", "bytes=\u09e6-1"],
    ids=["arabic-indic", "end-only", "fullwidth", "superscript", "bengali"],
)
async def test_range_with_non_ascii_digits_is_never_parsed(value: str, tmp_path: Path) -> None:
    """GHSA-mqqc-3gqh-h2x8 / CVE-2025-69225: a Range whose digits are not ASCII is not a
    range: parse_range (request.http_range) raises ValueError, and a FileResponse
    answers 416 without sending any byte of the file."""
    with pytest.raises(ValueError, match="range"):
        parse_range(value)
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789")
    raw = get("/", "Range: " + value.encode("utf-8").decode("latin-1"))
    ex = await send(FileResponse(path), raw)
    assert ex.parsed.status == 416
    assert ex.parsed.body == b""
    assert b"0123" not in ex.transport.data


# -- 9: malformed multipart bodies end in bounded work (GHSA-5m98-qgg9-wh84, CVE-2024-30251)


class _CountingStream(BodyStream):
    """A body stream that counts the reads made of it and stops an endless reader."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.calls = 0
        self.budget = budget

    def _count(self) -> None:
        self.calls += 1
        if self.calls > self.budget:
            raise AssertionError(f"more than {self.budget} reads of a finished body")

    async def read(self, n: int = -1) -> bytes:
        self._count()
        return await super().read(n)

    async def readany(self) -> bytes:
        self._count()
        return await super().readany()

    async def readexactly(self, n: int) -> bytes:
        self._count()
        return await super().readexactly(n)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        self._count()
        return await super().readuntil(separator)

    def read_nowait(self, n: int = -1) -> bytes:
        self._count()
        return super().read_nowait(n)


_MALFORMED_PIECES = st.sampled_from(
    [
        f"--{BOUNDARY}".encode(),
        f"--{BOUNDARY}--".encode(),
        f"--{BOUNDARY}\r\n".encode(),
        b"\r\n",
        b"\n",
        b"\r",
        b"--",
        b'Content-Disposition: form-data; name="a"\r\n',
        b'Content-Disposition: form-data; name="f"; filename="x"\r\n',
        b"Content-Type: multipart/mixed; boundary=inner\r\n",
        b"--inner\r\n",
        b"--inner--",
        b"X: y",
        b"data",
    ]
)


@pytest.mark.asyncio
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_MALFORMED_PIECES | st.binary(max_size=8), max_size=20))
async def test_malformed_multipart_bodies_end_in_bounded_reads(pieces: list[bytes]) -> None:
    """GHSA-5m98-qgg9-wh84 / CVE-2024-30251: post() on any body built from boundary
    fragments, CRs, LFs and nested-multipart headers returns or raises a 4xx after a
    number of reads bounded by the body's size (aiohttp looped for ever)."""
    body = b"".join(pieces)
    request, _ = make_request(post(body))
    stream = _CountingStream(budget=4 * len(body) + 20)
    stream.feed_data(body)
    stream.feed_eof()
    request._payload = stream
    status = 200
    try:
        await request.post()
    except HTTPException as exc:
        status = exc.status
    except ValueError as exc:  # MultipartError: a 400 when it reaches the server
        status = getattr(exc, "status", 400)
    assert status == 200 or 400 <= status < 500
    assert stream.calls > 0 or not body


# -- 19 and 27: client_max_size over the whole form, enforced while streaming
#    (GHSA-6jhg-hg63-jvvf / CVE-2025-69228, GHSA-3wq7-rqq7-wx6j / CVE-2026-34517)


@pytest.mark.asyncio
@pytest.mark.parametrize("filename", ["", '; filename="f.bin"'], ids=["field", "file"])
async def test_many_parts_each_under_the_cap_but_together_over_it_are_413(filename: str) -> None:
    """GHSA-6jhg-hg63-jvvf / CVE-2025-69228: client_max_size bounds the whole form, not
    each part: 40 parts of 30 kB (each far below a 100 kB cap) are a 413, sent chunked
    so no Content-Length gives it away first."""
    request, content, flow = streaming_request(MULTIPART, client_max_size=100_000)
    pieces = [
        part(f'Content-Disposition: form-data; name="p{i}"{filename}', b"x" * 30_000)
        for i in range(40)
    ] + [end()]
    feeder = asyncio.ensure_future(feed(content, flow, pieces))
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await request.post()
    feeder.cancel()
    assert info.value.status == 413


@pytest.mark.asyncio
async def test_a_field_over_the_cap_is_refused_while_it_streams_with_bounded_memory() -> None:
    """GHSA-3wq7-rqq7-wx6j / CVE-2026-34517: a 20 MB form field against a 1 MB
    client_max_size is a 413 once the cap is passed, with peak memory about the cap
    (not the field) and most of the 20 MB never read."""
    cap = 1_000_000
    request, content, flow = streaming_request(MULTIPART, client_max_size=cap)
    head = part('Content-Disposition: form-data; name="big"', b"")[:-2]
    block = b"y" * 65536
    pieces = [head] + [block] * (20_000_000 // len(block))
    tracemalloc.start()
    try:
        feeder = asyncio.ensure_future(feed(content, flow, pieces))
        with pytest.raises(HTTPRequestEntityTooLarge):
            await request.post()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    feeder.cancel()
    assert peak < 3 * cap
    assert content.total_bytes < 2 * cap


# -- 26: per-part header limits through post() (GHSA-m5qp-6w8w-w647, CVE-2026-34516)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "headers",
    [
        'Content-Disposition: form-data; name="a"\r\n'
        + "\r\n".join(f"X-{i}: v" for i in range(1000)),
        'Content-Disposition: form-data; name="a"\r\nX-Long: ' + "v" * 100_000,
    ],
    ids=["many-headers", "long-header"],
)
async def test_a_part_with_unbounded_headers_is_refused_by_post(headers: str) -> None:
    """GHSA-m5qp-6w8w-w647 / CVE-2026-34516: request.post() caps each part's header
    count and header line size (MultipartReader's max_headers / max_field_size); a part
    with 1,000 headers or a 100 kB header line is a 400."""
    request, _ = make_request(post(part(headers, b"1") + end()))
    with pytest.raises(HTTPException) as info:
        await request.post()
    assert info.value.status == 400


# -- #12794: a part's Content-Length never frames it


@pytest.mark.asyncio
@pytest.mark.parametrize("length", ["+1", "0x1", "1_0", "\u0661", "1, 1", "-1", "99999999999"])
async def test_a_parts_content_length_never_frames_the_part(length: str) -> None:
    """aiohttp #12794 (a part's Content-Length must be plain decimal): weft never reads a
    part by its Content-Length, only to its boundary, so no spelling of the field can
    make the reader take a boundary for data or data for a boundary."""
    body = part(f"Content-Length: {length}\r\nX: y", b"data") + part("X: z", b"next") + end()
    reader = MultipartReader(
        {"Content-Type": MULTIPART}, _stream(body.decode("latin-1").encode("latin-1"))
    )
    first = await reader.next()
    assert first is not None
    assert await first.read() == b"data"  # type: ignore[union-attr]
    second = await reader.next()
    assert second is not None
    assert await second.read() == b"next"  # type: ignore[union-attr]
    assert await reader.next() is None


def _stream(data: bytes) -> BodyStream:
    stream = BodyStream()
    stream.feed_data(data)
    stream.feed_eof()
    return stream


# -- 29: header injection through a multipart part (GHSA-2vrm-gr82-f7m5 / CVE-2026-34514,
#    GHSA-m6qw-4cw2-hm4m / CVE-2026-50269)


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, data: bytes) -> None:
        self.data += data


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", ["\r\n", "\r", "\n", "\x00"], ids=["crlf", "cr", "lf", "nul"])
@pytest.mark.parametrize(
    "vector", ["content-type", "value", "name", "disposition-name", "filename", "subtype"]
)
async def test_a_multipart_part_refuses_cr_lf_nul_in_every_header(vector: str, bad: str) -> None:
    """GHSA-2vrm-gr82-f7m5 / CVE-2026-34514 and GHSA-m6qw-4cw2-hm4m / CVE-2026-50269: a
    CR, LF or NUL in a part's Content-Type, any header value or name, a
    Content-Disposition name/filename or a nested writer's subtype is a ValueError,
    and not one byte is written."""
    evil = f"a{bad}Set-Cookie: x=1"
    writer = MultipartWriter("form-data")
    if vector == "content-type":
        writer.append(b"x", {"Content-Type": evil})
    elif vector == "value":
        writer.append(b"x", {"X-Custom": evil})
    elif vector == "name":
        writer.append(b"x", {evil: "v"})
    elif vector == "subtype":
        writer.append(MultipartWriter(evil))
    else:
        payload = writer.append(b"x", {"Content-Disposition": "form-data"})
        name, filename = (evil, "f") if vector == "disposition-name" else ("a", evil)
        with pytest.raises(ValueError, match=r"(?i)newline|nul|header|injection"):
            payload.set_content_disposition("form-data", name=name, filename=filename)
        return
    sink = _Sink()
    with pytest.raises(ValueError, match=r"(?i)newline|nul"):
        await writer.write(sink)
    assert sink.data == b""
    with pytest.raises(ValueError, match=r"(?i)newline|nul"):
        await writer.as_bytes()


# -- 10: a compressed sibling gets the original's containment (GHSA-jwhx-xcg6-8xhj)


@pytest.mark.asyncio
@pytest.mark.parametrize("follow_symlinks", [False, True], ids=["no-follow", "follow"])
@pytest.mark.parametrize("suffix", [".gz", ".br"])
async def test_a_compressed_sibling_linking_outside_the_root_is_never_served(
    tmp_path: Path, suffix: str, follow_symlinks: bool
) -> None:
    """GHSA-jwhx-xcg6-8xhj / CVE-2024-42367: under a static route, a ``.gz``/``.br``
    sibling that is a symlink out of the root is not served, with follow_symlinks off
    or on; the plain file inside is."""
    root = tmp_path / "static"
    root.mkdir()
    (root / "app.js").write_bytes(b"plain")
    (tmp_path / f"secret{suffix}").write_bytes(gzip.compress(b"SECRET"))
    (root / f"app.js{suffix}").symlink_to(tmp_path / f"secret{suffix}")
    app = Application()
    app.router.add_static("/static", root, follow_symlinks=follow_symlinks)
    ex = await exchange(app, get("/static/app.js", "Accept-Encoding: gzip, br"))
    assert ex.parsed.status == 200
    assert ex.parsed.body == b"plain"
    assert "Content-Encoding" not in ex.parsed.headers


# -- 18: post() and multipart behave the same under ``python -O`` (GHSA-jj3x-wxrx-4x23)

_MALFORMED_BODIES = [
    b"",
    b"no boundary here at all",
    f"--{BOUNDARY}".encode(),
    f"--{BOUNDARY}\r\n".encode(),
    f"--{BOUNDARY}\r\nX: 1".encode(),
    f"--{BOUNDARY}\r\nX: 1\r\n\r\nnever closed".encode(),
    f"--{BOUNDARY}\r\nnot a header\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
    f"--{BOUNDARY}junk\r\nX: 1\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
    part('Content-Disposition: form-data; name="a"', b"1") + end(),
    part('Content-Disposition: form-data; name="a"', b"1"),
    part("Content-Type: text/plain", b"no name") + end(),
    part(
        'Content-Disposition: form-data; name="n"\r\nContent-Type: multipart/mixed; boundary=i',
        b"--i--",
    )
    + end(),
    part('Content-Disposition: form-data; name="f"; filename="x"', b"\r\n\r\n--") + end(),
    f"--{BOUNDARY}\r\n\r\n\r\n--{BOUNDARY}\r\n\r\n\r\n--{BOUNDARY}--".encode(),
    f"\r\n\r\n--{BOUNDARY}--\r\n".encode(),
]

_POST_SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from web_core_support import make_request
from weft.web_exceptions import HTTPException

async def outcome(raw):
    request, _ = make_request(raw)
    try:
        form = await request.post()
    except HTTPException as exc:
        return ["http", exc.status]
    except ValueError as exc:
        return [type(exc).__name__, getattr(exc, "status", None)]
    return ["form", sorted((k, str(v)[:20]) for k, v in form.items())]

async def main():
    raws = [bytes.fromhex(h) for h in json.load(sys.stdin)]
    return [await asyncio.wait_for(outcome(raw), 30) for raw in raws]

print(json.dumps([__debug__, asyncio.run(main())]))
"""


def _post_outcomes(*flags: str) -> tuple[bool, list[object]]:
    raws = [post(body).hex() for body in _MALFORMED_BODIES]
    done = subprocess.run(
        [sys.executable, *flags, "-c", _POST_SCRIPT, str(Path(__file__).parent)],
        input=json.dumps(raws),
        capture_output=True,
        text=True,
        check=True,
    )
    debug, outcomes = json.loads(done.stdout)
    return debug, outcomes


def test_post_of_malformed_bodies_answers_the_same_under_python_dash_o() -> None:
    """GHSA-jj3x-wxrx-4x23 / CVE-2025-69227: request.post() of every malformed multipart
    body here ends (aiohttp looped for ever under -O) with the same form or the same
    error under ``python -O``, asserts stripped, as without."""
    plain_debug, plain = _post_outcomes()
    optimized_debug, optimized = _post_outcomes("-O")
    assert (plain_debug, optimized_debug) == (True, False)
    assert optimized == plain
    assert len(plain) == len(_MALFORMED_BODIES)


def test_no_assert_in_web_core_does_work() -> None:
    """GHSA-jj3x-wxrx-4x23 / CVE-2025-69227: every ``assert`` in web-core's sources only
    narrows a type or states an invariant (no call, no assignment in it), so removing
    them under -O changes no control flow."""
    source_dir = Path(weft.web_core.__file__).parent
    offenders = []
    for path in sorted(source_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Assert) and any(
                isinstance(inner, ast.Call | ast.NamedExpr | ast.Await) for inner in ast.walk(node)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
