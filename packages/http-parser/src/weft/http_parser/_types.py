"""The values the parsers produce: the HTTP version, the heads and the events."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = [
    "END_OF_MESSAGE",
    "BodyChunk",
    "EndOfMessage",
    "Event",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "RawHeaders",
    "RequestHead",
    "ResponseEvent",
    "ResponseHead",
    "TargetForm",
]

RawHeaders: TypeAlias = tuple[tuple[bytes, bytes], ...]

#: How the request-target was written (RFC 9112 §3.2).
TargetForm: TypeAlias = Literal["origin", "absolute", "authority", "asterisk"]


class HttpVersion(NamedTuple):
    """An HTTP version: ``HttpVersion(1, 1)``."""

    major: int
    minor: int


HttpVersion10: Final = HttpVersion(1, 0)
HttpVersion11: Final = HttpVersion(1, 1)

_EMPTY_FIELDS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())


class RequestHead:
    """A parsed request-line and header section, as the first event of a request.

    ``raw_headers`` may be given as None: it is then rebuilt from ``headers``
    on first access (the parser does this, since most servers never ask).

    ``target`` is the request-target as sent; ``path`` and ``query_string`` are
    its raw (still percent-encoded) parts: for ``GET /a%20b?x=1`` they are
    ``"/a%20b"`` and ``"x=1"``. For the authority form (CONNECT) ``path`` is
    the authority, for the asterisk form (OPTIONS) it is ``"*"``; both have an
    empty ``query_string``. ``url`` is built from them on first access.
    """

    __slots__ = (
        "_raw_headers",
        "_url",
        "chunked",
        "content_encoding",
        "content_length",
        "expect_continue",
        "headers",
        "method",
        "path",
        "query_string",
        "should_close",
        "target",
        "target_form",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query_string: str,
        version: HttpVersion,
        headers: CIMultiDictProxy[str],
        raw_headers: RawHeaders | None,
        should_close: bool,
        chunked: bool,
        content_length: int | None,
        upgrade: bool,
        expect_continue: bool,
        content_encoding: str | None,
        target_form: TargetForm = "origin",
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query_string = query_string
        self.version = version
        self.headers = headers
        self._raw_headers = raw_headers
        self.should_close = should_close
        self.chunked = chunked
        self.content_length = content_length
        self.upgrade = upgrade
        self.expect_continue = expect_continue
        self.content_encoding = content_encoding
        self.target_form: TargetForm = target_form
        self._url: URL | None = None

    @property
    def raw_headers(self) -> RawHeaders:
        """The field lines as (name, value) bytes, as sent (values without surrounding OWS)."""
        raw = self._raw_headers
        if raw is None:
            raw = self._raw_headers = tuple(
                [
                    (k.encode("latin-1"), v.encode("utf-8", "surrogateescape"))
                    for k, v in self.headers.items()
                ]
            )
        return raw

    @property
    def url(self) -> URL:
        """The target as a ``yarl.URL`` (relative for the origin form), built once."""
        url = self._url
        if url is None:
            form = self.target_form
            if form == "origin":
                url = URL.build(path=self.path, query_string=self.query_string, encoded=True)
            elif form == "absolute":
                url = URL(self.target, encoded=True)
            elif form == "authority":
                url = URL.build(authority=self.target, encoded=True)
            else:
                url = URL.build(path="*", encoded=True)
            self._url = url
        return url

    def _key(self) -> tuple[object, ...]:
        return (
            self.method,
            self.target,
            self.path,
            self.query_string,
            self.version,
            self.raw_headers,
            self.should_close,
            self.chunked,
            self.content_length,
            self.upgrade,
            self.expect_continue,
            self.content_encoding,
            self.target_form,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestHead):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<RequestHead {self.method} {self.target} "
            f"HTTP/{self.version.major}.{self.version.minor} "
            f"headers={len(self.raw_headers)} close={self.should_close}>"
        )


class ResponseHead:
    """A parsed status-line and header section, as the first event of a response.

    ``status`` is the three-digit code, ``reason`` the reason-phrase as sent
    (possibly empty: clients must not rely on it, RFC 9112 §4).
    ``content_length`` is the header's value even where the response has no
    body (a response to HEAD, a 304); ``chunked`` is True only when the body
    really is chunked. A 1xx head is informational: no body and no
    ``EndOfMessage`` follows it, the final response comes next.
    """

    __slots__ = (
        "chunked",
        "content_encoding",
        "content_length",
        "headers",
        "raw_headers",
        "reason",
        "should_close",
        "status",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        version: HttpVersion,
        status: int,
        reason: str,
        headers: CIMultiDictProxy[str],
        raw_headers: RawHeaders,
        should_close: bool,
        chunked: bool,
        content_length: int | None,
        upgrade: bool,
        content_encoding: str | None,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.raw_headers = raw_headers
        self.should_close = should_close
        self.chunked = chunked
        self.content_length = content_length
        self.upgrade = upgrade
        self.content_encoding = content_encoding

    def _key(self) -> tuple[object, ...]:
        return (
            self.version,
            self.status,
            self.reason,
            self.raw_headers,
            self.should_close,
            self.chunked,
            self.content_length,
            self.upgrade,
            self.content_encoding,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseHead):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<ResponseHead HTTP/{self.version.major}.{self.version.minor} {self.status} "
            f"{self.reason} headers={len(self.raw_headers)} close={self.should_close}>"
        )


class BodyChunk:
    """A part of a message's body, in order; the parts concatenated are the body."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BodyChunk):
            return NotImplemented
        return self.data == other.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BodyChunk({self.data!r})"


class EndOfMessage:
    """The message is complete; ``trailers`` holds a chunked body's trailer fields."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: CIMultiDictProxy[str] = _EMPTY_FIELDS) -> None:
        self.trailers = trailers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EndOfMessage):
            return NotImplemented
        return list(self.trailers.items()) == list(other.trailers.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EndOfMessage(trailers={list(self.trailers.items())!r})"


#: The EndOfMessage of every message without trailers: one shared instance,
#: since nothing in it varies (the parsers do not allocate one per message).
END_OF_MESSAGE: Final = EndOfMessage()

#: What ``RequestParser.feed`` returns a list of.
Event: TypeAlias = RequestHead | BodyChunk | EndOfMessage
#: What ``ResponseParser.feed`` returns a list of.
ResponseEvent: TypeAlias = ResponseHead | BodyChunk | EndOfMessage
