"""``HTTPException``: the root of the hierarchy, a plain exception that describes a response.

It holds what a framework needs to answer with it (status, reason, headers,
body, cookies) but sends nothing itself.
"""

from __future__ import annotations

import re
import warnings
from http import HTTPStatus
from typing import Any, ClassVar

from multidict import CIMultiDict

from ._cookies import ResponseCookies
from ._typedefs import LooseHeaders

__all__ = ["HTTPException", "reason_phrase"]

_REASONS: dict[int, str] = {status.value: status.phrase for status in HTTPStatus}

_CONTENT_TYPE = "Content-Type"
_CTL_BUT_HTAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_OCTET_STREAM = "application/octet-stream"


def reason_phrase(status: int) -> str:
    """Return the standard reason phrase of ``status`` (``""`` for an unknown code)."""
    return _REASONS.get(status, "")


def _parse_content_type(raw: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type value into the lower-cased media type and its parameters."""
    if raw is None:
        return _OCTET_STREAM, {}
    main, _, rest = raw.partition(";")
    media_type = main.strip().lower()
    if media_type.count("/") != 1:
        media_type = _OCTET_STREAM
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not key or not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[key] = value
    return media_type, params


def _format_content_type(media_type: str, params: dict[str, str]) -> str:
    return "; ".join([media_type, *(f"{key}={value}" for key, value in params.items())])


def _restore(
    cls: type[HTTPException], args: tuple[Any, ...], state: dict[str, Any]
) -> HTTPException:
    """Rebuild a pickled exception without calling its (keyword-only) constructor."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class HTTPException(Exception):
    """An HTTP response status raised (or returned) as an exception.

    Subclasses set ``status_code``; ``empty_body`` marks the statuses whose
    responses never carry a body (204, 205, 304).  Without ``text`` or
    ``body`` the body is ``"<status>: <reason>"`` as ``text/plain; charset=utf-8``.
    """

    status_code: ClassVar[int] = -1
    empty_body: ClassVar[bool] = False
    # Lets code tell these apart from other exceptions without importing the class.
    __http_exception__: ClassVar[bool] = True

    def __init__(
        self,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: Any = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if reason is None:
            reason = reason_phrase(self.status_code)
        elif _CTL_BUT_HTAB.search(reason) is not None:
            # CR/LF would split the response (aiohttp's CVE-2026-34519); any CTL but
            # HTAB is invalid in a reason phrase (RFC 9112 §4).
            raise ValueError(f"Reason cannot contain control characters: {reason!r}")
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")

        self._reason = reason
        self._headers: CIMultiDict[str] = CIMultiDict() if headers is None else CIMultiDict(headers)
        self._body: bytes | None = None
        self._cookies: ResponseCookies | None = None
        super().__init__(reason)

        if content_type is not None:
            if _CONTENT_TYPE in self._headers:
                raise ValueError(
                    "passing both Content-Type header and content_type param is forbidden"
                )
            self._headers[_CONTENT_TYPE] = content_type

        if self.empty_body:
            if body is not None or text is not None:
                self._warn_no_body()
            return
        if body is not None:
            warnings.warn(
                "body argument is deprecated for http web exceptions, use text",
                DeprecationWarning,
                stacklevel=2,
            )
            self.body = body
        else:
            if text is None:
                text = f"{self.status_code}: {reason}"
            elif not isinstance(text, str):
                raise TypeError(f"text argument must be str ({type(text)!r})")
            if _CONTENT_TYPE in self._headers:
                self.text = text
            else:
                # The common case, without parsing a Content-Type we just chose.
                self._headers[_CONTENT_TYPE] = "text/plain; charset=utf-8"
                self._body = text.encode()

    def _warn_no_body(self) -> None:
        warnings.warn(
            f"{type(self).__name__} ({self.status_code}) responses have no body; "
            "the text/body given is ignored",
            DeprecationWarning,
            stacklevel=3,
        )

    # ------------------------------------------------------------------ status line

    @property
    def status(self) -> int:
        """The HTTP status code (same as ``status_code``)."""
        return self.status_code

    @property
    def reason(self) -> str:
        """The reason phrase: the one given, else the standard phrase of the status."""
        return self._reason

    @property
    def prepared(self) -> bool:
        """Always False: an exception is never sent itself, the framework answers with a
        response made from it. aiohttp 3's exceptions are responses, and middlewares
        written for them (aiohttp-session's) ask a raised one whether its head went out."""
        return False

    # ------------------------------------------------------------------ headers

    @property
    def headers(self) -> CIMultiDict[str]:
        """The response headers (mutable)."""
        return self._headers

    @property
    def content_type(self) -> str:
        """The media type of the Content-Type header, ``application/octet-stream`` if unset."""
        return _parse_content_type(self._headers.get(_CONTENT_TYPE))[0]

    @content_type.setter
    def content_type(self, value: str) -> None:
        _, params = _parse_content_type(self._headers.get(_CONTENT_TYPE))
        self._headers[_CONTENT_TYPE] = _format_content_type(str(value), params)

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the Content-Type header, if any."""
        return _parse_content_type(self._headers.get(_CONTENT_TYPE))[1].get("charset")

    @charset.setter
    def charset(self, value: str | None) -> None:
        media_type, params = _parse_content_type(self._headers.get(_CONTENT_TYPE))
        if media_type == _OCTET_STREAM:
            raise RuntimeError(
                "Setting charset for application/octet-stream "
                "doesn't make sense, setup content_type first"
            )
        if value is None:
            params.pop("charset", None)
        else:
            params["charset"] = str(value).lower()
        self._headers[_CONTENT_TYPE] = _format_content_type(media_type, params)

    # ------------------------------------------------------------------ body

    @property
    def body(self) -> bytes | None:
        """The encoded body, or ``None`` (always ``None`` when ``empty_body``)."""
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        if value is None:
            self._body = None
            return
        if self.empty_body:
            self._warn_no_body()
            return
        if isinstance(value, bytes | bytearray | memoryview):
            self._body = bytes(value)
        elif isinstance(value, str):
            if _CONTENT_TYPE not in self._headers:
                self._headers[_CONTENT_TYPE] = "text/plain; charset=utf-8"
            self._body = value.encode(self.charset or "utf-8")
        else:
            raise TypeError(
                f"body must be bytes, bytearray, memoryview or str, not {type(value).__name__}"
            )

    @property
    def text(self) -> str | None:
        """The body decoded with the charset of Content-Type (UTF-8 by default), or ``None``."""
        if self._body is None:
            return None
        return self._body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"text must be str, not {type(value).__name__}")
        if self.empty_body:
            self._warn_no_body()
            return
        if self.content_type == _OCTET_STREAM:
            self.content_type = "text/plain"
        if self.charset is None:
            self.charset = "utf-8"
        self._body = value.encode(self.charset or "utf-8")

    # ------------------------------------------------------------------ cookies

    def set_cookie_headers(self) -> list[str]:
        """The Set-Cookie header values to send (empty, and cheap, without cookies)."""
        return [] if not self._cookies else self._cookies.header_values()

    @property
    def cookies(self) -> ResponseCookies:
        """The cookies this response sets (created empty on first access)."""
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
        """Set or update a response cookie (see ``ResponseCookies.set_cookie``)."""
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
        """Make the client delete a cookie (see ``ResponseCookies.del_cookie``)."""
        self.cookies.del_cookie(
            name, domain=domain, path=path, secure=secure, httponly=httponly, samesite=samesite
        )

    # ------------------------------------------------------------------ misc

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}: {self._reason}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, self.__dict__.copy()))
