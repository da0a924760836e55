"""weft's request parser against llhttp (aiohttp's C parser), on the same bytes.

Requests are built from parts (request-line, field lines, framing, body) and
then damaged where request smuggling lives: whitespace before a colon,
obsolete folding, bare LF and bare CR, control bytes in names and values,
repeated or malformed Content-Length, odd Transfer-Encoding lists, chunk sizes
and extensions, chunk data without its CRLF, trailers, target forms, versions,
one byte inserted or removed anywhere. One to three requests are pipelined,
and the stream is fed in one piece to weft's ``RequestParser`` and to
aiohttp's ``HttpRequestParserC`` (weft also byte by byte: same outcome).

Each side is reduced to an ``Outcome``: the complete messages, in order, as
(method, target, path and query, version, raw field lines, body, keep-alive,
switches protocol, chunked), then how the stream ended: ``ok``, ``error``
(refused, or cut short at EOF), or ``stop`` (the last message closes the
connection or switches protocols, so later bytes are not HTTP requests: RFC
9112 §9.6, RFC 9110 §7.8). Trailers are not compared: aiohttp does not
report them. The two outcomes must be equal, or the first message they
disagree on must be a listed difference (see "what weft and llhttp do
differently on purpose" below), each with the README row or RFC section
that justifies it. The entries look at weft's own result (its message, its
error, the bytes weft delimited as that message), not at how the generator
built the stream; an entry that excuses weft accepting something repairs it
and compares again, so it cannot hide a second disagreement.

``BY_DESIGN`` holds one example of each listed difference, checked to still
be one; the weft bugs the comparison found are regression tests at the end,
and no message weft accepts may have a target authority that is not
``host[:port]`` (``AUTHORITY_SYNTAX``, checked on every stream).
Sizes stay far below both parsers' limits (8190-byte lines, 128 fields),
which they count differently.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_parser import HttpRequestParserC, RawRequestMessage
from aiohttp.streams import StreamReader
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    HttpParserError,
    NotImplementedCoding,
    RequestHead,
    RequestParser,
    VersionNotSupported,
)

# -- the two parsers, reduced to comparable outcomes


@dataclass(frozen=True)
class Message:
    """One complete request as a parser understood it."""

    method: str
    target: str
    path_query: tuple[str, str] | None  # origin and absolute forms only
    version: tuple[int, int]
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    keep_alive: bool
    switches: bool  # an Upgrade or CONNECT: the bytes after it are not HTTP
    chunked: bool
    # aiohttp does not report trailers, so they are kept (for the explanations) but not compared.
    trailers: tuple[tuple[bytes, bytes], ...] = field(default=(), compare=False)
    # Offsets of the message's first byte, the end of its head and its end (weft only).
    span: tuple[int, int, int] = field(default=(0, 0, 0), compare=False)

    @property
    def stops(self) -> bool:
        return self.switches or not self.keep_alive


@dataclass(frozen=True)
class Outcome:
    messages: tuple[Message, ...]
    end: str  # "ok", "error" or "stop"
    error: Exception | None = field(default=None, compare=False)
    error_at: int = field(default=0, compare=False)  # bytes fed when weft raised

    def start_of(self, index: int) -> int:
        return self.messages[index - 1].span[2] if index else 0


def _outcome(messages: list[Message], error: Exception | None, error_at: int = 0) -> Outcome:
    for index, message in enumerate(messages):
        if message.stops:  # nothing after it is parsed as HTTP (RFC 9112 §9.6, RFC 9110 §7.8)
            return Outcome(tuple(messages[: index + 1]), "stop")
    return Outcome(tuple(messages), "ok" if error is None else "error", error, error_at)


def weft_outcome(pieces: list[bytes]) -> Outcome:
    """weft's outcome for the bytes fed as ``pieces`` (spans are exact when fed byte by byte)."""
    parser = RequestParser()
    messages: list[Message] = []
    head: RequestHead | None = None
    body = bytearray()
    start = head_end = fed = 0

    def take(events: list[RequestHead | BodyChunk | EndOfMessage]) -> None:
        nonlocal head, start, head_end
        for item in events:
            if isinstance(item, RequestHead):
                head, head_end = item, fed
                body.clear()
            elif isinstance(item, BodyChunk):
                body.extend(item.data)
            else:
                assert head is not None
                form = head.target_form in ("origin", "absolute")
                messages.append(
                    Message(
                        head.method,
                        head.target,
                        (head.path, head.query_string) if form else None,
                        (head.version.major, head.version.minor),
                        head.raw_headers,
                        bytes(body),
                        not head.should_close,
                        head.upgrade or head.method == "CONNECT",
                        head.chunked,
                        tuple(
                            (name.encode("latin-1"), value.encode("utf-8", "surrogateescape"))
                            for name, value in item.trailers.items()
                        ),
                        (start, head_end, fed),
                    )
                )
                start = fed

    try:
        for piece in pieces:
            fed += len(piece)
            take(parser.feed(piece))
        take(parser.feed_eof())
    except HttpParserError as exc:
        take(exc.events)
        return _outcome(messages, exc, fed)
    return _outcome(messages, None)


def _llhttp_feed(
    pieces: list[bytes], loop: asyncio.AbstractEventLoop
) -> tuple[list[Message], Exception | None]:
    protocol = BaseProtocol(loop)
    parser = HttpRequestParserC(
        protocol=protocol,
        loop=loop,
        limit=2**20,
        max_line_size=8190,
        max_headers=128,
        max_field_size=8190,
        auto_decompress=False,
    )
    received: list[tuple[RawRequestMessage, StreamReader]] = []
    error: Exception | None = None
    try:
        for piece in pieces:
            messages, upgraded, _tail = parser.feed_data(piece)
            received += messages
            if upgraded:
                break
            if received and received[-1][1].is_eof():
                last = received[-1][0]
                if last.upgrade or last.should_close:
                    break
        else:
            if parser.feed_eof() is not None:  # a head cut short: aiohttp hands back a stub
                error = EOFError("the head was not complete")
    except Exception as exc:  # aiohttp's errors have no common base besides Exception
        error = exc
    out: list[Message] = []
    for msg, payload in received:
        if not payload.is_eof():  # the body was not complete
            break
        url = msg.url
        form = msg.method != "CONNECT" and msg.path != "*"
        out.append(
            Message(
                msg.method,
                msg.path,
                (url.raw_path, url.raw_query_string) if form else None,
                (msg.version.major, msg.version.minor),
                tuple(msg.raw_headers),
                payload.read_nowait(),
                not msg.should_close,
                bool(msg.upgrade),
                bool(msg.chunked),
            )
        )
    return out, error


def llhttp_outcome(data: bytes, loop: asyncio.AbstractEventLoop) -> Outcome:
    """llhttp's outcome for ``data`` fed in one piece."""
    messages, error = _llhttp_feed([data], loop)
    if error is not None:
        # aiohttp raises away the messages completed in the failing feed_data();
        # fed byte by byte, each is returned before the error is reached.
        messages, again = _llhttp_feed([data[i : i + 1] for i in range(len(data))], loop)
        stopped = bool(messages) and messages[-1].stops  # the error was after it
        assert again is not None or stopped, f"llhttp refuses {data!r} only in one piece"
    return _outcome(messages, error)


# -- what weft and llhttp do differently on purpose
#
# A disagreement is looked up at the first message the two outcomes differ on:
#
# - weft refuses a message llhttp accepts: weft's error must name a rule that
#   its README (or an RFC) makes deliberate. That ends the comparison, since
#   weft reads nothing after an error.
# - weft accepts a message llhttp refuses, or both accept it but read it
#   differently: the entry *repairs* the message (rewrites the part in
#   question, in the bytes weft delimited as that message, into what both
#   accept) and the comparison runs again on the repaired stream. So a second
#   fault in the same message, and every message after it, is still compared.
# - a known aiohttp bug is handled the same way, under its own name (weft's
#   bugs found here are fixed, and regression tests at the end).

# The methods llhttp has in its table (a subset: the ones drawn below).
LLHTTP_METHODS = frozenset(
    "GET HEAD POST PUT DELETE OPTIONS PATCH TRACE CONNECT PROPFIND QUERY".split()
)
# Fields aiohttp refuses to see twice (its SINGLETON_HEADERS), lower-cased.
AIOHTTP_SINGLETONS = frozenset(
    b"content-length content-location content-range content-type etag host max-forwards "
    b"server transfer-encoding user-agent".split()
)
_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'


def _chunk_line(bws: bytes) -> re.Pattern[bytes]:
    """chunk-size [chunk-ext] as RFC 9112 §7.1.1 writes it, with ``bws`` for BWS."""
    ext = rb"%s;%s%s+(?:%s=%s(?:%s+|%s))?" % (bws, bws, _TCHAR, bws, bws, _TCHAR, _QUOTED)
    return re.compile(rb"[0-9A-Fa-f]+(?:%s)*" % ext)


RFC_CHUNK_LINE = _chunk_line(rb"[ \t]*")
NO_BWS_CHUNK_LINE = _chunk_line(b"")
# host [":" port] as RFC 3986 §3.2.2-3.2.3 define it, with the non-empty host that
# RFC 9110 §4.2.1 requires of http(s) URIs and a port that fits in 16 bits.
_REG_NAME = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
_IP_LITERAL = r"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
AUTHORITY_SYNTAX = re.compile(rf"(?:{_IP_LITERAL}|{_REG_NAME})(?::([0-9]*))?")

AIOHTTP_TRAILER_LEAK = "aiohttp bug: the last trailer field joins the next request's head"

#: Why they disagree, and the repaired stream to compare next (None: nothing is left).
Explanation = tuple[str, bytes | None]


def _request_line(head: bytes) -> bytes:
    """The request-line in the bytes of a message, after the empty lines skipped before it."""
    return head.lstrip(b"\r\n").split(b"\r\n", 1)[0]


def weft_refuses_by_design(error: Exception | None, region: bytes) -> str | None:
    """Why weft refusing a message that llhttp accepts is intended; None if it is not.

    ``region`` is the message's bytes up to where weft raised.
    """
    text = str(error)
    line = _request_line(region)
    rules: list[tuple[bool, str]] = [
        # README validation table: "major version other than 1 ... 505" (RFC 9110 §6.2);
        # llhttp takes HTTP/0.9 and HTTP/2.0 request-lines.
        (isinstance(error, VersionNotSupported), "HTTP/0.9 or HTTP/2.0 is 505"),
        # README: "other transfer codings (gzip, ...) before chunked | 9112 §6.1 | 501";
        # llhttp strips the chunked framing and hands on a body that is still coded.
        (isinstance(error, NotImplementedCoding), "a transfer coding before chunked is 501"),
        # README: "request-target ... no fragment" (RFC 9112 §3.2); llhttp keeps the '#'.
        ("contains '#'" in text, "a fragment in the target"),
        # README: "authority-form host:port only and always for CONNECT" (RFC 9112 §3.2.3).
        ("CONNECT needs an authority-form" in text, "CONNECT without host:port"),
        # README: "absolute-form needs a host and no userinfo" (RFC 9110 §4.2.4).
        ("must not hold userinfo" in text, "userinfo in an absolute-form target"),
        # README: "absolute-form authority is host[:port] ... port <= 65535" (RFC 9112
        # §3.2.2, RFC 3986 §3.2); llhttp does not check all of the authority's syntax.
        ("invalid authority" in text, "an absolute-form authority that is not host[:port]"),
        # README: "non-ASCII byte in Transfer-Encoding, Content-Length, Connection or
        # (with Connection: upgrade) Upgrade | 400" (RFC 9110 §5.6.2, aiohttp's
        # CVE-2025-69224); llhttp takes obs-text in Connection or Upgrade as an unknown token.
        ("non-ASCII byte in the" in text, "a non-ASCII byte in a framing field"),
        # README: "CONNECT with a body | 9110 §9.3.6 | 400"; llhttp tunnels the bytes.
        ("CONNECT request has no content" in text, "CONNECT with content"),
        # README: "Host not host[:port]" (RFC 9112 §3.2 asks for a 400); llhttp does not look.
        ("invalid Host header" in text, "a Host value that is not host[:port]"),
        # README: "final transfer coding is not chunked | 9112 §6.3 | 400" (§6.3 point 4
        # says MUST); llhttp lets it through on an Upgrade or CONNECT request, and
        # reads an empty Transfer-Encoding as no field at all (no body). Parameters
        # on chunked ("chunked;q=1") "SHOULD be treated as an error" (RFC 9112 §7).
        (
            "does not end in chunked" in text
            or "empty Transfer-Encoding" in text
            or "invalid transfer coding" in text,
            "a Transfer-Encoding not ending in chunked",
        ),
        # README: "Transfer-Encoding with Content-Length | 9112 §6.1, §6.3 | 400"; llhttp
        # refuses both too, unless the Transfer-Encoding is empty (then it frames by length).
        (
            "both Transfer-Encoding and Content-Length" in text,
            "Transfer-Encoding with Content-Length",
        ),
        # README: "Content-Length above 2**63-1 | 9110 §8.6 | 400"; llhttp's limit is
        # 2**64-1, and it ignores Content-Length on CONNECT.
        ("Content-Length" in text and "is too large" in text, "a Content-Length above 2**63-1"),
        # README: "Transfer-Encoding in HTTP/1.0 | 9112 §6.1 | 400".
        ("Transfer-Encoding in an HTTP/1.0" in text, "Transfer-Encoding in HTTP/1.0"),
        # README: "chunk size ... more than 16 digits, above 2**63-1" (leading zeros count).
        ("more than 16 hex digits" in text or "fit in 63 bits" in text, "a chunk size too long"),
        # RFC 9112 §7.1.1: an extension has a non-empty name and value (token or
        # quoted-string); llhttp takes "3;a=" and "3;;a".
        (
            "invalid chunk extension" in text
            and RFC_CHUNK_LINE.fullmatch(region[:-2].rsplit(b"\n", 1)[-1]) is None,
            "an empty chunk extension name or value",
        ),
        # RFC 9112 §3: single SP between the three parts (recipients MAY split on
        # whitespace runs, as llhttp does; weft does not, see its README table).
        (
            "malformed request-line" in text and b"  " in line,
            "more than one SP in the request-line",
        ),
        # RFC 9112 §3: the request-line ends in an HTTP-version; llhttp reads
        # "GET /x" (no version) as an HTTP/0.9 request, and then reads field lines.
        (
            "malformed request-line" in text
            and re.fullmatch(rb"[^ \t]+ [^ \t]+", line) is not None,
            "an HTTP/0.9 request-line without a version",
        ),
        # RFC 9112 §2.3: HTTP-name is "HTTP"; llhttp also reads RTSP/1.0 and ICE/1.0.
        (
            "invalid HTTP version" in text and re.search(rb" (RTSP|ICE)/\S*$", line) is not None,
            "an RTSP or ICE version",
        ),
        # README Decisions: bare LF refused; RFC 9112 §2.2 skips empty lines (CRLF)
        # before a request-line, llhttp skips any CR and LF bytes there.
        (
            re.match(rb"(?:\r\n)*(?:\r(?!\n)|\n)", region) is not None,
            "a bare CR or LF before the request-line",
        ),
        # README Decisions: "Bare LF is refused (400)" (RFC 9112 §2.2 lets a recipient
        # choose); llhttp takes one after a request-target as the end of an HTTP/0.9
        # request-line. weft raises the first error in stream order, so this is it.
        ("ends in a bare LF" in text, "a line ending in a bare LF"),
    ]
    return next((why for applies, why in rules if applies), None)


# Repairs: the bytes of a message that weft accepted, rewritten.


def _edit_head(head: bytes, edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """``head`` (empty lines, request-line, field lines, CRLF CRLF) with its lines edited."""
    skipped = len(head) - len(head.lstrip(b"\r\n"))
    lines = edit(head[skipped:-4].split(b"\r\n"))
    return head[:skipped] + b"\r\n".join(lines) + b"\r\n\r\n"


def _name(line: bytes) -> bytes:
    return line.partition(b":")[0].lower()


def _value(line: bytes) -> bytes:
    return line.partition(b":")[2].strip(b" \t")


def _merge_repeats(lines: list[bytes], names: frozenset[bytes]) -> list[bytes]:
    """Repeated field lines of ``names`` combined into the first (RFC 9110 §5.3)."""
    out: list[bytes] = []
    first: dict[bytes, int] = {}
    for line in lines:
        name = _name(line)
        if name in names and name in first:
            out[first[name]] += b", " + _value(line)
        else:
            first.setdefault(name, len(out))
            out.append(line)
    return out


def _chunk_layout(body: bytes) -> tuple[list[tuple[int, int]], int]:
    """The (start, end) of each chunk-size line of a body weft accepted, and where its
    trailer section starts."""
    lines: list[tuple[int, int]] = []
    pos = 0
    while True:
        eol = body.index(b"\r\n", pos)
        lines.append((pos, eol))
        digits = re.match(rb"[0-9A-Fa-f]+", body[pos:eol])
        assert digits is not None
        if int(digits[0], 16) == 0:
            return lines, eol + 2
        pos = eol + 2 + int(digits[0], 16) + 2


def _without_bws(line: bytes) -> bytes:
    """A chunk-size line with the whitespace around ';' and '=' (outside quotes) removed."""
    return re.sub(rb'("(?:[^"\\]|\\.)*")|[ \t]*([;=])[ \t]*', lambda m: m[1] or m[2], line)


def _bad_authority(message: Message) -> bool:
    """The absolute-form or authority-form target's authority is not host[:port]."""
    if message.method == "CONNECT":
        authority = message.target
    elif message.target.startswith("/") or message.target == "*":
        return False
    else:
        authority = re.split(r"[/?#]", message.target.partition("://")[2], maxsplit=1)[0]
    match = AUTHORITY_SYNTAX.fullmatch(authority)
    return match is None or int(match[1] or 0) > 65535


def repair_accepted(message: Message, data: bytes) -> Explanation | None:
    """weft accepts ``message``, llhttp refuses it: why that is intended, and the repair."""
    start, head_end, end = message.span
    before, head, body, after = data[:start], data[start:head_end], data[head_end:end], data[end:]
    line = _request_line(head)
    version = line.split(b" ")[2]
    names = [_name(field) for field in head.lstrip(b"\r\n")[:-4].split(b"\r\n")[1:]]
    repeated = frozenset(name for name in names if names.count(name) > 1)
    codings = [
        element.strip(b" \t")
        for name, value in message.headers
        if name.lower() == b"transfer-encoding"
        for element in value.split(b",")
    ]

    def head_with(edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
        return before + _edit_head(head, edit) + body + after

    def fields_with(edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
        return head_with(lambda lines: [lines[0], *edit(lines[1:])])

    # RFC 9110 §9.1: a method is any token (README table, first row); llhttp
    # knows only its table of registered methods, in upper case.
    if message.method not in LLHTTP_METHODS:
        repaired = head_with(lambda lines: [b"GET " + lines[0].split(b" ", 1)[1], *lines[1:]])
        return "an unregistered method", repaired
    # README table: "HTTP/1.2 ... 1.9 processed as HTTP/1.1" (RFC 9110 §2.5, §6.2).
    if re.fullmatch(rb"HTTP/1\.[2-9]", version):
        return "HTTP/1.2 to 1.9", head_with(lambda lines: [lines[0][:-1] + b"1", *lines[1:]])
    # RFC 9110 §5.6.1.2: a recipient MUST accept empty list elements ("chunked, ,");
    # llhttp refuses them after "chunked" (not before).
    if b"" in codings:

        def no_empty_codings(lines: list[bytes]) -> list[bytes]:
            out = []
            for line in lines:
                if _name(line) == b"transfer-encoding":
                    kept = [e.strip(b" \t") for e in _value(line).split(b",") if e.strip(b" \t")]
                    if not kept:
                        continue
                    line = b"Transfer-Encoding: " + b", ".join(kept)
                out.append(line)
            return out

        return "an empty element in the Transfer-Encoding list", fields_with(no_empty_codings)
    # RFC 9110 §5.3: repeated field lines may be combined into one list; aiohttp
    # refuses repeats of the fields it treats as singletons (weft refuses a
    # repeated Host, Content-Length or Content-Type, README "Singleton fields";
    # these are the others).
    if repeated & AIOHTTP_SINGLETONS:
        merged = fields_with(lambda lines: _merge_repeats(lines, AIOHTTP_SINGLETONS))
        return "a repeated singleton field", merged
    if message.chunked:
        chunk_lines, trailers_at = _chunk_layout(body)
        trailers = body[trailers_at:-2].split(b"\r\n") if len(body) > trailers_at + 2 else []
        # RFC 9112 §7.1.2, RFC 9110 §6.5: trailers are not headers and never frame the
        # message; aiohttp checks them against the head's framing and singleton rules.
        if {_name(trailer) for trailer in trailers} & AIOHTTP_SINGLETONS:
            renamed = [b"X-" + t if _name(t) in AIOHTTP_SINGLETONS else t for t in trailers]
            section = b"".join(trailer + b"\r\n" for trailer in renamed) + b"\r\n"
            repaired = before + head + body[:trailers_at] + section + after
            return "a trailer named like a framing or singleton field", repaired
        # RFC 9112 §7.1.1 allows BWS around ';' and '=' in chunk extensions, and RFC
        # 9110 §5.6.3 says a recipient MUST parse it; llhttp refuses it.
        if any(NO_BWS_CHUNK_LINE.fullmatch(body[a:b]) is None for a, b in chunk_lines):
            pieces, last = [], 0
            for a, b in chunk_lines:
                pieces += [body[last:a], _without_bws(body[a:b])]
                last = b
            repaired = before + head + b"".join(pieces) + body[last:] + after
            return "whitespace around ';' or '=' in a chunk extension", repaired
    return None


def _tokens(message: Message, field_name: bytes) -> set[bytes]:
    return {
        token.strip(b" \t").lower()
        for name, value in message.headers
        if name.lower() == field_name
        for token in value.split(b",")
    }


def explain_difference(ours: Message, theirs: Message, data: bytes) -> Explanation | None:
    """Both accept the message but read it differently: why that is intended, or a bug."""
    http10 = ours.version == (1, 0)
    # RFC 9112 §9.3: "close" wins over "keep-alive"; llhttp keeps an HTTP/1.0
    # connection open when both are sent. weft stops reading there.
    both = {b"close", b"keep-alive"} <= _tokens(ours, b"connection")
    if http10 and both and replace(theirs, keep_alive=False) == ours:
        return "HTTP/1.0 with both close and keep-alive", None
    # RFC 9110 §7.8: "A server MUST ignore an Upgrade header field that is received
    # in an HTTP/1.0 request"; llhttp switches. Repaired: without the Upgrade field.
    if http10 and theirs.switches and replace(theirs, switches=False) == ours:
        start, head_end, _ = ours.span
        head = _edit_head(
            data[start:head_end], lambda lines: [ln for ln in lines if _name(ln) != b"upgrade"]
        )
        return "an Upgrade in HTTP/1.0", data[:start] + head + data[head_end:]
    # README: "Upgrade naming no protocol (empty, ',') does not switch" (RFC 9110 §7.8,
    # and §5.6.1.2: empty list elements are ignored); llhttp switches on "Upgrade: ,"
    # (not on an empty field). It reads nothing after that message, so this ends it.
    names_none = not _tokens(ours, b"upgrade") - {b""}
    if not ours.switches and names_none and replace(theirs, switches=False) == ours:
        return "an Upgrade that names no protocol", None
    return None


def explain(data: bytes, ours: Outcome, theirs: Outcome) -> Explanation | None:
    """The listed reason for the first disagreement, or None (a real difference)."""
    index = 0
    while (
        index < len(ours.messages)
        and index < len(theirs.messages)
        and ours.messages[index] == theirs.messages[index]
    ):
        index += 1
    mine = ours.messages[index] if index < len(ours.messages) else None
    other = theirs.messages[index] if index < len(theirs.messages) else None
    # aiohttp's wrapper adds a chunked request's last trailer field to the next
    # request's head (it is still pending when that head starts); weft does not.
    # Repaired: the earlier request without its trailers.
    previous = ours.messages[index - 1] if 0 < index <= len(ours.messages) else None
    if previous is not None and previous.trailers:
        leaked = previous.trailers[-1]
        joined = other is not None and other.headers[:1] == (leaked,)
        # ... or it repeated a singleton field, and aiohttp refused the request
        names = {name.lower() for name, _ in mine.headers} if mine is not None else set()
        repeated = other is None and theirs.end == "error"
        repeated = repeated and leaked[0].lower() in AIOHTTP_SINGLETONS & names
        if joined or repeated:
            _, head_end, end = previous.span
            trailers_at = head_end + _chunk_layout(data[head_end:end])[1]
            return AIOHTTP_TRAILER_LEAK, data[:trailers_at] + b"\r\n" + data[end:]
    if mine is None and ours.end == "error" and (other is not None or theirs.end != "error"):
        why = weft_refuses_by_design(ours.error, data[ours.start_of(index) : ours.error_at])
        return None if why is None else (why, None)
    if mine is not None and other is None and theirs.end == "error":
        return repair_accepted(mine, data)
    if mine is not None and other is not None:
        return explain_difference(mine, other, data)
    return None


# -- strategies: requests from parts, then damaged where smuggling lives
#
# Each request has a small fault budget: most have none, some one or two
# "sites" (the version, a field line, the Content-Length value, a chunk-size
# line, ...). A site without a fault draws from options both parsers should
# accept, including the unusual but valid ones (OWS, "Chunked", leading zeros,
# quoted-string chunk extensions); a site with a fault draws from the damaged
# options, so each stream exercises a few faults rather than drowning in them.

SITES = [
    "method", "target", "version", "request-line", "host", "fields", "connection",
    "length", "length-lines", "body-size", "coding", "chunk-size", "chunk-ext",
    "chunk-eol", "after-chunk", "last-chunk", "trailers", "prefix", "te-and-length",
    "connect-body", "bytes",
]  # fmt: skip


def _pick(*options: bytes) -> st.SearchStrategy[bytes]:
    return st.sampled_from(options)


def _ints(*options: int) -> st.SearchStrategy[int]:
    return st.sampled_from(options)


class Site:
    """The options of one site: those both parsers accept, and the damaged ones."""

    def __init__(self, name: str, good: list[bytes], bad: list[bytes]) -> None:
        self.name, self.good, self.bad = name, st.sampled_from(good), st.sampled_from(bad)

    def draw(self, draw: st.DrawFn, faults: set[str]) -> bytes:
        return draw(self.bad if self.name in faults else self.good)


METHOD = Site(
    "method",
    [m.encode() for m in sorted(LLHTTP_METHODS - {"CONNECT"})],
    [b"get", b"Post", b"BREW", b"X-CUSTOM", b"G\x00T", b"GE T", b"\xc3\xa9", b"GET\r"],
)
ORIGIN = [b"/", b"/a/b", b"/a?b=c", b"/a?", b"//a", b"/a%20b", b"/a/../b", b"/?x=%zz", b"/a;b"]
ABSOLUTE = [
    b"http://h.example/p?q",
    b"http://h.example",
    b"HTTP://H.EXAMPLE:80/",
    b"https://[::1]:8443/x",
    b"ftp://h/x",
]
AUTHORITY = [b"h.example:443", b"[::1]:443", b"1.2.3.4:80"]
TARGET = Site(
    "target",
    [],
    [
        b"/a#b", b"/\xc3\xa9", b"/a\x7f", b"http://u@h/", b"http:///x", b"h.example", b"?a",
        b"*", b"/a b", b"/a\tb", b"a:80", b"/a\x00", b"", b"http://h.example#f", b"h:",
        b":80", b"h:99999", b"h:80:80", b"h:80/", b"http://h.example:x/",
    ],
)  # fmt: skip
VERSION = Site(
    "version",
    [b"HTTP/1.1"] * 3 + [b"HTTP/1.0"],
    [
        b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0", b"http/1.1", b"HTTP/1.10", b"HTTP/01.1",
        b"HTTP/1", b"HTTP/11", b"HTTP /1.1", b"RTSP/1.0", b"ICE/1.0", b"HTTP/1.1\x00",
        b"HTTP/1.2", b"HTTP/1.9",
    ],
)  # fmt: skip
REQUEST_LINE = Site(
    "request-line",
    [b"%s %s %s"],
    [b"%s  %s %s", b"%s %s  %s", b"%s\t%s %s", b"%s %s %s ", b" %s %s %s", b"%s %s\t%s"],
)
HOST = Site(
    "host",
    [b"h.example", b"h.example:8080", b"[::1]:80", b"", b"H.Example"],
    [b"a b", b"h/x", b"h:x", b"h@x", b"\xc3\xa9", b"h\x00", b"[::1", b":80", b"h:80:80"],
)
CONNECTION = Site(
    "connection",
    [b"keep-alive", b"close", b"Keep-Alive", b"te, Close", b"closed", b",close", b"upgrade"],
    [
        b"keep-alive, close",
        b"close, keep-alive",
        b"close\x0b",
        b"Upgrade",
        b"keep-alive\r\nConnection: close",
        b"close\r\nconnection: keep-alive",
        b"upgrade\r\nUpgrade: websocket\r\nConnection: close",
    ],
)
# An empty Upgrade switches neither parser (a weft bug once), drawn to keep it in sight.
UPGRADE = [b"websocket", b"websocket", b"h2c, foo/1", b"WebSocket", b",", b""]
FIELDS: list[tuple[bytes, bytes]] = [
    (b"Accept", b"*/*"),
    (b"User-Agent", b"t/1.0"),
    (b"Content-Type", b"text/plain"),
    (b"X-Empty", b""),
    (b"X-Tab", b"a\tb"),
    (b"X-Obs-Text", b"caf\xc3\xa9 \xff"),
    (b"Cookie", b"a=b; c=d"),
    (b"Expect", b"100-continue"),
    (b"Content-Encoding", b"gzip"),
    (b"x-lower", b"v"),
]
TRAILERS: list[tuple[bytes, bytes]] = [
    (b"X-Checksum", b"abc"),
    (b"Server-Timing", b"db;dur=53"),
    (b"X-Obs-Text", b"\xff"),
]
# Trailers with a framing or singleton name are faults only in aiohttp's eyes
# (a listed difference, see repair_accepted).
ODD_TRAILERS: list[tuple[bytes, bytes]] = [(b"Content-Length", b"5"), (b"Host", b"other")]
OWS = _pick(b" ", b" ", b" ", b"", b"\t", b"  ", b" \t")
TRAILING_OWS = st.sampled_from([b""] * 6 + [b" ", b"\t", b" \t "])
CTLS = _pick(b"\x00", b"\x01", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\r", b"\n")
NOT_TCHARS = _pick(b" ", b"\t", b"\x00", b"\x7f", b"\x80", b"(", b"@", b'"', b"/", b"[", b"\r")
NASTY_BYTES = [
    b"\r",
    b"\n",
    b"\x00",
    b" ",
    b"\t",
    b":",
    b";",
    b"=",
    b",",
    b"0",
    b"a",
    b'"',
    b"\xff",
]
NASTY = _pick(
    b"\r", b"\n", b"\x00", b"\x01", b"\x7f", b" ", b"\t", b":", b"\xff", b"\r\n", b"\r\n "
)
PREFIX = Site("prefix", [b"", b"", b"", b"\r\n", b"\r\n\r\n"], [b"\n", b"\r", b" ", b"\r\r\n"])

# Content-Length values for a body of n bytes (the sent body may then be cut or extended).
LENGTH = Site(
    "length",
    [b"%d", b"%d", b"%d", b"00%d", b" %d", b"%d\t"],
    [
        b"+%d", b"-%d", b"%d, %d", b"%d,%d", b"0x%d", b"%d %d", b"", b"%de0", b"%d.0",
        "\u0663".encode(), b"99999999999999999999", b"9223372036854775808", b"%d,",
    ],
)  # fmt: skip
TRANSFER_CODING = Site(
    "coding",
    [b"chunked", b"chunked", b"Chunked", b"CHUNKED", b"\tchunked ", b",chunked"],
    [
        b"chunked,", b"chunked, ,", b"chunked, chunked", b"gzip, chunked", b"chunked, gzip",
        b"xchunked", b"chunkedx",
        b"chunked;q=1", b"identity", b"identity, chunked", b"", b"chunked\x0b",
        b"chunked\r\nTransfer-Encoding: chunked", b"gzip\r\nTransfer-Encoding: chunked",
        b"chunked\r\nTransfer-Encoding: gzip", b"\r\nTransfer-Encoding: chunked",
        b"chunked\r\nTransfer-Encoding: ",
    ],
)  # fmt: skip
CHUNK_SIZE = Site(
    "chunk-size",
    [b"%x", b"%x", b"%x", b"%X", b"0%x", b"000%x"],
    [
        b"0000000000000000%x", b"0x%x", b" %x", b"%x ", b"+%x", b"-%x", b"%x\t", b"",
        b"10000000000000000", b"8000000000000000", b"%x\x00", b"%x,",
    ],
)  # fmt: skip
# Whitespace around ';' and '=' (BWS) is among the faults: weft accepts it as
# RFC 9112 §7.1.1 says, llhttp does not (a listed difference, see repair_accepted).
CHUNK_EXT = Site(
    "chunk-ext",
    [b"", b"", b"", b";a", b";a=b", b';a="b c"', b';a="\\""', b";a=b;c", b';n="\xff"'],
    [
        b";", b";a=", b";;a", b";a;", b';a="b', b";\xff", b";a=\xff", b";a=b=c", b';a="\x7f"',
        b";a=b ", b";a\x00", b" ;a", b"; a=b", b";a = b", b';a="\r"', b";a=\r",
    ],
)  # fmt: skip
CHUNK_EOL = Site("chunk-eol", [b"\r\n"], [b"\n", b"\r", b"\r\r\n", b"\n\r"])
AFTER_CHUNK = Site("after-chunk", [b"\r\n"], [b"", b"\n", b"\r", b"X\r\n", b"\r\n\r\n", b" \r\n"])
LAST_CHUNK = Site("last-chunk", [b"0", b"0", b"00"], [b"0000000000000000000", b"", b" 0", b"0x0"])


@st.composite
def field_line(draw: st.DrawFn, pool: list[tuple[bytes, bytes]]) -> bytes:
    name, value = draw(st.sampled_from(pool))
    return name + b":" + draw(OWS) + value + draw(TRAILING_OWS)


@st.composite
def damaged(draw: st.DrawFn, lines: list[bytes], first: int) -> bytes:
    """``lines`` joined with CRLF and ended by an empty line, with one fault.

    ``first`` is the index of the first field line (1 after a request-line).
    """
    lines = list(lines)
    ends = [b"\r\n"] * (len(lines) + 1)
    kind = draw(st.sampled_from(["colon", "fold", "line-end", "value", "name", "line", "any"]))
    fields = range(first, len(lines))
    if kind in ("colon", "value", "name") and not fields:
        kind = "line-end"
    if kind == "line-end":  # bare LF, bare CR, CR CR LF ...
        at = draw(st.integers(0, len(lines)))
        ends[at] = draw(_pick(b"\n", b"\r", b"\r\r\n", b"\n\r", b"\r\n "))
    elif kind in ("fold", "line"):  # obs-fold, whitespace-led or malformed lines
        at = draw(st.integers(first, len(lines)))
        if kind == "fold":
            extra = draw(_pick(b" folded", b"\tfolded", b" ", b"\t", b" X: y"))
        else:
            extra = draw(_pick(b": empty-name", b"No-Colon", b"X:\x00", b"\x00", b"X :y", b":"))
        lines.insert(at, extra)
        ends.insert(at, b"\r\n")
    elif kind == "any" and lines:  # a nasty byte anywhere in a line
        at = draw(st.integers(0, len(lines) - 1))
        pos = draw(st.integers(0, len(lines[at])))
        lines[at] = lines[at][:pos] + draw(NASTY) + lines[at][pos:]
    else:
        at = draw(st.sampled_from(fields))
        name, colon, value = lines[at].partition(b":")
        if kind == "colon":  # whitespace between the name and the colon
            lines[at] = name + draw(_pick(b" ", b"\t", b"  ")) + colon + value
        elif kind == "value":  # a control byte in the value
            pos = draw(st.integers(0, len(value)))
            lines[at] = name + colon + value[:pos] + draw(CTLS) + value[pos:]
        else:  # a byte that is not a tchar in the name
            pos = draw(st.integers(0, len(name)))
            lines[at] = name[:pos] + draw(NOT_TCHARS) + name[pos:] + colon + value
    return b"".join(line + end for line, end in zip([*lines, b""], ends, strict=True))


def _lines(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n"


@st.composite
def chunked_body(draw: st.DrawFn, faults: set[str]) -> bytes:
    """A chunked body; each chunk-line site is at fault in one chunk at most."""
    chunks = draw(st.lists(st.binary(min_size=1, max_size=12), max_size=3))
    out = b""
    for index, data in enumerate(chunks):
        # A fault site applies to one chunk (a random one), the others are sound.
        here = faults if draw(st.integers(0, len(chunks) - index - 1)) == 0 else set()
        faults = faults - here
        declared = len(data) + (draw(_pick(b"-", b"+")) == b"+") * 2 - 1
        size = declared if "body-size" in here else len(data)
        size_line = CHUNK_SIZE.draw(draw, here)
        size_line = size_line.replace(b"%x", b"%x" % size).replace(b"%X", b"%X" % size)
        out += size_line + CHUNK_EXT.draw(draw, here) + CHUNK_EOL.draw(draw, here)
        out += data + AFTER_CHUNK.draw(draw, here)
    if "body-size" in faults and draw(st.booleans()):  # no last chunk: the body never ends
        return out
    out += LAST_CHUNK.draw(draw, faults) + CHUNK_EXT.draw(draw, faults)
    out += CHUNK_EOL.draw(draw, faults)
    pool = TRAILERS + ODD_TRAILERS if "trailers" in faults else TRAILERS
    trailers = draw(st.lists(field_line(pool), max_size=2))
    if "trailers" in faults and trailers and draw(st.booleans()):
        return out + draw(damaged(trailers, first=0))
    return out + _lines(trailers)


@st.composite
def request(draw: st.DrawFn) -> bytes:
    """One request: request-line, field lines, framing and body, with 0-2 faults."""
    faults = {draw(st.sampled_from(SITES)) for _ in range(draw(_ints(0, 0, 0, 1, 1, 1, 2)))}
    method = METHOD.draw(draw, faults)
    form = draw(st.sampled_from(["origin"] * 6 + ["absolute", "authority", "asterisk"]))
    if "target" in faults:
        method = draw(_pick(method, method, b"CONNECT", b"OPTIONS"))
        target = TARGET.draw(draw, faults)
    elif form == "origin":
        target = draw(st.sampled_from(ORIGIN))
    elif form == "absolute":
        target = draw(st.sampled_from(ABSOLUTE))
    elif form == "authority":
        method, target = b"CONNECT", draw(st.sampled_from(AUTHORITY))
    else:
        method, target = b"OPTIONS", b"*"
    version = VERSION.draw(draw, faults)
    line = REQUEST_LINE.draw(draw, faults) % (method, target, version)

    lines = [draw(field_line(FIELDS)) for _ in range(draw(st.integers(0, 3)))]
    hosts = draw(_ints(0, 2)) if "host" in faults and draw(st.booleans()) else 1
    for _ in range(hosts):
        host = b"Host:" + draw(OWS) + HOST.draw(draw, faults)
        lines.insert(draw(st.integers(0, len(lines))), host)
    if draw(st.integers(0, 3)) == 0 or "connection" in faults:
        options = CONNECTION.draw(draw, faults)
        lines.insert(draw(st.integers(0, len(lines))), b"Connection: " + options)
        if b"pgrade" in options:
            lines.append(b"Upgrade: " + draw(st.sampled_from(UPGRADE)))
    elif version == b"HTTP/1.0" and draw(st.booleans()):
        lines.append(b"Connection: keep-alive")  # so a pipelined request is read

    framing = draw(st.sampled_from(["none", "length", "length", "chunked", "chunked"]))
    if method == b"CONNECT" and "connect-body" not in faults:
        framing = "none"  # a body on CONNECT is refused by weft on purpose (see above)
    elif version == b"HTTP/1.0" and framing == "chunked" and "coding" not in faults:
        framing = "length"  # and so is Transfer-Encoding in HTTP/1.0
    if "te-and-length" in faults:
        framing = "both"
    body = b""
    if framing in ("length", "both"):
        data = draw(st.binary(max_size=16))
        value = LENGTH.draw(draw, faults).replace(b"%d", b"%d" % len(data))
        for _ in range(draw(_ints(2)) if "length-lines" in faults else 1):
            name = draw(
                _pick(b"Content-Length", b"Content-Length", b"content-length", b"CONTENT-LENGTH")
            )
            lines.insert(draw(st.integers(0, len(lines))), name + b": " + value)
            value = draw(_pick(value, b"%d" % (len(data) + 1)))
        body = data
        if "body-size" in faults:  # one byte short (never ends) or one too many
            body = draw(_pick(data[:-1], data + b"X", data + b"\r\n"))
    if framing in ("chunked", "both"):
        coding = TRANSFER_CODING.draw(draw, faults)
        name = draw(
            _pick(
                b"Transfer-Encoding",
                b"Transfer-Encoding",
                b"transfer-encoding",
                b"TRANSFER-ENCODING",
            )
        )
        lines.insert(draw(st.integers(0, len(lines))), name + b": " + coding)
        body = draw(chunked_body(faults))
    head = [line, *lines]
    sent = draw(damaged(head, first=1)) if "fields" in faults else _lines(head)
    out = PREFIX.draw(draw, faults) + sent + body
    if "bytes" in faults:  # one byte inserted, deleted or replaced, anywhere
        at = draw(st.integers(0, len(out)))
        cut = draw(st.integers(0, 1))
        out = out[:at] + draw(_pick(b"", *NASTY_BYTES)) + out[at + cut :]
    return out


streams = st.lists(request(), min_size=1, max_size=3).map(b"".join)


# -- the tests


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop for aiohttp's StreamReader payloads (never run: they are read with read_nowait)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def compare(data: bytes, loop: asyncio.AbstractEventLoop) -> list[str]:
    """Assert that weft and llhttp agree on ``data`` up to listed differences; return those."""
    reasons: list[str] = []
    for _ in range(8):  # a stream holds a few faults: each repair removes one
        ours = weft_outcome([data])
        # test_a_target_authority_that_is_not_host_port_is_refused, on every stream
        bad = [m.target for m in ours.messages if _bad_authority(m)]
        assert not bad, f"weft accepted the target authority of {bad} in {data!r}"
        # Fed byte by byte, weft gives the same outcome (its README promise) and exact spans.
        ours_bytewise = weft_outcome([data[i : i + 1] for i in range(len(data))])
        assert ours_bytewise == ours, f"weft depends on the split of {data!r}"
        theirs = llhttp_outcome(data, loop)
        if ours == theirs:
            return reasons
        explanation = explain(data, ours_bytewise, theirs)
        assert explanation is not None, (
            f"weft and llhttp disagree on {data!r}\nweft:   {ours}\nllhttp: {theirs}"
            + (f"\n(after the repairs for: {reasons})" if reasons else "")
        )
        reasons.append(explanation[0])
        if explanation[1] is None:
            return reasons
        data = explanation[1]
    pytest.fail(f"the repairs {reasons} do not converge on {data!r}")


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=streams)
def test_weft_parses_like_llhttp(data: bytes, loop: asyncio.AbstractEventLoop) -> None:
    """Same bytes: the same messages and the same accept/refuse, or a listed difference."""
    ours = weft_outcome([data])
    event(f"weft: {len(ours.messages)} message(s) then {ours.end}")
    for why in compare(data, loop) or ["none"]:
        event(f"explained: {why}")


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted({min(cut, len(data)) for cut in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams, cuts=st.lists(st.integers(0, 400), max_size=8))
def test_any_split_gives_weft_the_same_outcome(data: bytes, cuts: list[int]) -> None:
    """Any split of these streams gives weft the outcome of one piece, error class included.

    The package's own split tests (test_http_parser_incremental.py) draw from a
    generator without most of these framing faults.
    """
    whole = weft_outcome([data])
    split = weft_outcome(_split(data, cuts))
    event(f"weft {whole.end}")
    assert split == whole
    assert type(split.error) is type(whole.error)


# One example of each listed difference (and of aiohttp's trailer bug).
H = b"Host: h\r\n"
C = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
BY_DESIGN: list[tuple[bytes, str]] = [
    (b"GET / HTTP/2.0\r\n" + H + b"\r\n", "HTTP/0.9 or HTTP/2.0 is 505"),
    (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "a transfer coding before chunked is 501",
    ),
    (b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", "a fragment in the target"),
    (b"CONNECT /x HTTP/1.1\r\n" + H + b"\r\n", "CONNECT without host:port"),
    (b"GET http://u@h/ HTTP/1.1\r\n" + H + b"\r\n", "userinfo in an absolute-form target"),
    (b"CONNECT h:1 HTTP/1.1\r\n" + H + b"Content-Length: 1\r\n\r\nx", "CONNECT with content"),
    (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "a Host value that is not host[:port]"),
    (
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Transfer-Encoding in HTTP/1.0",
    ),
    (
        b"GET / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: h2c\r\n"
        b"Transfer-Encoding: identity\r\n\r\n",
        "a Transfer-Encoding not ending in chunked",
    ),
    (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \r\n\r\n",
        "a Transfer-Encoding not ending in chunked",
    ),
    (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \r\nContent-Length: 1\r\n\r\nx",
        "Transfer-Encoding with Content-Length",
    ),
    (
        b"CONNECT h:1 HTTP/1.1\r\n" + H + b"Content-Length: 9223372036854775808\r\n\r\n",
        "a Content-Length above 2**63-1",
    ),
    (C + b"00000000000000001\r\nx\r\n0\r\n\r\n", "a chunk size too long"),
    (C + b"1;a=\r\nx\r\n0\r\n\r\n", "an empty chunk extension name or value"),
    (C + b"1;;a\r\nx\r\n0\r\n\r\n", "an empty chunk extension name or value"),
    (b"GET  / HTTP/1.1\r\n" + H + b"\r\n", "more than one SP in the request-line"),
    (b"GET / RTSP/1.0\r\n" + H + b"\r\n", "an RTSP or ICE version"),
    (b"GET /\r\n" + H + b"\r\n", "an HTTP/0.9 request-line without a version"),
    (b"GET /\n" + H + b"\r\n", "a line ending in a bare LF"),
    (b"\nGET / HTTP/1.1\r\n" + H + b"\r\n", "a bare CR or LF before the request-line"),
    (b"\r\n\rGET / HTTP/1.1\r\n" + H + b"\r\n", "a bare CR or LF before the request-line"),
    (b"GET / HTTP/1.1\r\n" + H + b"\r\n\n", "a bare CR or LF before the request-line"),
    (b"get / HTTP/1.1\r\n" + H + b"\r\n", "an unregistered method"),
    (b"GET / HTTP/1.2\r\n" + H + b"\r\n", "HTTP/1.2 to 1.9"),
    (
        b"GET / HTTP/1.1\r\n" + H + b"User-Agent: a\r\nUser-Agent: b\r\n\r\n",
        "a repeated singleton field",
    ),
    (
        b"GET http://h%zz/ HTTP/1.1\r\n" + H + b"\r\n",
        "an absolute-form authority that is not host[:port]",
    ),
    (
        b"GET / HTTP/1.1\r\n" + H + b"Connection: clos\xc3\xa9\r\n\r\n",
        "a non-ASCII byte in a framing field",
    ),
    (
        b"GET / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: websoc\xe2\x84\xaaet\r\n\r\n",
        "a non-ASCII byte in a framing field",
    ),
    (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        "an empty element in the Transfer-Encoding list",
    ),
    (
        C + b"0\r\nContent-Length: 5\r\n\r\n",
        "a trailer named like a framing or singleton field",
    ),
    (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n",
        "an empty element in the Transfer-Encoding list",
    ),
    (C + b"1 ;a=b\r\nx\r\n0\r\n\r\n", "whitespace around ';' or '=' in a chunk extension"),
    (C + b"0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", AIOHTTP_TRAILER_LEAK),
    (C + b"0\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n\r\n", AIOHTTP_TRAILER_LEAK),
    (C + b"0\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", AIOHTTP_TRAILER_LEAK),
    (
        b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
        "HTTP/1.0 with both close and keep-alive",
    ),
    (
        b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        "an Upgrade in HTTP/1.0",
    ),
    (
        b"GET / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: ,\r\n\r\n",
        "an Upgrade that names no protocol",
    ),
]


@pytest.mark.parametrize(("data", "why"), BY_DESIGN)
def test_each_intended_difference_is_still_one(
    data: bytes, why: str, loop: asyncio.AbstractEventLoop
) -> None:
    """llhttp still disagrees (else drop the entry), and the entry's repair settles it."""
    ours = weft_outcome([data[i : i + 1] for i in range(len(data))])
    theirs = llhttp_outcome(data, loop)
    assert ours != theirs, "the parsers agree now: drop the exclusion"
    explanation = explain(data, ours, theirs)
    assert explanation is not None
    assert explanation[0] == why
    if explanation[1] is not None:  # and the repair is one both read the same way
        assert compare(explanation[1], loop) == []


# weft bugs the comparison found, fixed: each is a regression test now.


def test_an_empty_upgrade_field_does_not_switch_protocols(
    loop: asyncio.AbstractEventLoop,
) -> None:
    """``Upgrade = #protocol``: an empty field names nothing to switch to (RFC 9110 §7.8),
    so weft, like llhttp, keeps parsing HTTP."""
    data = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: \r\n\r\n"
    data += b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    assert weft_outcome([data]) == llhttp_outcome(data, loop)


BAD_AUTHORITIES = [
    b"GET http://h.example:x/ HTTP/1.1",
    b"GET http://h:80:80/ HTTP/1.1",
    b"GET http://[::1/ HTTP/1.1",
    b"GET http://:80/ HTTP/1.1",
    b"GET http://h:99999/ HTTP/1.1",
    b"CONNECT h:99999 HTTP/1.1",
]


@pytest.mark.parametrize("line", BAD_AUTHORITIES)
def test_a_target_authority_that_is_not_host_port_is_refused(
    line: bytes, loop: asyncio.AbstractEventLoop
) -> None:
    """An absolute-form or authority-form target's authority is host[:port] (RFC 9112
    §3.2.2-3.2.3, RFC 3986 §3.2, a non-empty host: RFC 9110 §4.2.1): weft refuses the
    others as llhttp does (RequestHead.url could not build a URL from them)."""
    data = line + b"\r\nHost: h\r\n\r\n"
    assert llhttp_outcome(data, loop).end == "error"
    assert weft_outcome([data]).end == "error"
