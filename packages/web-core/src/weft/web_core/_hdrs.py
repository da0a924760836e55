"""Header names web-core sets and reads, as ``istr``: multidict then skips case-folding them."""

from __future__ import annotations

from typing import Final

from multidict import istr

CONTENT_TYPE: Final = istr("Content-Type")
CONTENT_LENGTH: Final = istr("Content-Length")
CONTENT_ENCODING: Final = istr("Content-Encoding")
CONTENT_RANGE: Final = istr("Content-Range")
ACCEPT_RANGES: Final = istr("Accept-Ranges")
TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
CONNECTION: Final = istr("Connection")
DATE: Final = istr("Date")
SERVER: Final = istr("Server")
SET_COOKIE: Final = istr("Set-Cookie")
LAST_MODIFIED: Final = istr("Last-Modified")
ETAG: Final = istr("ETag")
HOST: Final = istr("Host")
EXPECT: Final = istr("Expect")
