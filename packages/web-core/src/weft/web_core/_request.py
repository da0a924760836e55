"""BaseRequest and Request: a request head plus its body stream, read lazily.

Nothing is parsed until asked for: the URL, query, cookies and content type
are computed on first access and cached, so a handler that reads nothing
costs nothing beyond the parser's head (DESIGN.md, "the request path").

The cached values are explicit attributes (None: not computed yet; a value
that may be None is kept in a 1-tuple), not ``functools.cached_property``:
its descriptor runs Python code (and takes a lock) on every first access, and
the module is compiled by mypyc, whose classes have no instance ``__dict__``
for it to write to. Like aiohttp's ``reify``, they are read-only.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, TypeVar, cast, overload

from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from weft.http_parser import HttpVersion, RequestHead
from weft.http_parser.streams import BodyStream
from weft.web_exceptions import HTTPRequestEntityTooLarge

from ._compiled import is_native, mypyc_attr, own_abc_state
from ._conditional import ETag, parse_etag_list, parse_http_date, parse_range
from ._form import POST_METHODS, FileField, PostValue, read_post
from ._forwarded import parse_forwarded
from ._hdrs import HOST
from ._helpers import ChainMapProxy, parse_content_type
from ._json_decode import LOADS
from ._json_decode import decode as decode_json
from ._keys import RequestKey, warn_untyped_key
from ._multipart import MultipartReader
from ._request_cookies import parse_cookie_header
from ._response import _NO_STATE
from ._types import LooseHeaders

if TYPE_CHECKING:
    from weft.web_routing import UrlMappingMatchInfo

    from ._app import Application
    from ._response import StreamResponse
    from ._signals import Signal
    from ._writer import StreamWriter

__all__ = ["BaseRequest", "Request", "RequestProtocol"]

_T = TypeVar("_T")
_D = TypeVar("_D")

# A compiled __setitem__ has no Python frame, which a warning's stack level counts.
_KEY_WARNING_LEVEL: Final = 2 if is_native(__file__) else 3


class RequestProtocol(Protocol):
    """What a request needs of the connection it arrived on.

    Its class may also define ``get_extra_info(name, default)``, the
    transport's extra info: the request then reads the client's address,
    the local address and the TLS context through it (``_extra_info``).
    """

    @property
    def transport(self) -> asyncio.Transport | None: ...


@mypyc_attr(allow_interpreted_subclasses=True)
class BaseRequest(MutableMapping[str | RequestKey[Any], Any]):
    """An HTTP request as a handler sees it."""

    #: The methods whose body ``post()`` reads (a subclass may change them).
    POST_METHODS: ClassVar[frozenset[str]] = POST_METHODS

    # The lazily computed values (see the module's docstring): None until asked for.
    _rel_url: URL | None = None
    _url: URL | None = None
    _host: str | None = None
    _scheme: str | None = None
    _remote: tuple[str | None] | None = None
    _forwarded: tuple[MappingProxyType[str, str], ...] | None = None
    _cookies: Mapping[str, str] | None = None
    _if_modified_since: tuple[datetime.datetime | None] | None = None
    _if_unmodified_since: tuple[datetime.datetime | None] | None = None
    _if_range: tuple[datetime.datetime | None] | None = None
    _if_match: tuple[tuple[ETag, ...] | None] | None = None
    _if_none_match: tuple[tuple[ETag, ...] | None] | None = None

    #: Keys other than RequestKeys already warned about, for the whole process, as
    #: aiohttp's: a middleware stores the same key in every request, and a warning
    #: per request would bury every other.
    _seen_str_keys: ClassVar[set[Any]] = set()

    def __init__(
        self,
        head: RequestHead,
        payload: BodyStream,
        protocol: RequestProtocol,
        payload_writer: StreamWriter,
        task: asyncio.Task[None] | None,
        loop: asyncio.AbstractEventLoop,
        *,
        client_max_size: int = 1048576,  # 1024**2 written out: mypyc then signs __init__
        client_max_fields: int = 1000,
        state: dict[str | RequestKey[Any], Any] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
    ) -> None:
        self._head = head
        self._payload = payload
        self._protocol = protocol
        self._payload_writer = payload_writer
        self._task = task
        self._loop = loop
        self._client_max_size = client_max_size
        self._client_max_fields = client_max_fields
        # Made by the first write (_own_state): most requests store nothing.
        self._state: dict[str | RequestKey[Any], Any] | None = state
        self._read_bytes: bytes | None = None
        if scheme is not None or host is not None or remote is not None:
            self._override(scheme, host, remote)

    def _override(self, scheme: str | None, host: str | None, remote: str | None) -> None:
        """Fix what a proxy-aware middleware learnt: it replaces the cached values."""
        if scheme is not None:
            self._scheme = scheme
        if host is not None:
            self._host = host
        if remote is not None:
            self._remote = (remote,)

    # -- the request line and headers

    @property
    def method(self) -> str:
        return self._head.method

    @property
    def version(self) -> HttpVersion:
        return self._head.version

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._head.headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self._head.raw_headers

    @property
    def raw_path(self) -> str:
        """The request target as sent, not decoded: ``/a%20b?x=1``."""
        return self._head.target

    @property
    def rel_url(self) -> URL:
        """The path and query as a relative URL."""
        url = self._rel_url
        if url is None:
            head = self._head
            url = self._rel_url = URL.build(
                path=head.path, query_string=head.query_string, encoded=True
            )
        return url

    @property
    def url(self) -> URL:
        """The absolute URL: the scheme from the connection, the host as ``host``."""
        url = self._url
        if url is None:
            url = URL.build(scheme=self.scheme, authority=self.host).join(self.rel_url)
            self._url = url
        return url

    @property
    def path(self) -> str:
        """The decoded path: ``/a b``."""
        raw = self._head.path
        return raw if "%" not in raw else self.rel_url.path

    @property
    def path_qs(self) -> str:
        return str(self.rel_url)

    @property
    def query(self) -> MultiDictProxy[str]:
        return self.rel_url.query

    @property
    def query_string(self) -> str:
        return self.rel_url.query_string

    @property
    def host(self) -> str:
        """``host[:port]`` the request is for, as the client wrote it.

        From an absolute-form target when there is one (RFC 9112 §3.2.2: the
        server must then ignore Host, so that a proxy routing by the target and
        this app agree on the host), else the Host header. Without either
        (HTTP/1.0), as aiohttp 3.14: the address the request arrived on, an
        IPv6 one bracketed as in a Host field, or the unix socket's path; ""
        when the transport does not say. The scheme never comes from the target.
        """
        host = self._host
        if host is None:
            host = self._host = self._find_host()
        return host

    def _find_host(self) -> str:
        host = self._routing_host()
        if host is not None:
            return host
        local = self._extra_info("sockname")
        if isinstance(local, (list, tuple)):
            return f"[{local[0]}]" if len(local) == 4 else str(local[0])
        return "" if local is None else str(local)

    def _routing_host(self) -> str | None:
        """The authority routing uses (domain sub-apps): the target's or Host."""
        head = self._head
        if head.target_form == "absolute":
            return head.url.raw_authority
        return head.headers.get(HOST)

    @property
    def scheme(self) -> str:
        scheme = self._scheme
        if scheme is None:
            secure = self._extra_info("sslcontext") is not None
            scheme = self._scheme = "https" if secure else "http"
        return scheme

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def remote(self) -> str | None:
        """The peer's address: an IP for TCP, the socket path or None otherwise."""
        remote = self._remote
        if remote is None:
            remote = self._remote = (self._find_remote(),)
        return remote[0]

    def _find_remote(self) -> str | None:
        peer = self._extra_info("peername")
        if isinstance(peer, (list, tuple)):
            return str(peer[0])
        return None if peer is None else str(peer)

    @property
    def forwarded(self) -> tuple[MappingProxyType[str, str], ...]:
        """The Forwarded headers (RFC 7239): one mapping per proxy, nearest last."""
        forwarded = self._forwarded
        if forwarded is None:
            forwarded = parse_forwarded(self._head.headers.getall("Forwarded", ()))
            self._forwarded = forwarded
        return forwarded

    @property
    def keep_alive(self) -> bool:
        return not self._head.should_close

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport

    @property
    def writer(self) -> StreamWriter:
        """The writer the response to this request goes through."""
        return self._payload_writer

    @property
    def protocol(self) -> RequestProtocol:
        return self._protocol

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The connection's transport extra info (``peername``, ``sslcontext``...)."""
        return self._extra_info(name, default)

    def _extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's extra info, ``default`` without a transport.

        Through the protocol's own ``get_extra_info`` when its class has one:
        web-runner's reads it without first sending the answers it holds until
        the loop turns, which asking for ``protocol.transport`` does (an access
        log reads the client's address after every answer). Looked up on the
        class, so that a mock protocol's made-up attributes are not taken for it.
        """
        protocol = self._protocol
        own = getattr(type(protocol), "get_extra_info", None)
        if own is not None:
            return own(protocol, name, default)
        transport = protocol.transport
        return default if transport is None else transport.get_extra_info(name, default)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def client_max_size(self) -> int:
        return self._client_max_size

    @property
    def client_max_fields(self) -> int:
        """Most fields ``post()`` accepts; 0: no limit."""
        return self._client_max_fields

    @property
    def cookies(self) -> Mapping[str, str]:
        """Cookies of the Cookie header; a malformed pair is skipped, the others kept."""
        cookies = self._cookies
        if cookies is None:
            parsed = parse_cookie_header(self._head.headers.get("Cookie", ""))
            cookies = self._cookies = MappingProxyType(parsed)
        return cookies

    # -- content headers

    @property
    def content_type(self) -> str:
        """The media type; application/octet-stream when absent (RFC 9110 §8.3)."""
        raw = self._head.headers.get("Content-Type")
        return "application/octet-stream" if raw is None else parse_content_type(raw)[0]

    @property
    def charset(self) -> str | None:
        raw = self._head.headers.get("Content-Type")
        # Parameters come after a ";": without one there is no charset to parse.
        return None if raw is None or ";" not in raw else parse_content_type(raw)[1].get("charset")

    @property
    def content_length(self) -> int | None:
        return self._head.content_length

    # -- conditional requests and ranges (RFC 9110 §13, §14; parsed in _conditional)

    @property
    def if_modified_since(self) -> datetime.datetime | None:
        """If-Modified-Since as an aware UTC datetime; None when absent or not a date."""
        cached = self._if_modified_since
        if cached is None:
            value = parse_http_date(self._head.headers.get("If-Modified-Since"))
            cached = self._if_modified_since = (value,)
        return cached[0]

    @property
    def if_unmodified_since(self) -> datetime.datetime | None:
        """If-Unmodified-Since as an aware UTC datetime; None when absent or not a date."""
        cached = self._if_unmodified_since
        if cached is None:
            value = parse_http_date(self._head.headers.get("If-Unmodified-Since"))
            cached = self._if_unmodified_since = (value,)
        return cached[0]

    @property
    def if_range(self) -> datetime.datetime | None:
        """If-Range as a datetime; None when absent or an entity tag (as aiohttp)."""
        cached = self._if_range
        if cached is None:
            cached = self._if_range = (parse_http_date(self._head.headers.get("If-Range")),)
        return cached[0]

    @property
    def if_match(self) -> tuple[ETag, ...] | None:
        """If-Match as a tuple of ETag (``*`` is ``(ETag("*"),)``); None when absent."""
        cached = self._if_match
        if cached is None:
            cached = self._if_match = (parse_etag_list(self._head.headers.get("If-Match")),)
        return cached[0]

    @property
    def if_none_match(self) -> tuple[ETag, ...] | None:
        """If-None-Match as a tuple of ETag (``*`` is ``(ETag("*"),)``); None when absent."""
        cached = self._if_none_match
        if cached is None:
            value = parse_etag_list(self._head.headers.get("If-None-Match"))
            cached = self._if_none_match = (value,)
        return cached[0]

    @property
    def http_range(self) -> slice:
        """Range as a slice (``bytes=0-99`` → ``slice(0, 100, 1)``); ValueError when malformed."""
        return parse_range(self._head.headers.get("Range"))

    # -- the body

    # Set by the default expect handler: "100 Continue" goes out when the body is first asked for.
    _continue_pending = False

    @property
    def content(self) -> BodyStream:
        """The body as a stream, for reading it piece by piece.

        Asking for it answers a pending ``Expect: 100-continue`` (RFC 9110
        §10.1.1): the client sends the body only once the handler wants it.
        """
        if self._continue_pending:
            self._send_continue()
        return self._payload

    def _send_continue(self) -> None:
        self._continue_pending = False
        transport = self._protocol.transport
        if transport is not None and not transport.is_closing():
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    @property
    def body_exists(self) -> bool:
        head = self._head
        return head.chunked or bool(head.content_length)

    @property
    def can_read_body(self) -> bool:
        return not self._payload.at_eof()

    @property
    def has_body(self) -> bool:
        """Deprecated alias of ``can_read_body`` (as in aiohttp)."""
        warnings.warn("Deprecated, use .can_read_body", DeprecationWarning, stacklevel=2)
        return self.can_read_body

    async def read(self) -> bytes:
        """The whole body; 413 once it would exceed client_max_size."""
        if self._read_bytes is None:
            limit = self._client_max_size
            declared = self._head.content_length
            if limit and declared is not None and declared > limit:
                raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
            chunks: list[bytes] = []
            size = 0
            payload = self.content
            while True:
                # A body that has all arrived (a small one comes with its head) is
                # taken as it is buffered, with no coroutine of the stream's.
                chunk = payload.read_nowait() if payload.is_eof() else await payload.readany()
                if not chunk:
                    break
                size += len(chunk)
                if limit and size > limit:
                    raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
                chunks.append(chunk)
            self._read_bytes = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._read_bytes

    async def text(self) -> str:
        """The body decoded with its charset (UTF-8 when none is given)."""
        body = await self.read()
        return body.decode(self.charset or "utf-8")

    async def json(self, *, loads: Callable[[str], Any] = json.loads) -> Any:
        """The body parsed as JSON."""
        text = await self.text()
        return decode_json(text) if loads is LOADS else loads(text)

    async def release(self) -> None:
        """Read and discard the rest of the body (not asking for one still expected)."""
        if self._continue_pending:
            return
        while await self._payload.readany():
            pass

    # -- forms and multipart (the work is in _form.py and _multipart.py)

    _post: MultiDictProxy[PostValue] | None = None

    async def multipart(self) -> MultipartReader:
        """A streaming reader of a multipart body (``async for part in reader``)."""
        return MultipartReader(
            self._head.headers,
            self.content,
            client_max_size=self._client_max_size or sys.maxsize,
            max_size_error_cls=HTTPRequestEntityTooLarge,
        )

    async def post(self) -> MultiDictProxy[PostValue]:
        """The urlencoded or multipart/form-data form (read once, cached); empty otherwise."""
        if self._post is None:
            self._post = await read_post(self, self._client_max_fields)
        return self._post

    def _finish(self) -> None:
        """Called by the server once the response is sent: close post()'s uploaded files.

        Their data lives in temporary files; a handler that keeps a ``FileField``
        past the response must copy what it needs first (as with aiohttp).
        """
        if self._post is not None:
            for value in self._post.values():
                if isinstance(value, FileField):
                    value.file.close()

    async def _prepare_hook(self, response: StreamResponse) -> None:
        """Called when a response starts; Request sends on_response_prepare."""

    def _prepare_silent(self) -> bool:
        """Whether ``_prepare_hook`` does nothing for this request (no callback to send)."""
        return True

    def clone(
        self,
        *,
        method: str | None = None,
        rel_url: str | URL | None = None,
        headers: LooseHeaders | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
        client_max_size: int | None = None,
        client_max_fields: int | None = None,
    ) -> BaseRequest:
        """A copy with another method, URL, headers, scheme, host or remote address.

        Body, connection and state are shared. As aiohttp's: the clone reads
        the same body stream, so read it once; ``scheme``, ``host`` and
        ``remote`` given here are what the clone reports (and its ``url``).
        """
        if self._read_bytes:
            raise RuntimeError("Cannot clone request after reading its content")
        head = self._head
        path, query_string, target = head.path, head.query_string, head.target
        if rel_url is not None:
            url = URL(rel_url) if isinstance(rel_url, str) else rel_url
            if url.is_absolute():
                raise ValueError("rel_url must be a relative URL (path and query)")
            path, query_string = url.raw_path, url.raw_query_string
            target = path + ("?" + query_string if query_string else "")
        new_headers = head.headers if headers is None else CIMultiDictProxy(CIMultiDict(headers))
        new_head = RequestHead(
            method if method is not None else head.method,
            target,
            path,
            query_string,
            head.version,
            new_headers,
            None if headers is not None else head.raw_headers,
            head.should_close,
            head.chunked,
            head.content_length,
            head.upgrade,
            head.expect_continue,
            head.content_encoding,
            head.target_form,
        )
        cls = type(self)
        clone = cls.__new__(cls)
        # What a subclass or a middleware added (every attribute, in the pure build).
        # Compiled, the instance dict is made on the first such attribute: none yet
        # is an AttributeError.
        added: dict[str, Any] | None = getattr(self, "__dict__", None)
        if added:
            for name, value in added.items():
                setattr(clone, name, value)
        self._copy_into(clone)
        clone._head = new_head
        clone._state = None if self._state is None else self._state.copy()
        if client_max_size is not None:
            clone._client_max_size = client_max_size
        if client_max_fields is not None:
            clone._client_max_fields = client_max_fields
        clone._override(scheme, host, remote)
        return clone

    def _copy_into(self, clone: BaseRequest) -> None:
        """Give ``clone`` this request's attributes; the lazily computed ones it
        computes again for itself (from its own head, scheme, host)."""
        clone._head = self._head
        clone._payload = self._payload
        clone._protocol = self._protocol
        clone._payload_writer = self._payload_writer
        clone._task = self._task
        clone._loop = self._loop
        clone._client_max_size = self._client_max_size
        clone._client_max_fields = self._client_max_fields
        clone._state = self._own_state()  # shared, as the request's own
        clone._read_bytes = self._read_bytes
        clone._continue_pending = self._continue_pending
        clone._post = self._post
        clone._rel_url = clone._url = clone._host = clone._scheme = None
        clone._remote = clone._forwarded = clone._cookies = None
        clone._if_modified_since = clone._if_unmodified_since = clone._if_range = None
        clone._if_match = clone._if_none_match = None

    # -- per-request storage (RequestKey-typed, as aiohttp's)

    # The implementations take any key, as aiohttp's mapping does (a key that is
    # neither str nor RequestKey is stored, with a warning): compiled, an
    # annotation is checked at run time.
    @overload
    def __getitem__(self, key: RequestKey[_T]) -> _T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: Any) -> Any:
        return (self._state or _NO_STATE)[key]

    @overload
    def __setitem__(self, key: RequestKey[_T], value: _T) -> None: ...
    @overload
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __setitem__(self, key: Any, value: Any) -> None:
        # aiohttp's test (not a RequestKey, not seen), ordered for speed: a typed key
        # is settled by its exact type, a str key seen before by the set, and only
        # the rest pay for a failing isinstance().
        if (
            type(key) is not RequestKey
            and key not in BaseRequest._seen_str_keys
            and not isinstance(key, RequestKey)
        ):
            warn_untyped_key(
                BaseRequest._seen_str_keys,
                key,
                "RequestKey",
                "request-s-storage",
                _KEY_WARNING_LEVEL,
            )
        self._own_state()[key] = value

    @overload  # type: ignore[override]
    def get(self, key: RequestKey[_T], default: None = None) -> _T | None: ...
    @overload
    def get(self, key: RequestKey[_T], default: _D) -> _T | _D: ...
    @overload
    def get(self, key: str, default: Any = None) -> Any: ...
    def get(self, key: Any, default: Any = None) -> Any:
        # Typed for RequestKey as __getitem__ is (Mapping.get's value type is Any).
        return (self._state or _NO_STATE).get(key, default)

    def __delitem__(self, key: Any) -> None:
        del (self._state or _NO_STATE)[key]  # absent from an empty one: KeyError

    def __len__(self) -> int:
        return len(self._state or _NO_STATE)

    def __iter__(self) -> Iterator[str | RequestKey[Any]]:
        return iter(self._state or _NO_STATE)

    def _own_state(self) -> dict[str | RequestKey[Any], Any]:
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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.raw_path} >"


@mypyc_attr(allow_interpreted_subclasses=True)
class Request(BaseRequest):
    """A request routed by an Application: it knows its match info and app."""

    _match_info: UrlMappingMatchInfo | None = None
    #: Set by the app that routed the request when no app of its tree has an
    #: on_response_prepare callback: then no match's apps need be asked.
    _apps_silent = False

    def _copy_into(self, clone: BaseRequest) -> None:
        super()._copy_into(clone)
        if isinstance(clone, Request):
            clone._match_info = self._match_info

    @property
    def match_info(self) -> UrlMappingMatchInfo:
        """The route's variables and the matched route (set by routing)."""
        if self._match_info is None:
            raise RuntimeError("match_info is not set: the request has not been routed")
        return self._match_info

    @property
    def app(self) -> Application:
        """The application whose route answers this request."""
        return cast("Application", self.match_info.current_app)

    @property
    def config_dict(self) -> ChainMapProxy:
        """The state of ``request.app`` and of the apps around it, innermost first (read-only).

        In a parent app's middleware that is the parent's chain, as in aiohttp,
        since the middleware belongs to the parent. Unlike aiohttp's, it is not
        cached by the first reader: the sub-app's handler still sees its own.
        """
        apps, current = self.match_info.apps, self.match_info.current_app
        chain = apps[: apps.index(current) + 1] if current in apps else apps
        return ChainMapProxy([cast("Application", app) for app in reversed(chain)])

    def _prepare_silent(self) -> bool:
        match_info = self._match_info
        if match_info is None or self._apps_silent:
            return True
        return all(app._response_prepare_silent for app in match_info.apps)  # type: ignore[attr-defined]

    async def _prepare_hook(self, response: StreamResponse) -> None:
        match_info = self._match_info
        if match_info is None:
            return
        for app in match_info.apps:
            # Most apps have no callback: no coroutine per app and response then
            # (an unfrozen signal still goes to send(), which refuses it).
            if not app._response_prepare_silent:  # type: ignore[attr-defined]
                signal: Signal[Any] = app.on_response_prepare  # type: ignore[attr-defined]
                await signal.send(self, response)


own_abc_state(BaseRequest, Request)
