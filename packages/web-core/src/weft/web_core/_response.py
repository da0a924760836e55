"""StreamResponse and Response.

A response is a small state machine (the seeds' "StreamResponse state
machine"): *created* → ``prepare()`` sends the head → ``write()`` sends body
bytes → ``write_eof()`` ends the message. A StreamResponse's head is on the
wire when ``prepare()`` returns (an SSE or long-poll client sees the status
at once, as with aiohttp). ``Response`` is the common case of a body known
up front: its head is held and leaves with the body, in one write when the
body is small. A body that is not bytes is a Payload (``_payload``), written
in bounded pieces by ``write_eof()`` and closed however the response ends.

The head is serialized by weft.http_parser, which refuses any control
character but HTAB in a header or the reason (response splitting); the
constructor and the typed setters run the same check where the value is set.
Framing headers (Content-Length, Transfer-Encoding, Connection) are computed
here from the request's version and keep-alive state (RFC 9112 §6 and §9.3).
"""

from __future__ import annotations

import asyncio
import datetime
import time
import warnings
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Executor
from email.utils import formatdate
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    SupportsInt,
    TypeAlias,
    TypeGuard,
    TypeVar,
    cast,
    overload,
)

from multidict import CIMultiDict

from weft.http_parser import (
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    check_field,
    check_reason,
    serialize_response_head,
)
from weft.web_exceptions import ResponseCookies, reason_phrase  # http.HTTPStatus's, as aiohttp

from .__about__ import __version__
from ._compiled import is_native, mypyc_attr, own_abc_state
from ._compression import (
    MAX_SYNC_CHUNK_SIZE,
    ContentCoding,
    ZLibCompressor,
    add_vary,
    negotiate_coding,
)
from ._conditional import ETag, format_etag, format_http_date, parse_etag, parse_http_date
from ._hdrs import (
    CONNECTION,
    CONTENT_ENCODING,
    CONTENT_LENGTH,
    CONTENT_TYPE,
    DATE,
    ETAG,
    LAST_MODIFIED,
    SERVER,
    SET_COOKIE,
    TRANSFER_ENCODING,
)
from ._helpers import parse_content_type
from ._keys import ResponseKey, warn_untyped_key
from ._payload import BytesPayload, Payload, PayloadLookupError, get_payload
from ._types import LooseHeaders

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._writer import StreamWriter

__all__ = ["Response", "StreamResponse", "is_response"]


class _DateValue:
    """The Date field's value (RFC 9110 §6.6.1, an IMF-fixdate), made once a second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def now(self) -> str:
        second = int(_TIME())
        if second != self._second:
            self._value = formatdate(second, usegmt=True)
            self._second = second
        return self._value


_TIME: Final = time.time  # compiled: a C static, not two lookups per response
_DATE_VALUE: Final = _DateValue()

_T = TypeVar("_T")

SERVER_SOFTWARE: Final = f"weft/{__version__}"

# What the response path reads from the sibling distributions, as module
# constants: compiled, a Final name is a C static, an imported one a lookup in
# the module's dict on every use.
_HTTP10: Final = HttpVersion10
_HTTP11: Final = HttpVersion11
_CIMULTIDICT: Final = CIMultiDict

# The state of a request (_request) or response that stored nothing: read, never written.
_NO_STATE: Final[dict[Any, Any]] = {}

# A compiled __setitem__ has no Python frame, which a warning's stack level counts.
_KEY_WARNING_LEVEL: Final = 2 if is_native(__file__) else 3


# The registered statuses' phrases, as reason_phrase() gives them: looked up by
# every response's constructor without a call.
_PHRASES: Final[dict[int, str]] = {
    status: phrase for status in range(100, 1000) if (phrase := reason_phrase(status))
}

# Content-Type values a Response made from text (or given a content_type)
# built and checked: a handler sends the same few again and again, and each is
# checked for control characters once. Text in UTF-8 (the usual response,
# json_response's too) is filed by its content_type alone, a str or None, which
# costs less to look up than the (content_type, charset) tuple of the others.
_CONTENT_TYPES: Final[dict[object, str]] = {}
_CONTENT_TYPES_MAX: Final = 256


def _content_type(content_type: str | None, charset: str | None, text: bool) -> str:
    """The Content-Type value of a Response's ``content_type`` / ``charset`` arguments.

    ``text``: the response is made from text, so ``charset`` is set and the
    type defaults to text/plain. (A key means the same value either way: a
    text response's charset is never None, another's content_type never is.)
    Only exact ``str`` arguments are looked up and remembered: a subclass's
    equality need not be its text's.
    """
    plain = (content_type is None or type(content_type) is str) and (
        charset is None or type(charset) is str
    )
    key: object = content_type if text and charset == "utf-8" else (content_type, charset)
    if plain:
        found = _CONTENT_TYPES.get(key)
        if found is not None:
            return found
    if text:
        value = f"{content_type or 'text/plain'}; charset={charset}"
    elif charset is None:
        value = content_type or ""  # not None: see above
    else:
        value = f"{content_type}; charset={charset}"
    check_field(CONTENT_TYPE, value)
    if plain and len(_CONTENT_TYPES) < _CONTENT_TYPES_MAX:
        _CONTENT_TYPES[key] = value
    return value


def _must_be_empty_body(method: str, status: int) -> bool:
    """RFC 9110 §6.4.1: HEAD responses, 1xx, 204 and 304 carry no content."""
    return method == "HEAD" or status < 200 or status in (204, 304)


#: The Content-Type of a body nobody typed (RFC 9110 §8.3), and what
#: ``content_type`` reads then.
_DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"


def _connection_field(keep_alive: bool, version: HttpVersion) -> str | None:
    """The Connection value a response adds when it has none: only what differs
    from its version's default."""
    # The parser's versions are the same objects as ours: "is" decides the
    # usual case without comparing two tuples.
    if keep_alive:
        if version is not _HTTP11 and version == _HTTP10:
            return "keep-alive"
    elif version is _HTTP11 or version == _HTTP11:
        return "close"
    return None


#: What a head sent without made headers is made of (``_send_plain_head``):
#: status, reason, the constructor's Content-Type (or None), the body's
#: length, Date and Connection (or None). One flat tuple of what is at hand,
#: since it is also the key of _PLAIN_HEADS: hashing and comparing a nested
#: tuple, and writing the length out as text before the lookup, cost more
#: than the rest of the lookup did.
PlainHead: TypeAlias = "tuple[int, str, str | None, int, str, str | None]"

#: HTTP/1.1 heads of plain responses, by PlainHead. The Date changes every
#: second, so the table is emptied when it is full. (Keys, and
#: ``_sent_plain``, typed ``object``: compiled, a PlainHead is a C struct,
#: boxed into a new tuple at each use as an object.)
_PLAIN_HEADS: Final[dict[object, bytes]] = {}
_PLAIN_HEADS_SIZE: Final = 256


def _plain_fields(plain: object) -> list[tuple[str, str]]:
    """A PlainHead's fields, in the order ``_set_length`` and ``_prepare_headers`` add them."""
    _, _, ctype, size, date, connection = cast(PlainHead, plain)
    length = str(size)
    fields: list[tuple[str, str]]
    if ctype is not None:
        fields = [(CONTENT_TYPE, ctype), (CONTENT_LENGTH, length)]
    elif size:  # _prepare_headers's default, after the length
        fields = [(CONTENT_LENGTH, length), (CONTENT_TYPE, _DEFAULT_CONTENT_TYPE)]
    else:
        fields = [(CONTENT_LENGTH, length)]
    fields.append((DATE, date))
    fields.append((SERVER, SERVER_SOFTWARE))
    if connection is not None:
        fields.append((CONNECTION, connection))
    return fields


@mypyc_attr(allow_interpreted_subclasses=True)
class StreamResponse(MutableMapping[str | ResponseKey[Any], Any]):
    """A response whose body is written piece by piece after ``prepare()``."""

    # Per instance (a subclass sets it in its constructor, or later): compiled, a
    # plain class attribute is each instance's slot, which a subclass's class
    # attribute does not reach; a ClassVar (below) is looked up as Python does.
    _length_check = True
    # aiohttp's switch: a StreamResponse sends its head in prepare(); a Response
    # (and a FileResponse, which writes its body within prepare()) holds it for the body.
    _send_headers_immediately: ClassVar[bool] = True
    _compression = False
    _compression_force: ContentCoding | None = None
    _compression_strategy: int | None = None
    #: As BaseRequest's: keys other than ResponseKeys already warned about.
    _seen_str_keys: ClassVar[set[Any]] = set()

    def __init__(
        self,
        *,
        status: SupportsInt = 200,
        headers: LooseHeaders | None = None,
        reason: str | None = None,  # last: see Response.__init__
    ) -> None:
        # The headers are made when first asked for (see _headers): a Response
        # nobody asks them of sends its head from _ctype and what it computes.
        self._ctype: str | None = None
        self._sent_plain: object | None = None  # a PlainHead
        if headers is None:
            self._made_headers: CIMultiDict[str] | None = None
        else:
            made = self._made_headers = _CIMULTIDICT(headers)
            for name, value in made.items():
                check_field(name, value)
        self._chunked = False
        self._keep_alive: bool | None = None
        self._req: BaseRequest | None = None
        self._payload_writer: StreamWriter | None = None
        self._eof_sent = False
        self._headers_sent = False
        self._body_length = 0
        # Made by the first write (_own_state): most responses store nothing.
        self._state: dict[str | ResponseKey[Any], Any] | None = None
        self._cookies: ResponseCookies | None = None
        # As aiohttp's constructor, which sets the status without its public setter.
        if reason is None and type(status) is int:
            phrase = _PHRASES.get(status)
            if phrase is not None:  # a registered status (every response's case)
                self._status = status
                self._reason = phrase
                return
        self._set_status(status, reason)

    # -- status and headers

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason

    def _check_headers_open(self, what: str) -> None:
        # The typed setters refuse late changes that would silently never be sent; the
        # raw ``headers`` mapping stays writable, as aiohttp's is.
        if self._headers_sent:
            raise RuntimeError(f"Cannot change {what} after the headers are sent")

    def _set_checked(self, name: str, value: str) -> None:
        """Set a header a typed setter built, refusing what could never be sent."""
        check_field(name, value)
        self._headers[name] = value

    def set_status(self, status: SupportsInt, reason: str | None = None) -> None:
        """Change the status; only before the head is sent."""
        if self.prepared:
            raise RuntimeError("Cannot change the response status after the headers are sent")
        self._set_status(status, reason)

    def _set_status(self, status: SupportsInt, reason: str | None) -> None:
        # int(): aiohttp takes what converts ("200", an IntEnum); compiled code would
        # refuse a str at the call if the argument were annotated int.
        code = int(status)
        if not 100 <= code <= 999:
            raise ValueError(f"Invalid status code {code}: must be in 100..999")
        self._status = code
        if reason is not None:
            check_reason(reason)
        self._reason = reason_phrase(code) if reason is None else reason

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def _headers(self) -> CIMultiDict[str]:
        """The headers, made on first use from what the response holds without them.

        Before the head is sent that is the Content-Type the constructor chose
        (``_ctype``); after a head sent without them (``_send_whole``), the
        fields it sent, in their order: the same headers, in the same order,
        as when they were made at once.
        """
        headers = self._made_headers
        if headers is None:
            sent = self._sent_plain
            if sent is not None:
                headers = _CIMULTIDICT(_plain_fields(sent))
            else:
                headers = _CIMULTIDICT()
                if self._ctype is not None:
                    headers[CONTENT_TYPE] = self._ctype
            self._made_headers = headers
        return headers

    @property
    def content_type(self) -> str:
        """The media type without parameters; application/octet-stream when unset."""
        raw = self._headers.get(CONTENT_TYPE)
        if raw is None:
            return _DEFAULT_CONTENT_TYPE
        return parse_content_type(raw)[0]

    @content_type.setter
    def content_type(self, value: str) -> None:
        # As aiohttp: the parameters already set (charset and others) are kept.
        self._check_headers_open("the content type")
        self._set_content_type(str(value), self._content_params())

    def _content_params(self) -> dict[str, str]:
        raw = self._headers.get(CONTENT_TYPE)
        return {} if raw is None else dict(parse_content_type(raw)[1])

    def _set_content_type(self, ctype: str, params: dict[str, str]) -> None:
        """The Content-Type line aiohttp generates: ``type; name=value; ...``, unquoted."""
        self._set_checked(
            CONTENT_TYPE, "; ".join([ctype, *(f"{k}={v}" for k, v in params.items())])
        )

    @property
    def charset(self) -> str | None:
        raw = self._headers.get(CONTENT_TYPE)
        if raw is None:
            return None
        return parse_content_type(raw)[1].get("charset")

    @charset.setter
    def charset(self, value: str | None) -> None:
        self._check_headers_open("the charset")
        ctype = self.content_type
        if ctype == _DEFAULT_CONTENT_TYPE:
            raise RuntimeError(
                "Setting charset for application/octet-stream doesn't make sense, "
                "set content_type first"
            )
        params = self._content_params()
        if value is None:
            params.pop("charset", None)
        else:
            params["charset"] = str(value).lower()  # aiohttp lower-cases the charset it is given
        self._set_content_type(ctype, params)

    @property
    def content_length(self) -> int | None:
        raw = self._headers.get(CONTENT_LENGTH)
        return None if raw is None else int(raw)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        self._check_headers_open("the content length")
        if value is None:
            self._headers.pop(CONTENT_LENGTH, None)
        else:
            if self._chunked:
                raise RuntimeError("You can't set content length when chunked encoding is enabled")
            self._headers[CONTENT_LENGTH] = str(int(value))

    # -- validators (RFC 9110 §8.8)

    @property
    def last_modified(self) -> datetime.datetime | None:
        """Last-Modified as an aware UTC datetime, or None."""
        return parse_http_date(self._headers.get(LAST_MODIFIED))

    @last_modified.setter
    def last_modified(self, value: float | datetime.datetime | str | None) -> None:
        self._check_headers_open("Last-Modified")
        if value is None:
            self._headers.pop(LAST_MODIFIED, None)
        elif isinstance(value, (int, float, datetime.datetime)):
            self._headers[LAST_MODIFIED] = format_http_date(value)
        elif isinstance(value, str):
            self._set_checked(LAST_MODIFIED, value)
        else:
            raise TypeError(f"Unsupported type for last_modified: {type(value).__name__}")

    @property
    def etag(self) -> ETag | None:
        """The ETag header as an ETag, or None (also when malformed)."""
        return parse_etag(self._headers.get(ETAG))

    @etag.setter
    def etag(self, value: ETag | str | None) -> None:
        self._check_headers_open("the ETag")
        if value is None:
            self._headers.pop(ETAG, None)
        else:
            self._headers[ETAG] = format_etag(value)

    # -- compression (negotiated when prepared; see _compression)

    @property
    def compression(self) -> bool:
        return self._compression

    def enable_compression(
        self, force: bool | ContentCoding | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body with the best coding the client accepts (or ``force``)."""
        self._check_headers_open("the compression")
        if isinstance(force, bool):
            force = ContentCoding.deflate if force else ContentCoding.identity
            warnings.warn("Using boolean for force is deprecated #3318", DeprecationWarning, 2)
        elif force is not None and not isinstance(force, ContentCoding):
            raise TypeError("force should be one of None, bool or ContentCoding")
        self._compression = True
        self._compression_force = force
        self._compression_strategy = strategy

    async def _start_compression(self, request: BaseRequest) -> None:
        if CONTENT_ENCODING in self._headers:
            return  # the body is already encoded (a pre-compressed file, a proxy)
        coding = self._compression_force
        if coding is None:
            add_vary(self._headers)
            coding = negotiate_coding(request.headers.get("Accept-Encoding", ""))
        if coding is not None and coding is not ContentCoding.identity:
            await self._do_start_compression(request, coding)

    async def _do_start_compression(self, request: BaseRequest, coding: ContentCoding) -> None:
        """A streamed body: the writer compresses each write; the length is unknown."""
        assert self._payload_writer is not None
        self._headers[CONTENT_ENCODING] = coding.value
        self._headers.popall(CONTENT_LENGTH, None)
        if not _must_be_empty_body(request.method, self._status):
            self._payload_writer.enable_compression(
                ZLibCompressor(coding, strategy=self._compression_strategy)
            )

    # -- cookies (the helper is web-exceptions', shared with HTTP exceptions)

    @property
    def cookies(self) -> ResponseCookies:
        if self._cookies is None:
            self._cookies = ResponseCookies()
        return self._cookies

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | int | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Send a Set-Cookie header with this response."""
        self._check_headers_open("cookies")
        self.cookies.set_cookie(
            name,
            value,
            expires=expires,
            domain=domain,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=httponly,
            version=version,
            samesite=samesite,
            partitioned=partitioned,
        )

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Tell the client to delete a cookie (an empty value that expired at once)."""
        self._check_headers_open("cookies")
        self.cookies.del_cookie(
            name, domain=domain, path=path, secure=secure, httponly=httponly, samesite=samesite
        )

    # -- connection state

    @property
    def keep_alive(self) -> bool | None:
        return self._keep_alive

    def force_close(self) -> None:
        """Close the connection after this response."""
        self._keep_alive = False

    @property
    def chunked(self) -> bool:
        return self._chunked

    def enable_chunked_encoding(self, chunk_size: int | None = None) -> None:
        """Send the body with chunked transfer coding (HTTP/1.1 only).

        ``chunk_size`` is accepted for aiohttp's sake and ignored, with its
        deprecation warning: each ``write()`` is one chunk. After ``prepare()``
        it only sets the flag, as aiohttp's does (aiohttp-sse calls it then):
        the framing was chosen with the head, and a response without a length
        is chunked already on HTTP/1.1.
        """
        if CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        if chunk_size is not None:
            warnings.warn("Chunk size is deprecated", DeprecationWarning, stacklevel=2)
        self._chunked = True

    @property
    def prepared(self) -> bool:
        return self._eof_sent or self._payload_writer is not None

    @property
    def body_length(self) -> int:
        return self._body_length

    @property
    def output_length(self) -> int:
        """Deprecated (as in aiohttp): the bytes written so far, head included."""
        warnings.warn("output_length is deprecated", DeprecationWarning, stacklevel=2)
        if self._payload_writer is None:
            raise RuntimeError("The response is not prepared: nothing was written yet")
        return self._payload_writer.output_size

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task of the request this response answers, once prepared."""
        return None if self._req is None else self._req.task

    # -- sending

    async def prepare(self, request: BaseRequest) -> StreamWriter | None:
        """Send the head (once); returns the writer, or None after the end of the message."""
        if self._eof_sent:
            return None
        if self._payload_writer is not None:
            return self._payload_writer
        return await self._start(request)

    async def _start(self, request: BaseRequest) -> StreamWriter:
        self._req = request
        writer = self._payload_writer = request._payload_writer
        await request._prepare_hook(self)
        if self._compression:
            await self._start_compression(request)
        self._send_head(request, writer)
        return writer

    def _send_head(self, request: BaseRequest, writer: StreamWriter) -> None:
        """The head, completed and handed to ``writer`` (``prepare()``, after its hooks)."""
        version = request.version
        self._prepare_headers(request, version)
        writer.buffer_headers(
            serialize_response_head(self._status, self._reason, self._headers.items(), version)
        )
        self._headers_sent = True
        if type(self) is not Response and self._send_headers_immediately:
            writer.send_headers_soon()

    def _prepare_headers(self, request: BaseRequest, version: HttpVersion) -> None:
        writer = self._payload_writer
        assert writer is not None
        headers = self._headers
        keep_alive = request.keep_alive if self._keep_alive is None else self._keep_alive
        status = self._status
        empty = _must_be_empty_body(request.method, status)
        length = headers.get(CONTENT_LENGTH)  # only the empty case below changes it
        if self._cookies:
            for value in self._cookies.header_values():
                headers.add(SET_COOKIE, value)
        if self._chunked:
            if version != _HTTP11:
                raise RuntimeError(
                    f"Using chunked encoding is forbidden for HTTP/{version.major}.{version.minor}"
                )
            if not empty:
                writer.enable_chunking()
                headers[TRANSFER_ENCODING] = "chunked"
        elif length is None and not empty and self._length_check:
            if version >= _HTTP11:
                writer.enable_chunking()
                headers[TRANSFER_ENCODING] = "chunked"
            else:
                # HTTP/1.0 without a length: the end of the body is the end of the connection.
                keep_alive = False
        if empty:
            # RFC 9112 §6.1: no Transfer-Encoding on a response without content;
            # RFC 9110 §8.6: Content-Length is kept for HEAD (it describes the GET).
            headers.pop(TRANSFER_ENCODING, None)
            if status < 200 or status == 204:
                headers.pop(CONTENT_LENGTH, None)
        elif length != "0":
            # RFC 9110 §8.3: a body of unknown (chunked, close-delimited) or non-zero length.
            headers.setdefault(CONTENT_TYPE, _DEFAULT_CONTENT_TYPE)
        headers.setdefault(DATE, _DATE_VALUE.now())
        headers.setdefault(SERVER, SERVER_SOFTWARE)
        if CONNECTION not in headers:
            connection = _connection_field(keep_alive, version)
            if connection is not None:
                headers[CONNECTION] = connection
        self._keep_alive = keep_alive

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send body bytes; ``prepare()`` must have been awaited."""
        if type(data) is not bytes:  # (bytes as they are: no call, no tuple of types)
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
            data = bytes(data)
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Cannot call write() before prepare()")
        self._body_length += len(data)
        await writer.write(data)

    async def drain(self) -> None:
        if self._payload_writer is None:
            raise RuntimeError("Response has not been started")
        await self._payload_writer.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        """End the message, sending ``data`` as its last bytes."""
        if self._eof_sent:
            return
        writer, data = self._last_bytes(data)
        await writer.write_eof(data)
        self._eof_sent = True

    def _last_bytes(self, data: bytes) -> tuple[StreamWriter, bytes]:
        """The writer to end the message on, and ``data`` as it may go (nothing for an
        answer that carries no content), counted in the body's length."""
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        assert self._req is not None
        if _must_be_empty_body(self._req.method, self._status):
            data = b""
        self._body_length += len(data)
        return writer, data

    def __repr__(self) -> str:
        info = "eof" if self._eof_sent else ("prepared" if self.prepared else "not prepared")
        return f"<{type(self).__name__} {self._status} {self._reason} {info}>"

    # -- per-response storage (a mapping, as aiohttp's)

    # The implementations take any key, as aiohttp's mapping does (a key that is
    # neither str nor ResponseKey is stored, with a warning): compiled, an
    # annotation is checked at run time.
    @overload
    def __getitem__(self, key: ResponseKey[_T]) -> _T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: Any) -> Any:
        return (self._state or _NO_STATE)[key]

    @overload
    def __setitem__(self, key: ResponseKey[_T], value: _T) -> None: ...
    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __setitem__(self, key: Any, value: Any) -> None:
        # aiohttp's test (not a ResponseKey, not seen), ordered for speed: a typed key
        # is settled by its exact type, a str key seen before by the set, and only
        # the rest pay for a failing isinstance().
        if (
            type(key) is not ResponseKey
            and key not in StreamResponse._seen_str_keys
            and not isinstance(key, ResponseKey)
        ):
            warn_untyped_key(
                StreamResponse._seen_str_keys,
                key,
                "ResponseKey",
                "response-s-storage",
                _KEY_WARNING_LEVEL,
            )
        self._own_state()[key] = value

    def __delitem__(self, key: Any) -> None:
        del (self._state or _NO_STATE)[key]  # absent from an empty one: KeyError

    def __len__(self) -> int:
        return len(self._state or _NO_STATE)

    def __iter__(self) -> Iterator[str | ResponseKey[Any]]:
        return iter(self._state or _NO_STATE)

    def _own_state(self) -> dict[str | ResponseKey[Any], Any]:
        state = self._state
        if state is None:
            state = self._state = {}
        return state

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        return True


class _CountingSink:
    """Where a payload writes: the response's writer, counting ``body_length``."""

    __slots__ = ("_response", "_writer")

    def __init__(self, response: StreamResponse, writer: StreamWriter) -> None:
        self._response = response
        self._writer = writer

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self._response._body_length += len(data)
        await self._writer.write(data if isinstance(data, bytes) else bytes(data))


@mypyc_attr(allow_interpreted_subclasses=True)
class Response(StreamResponse):
    """A response whose whole body is known when it is created."""

    _send_headers_immediately: ClassVar[bool] = False
    _compressed_body: bytes | None = None
    _zlib_executor_size: int | None = MAX_SYNC_CHUNK_SIZE
    _zlib_executor: Executor | None = None
    #: Whether the class has Response's own ``body`` setter, which the constructor
    #: then skips for a bytes body (a subclass's own setter is called, as aiohttp).
    _own_body_setter: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._own_body_setter = cls.body is Response.body

    # The keyword-only parameters in the order callers use them most: a call from
    # interpreted code (every handler's) looks its keywords up one parameter at a
    # time in this order, stopping when all are found, so text= alone is one lookup.
    def __init__(
        self,
        *,
        text: str | None = None,
        body: Any = None,
        status: SupportsInt = 200,
        content_type: str | None = None,
        headers: LooseHeaders | None = None,
        charset: str | None = None,
        reason: str | None = None,
        zlib_executor_size: int | None = MAX_SYNC_CHUNK_SIZE,
        zlib_executor: Executor | None = None,
    ) -> None:
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        super().__init__(status=status, reason=reason, headers=headers)
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        # Without headers given, none are made: the Content-Type goes to _ctype.
        has_ctype = headers is not None and CONTENT_TYPE in self._headers
        if has_ctype and (content_type is not None or charset is not None):
            raise ValueError(
                "passing both Content-Type header and content_type or charset params is forbidden"
            )
        if text is not None:
            if not isinstance(text, str):
                raise TypeError(f"text argument must be str ({type(text)!r})")
            if not has_ctype:
                charset = charset or "utf-8"
                self._set_ctype(_content_type(content_type, charset, True))
                # (encode() without a name skips the codec's lookup by name)
                body = text.encode() if charset == "utf-8" else text.encode(charset)
            else:
                body = text.encode(self.charset or "utf-8")
        elif not has_ctype and content_type is not None:
            # As aiohttp: a charset alone (no content_type) is ignored for a body.
            self._set_ctype(_content_type(content_type, charset, False))
        # The body when it is a Payload: checked on every response, and isinstance()
        # against Payload, an ABC, costs more than this attribute.
        self._payload: Payload | None = None
        # (type(self) first: compiled, it saves reading the class attribute.)
        if (body is None or type(body) is bytes) and (
            type(self) is Response or self._own_body_setter
        ):
            # What the body setter does with bytes (every text and JSON response).
            self._body: bytes | bytearray | Payload | None = body
        else:
            self._body = None
            self.body = body
        if zlib_executor_size != MAX_SYNC_CHUNK_SIZE:
            self._zlib_executor_size = zlib_executor_size
        if zlib_executor is not None:
            self._zlib_executor = zlib_executor

    def _set_ctype(self, value: str) -> None:
        """The constructor's Content-Type: kept aside while no headers are made."""
        if self._made_headers is None:
            self._ctype = value
        else:
            self._made_headers[CONTENT_TYPE] = value

    @property
    def body(self) -> bytes | bytearray | Payload | None:
        """bytes / bytearray as given, else the Payload made of the body (aiohttp's)."""
        return self._body

    @body.setter
    def body(self, body: Any) -> None:
        self._compressed_body = None
        if body is None or isinstance(body, (bytes, bytearray)):
            self._body = body
            self._payload = None
            return
        try:
            payload = get_payload(body)
        except PayloadLookupError:
            raise ValueError(f"Unsupported body type {type(body)!r}") from None
        self._body = self._payload = payload
        # The payload's headers (Content-Type, a file's Content-Disposition) unless set.
        for name, value in payload.headers.items():
            if name not in self._headers:
                check_field(name, value)
                self._headers[name] = value

    @property
    def text(self) -> str | None:
        if self._body is None:
            return None
        return self._body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if self.content_type == _DEFAULT_CONTENT_TYPE:
            self.content_type = "text/plain"
        if self.charset is None:
            self.charset = "utf-8"
        self._body = text.encode(self.charset or "utf-8")
        self._payload = None
        self._compressed_body = None

    @property
    def content_length(self) -> int | None:
        if self._chunked:
            return None
        raw = self._headers.get(CONTENT_LENGTH)
        if raw is not None:
            return int(raw)
        if self._compressed_body is not None:
            return len(self._compressed_body)
        if self._payload is not None:
            return None  # as aiohttp: known once prepared (from its size), or chunked
        body = cast("bytes | bytearray | None", self._body)  # not a Payload: see above
        return 0 if body is None else len(body)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    def _set_length(self, request: BaseRequest) -> None:
        """Content-Length from the body, unless chunked or set already."""
        if not self._chunked and CONTENT_LENGTH not in self._headers:
            payload = self._payload
            if payload is not None:
                size = payload.size
                if size is not None:
                    self._headers[CONTENT_LENGTH] = str(size)
            else:
                body: bytes | bytearray | None = self._body  # type: ignore[assignment]
                length = 0 if body is None else len(body)
                # RFC 9110 §8.6: a HEAD or 304 answer may omit the length it cannot know.
                if length or (self._status != 304 and request.method != "HEAD"):
                    self._headers[CONTENT_LENGTH] = str(length)

    def _send_whole(self, request: BaseRequest) -> bool:
        """``prepare()`` and ``write_eof()`` in one call, when no step of theirs can wait.

        The server answers with it (web-runner's glue): a ``Response`` (not a
        subclass) with a bytes body, no compression and no ``on_response_prepare``
        callback goes through the same steps as the two coroutines, without
        making seven of them. False, with nothing done, when any of that does
        not hold: then the caller awaits the two. Waiting for the transport to
        drain is left to the caller.
        """
        if (
            type(self) is not Response
            or self._payload_writer is not None
            or self._eof_sent
            or self._payload is not None
            or self._compression
            or not request._prepare_silent()
        ):
            return False
        self._req = request
        writer = self._payload_writer = request._payload_writer
        if self._made_headers is not None or not self._send_plain_head(request, writer):
            self._set_length(request)
            self._send_head(request, writer)
        whole: bytes | bytearray = self._body or b""  # type: ignore[assignment]
        out, last = self._last_bytes(whole if type(whole) is bytes else bytes(whole))
        out.end(last)
        self._eof_sent = True
        return True

    def _send_plain_head(self, request: BaseRequest, writer: StreamWriter) -> bool:
        """``_set_length`` and ``_send_head`` for a response whose headers were never made.

        Its fields are what those two would add to its Content-Type, in their
        order (``_plain_fields``), sent without a CIMultiDict (made later, from
        them, if asked for: see ``_headers``). False, with nothing done, for
        what they handle otherwise: cookies, chunking, a response that must
        have no body.
        """
        status = self._status
        if self._cookies or self._chunked or _must_be_empty_body(request.method, status):
            return False
        version = request.version
        body: bytes | bytearray | None = self._body  # type: ignore[assignment]
        keep_alive = request.keep_alive if self._keep_alive is None else self._keep_alive
        reason = self._reason
        plain: object = (
            status,
            reason,
            self._ctype,
            0 if body is None else len(body),
            _DATE_VALUE.now(),
            _connection_field(keep_alive, version),
        )
        if version is _HTTP11:
            head = _PLAIN_HEADS.get(plain)
            if head is None:
                head = serialize_response_head(status, reason, _plain_fields(plain), version)
                if len(_PLAIN_HEADS) >= _PLAIN_HEADS_SIZE:
                    _PLAIN_HEADS.clear()
                _PLAIN_HEADS[plain] = head
        else:
            head = serialize_response_head(status, reason, _plain_fields(plain), version)
        self._keep_alive = keep_alive
        self._sent_plain = plain
        writer.buffer_headers(head)
        self._headers_sent = True
        return True

    async def _start(self, request: BaseRequest) -> StreamWriter:
        self._set_length(request)
        payload = self._payload
        if payload is None:
            return await super()._start(request)
        try:
            return await super()._start(request)
        except BaseException as exc:
            error = exc
        # No write_eof() will come to close it (a refused header, a failing hook).
        # Not in the ``except`` block: see write_eof.
        await payload.close()
        try:
            raise error
        finally:
            del error  # no cycle through the traceback's frame

    async def write_eof(self, data: bytes = b"") -> None:
        if data:
            raise ValueError("Response.write_eof() takes no data: set body or text instead")
        if self._eof_sent:
            return
        body = self._payload
        if body is None:
            # StreamResponse.write_eof's steps, without its coroutine: every response
            # with a bytes body (text, JSON) ends here.
            whole: bytes | bytearray = self._compressed_body or self._body or b""  # type: ignore[assignment]
            out, last = self._last_bytes(whole if type(whole) is bytes else bytes(whole))
            await out.write_eof(last)
            self._eof_sent = True
            return
        error: BaseException | None = None
        try:
            await self._write_payload(body)
        except BaseException as exc:
            error = exc
        # Written, failed half-way, cancelled or not needed (HEAD): a file is closed.
        # Not in a ``finally``: compiled by mypyc, an await there loses the exception,
        # or leaves it to be raised again by a later response (mypyc/mypyc#1114).
        await body.close()
        if error is not None:
            try:
                raise error
            finally:
                error = None  # no cycle through the traceback's frame

    async def _write_payload(self, body: Payload) -> None:
        if isinstance(body, BytesPayload):
            # In memory: with the held head in one write, as a bytes body.
            value = body.value
            await super().write_eof(value if isinstance(value, bytes) else bytes(value))
            return
        writer = self._payload_writer
        if writer is None:
            raise RuntimeError("Response has not been started")
        assert self._req is not None
        if not _must_be_empty_body(self._req.method, self._status):
            await body.write(_CountingSink(self, writer))
        await super().write_eof()

    async def _do_start_compression(self, request: BaseRequest, coding: ContentCoding) -> None:
        """The whole body is compressed at once (in an executor past zlib_executor_size).

        A chunked response, or a Payload body, is compressed as it streams (aiohttp's).
        """
        if self._chunked or self._payload is not None:
            await super()._do_start_compression(request, coding)
            return
        if not self._body or self._status < 200 or self._status in (204, 304):
            return  # nothing to compress
        compressor = ZLibCompressor(
            coding,
            strategy=self._compression_strategy,
            max_sync_size=self._zlib_executor_size,
            executor=self._zlib_executor,
        )
        body = bytes(cast("bytes | bytearray", self._body))  # _payload is None
        self._compressed_body = await compressor.compress(body) + compressor.flush()
        self._headers[CONTENT_ENCODING] = coding.value
        self._headers[CONTENT_LENGTH] = str(len(self._compressed_body))


own_abc_state(StreamResponse, Response)

# Response classes seen so far -> whether they are StreamResponses.
_RESPONSE_CLASSES: Final[dict[type, bool]] = {}


def is_response(obj: object) -> TypeGuard[StreamResponse]:
    """``isinstance(obj, StreamResponse)``, answered from a per-class cache.

    StreamResponse is a MutableMapping, so a plain ``isinstance`` of a subclass
    instance (every ``Response``) runs ABCMeta's Python-level
    ``__instancecheck__``: measurable when done for every request.
    """
    cls = type(obj)
    if cls is Response:  # most answers, settled without the table
        return True
    known = _RESPONSE_CLASSES.get(cls)
    if known is None:
        known = _RESPONSE_CLASSES[cls] = issubclass(cls, StreamResponse)
    return known
