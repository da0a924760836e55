"""The test client's response, its errors (aiohttp's names) and its request context manager."""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Coroutine, Generator
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from multidict import CIMultiDictProxy
from yarl import URL

from weft.http_parser import HttpVersion, ResponseHead
from weft.http_parser.streams import BodyStream

if TYPE_CHECKING:
    from ._client import _Connection

__all__ = [
    "AwaitOrEnter",
    "ClientConnectionError",
    "ClientError",
    "ClientPayloadError",
    "ClientResponse",
    "ClientResponseError",
    "ContentTypeError",
    "RequestInfo",
    "ServerDisconnectedError",
    "TooManyRedirects",
]

_T = TypeVar("_T")


# ---------------------------------------------------------------- errors (aiohttp's names)


class ClientError(Exception):
    """Base of every error this client raises."""


class ClientConnectionError(ClientError):
    """The connection could not be made or was lost."""


class ServerDisconnectedError(ClientConnectionError):
    """The server closed the connection before its response was complete."""

    def __init__(self, message: str = "Server disconnected") -> None:
        super().__init__(message)
        self.message = message


class ClientPayloadError(ClientError):
    """The response body could not be read (truncated, badly framed, badly coded)."""


class RequestInfo(NamedTuple):
    """What was sent: ``url`` (after redirects), ``method``, ``headers``, ``real_url``."""

    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class ClientResponseError(ClientError):
    """A response that is an error: ``status``, ``message`` (the reason), ``headers``."""

    def __init__(
        self,
        request_info: RequestInfo | None,
        history: tuple[ClientResponse, ...] = (),
        *,
        status: int = 0,
        message: str = "",
        headers: CIMultiDictProxy[str] | None = None,
    ) -> None:
        self.request_info = request_info
        self.history = history
        self.status = status
        self.message = message
        self.headers = headers
        url = request_info.real_url if request_info is not None else ""
        super().__init__(f"{status}, message={message!r}, url={str(url)!r}")


class ContentTypeError(ClientResponseError):
    """``json()`` on a response whose Content-Type is not the expected one."""


class TooManyRedirects(ClientResponseError):
    """More than ``max_redirects`` redirects in a row."""


# ---------------------------------------------------------------- the response


class _Done:
    """What ``release()`` returns: nothing to wait for, but ``await`` works (as in aiohttp)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


class ClientResponse:
    """A response: status and headers at once, the body read on demand.

    ``read()`` / ``text()`` / ``json()`` read the whole body (kept, so they
    can be called again); ``content`` is the body as a stream
    (``await resp.content.read(n)``, ``async for chunk in
    resp.content.iter_chunked(n)``). ``release()`` gives the connection back
    (closing it if the body was not all received); ``async with`` does it on
    exit.
    """

    def __init__(
        self,
        method: str,
        url: URL,
        head: ResponseHead,
        content: BodyStream,
        connection: _Connection,
        request_info: RequestInfo,
    ) -> None:
        self.method = method
        self.url = url
        self.real_url = url
        self.status = head.status
        self.reason = head.reason
        self.version: HttpVersion = head.version
        self.headers = head.headers
        self.raw_headers = head.raw_headers
        self.content = content
        self.request_info = request_info
        self.history: tuple[ClientResponse, ...] = ()
        self._connection: _Connection | None = connection
        self._body: bytes | None = None
        self._cookies: SimpleCookie | None = None

    def __repr__(self) -> str:
        return f"<ClientResponse({self.url}) [{self.status} {self.reason}]>"

    # -- head

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status < 400

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies this response set (its Set-Cookie fields)."""
        if self._cookies is None:
            cookies = SimpleCookie()
            for value in self.headers.getall("Set-Cookie", ()):
                try:
                    cookies.load(value)
                except CookieError:
                    continue
            self._cookies = cookies
        return self._cookies

    @property
    def content_type(self) -> str:
        """The media type without parameters, ``application/octet-stream`` when absent."""
        raw = self.headers.get("Content-Type")
        if raw is None:
            return "application/octet-stream"
        return raw.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The Content-Type's charset parameter, if any."""
        for param in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip('"') or None
        return None

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    def get_encoding(self) -> str:
        """The charset to decode text with: the declared one, else utf-8."""
        return self.charset or "utf-8"

    def raise_for_status(self) -> None:
        """Raise ClientResponseError for a status of 400 or more."""
        if self.status >= 400:
            self.release()
            raise ClientResponseError(
                self.request_info,
                self.history,
                status=self.status,
                message=self.reason,
                headers=self.headers,
            )

    # -- body

    async def read(self) -> bytes:
        """The whole body (decoded when it had a Content-Encoding this client knows)."""
        if self._body is None:
            try:
                self._body = await self.content.read()
            except BaseException:
                self.close()
                raise
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded with ``encoding`` (default: the charset, else utf-8)."""
        body = await self.read()
        return body.decode(encoding or self.get_encoding(), errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = _json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body as JSON; ContentTypeError unless the media type is ``content_type``.

        ``content_type=None`` skips the check; an empty body gives None.
        """
        body = await self.read()
        if content_type and not _expected_type(self.content_type, content_type):
            raise ContentTypeError(
                self.request_info,
                self.history,
                status=self.status,
                message=f"Attempt to decode JSON with unexpected mimetype: {self.content_type}",
                headers=self.headers,
            )
        stripped = body.strip()
        if not stripped:
            return None
        return loads(stripped.decode(encoding or self.get_encoding()))

    # -- the connection

    @property
    def closed(self) -> bool:
        return self._connection is None

    def release(self) -> Any:
        """Done with this response: its connection is reused, or closed if the body is unread.

        Returns an awaitable that does nothing, so ``await resp.release()``
        (aiohttp's older style) works as well as ``resp.release()``.
        """
        connection, self._connection = self._connection, None
        if connection is not None and not self.content.is_eof():
            connection.abort()
        return _Done()

    def close(self) -> None:
        """As release(): close the connection unless the body has fully arrived."""
        self.release()

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _expected_type(actual: str, expected: str) -> bool:
    if expected == "application/json":
        # application/json and application/<something>+json
        kind, _, sub = actual.partition("/")
        return kind == "application" and (sub == "json" or sub.endswith("+json"))
    return expected in actual


class AwaitOrEnter(Coroutine[Any, Any, _T]):
    """``await client.call(...)``, or ``async with client.call(...) as value`` (ended on exit).

    A coroutine itself, as aiohttp's ``_RequestContextManager``: it hands
    ``send``/``throw``/``close`` to the request's coroutine, so
    ``asyncio.create_task(client.get(...))`` and ``asyncio.ensure_future``
    take it as they take any coroutine.
    """

    __slots__ = ("_coro", "_value")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._value: _T | None = None

    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, _T]:
        return self.__await__()

    async def __aenter__(self) -> _T:
        self._value = await self._coro
        return self._value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._value is not None:
            await self._end(self._value)

    async def _end(self, value: _T) -> None:
        raise NotImplementedError


class _RequestContextManager(AwaitOrEnter[ClientResponse]):
    """``await session.get(...)`` or ``async with session.get(...) as resp`` (released on exit)."""

    __slots__ = ()

    async def _end(self, value: ClientResponse) -> None:
        value.release()


class _HTTPMethods:
    """``get``, ``post``, ... as ``request(METHOD, url, **kwargs)``, as aiohttp's clients.

    Shared by ClientSession (``url``) and TestClient (a path on its server).
    """

    #: ``request(method, url_or_path, **kwargs)``, defined by each client.
    request: Callable[..., _RequestContextManager]

    def get(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP GET request."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP POST request."""
        return self.request("POST", url, **kwargs)

    def put(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP PUT request."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP PATCH request."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP DELETE request."""
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP HEAD request."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Perform an HTTP OPTIONS request."""
        return self.request("OPTIONS", url, **kwargs)
