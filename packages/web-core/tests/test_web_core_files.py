"""FileResponse: validators, conditional requests, ranges, siblings, errors and both send paths.

The fake transport cannot sendfile, so these exercise the chunked-read
fallback; the sendfile path is checked with a patched ``loop.sendfile`` here
and over real sockets in the integration suite.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path
from typing import IO, Any

import pytest
from web_core_support import Exchange, exchange, get, make_request, parse_response, send

from weft.web_core import Application, ContentCoding, FileResponse
from weft.web_core import _file_response as file_module
from weft.web_routing import FileResponseFactory, UrlDispatcher

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(DATA)
    return path


def mtime_of(path: Path) -> float:
    return path.stat().st_mtime


def etag_of(path: Path) -> str:
    st = path.stat()
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


async def serve(path: Path, *headers: str, method: str = "GET", **kwargs: Any) -> Exchange:
    return await send(FileResponse(path, **kwargs), get("/", *headers, method=method))


# -- a plain 200


@pytest.mark.asyncio
async def test_whole_file(text_file: Path) -> None:
    """200 with the bytes, a guessed type, Content-Length, Accept-Ranges, ETag and Last-Modified."""
    ex = await serve(text_file)
    parsed = ex.parsed
    assert parsed.status == 200
    assert parsed.body == DATA
    assert parsed.headers["Content-Type"] == "text/plain"
    assert parsed.headers["Content-Length"] == str(len(DATA))
    assert parsed.headers["Accept-Ranges"] == "bytes"
    assert parsed.headers["ETag"] == f'"{etag_of(text_file)}"'
    assert ex.response.last_modified is not None
    assert ex.response.last_modified.timestamp() >= mtime_of(text_file)
    assert "Transfer-Encoding" not in parsed.headers


@pytest.mark.asyncio
async def test_content_type_guessing(tmp_path: Path) -> None:
    """Types come from the name; .gz is application/gzip itself; unknown is octet-stream."""
    for name, ctype in [
        ("a.html", "text/html"),
        ("a.tar.gz", "application/gzip"),
        ("a.unknownext", "application/octet-stream"),
    ]:
        path = tmp_path / name
        path.write_bytes(b"x")
        ex = await serve(path)
        assert ex.parsed.headers["Content-Type"] == ctype, name


@pytest.mark.asyncio
async def test_given_content_type_kept(text_file: Path) -> None:
    """A Content-Type passed in headers= is not replaced by the guess."""
    ex = await serve(text_file, headers={"Content-Type": "application/x-custom"})
    assert ex.parsed.headers["Content-Type"] == "application/x-custom"


@pytest.mark.asyncio
async def test_empty_file(tmp_path: Path) -> None:
    """An empty file is a 200 with Content-Length 0."""
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    ex = await serve(path)
    assert (ex.parsed.status, ex.parsed.headers["Content-Length"]) == (200, "0")
    assert ex.parsed.body == b""


@pytest.mark.asyncio
async def test_head_sends_headers_only(text_file: Path) -> None:
    """HEAD: the GET's headers (with its Content-Length) and no body."""
    ex = await serve(text_file, method="HEAD")
    assert ex.parsed.status == 200
    assert ex.parsed.headers["Content-Length"] == str(len(DATA))
    assert ex.parsed.raw_body == b""


@pytest.mark.asyncio
async def test_small_chunks_in_many_writes(text_file: Path) -> None:
    """The fallback reads chunk_size bytes at a time and writes each piece."""
    ex = await serve(text_file, chunk_size=1000)
    assert ex.parsed.body == DATA
    body_writes = [w for w in ex.transport.nonempty_writes if not w.startswith(b"HTTP/")]
    assert len(body_writes) >= 10


@pytest.mark.asyncio
async def test_prepare_twice_returns_same_writer(text_file: Path) -> None:
    """A second prepare() (the server's, after a handler's) sends nothing more."""
    request, transport = make_request(get("/"))
    resp = FileResponse(text_file)
    writer = await resp.prepare(request)
    sent = transport.data
    assert await resp.prepare(request) in (writer, None)
    await resp.write_eof()
    assert transport.data == sent


def test_router_factory_shape(text_file: Path) -> None:
    """FileResponse fits web-routing's file-response factory (path, chunk_size)."""
    factory: FileResponseFactory = lambda path, chunk_size: FileResponse(  # noqa: E731
        path, chunk_size=chunk_size
    )
    resp = factory(text_file, 4096)
    assert isinstance(resp, FileResponse)
    assert resp._chunk_size == 4096


# -- errors: never a 500


@pytest.mark.asyncio
async def test_missing_file_is_404(tmp_path: Path) -> None:
    """A missing file is a 404 with a short text body."""
    ex = await serve(tmp_path / "nope.txt")
    assert ex.parsed.status == 404
    assert ex.parsed.body == b"404: Not Found"


@pytest.mark.asyncio
async def test_directory_is_404(tmp_path: Path) -> None:
    """A directory is not a file: 404."""
    ex = await serve(tmp_path)
    assert ex.parsed.status == 404


@pytest.mark.asyncio
async def test_nul_in_name_is_404(tmp_path: Path) -> None:
    """A name the OS refuses (NUL) is a 404, not a ValueError."""
    ex = await serve(tmp_path / "a\x00b")
    assert ex.parsed.status == 404


@pytest.mark.asyncio
async def test_unreadable_is_403(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be opened for lack of permission is a 403."""

    def denied(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    ex = await serve(text_file)
    assert ex.parsed.status == 403
    assert ex.parsed.body == b"403: Forbidden"


@pytest.mark.asyncio
async def test_fifo_is_403_and_never_opened(tmp_path: Path) -> None:
    """A special file (a FIFO, which would block an open) is a 403."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    ex = await serve(fifo)
    assert ex.parsed.status == 403


@pytest.mark.asyncio
async def test_missing_head_has_no_body(tmp_path: Path) -> None:
    """HEAD of a missing file: 404 head, no body."""
    ex = await serve(tmp_path / "nope", method="HEAD")
    assert ex.parsed.status == 404
    assert ex.parsed.raw_body == b""


# -- conditional requests


@pytest.mark.asyncio
async def test_if_none_match_304(text_file: Path) -> None:
    """A matching If-None-Match (weak comparison) is a 304 with the validators and no body."""
    ex = await serve(text_file, f'If-None-Match: "x", W/"{etag_of(text_file)}"')
    parsed = ex.parsed
    assert parsed.status == 304
    assert parsed.headers["ETag"] == f'"{etag_of(text_file)}"'
    assert "Last-Modified" in parsed.headers
    assert "Content-Length" not in parsed.headers
    assert "Transfer-Encoding" not in parsed.headers
    assert parsed.raw_body == b""


@pytest.mark.asyncio
async def test_if_none_match_other_is_200(text_file: Path) -> None:
    """A different entity tag is a full 200."""
    ex = await serve(text_file, 'If-None-Match: "other"')
    assert ex.parsed.status == 200


@pytest.mark.asyncio
async def test_if_none_match_on_unsafe_method_is_412(text_file: Path) -> None:
    """RFC 9110 §13.1.2: If-None-Match matching on a POST is a 412, not a 304."""
    ex = await serve(text_file, "If-None-Match: *", method="POST")
    assert ex.parsed.status == 412


@pytest.mark.asyncio
async def test_if_modified_since(text_file: Path) -> None:
    """If-Modified-Since at or after the mtime is a 304; before it, a 200."""
    resp = (await serve(text_file)).response
    last_modified = resp.headers["Last-Modified"]
    ex = await serve(text_file, f"If-Modified-Since: {last_modified}")
    assert ex.parsed.status == 304
    ex = await serve(text_file, "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT")
    assert ex.parsed.status == 200


@pytest.mark.asyncio
async def test_if_none_match_wins_over_if_modified_since(text_file: Path) -> None:
    """RFC 9110 §13.2.2: with If-None-Match present, If-Modified-Since is not evaluated."""
    ex = await serve(
        text_file, 'If-None-Match: "other"', "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"
    )
    assert ex.parsed.status == 200


@pytest.mark.asyncio
async def test_if_match(text_file: Path) -> None:
    """If-Match: a strong match or ``*`` passes; a weak or different tag is a 412."""
    etag = etag_of(text_file)
    assert (await serve(text_file, f'If-Match: "{etag}"')).parsed.status == 200
    assert (await serve(text_file, "If-Match: *")).parsed.status == 200
    ex = await serve(text_file, f'If-Match: W/"{etag}"')
    assert ex.parsed.status == 412
    assert ex.parsed.headers["Content-Length"] == "0"
    assert (await serve(text_file, 'If-Match: "other"')).parsed.status == 412


@pytest.mark.asyncio
async def test_if_unmodified_since(text_file: Path) -> None:
    """If-Unmodified-Since before the mtime is a 412; at or after it, a 200."""
    ex = await serve(text_file, "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT")
    assert ex.parsed.status == 412
    ex = await serve(text_file, "If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT")
    assert ex.parsed.status == 200


@pytest.mark.asyncio
async def test_if_match_wins_over_if_unmodified_since(text_file: Path) -> None:
    """A passing If-Match makes If-Unmodified-Since irrelevant."""
    ex = await serve(
        text_file,
        f'If-Match: "{etag_of(text_file)}"',
        "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
    )
    assert ex.parsed.status == 200


# -- ranges


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(DATA) - 1),
        ("bytes=-100", len(DATA) - 100, len(DATA) - 1),
        ("bytes=10000-99999", 10000, len(DATA) - 1),  # clamped to the end
        ("bytes=-999999", 0, len(DATA) - 1),  # a suffix longer than the file
    ],
)
async def test_range_206(text_file: Path, header: str, start: int, end: int) -> None:
    """A satisfiable range is a 206 with Content-Range and just those bytes."""
    ex = await serve(text_file, f"Range: {header}")
    parsed = ex.parsed
    assert parsed.status == 206
    assert parsed.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert parsed.headers["Content-Length"] == str(end - start + 1)
    assert parsed.body == DATA[start : end + 1]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "header", ["bytes=10240-", "bytes=99999-100000", "bytes=5-1", "bytes=0-1,5-6", "items=0-1"]
)
async def test_range_416(text_file: Path, header: str) -> None:
    """Past the end, malformed, several ranges or another unit: 416 with ``bytes */size``
    (aiohttp's answer to all of these)."""
    ex = await serve(text_file, f"Range: {header}")
    assert ex.parsed.status == 416
    assert ex.parsed.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert ex.parsed.body == b""


@pytest.mark.asyncio
async def test_range_ignored_for_post(text_file: Path) -> None:
    """RFC 9110 §14.2: only GET (and HEAD) take ranges."""
    ex = await serve(text_file, "Range: bytes=0-1", method="POST")
    assert ex.parsed.status == 200
    assert ex.parsed.body == DATA


@pytest.mark.asyncio
async def test_head_range(text_file: Path) -> None:
    """HEAD with a range answers the 206 head a GET would get, without the bytes."""
    ex = await serve(text_file, "Range: bytes=0-9", method="HEAD")
    assert ex.parsed.status == 206
    assert ex.parsed.headers["Content-Length"] == "10"
    assert ex.parsed.raw_body == b""


@pytest.mark.asyncio
async def test_if_range_date(text_file: Path) -> None:
    """If-Range with a date at/after the mtime keeps the range; an older one gets the whole file."""
    last_modified = (await serve(text_file)).response.headers["Last-Modified"]
    ex = await serve(text_file, "Range: bytes=0-9", f"If-Range: {last_modified}")
    assert ex.parsed.status == 206
    ex = await serve(text_file, "Range: bytes=0-9", "If-Range: Sun, 06 Nov 1994 08:49:37 GMT")
    assert ex.parsed.status == 200
    assert ex.parsed.body == DATA


@pytest.mark.asyncio
async def test_if_range_etag(text_file: Path) -> None:
    """If-Range with the current strong entity tag keeps the range; another tag gets it all."""
    etag = etag_of(text_file)
    ex = await serve(text_file, "Range: bytes=0-9", f'If-Range: "{etag}"')
    assert ex.parsed.status == 206
    ex = await serve(text_file, "Range: bytes=0-9", 'If-Range: "stale"')
    assert ex.parsed.status == 200
    ex = await serve(text_file, "Range: bytes=0-9", f'If-Range: W/"{etag}"')
    assert ex.parsed.status == 200  # If-Range needs a strong validator


# -- pre-compressed siblings


PLAIN_JS = b"console.log('plain');" * 50


@pytest.fixture
def with_siblings(tmp_path: Path) -> Path:
    path = tmp_path / "app.js"
    path.write_bytes(PLAIN_JS)
    (tmp_path / "app.js.gz").write_bytes(gzip.compress(PLAIN_JS))
    (tmp_path / "app.js.br").write_bytes(b"pretend-brotli")
    return path


@pytest.mark.asyncio
async def test_gz_sibling_served(with_siblings: Path) -> None:
    """A client accepting gzip gets app.js.gz, typed as app.js, with Content-Encoding and Vary."""
    ex = await serve(with_siblings, "Accept-Encoding: gzip")
    parsed = ex.parsed
    assert parsed.headers["Content-Encoding"] == "gzip"
    assert parsed.headers["Vary"] == "Accept-Encoding"
    assert parsed.headers["Content-Type"] in ("text/javascript", "application/javascript")
    assert gzip.decompress(parsed.body) == PLAIN_JS
    assert parsed.headers["ETag"] == f'"{etag_of(with_siblings.with_name("app.js.gz"))}"'


@pytest.mark.asyncio
async def test_br_sibling_preferred(with_siblings: Path) -> None:
    """br is tried before gzip, as aiohttp does."""
    ex = await serve(with_siblings, "Accept-Encoding: gzip, deflate, br")
    assert ex.parsed.headers["Content-Encoding"] == "br"
    assert ex.parsed.body == b"pretend-brotli"


@pytest.mark.asyncio
async def test_sibling_refused_with_q0(with_siblings: Path) -> None:
    """``gzip;q=0`` refuses the .gz: the plain file goes out."""
    ex = await serve(with_siblings, "Accept-Encoding: gzip;q=0, deflate")
    assert "Content-Encoding" not in ex.parsed.headers
    assert ex.parsed.body == PLAIN_JS


@pytest.mark.asyncio
async def test_no_accept_encoding_plain(with_siblings: Path) -> None:
    """No Accept-Encoding: the plain file."""
    ex = await serve(with_siblings)
    assert "Content-Encoding" not in ex.parsed.headers
    assert ex.parsed.body == PLAIN_JS


@pytest.mark.asyncio
async def test_symlinked_sibling_ignored(tmp_path: Path) -> None:
    """A sibling that is a symbolic link is not served (as aiohttp)."""
    path = tmp_path / "x.txt"
    path.write_bytes(b"plain")
    (tmp_path / "elsewhere.gz").write_bytes(gzip.compress(b"other"))
    (tmp_path / "x.txt.gz").symlink_to(tmp_path / "elsewhere.gz")
    ex = await serve(path, "Accept-Encoding: gzip")
    assert ex.parsed.body == b"plain"


@pytest.mark.asyncio
async def test_sibling_not_compressed_twice(with_siblings: Path) -> None:
    """enable_compression() on a response serving a .gz sibling leaves it as it is."""
    resp = FileResponse(with_siblings)
    resp.enable_compression()
    ex = await send(resp, get("/", "Accept-Encoding: gzip"))
    assert ex.parsed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(ex.parsed.body) == PLAIN_JS


# -- compression of the file itself


@pytest.mark.asyncio
async def test_enable_compression_streams_compressed(text_file: Path) -> None:
    """enable_compression() compresses the file as it is read, chunked."""
    resp = FileResponse(text_file, chunk_size=3000)
    resp.enable_compression(ContentCoding.gzip)
    ex = await send(resp, get("/"))
    assert ex.parsed.headers["Content-Encoding"] == "gzip"
    assert ex.parsed.headers["Transfer-Encoding"] == "chunked"
    assert gzip.decompress(ex.parsed.body) == DATA


# -- the sendfile path


@pytest.mark.asyncio
async def test_sendfile_used_after_head(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the loop can sendfile, the head is written first, then loop.sendfile gets the range."""
    request, transport = make_request(get("/", "Range: bytes=100-199"))
    loop = asyncio.get_running_loop()
    calls: list[tuple[int, int, bytes]] = []

    async def fake_sendfile(
        tr: asyncio.WriteTransport, file: IO[bytes], offset: int = 0, count: int | None = None
    ) -> int:
        assert count is not None
        calls.append((offset, count, transport.data))
        file.seek(offset)
        tr.write(file.read(count))
        return count

    monkeypatch.setattr(loop, "sendfile", fake_sendfile)
    resp = FileResponse(text_file)
    await resp.prepare(request)
    await resp.write_eof()
    [(offset, count, before)] = calls
    assert (offset, count) == (100, 100)
    assert before.startswith(b"HTTP/1.1 206 ")  # the head was out before the file
    parsed = parse_response(transport.data)
    assert parsed.body == DATA[100:200]
    assert resp.body_length == 100


@pytest.mark.asyncio
async def test_short_sendfile_closes(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that shrank under sendfile leaves a short body: the connection must close."""
    request, _ = make_request(get("/"))
    loop = asyncio.get_running_loop()

    async def short_sendfile(
        tr: asyncio.WriteTransport, file: IO[bytes], offset: int = 0, count: int | None = None
    ) -> int:
        return 10

    monkeypatch.setattr(loop, "sendfile", short_sendfile)
    resp = FileResponse(text_file)
    await resp.prepare(request)
    await resp.write_eof()
    assert resp.keep_alive is False


@pytest.mark.asyncio
async def test_nosendfile_switch(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With WEFT_NOSENDFILE set, loop.sendfile is never tried."""
    loop = asyncio.get_running_loop()

    async def no(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("sendfile must not be called")

    monkeypatch.setattr(loop, "sendfile", no)
    monkeypatch.setattr(file_module, "NOSENDFILE", True)
    ex = await serve(text_file)
    assert ex.parsed.body == DATA


@pytest.mark.asyncio
async def test_fallback_when_file_shrinks(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunked fallback stops at the real end of the file and closes the connection."""
    request, transport = make_request(get("/"))
    resp = FileResponse(text_file, chunk_size=1024)
    original = file_module._read_at
    calls = 0

    def shrink_then_read(fobj: Any, offset: int, size: int) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            os.truncate(text_file, offset)
        return original(fobj, offset, size)

    monkeypatch.setattr(file_module, "_read_at", shrink_then_read)
    await resp.prepare(request)
    await resp.write_eof()
    assert resp.keep_alive is False
    assert transport.data.endswith(DATA[:1024])


# -- static routes


@pytest.mark.asyncio
async def test_static_route_answers_with_file_responses(tmp_path: Path) -> None:
    """app.router.add_static serves files as FileResponse, and 404 for a missing one."""
    (tmp_path / "hello.txt").write_bytes(b"hello static")
    app = Application()
    app.router.add_static("/static", tmp_path)
    ex = await exchange(app, get("/static/hello.txt"))
    assert isinstance(ex.response, FileResponse)
    assert (ex.parsed.status, ex.parsed.body) == (200, b"hello static")
    assert ex.parsed.headers["Content-Type"] == "text/plain"
    missing = await exchange(app, get("/static/nope.txt"))
    assert missing.parsed.status == 404


@pytest.mark.asyncio
async def test_static_index_is_html(tmp_path: Path) -> None:
    """show_index=True lists a directory as a text/html page linking its entries."""
    (tmp_path / "hello.txt").write_bytes(b"hello")
    app = Application()
    app.router.add_static("/static", tmp_path, show_index=True)
    ex = await exchange(app, get("/static/"))
    assert ex.parsed.status == 200
    assert ex.parsed.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<a href="/static/hello.txt">hello.txt</a>' in ex.parsed.body


@pytest.mark.asyncio
async def test_a_routers_own_file_response_factory_is_kept(tmp_path: Path) -> None:
    """Application(router=...) keeps the file response factory the router was given."""
    (tmp_path / "app.js").write_bytes(b"run()")

    def cached_file(path: Path, chunk_size: int) -> FileResponse:
        response = FileResponse(path, chunk_size=chunk_size)
        response.headers["Cache-Control"] = "max-age=31536000, immutable"
        return response

    app = Application(router=UrlDispatcher(file_response_factory=cached_file))
    app.router.add_static("/assets", tmp_path)
    ex = await exchange(app, get("/assets/app.js"))
    assert (ex.parsed.status, ex.parsed.body) == (200, b"run()")
    assert ex.parsed.headers["Cache-Control"] == "max-age=31536000, immutable"
