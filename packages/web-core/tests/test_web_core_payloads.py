"""Payloads: what each body type sends, its headers and length, and when its file closes."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from web_core_support import (
    FakeProtocol,
    FakeTransport,
    get,
    make_request,
    parse_response,
    send,
)

from weft.web_core import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BodyPartReader,
    BodyPartReaderPayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonBytesPayload,
    JsonPayload,
    MultipartWriter,
    Order,
    Payload,
    PayloadLookupError,
    PayloadRegistry,
    Response,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    _payload_io,
    get_payload,
    payload_type,
)

CHUNK = 2**18


async def closes_done() -> None:
    """Wait for the file closes a payload scheduled in the executor."""
    await asyncio.gather(*list(_payload_io._CLOSE_FUTURES))


class Collector:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("caf\u00e9 au lait\n", encoding="utf-8")
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "big.bin").write_bytes(os.urandom(CHUNK * 4 + 123))
    return tmp_path


# -- the registry: which payload, with which headers and size


def test_each_type_gets_aiohttps_payload(files: Path) -> None:
    """get_payload picks aiohttp's class for each type, with its Content-Type and size."""
    cases: list[tuple[Any, type[Payload], str, int | None]] = [
        (b"ab", BytesPayload, "application/octet-stream", 2),
        (memoryview(b"abc"), BytesPayload, "application/octet-stream", 3),
        ("h\u00e9", StringPayload, "text/plain; charset=utf-8", 3),
        (io.StringIO("h\u00e9"), StringIOPayload, "text/plain; charset=utf-8", 3),
        (io.BytesIO(b"abcd"), BytesIOPayload, "application/octet-stream", 4),
    ]
    for value, cls, ctype, size in cases:
        payload = get_payload(value)
        assert type(payload) is cls
        assert (payload.content_type, payload.size) == (ctype, size)
    with (files / "data.bin").open("rb") as binary, (files / "notes.txt").open() as text:
        payload = get_payload(binary)
        assert type(payload) is BufferedReaderPayload
        assert payload.size == 1024
        assert payload.headers["Content-Disposition"] == 'attachment; filename="data.bin"'
        assert payload.filename == "data.bin"
        text_payload = get_payload(text)
        assert type(text_payload) is TextIOPayload
        assert text_payload.content_type == "text/plain; charset=utf-8"
        assert text_payload.encoding == "utf-8"
        assert text_payload.size == len("caf\u00e9 au lait\n".encode())


def test_payload_headers_content_type_and_encoding_arguments() -> None:
    """content_type= / encoding= / headers= as aiohttp: the charset encodes a string."""
    latin = StringPayload("\u00e9", content_type="text/html; charset=latin-1")
    assert (latin.size, latin.encoding) == (1, "latin-1")
    koi = StringPayload("x", encoding="koi8-r")
    assert koi.content_type == "text/plain; charset=koi8-r"
    named = BytesPayload(b"x", content_type=None, filename="a.png", headers={"X-A": "1"})
    assert named.content_type == "image/png"
    assert named.headers["X-A"] == "1"
    unknown = BytesPayload(b"x", content_type=None, filename="a.unknown-ext")
    assert unknown.content_type == "application/octet-stream"
    with pytest.raises(TypeError, match="byte-ish"):
        BytesPayload("not bytes")  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_json_payloads() -> None:
    """JsonPayload encodes with dumps; JsonBytesPayload takes a bytes encoder."""
    payload = JsonPayload({"a": [1, 2]})
    assert payload.content_type == "application/json"
    assert json.loads(await payload.as_bytes()) == {"a": [1, 2]}
    raw = JsonBytesPayload({"b": 1}, dumps=lambda v: json.dumps(v).encode())
    assert raw.decode() == '{"b": 1}'


def test_registry_order_lookup_error_and_payload_type() -> None:
    """An unknown type raises PayloadLookupError; @payload_type registers one; a Payload
    is returned as it is; try_first wins over an exact type."""
    with pytest.raises(PayloadLookupError):
        get_payload(object())

    class Token:
        pass

    @payload_type(Token)
    class TokenPayload(BytesPayload):
        def __init__(self, value: Token, *args: Any, **kwargs: Any) -> None:
            super().__init__(b"token", *args, **kwargs)

    assert isinstance(get_payload(Token()), TokenPayload)
    payload = BytesPayload(b"x")
    assert get_payload(payload) is payload

    registry = PayloadRegistry()
    registry.register(BytesPayload, bytes)
    registry.register(StringPayload, str, order=Order.try_last)
    registry.register(JsonPayload, int, order=Order.try_first)
    assert isinstance(registry.get(b"x"), BytesPayload)
    assert isinstance(registry.get("x"), StringPayload)
    assert isinstance(registry.get(1), JsonPayload)
    with pytest.raises(ValueError, match="Unsupported order"):
        registry.register(BytesPayload, bytes, order="sideways")  # type: ignore[arg-type]
    assert PAYLOAD_REGISTRY.get(b"y").size == 1


@pytest.mark.asyncio
async def test_write_with_length_truncates() -> None:
    """write_with_length(writer, n) writes at most n bytes; None writes all."""
    for limit, expected in ((3, b"abc"), (None, b"abcdef"), (0, b"")):
        collector = Collector()
        await AsyncIterablePayload(_agen([b"ab", b"cd", b"ef"])).write_with_length(collector, limit)
        assert b"".join(collector.chunks) == expected


async def _agen(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.asyncio
async def test_async_iterable_is_read_once_unless_cached() -> None:
    """An async iterable is consumed by write(); as_bytes() caches it for later writes."""
    payload = AsyncIterablePayload(_agen([b"a", b"b"]))
    with pytest.raises(TypeError, match="not cached"):
        payload.decode()
    collector = Collector()
    await payload.write(collector)
    assert collector.chunks == [b"a", b"b"]
    assert payload.consumed
    await payload.write(collector)  # nothing more
    assert await payload.as_bytes() == b""
    cached = AsyncIterablePayload(_agen([b"x", b"y"]))
    assert await cached.as_bytes() == b"xy"
    assert cached.decode() == "xy"
    replay = Collector()
    await cached.write(replay)
    assert replay.chunks == [b"x", b"y"]
    with pytest.raises(TypeError, match="AsyncIterable"):
        AsyncIterablePayload([b"sync"])  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_file_payloads_replay_from_their_start(files: Path) -> None:
    """A file payload sends from the position it had, every time; decode / as_bytes too."""
    with (files / "data.bin").open("rb") as f:
        f.seek(1000)
        payload = get_payload(f)
        assert payload.size == 24
        for _ in range(2):
            collector = Collector()
            await payload.write(collector)
            assert b"".join(collector.chunks) == (bytes(range(256)) * 4)[1000:]
        assert await payload.as_bytes() == (bytes(range(256)) * 4)[1000:]
        assert payload.decode("latin-1").encode("latin-1") == (bytes(range(256)) * 4)[1000:]
    with (files / "notes.txt").open() as text:
        text_payload = get_payload(text)
        assert text_payload.decode() == "caf\u00e9 au lait\n"
        assert await text_payload.as_bytes() == "caf\u00e9 au lait\n".encode()
    buffer = io.BytesIO(b"0123456789")
    buffer.read(4)
    bio = get_payload(buffer)
    assert bio.size == 6
    assert await bio.as_bytes() == b"456789"
    assert bio.decode() == "456789"
    await bio.close()
    assert not buffer.closed  # in memory: the caller may still read it


@pytest.mark.asyncio
async def test_an_unseekable_file_has_no_size_and_is_sent_chunked() -> None:
    """A pipe has no size (None): the response is chunked; the pipe is closed after."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"through a pipe")
    os.close(write_fd)
    pipe = os.fdopen(read_fd, "rb")
    response = Response(body=pipe)
    assert isinstance(response.body, IOBasePayload)
    assert response.body.size is None
    sent = await send(response)
    assert sent.parsed.headers["Transfer-Encoding"] == "chunked"
    assert sent.parsed.body == b"through a pipe"
    await closes_done()
    assert pipe.closed


# -- Response(body=payload) on the wire


@pytest.mark.asyncio
async def test_response_body_types_on_the_wire(files: Path) -> None:
    """Each body type gives aiohttp's headers and the body bytes; files are closed after."""
    binary = (files / "data.bin").open("rb")
    text = (files / "notes.txt").open(encoding="utf-8")
    cases: list[tuple[Any, dict[str, str], bytes | None]] = [
        ("h\u00e9", {"Content-Type": "text/plain; charset=utf-8", "Content-Length": "3"}, None),
        (io.BytesIO(b"abc"), {"Content-Type": "application/octet-stream"}, b"abc"),
        (io.StringIO("s"), {"Content-Type": "text/plain; charset=utf-8"}, b"s"),
        (
            binary,
            {
                "Content-Type": "application/octet-stream",
                "Content-Disposition": 'attachment; filename="data.bin"',
                "Content-Length": "1024",
            },
            bytes(range(256)) * 4,
        ),
        (
            text,
            {
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Disposition": 'attachment; filename="notes.txt"',
            },
            "caf\u00e9 au lait\n".encode(),
        ),
        (_agen([b"one ", b"two"]), {"Transfer-Encoding": "chunked"}, b"one two"),
    ]
    for body, headers, expected in cases:
        sent = await send(Response(body=body))
        for name, value in headers.items():
            assert sent.parsed.headers[name] == value, (body, name)
        if expected is not None:
            assert sent.parsed.body == expected
    await closes_done()
    assert binary.closed
    assert text.closed


@pytest.mark.asyncio
async def test_in_memory_payload_leaves_with_the_head_in_one_write() -> None:
    """A str body (a StringPayload) still goes out as one write with its head."""
    request, transport = make_request(get())
    response = Response(body="one write")
    await response.prepare(request)
    assert transport.nonempty_writes == []  # a Response holds its head for the body
    await response.write_eof()
    assert len(transport.nonempty_writes) == 1
    assert parse_response(transport.data).body == b"one write"
    assert response.body_length == 9


@pytest.mark.asyncio
async def test_a_large_file_is_streamed_in_bounded_pieces_with_backpressure(
    files: Path,
) -> None:
    """A 1 MiB file goes out in pieces of at most 256 KiB, each write awaiting drain()."""
    path = files / "big.bin"
    request, transport = make_request(get())
    protocol = request.protocol
    assert isinstance(protocol, FakeProtocol)
    with path.open("rb") as f:
        response = Response(body=f)
        await response.prepare(request)
        drains_before = protocol.drains
        await response.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.body == path.read_bytes()
    assert parsed.headers["Content-Length"] == str(path.stat().st_size)
    head_len = len(transport.data) - len(parsed.raw_body)
    assert max(len(w) for w in transport.nonempty_writes) <= CHUNK + head_len
    assert len(transport.nonempty_writes) >= 5
    assert protocol.drains - drains_before >= 5  # one wait per piece: backpressure
    assert response.body_length == path.stat().st_size


@pytest.mark.asyncio
async def test_a_client_gone_mid_write_closes_the_file(files: Path) -> None:
    """Advisory row 34: the transport closing after the first piece ends the write with
    ConnectionResetError and the file is closed (no descriptor left)."""

    class Closing(FakeTransport):
        def write(self, data: bytes | bytearray | memoryview) -> None:
            super().write(data)
            self.closing = True  # the client went away after the first piece

    f = (files / "big.bin").open("rb")
    request, _ = make_request(get(), transport=Closing())
    response = Response(body=f)
    await response.prepare(request)
    with pytest.raises(ConnectionResetError):
        await response.write_eof()
    await closes_done()
    assert f.closed


@pytest.mark.asyncio
async def test_a_cancelled_write_closes_the_file(files: Path) -> None:
    """The handler's task cancelled while the body is written: the file is closed."""
    f = (files / "big.bin").open("rb")
    gate = asyncio.Event()
    request, _ = make_request(get())
    protocol = request.protocol
    assert isinstance(protocol, FakeProtocol)

    async def stuck_drain() -> None:
        gate.set()
        await asyncio.Event().wait()  # the client stopped reading

    protocol.drain = stuck_drain  # type: ignore[method-assign]
    response = Response(body=f)
    await response.prepare(request)
    task = asyncio.ensure_future(response.write_eof())
    await gate.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await closes_done()
    assert f.closed


@pytest.mark.asyncio
async def test_head_or_204_closes_the_file_without_reading_it(files: Path) -> None:
    """HEAD keeps the file's Content-Length and sends no body; 204 sends neither."""
    f = (files / "data.bin").open("rb")
    sent = await send(Response(body=f), get(method="HEAD"))
    assert sent.parsed.headers["Content-Length"] == "1024"
    assert sent.parsed.raw_body == b""
    g = (files / "data.bin").open("rb")
    sent = await send(Response(body=g, status=204))
    assert "Content-Length" not in sent.parsed.headers
    await closes_done()
    assert f.closed
    assert g.closed


@pytest.mark.asyncio
async def test_a_failed_prepare_closes_the_file(files: Path) -> None:
    """A head that cannot be sent (a control character in a header) still closes the file."""
    f = (files / "data.bin").open("rb")
    response = Response(body=f)
    response.headers["X-Bad"] = "a\x01b"
    request, transport = make_request(get())
    with pytest.raises(ValueError, match="X-Bad"):
        await response.prepare(request)
    await closes_done()
    assert f.closed
    assert transport.data == b""


@pytest.mark.asyncio
async def test_a_streamed_body_on_http10_ends_with_the_connection() -> None:
    """No size and HTTP/1.0: no chunking, the connection close ends the body."""
    response = Response(body=_agen([b"a", b"b"]))
    sent = await send(response, get(version="1.0"))
    assert "Transfer-Encoding" not in sent.parsed.headers
    assert sent.parsed.raw_body == b"ab"
    assert response.keep_alive is False


@pytest.mark.asyncio
async def test_a_payload_is_compressed_as_it_streams() -> None:
    """enable_compression() on a payload body: gzip, chunked, no Content-Length (aiohttp)."""
    response = Response(body="squeeze " * 100)
    response.enable_compression()
    sent = await send(response, get("/", "Accept-Encoding: gzip"))
    assert sent.parsed.headers["Content-Encoding"] == "gzip"
    assert sent.parsed.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in sent.parsed.headers
    assert gzip.decompress(sent.parsed.body) == b"squeeze " * 100


@pytest.mark.asyncio
async def test_response_headers_win_over_the_payloads() -> None:
    """A Content-Type the response already has is kept; content_length follows the body."""
    response = Response(body=io.BytesIO(b"<p>"), content_type="text/html")
    assert response.headers["Content-Type"] == "text/html"
    assert response.content_length is None
    sent = await send(response)
    assert sent.parsed.headers["Content-Length"] == "3"
    response.body = None
    assert response.text is None


@pytest.mark.asyncio
async def test_request_content_is_proxied() -> None:
    """Response(body=request.content) streams the request's body back, chunked."""
    raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
    request, transport = make_request(raw)
    response = Response(body=request.content)
    await response.prepare(request)
    await response.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.body == b"hello"
    assert parsed.headers["Transfer-Encoding"] == "chunked"


# -- multipart: MultipartWriter and BodyPartReader as bodies


@pytest.mark.asyncio
async def test_multipart_writer_streams_with_its_length(files: Path) -> None:
    """A MultipartWriter body: its Content-Type and size; a file part streamed and closed."""
    f = (files / "data.bin").open("rb")
    writer = MultipartWriter("mixed", "bnd")
    writer.append("hi")
    writer.append(f)
    size = writer.size  # before sending: a closed file has no size
    assert size is not None
    sent = await send(Response(body=writer))
    assert sent.parsed.headers["Content-Type"] == "multipart/mixed; boundary=bnd"
    assert sent.parsed.headers["Content-Length"] == str(size) == str(len(sent.parsed.body))
    assert b'filename="data.bin"' in sent.parsed.body
    assert sent.parsed.body.endswith(b"\r\n--bnd--\r\n")
    await closes_done()
    assert f.closed


@pytest.mark.asyncio
async def test_multipart_writer_with_an_unsized_part_is_chunked() -> None:
    """A part of unknown size (an async iterable) makes the whole body chunked."""
    writer = MultipartWriter("mixed", "bnd")
    writer.append(_agen([b"streamed"]))
    assert writer.size is None
    sent = await send(Response(body=writer))
    assert sent.parsed.headers["Transfer-Encoding"] == "chunked"
    assert b"\r\n\r\nstreamed\r\n--bnd--\r\n" in sent.parsed.body
    assert writer.consumed  # the async iterable part cannot be sent again
    with pytest.raises(TypeError, match="Cannot create payload"):
        writer.append(object())


@pytest.mark.asyncio
async def test_multipart_close_survives_a_failing_part() -> None:
    """close() closes every part even when one raises; a second close does nothing."""

    class Failing(BytesPayload):
        _autoclose = False

        async def close(self) -> None:
            raise OSError("cannot close")

    writer = MultipartWriter()
    writer.append_payload(Failing(b"x"))
    await writer.close()
    await writer.close()
    assert writer.consumed


@pytest.mark.asyncio
async def test_a_body_part_reader_is_proxied() -> None:
    """Response(body=part) sends an uploaded part on, with its name and filename."""
    body = (
        b"--b\r\n"
        b'Content-Disposition: form-data; name="up"; filename="r.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"a,b\n1,2\n\r\n--b--\r\n"
    )
    raw = (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    request, transport = make_request(raw)
    reader = await request.multipart()
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    response = Response(body=part)
    assert isinstance(response.body, BodyPartReaderPayload)
    with pytest.raises(TypeError):
        response.body.decode()
    with pytest.raises(TypeError):
        await response.body.as_bytes()
    await response.prepare(request)
    await response.write_eof()
    parsed = parse_response(transport.data)
    assert parsed.body == b"a,b\n1,2\n"
    assert parsed.headers["Content-Type"] == "application/octet-stream"
    assert parsed.headers["Content-Disposition"] == 'attachment; name="up"; filename="r.csv"'
    assert parsed.headers["Transfer-Encoding"] == "chunked"
