"""Turning a raised (or returned) HTTPException into a Response.

web-exceptions keeps its exceptions independent of any response class
(DESIGN.md); this is the one place where web-core translates them.
"""

from __future__ import annotations

from weft.web_exceptions import HTTPException

from ._response import Response

__all__ = ["exception_response"]


def exception_response(exc: HTTPException) -> Response:
    """A Response with the exception's status, reason, headers, cookies and body."""
    response = Response(status=exc.status, reason=exc.reason, headers=exc.headers, body=exc.body)
    if exc.body is not None and "Content-Type" not in response.headers:
        response.headers["Content-Type"] = exc.content_type
    for value in exc.set_cookie_headers():
        response.headers.add("Set-Cookie", value)
    return response
