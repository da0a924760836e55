"""The body of the 500 answered for an error escaping a handler, as aiohttp renders it.

aiohttp's ``RequestHandler.handle_error`` (3.14) decides, and weft gives the
same bytes, so a client or a test written against aiohttp sees no difference:

* ``text/html`` when the request's Accept field contains ``text/html`` (a
  substring test on the first Accept field, as aiohttp does): a small page
  whose title and heading are the status line;
* ``text/plain`` otherwise: the status line, an empty line, the message;
* with ``debug=True`` the traceback takes the message's place (HTML-escaped
  in the page, under a "Traceback:" heading).
"""

from __future__ import annotations

import traceback
from html import escape
from http import HTTPStatus
from typing import Final

__all__ = ["internal_error_body"]

_STATUS: Final = HTTPStatus.INTERNAL_SERVER_ERROR
_TITLE: Final = f"{_STATUS.value} {_STATUS.phrase}"
_MESSAGE: Final = _STATUS.description  # "Server got itself in trouble"


def internal_error_body(accept: str, exc: BaseException, debug: bool) -> tuple[str, str]:
    """``(text, content type)`` of the 500 for ``exc``; ``accept``: the request's Accept."""
    tb = "".join(traceback.format_exception(exc)) if debug else ""
    if "text/html" in accept:
        message = f"<h2>Traceback:</h2>\n<pre>{escape(tb)}</pre>" if tb else _MESSAGE
        page = (
            f"<html><head><title>{_TITLE}</title></head><body>\n"
            f"<h1>{_TITLE}</h1>\n{message}\n</body></html>\n"
        )
        return page, "text/html"
    return f"{_TITLE}\n\n{tb or _MESSAGE}", "text/plain"
