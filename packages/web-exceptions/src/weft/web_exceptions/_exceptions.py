"""The HTTP exception hierarchy of ``aiohttp.web``, as plain exceptions.

Each class is one response status.  Raise one from a handler and the framework
(weft's web-core, or any other that knows these classes) answers with its
status, reason, headers, body and cookies.  The tree::

    Exception
     └── HTTPException
          ├── HTTPSuccessful                       2xx
          │    ├── HTTPOk                           200
          │    ├── HTTPCreated                      201
          │    ├── HTTPAccepted                     202
          │    ├── HTTPNonAuthoritativeInformation  203
          │    ├── HTTPNoContent                    204  (empty body)
          │    ├── HTTPResetContent                 205  (empty body)
          │    └── HTTPPartialContent               206
          ├── HTTPRedirection                      3xx
          │    ├── HTTPMove                         (takes ``location``, sets Location)
          │    │    ├── HTTPMultipleChoices         300
          │    │    ├── HTTPMovedPermanently        301
          │    │    ├── HTTPFound                   302
          │    │    ├── HTTPSeeOther                303
          │    │    ├── HTTPUseProxy                305
          │    │    ├── HTTPTemporaryRedirect       307
          │    │    └── HTTPPermanentRedirect       308
          │    └── HTTPNotModified                  304  (empty body)
          └── HTTPError                            4xx and 5xx
               ├── HTTPClientError                 4xx
               │    ├── HTTPBadRequest              400
               │    ├── HTTPUnauthorized            401
               │    ├── HTTPPaymentRequired         402
               │    ├── HTTPForbidden               403
               │    ├── HTTPNotFound                404
               │    ├── HTTPMethodNotAllowed        405  (method, allowed_methods; sets Allow)
               │    ├── HTTPNotAcceptable           406
               │    ├── HTTPProxyAuthenticationRequired  407
               │    ├── HTTPRequestTimeout          408
               │    ├── HTTPConflict                409
               │    ├── HTTPGone                    410
               │    ├── HTTPLengthRequired          411
               │    ├── HTTPPreconditionFailed      412
               │    ├── HTTPRequestEntityTooLarge   413  (max_size, actual_size)
               │    ├── HTTPRequestURITooLong       414
               │    ├── HTTPUnsupportedMediaType    415
               │    ├── HTTPRequestRangeNotSatisfiable  416
               │    ├── HTTPExpectationFailed       417
               │    ├── HTTPMisdirectedRequest      421
               │    ├── HTTPUnprocessableEntity     422
               │    ├── HTTPFailedDependency        424
               │    ├── HTTPUpgradeRequired         426
               │    ├── HTTPPreconditionRequired    428
               │    ├── HTTPTooManyRequests         429
               │    ├── HTTPRequestHeaderFieldsTooLarge  431
               │    └── HTTPUnavailableForLegalReasons   451  (link; sets Link)
               └── HTTPServerError                 5xx
                    ├── HTTPInternalServerError     500
                    ├── HTTPNotImplemented          501
                    ├── HTTPBadGateway              502
                    ├── HTTPServiceUnavailable      503
                    ├── HTTPGatewayTimeout          504
                    ├── HTTPVersionNotSupported     505
                    ├── HTTPVariantAlsoNegotiates   506
                    ├── HTTPInsufficientStorage     507
                    ├── HTTPNotExtended             510
                    └── HTTPNetworkAuthenticationRequired  511
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yarl import URL

from ._base import HTTPException
from ._typedefs import LooseHeaders, StrOrURL


class HTTPError(HTTPException):
    """Base class of the 4xx and 5xx statuses."""


class HTTPRedirection(HTTPException):
    """Base class of the 3xx statuses."""


class HTTPSuccessful(HTTPException):
    """Base class of the 2xx statuses."""


# ---------------------------------------------------------------------- 2xx


class HTTPOk(HTTPSuccessful):
    status_code = 200


class HTTPCreated(HTTPSuccessful):
    status_code = 201


class HTTPAccepted(HTTPSuccessful):
    status_code = 202


class HTTPNonAuthoritativeInformation(HTTPSuccessful):
    status_code = 203


class HTTPNoContent(HTTPSuccessful):
    status_code = 204
    empty_body = True


class HTTPResetContent(HTTPSuccessful):
    status_code = 205
    empty_body = True


class HTTPPartialContent(HTTPSuccessful):
    status_code = 206


# ---------------------------------------------------------------------- 3xx


class HTTPMove(HTTPRedirection):
    """Base class of the redirects: requires ``location`` and sends it as ``Location``."""

    def __init__(
        self,
        location: StrOrURL,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: Any = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if not location:
            raise ValueError("HTTP redirects need a location to redirect to.")
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self.headers["Location"] = str(URL(location))
        self._location = location

    @property
    def location(self) -> StrOrURL:
        """The redirect target, as given to the constructor."""
        return self._location


class HTTPMultipleChoices(HTTPMove):
    status_code = 300


class HTTPMovedPermanently(HTTPMove):
    status_code = 301


class HTTPFound(HTTPMove):
    status_code = 302


class HTTPSeeOther(HTTPMove):
    status_code = 303


class HTTPNotModified(HTTPRedirection):
    status_code = 304
    empty_body = True


class HTTPUseProxy(HTTPMove):
    status_code = 305


class HTTPTemporaryRedirect(HTTPMove):
    status_code = 307


class HTTPPermanentRedirect(HTTPMove):
    status_code = 308


# ---------------------------------------------------------------------- 4xx


class HTTPClientError(HTTPError):
    """Base class of the 4xx statuses."""


class HTTPBadRequest(HTTPClientError):
    status_code = 400


class HTTPUnauthorized(HTTPClientError):
    status_code = 401


class HTTPPaymentRequired(HTTPClientError):
    status_code = 402


class HTTPForbidden(HTTPClientError):
    status_code = 403


class HTTPNotFound(HTTPClientError):
    status_code = 404


class HTTPMethodNotAllowed(HTTPClientError):
    """405: ``method`` is not one of ``allowed_methods``, which go in the Allow header."""

    status_code = 405

    def __init__(
        self,
        method: str,
        allowed_methods: Iterable[str],
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: Any = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        allowed = set(allowed_methods)
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self.headers["Allow"] = ",".join(sorted(allowed))
        self.allowed_methods: set[str] = allowed
        self.method: str = method.upper()


class HTTPNotAcceptable(HTTPClientError):
    status_code = 406


class HTTPProxyAuthenticationRequired(HTTPClientError):
    status_code = 407


class HTTPRequestTimeout(HTTPClientError):
    status_code = 408


class HTTPConflict(HTTPClientError):
    status_code = 409


class HTTPGone(HTTPClientError):
    status_code = 410


class HTTPLengthRequired(HTTPClientError):
    status_code = 411


class HTTPPreconditionFailed(HTTPClientError):
    status_code = 412


class HTTPRequestEntityTooLarge(HTTPClientError):
    """413: the request body is larger than ``max_size``."""

    status_code = 413

    def __init__(
        self,
        max_size: float,
        actual_size: float = 0,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: Any = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if text is None and body is None:
            text = f"Maximum request body size {max_size} exceeded."
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self.max_size = max_size
        self.actual_size = actual_size


class HTTPRequestURITooLong(HTTPClientError):
    status_code = 414


class HTTPUnsupportedMediaType(HTTPClientError):
    status_code = 415


class HTTPRequestRangeNotSatisfiable(HTTPClientError):
    status_code = 416


class HTTPExpectationFailed(HTTPClientError):
    status_code = 417


class HTTPMisdirectedRequest(HTTPClientError):
    status_code = 421


class HTTPUnprocessableEntity(HTTPClientError):
    status_code = 422


class HTTPFailedDependency(HTTPClientError):
    status_code = 424


class HTTPUpgradeRequired(HTTPClientError):
    status_code = 426


class HTTPPreconditionRequired(HTTPClientError):
    status_code = 428


class HTTPTooManyRequests(HTTPClientError):
    status_code = 429


class HTTPRequestHeaderFieldsTooLarge(HTTPClientError):
    status_code = 431


class HTTPUnavailableForLegalReasons(HTTPClientError):
    """451: blocked for legal reasons; ``link`` (if any) goes in a ``rel="blocked-by"`` Link."""

    status_code = 451

    def __init__(
        self,
        link: StrOrURL | None,
        *,
        headers: LooseHeaders | None = None,
        reason: str | None = None,
        body: Any = None,
        text: str | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(
            headers=headers, reason=reason, body=body, text=text, content_type=content_type
        )
        self._link: URL | None = None
        if link:
            self._link = URL(link)
            self.headers["Link"] = f'<{self._link}>; rel="blocked-by"'

    @property
    def link(self) -> URL | None:
        """The URL of the blocking authority, or ``None``."""
        return self._link


# ---------------------------------------------------------------------- 5xx


class HTTPServerError(HTTPError):
    """Base class of the 5xx statuses."""


class HTTPInternalServerError(HTTPServerError):
    status_code = 500


class HTTPNotImplemented(HTTPServerError):
    status_code = 501


class HTTPBadGateway(HTTPServerError):
    status_code = 502


class HTTPServiceUnavailable(HTTPServerError):
    status_code = 503


class HTTPGatewayTimeout(HTTPServerError):
    status_code = 504


class HTTPVersionNotSupported(HTTPServerError):
    status_code = 505


class HTTPVariantAlsoNegotiates(HTTPServerError):
    status_code = 506


class HTTPInsufficientStorage(HTTPServerError):
    status_code = 507


class HTTPNotExtended(HTTPServerError):
    status_code = 510


class HTTPNetworkAuthenticationRequired(HTTPServerError):
    status_code = 511
