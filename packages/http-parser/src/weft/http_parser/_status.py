"""Reason phrases and precomputed status lines.

The phrases are those of the IANA "HTTP Status Code Registry" (RFC 9110 §15
names, so 413 is "Content Too Large" and 422 "Unprocessable Content"). 418,
registered as "(Unused)", keeps its well-known phrase "I'm a Teapot" as
Python's ``http.HTTPStatus`` and aiohttp use. Status lines for every listed
status are built once at import so serializing a common head costs a lookup.
"""

from __future__ import annotations

from typing import Final

__all__ = ["REASON_PHRASES", "STATUS_LINES_10", "STATUS_LINES_11", "reason_phrase"]

REASON_PHRASES: Final[dict[int, str]] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    306: "Unused",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a Teapot",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}

#: status -> b"HTTP/1.1 200 OK\r\n", the registry's phrases (what a server sends most).
STATUS_LINES_11: Final[dict[int, bytes]] = {
    status: f"HTTP/1.1 {status} {phrase}\r\n".encode("ascii")
    for status, phrase in REASON_PHRASES.items()
}
#: status -> b"HTTP/1.0 200 OK\r\n", for an answer to an HTTP/1.0 client.
STATUS_LINES_10: Final[dict[int, bytes]] = {
    status: f"HTTP/1.0 {status} {phrase}\r\n".encode("ascii")
    for status, phrase in REASON_PHRASES.items()
}


def reason_phrase(status: int) -> str:
    """The registered reason phrase of ``status``: ``reason_phrase(404) == "Not Found"``.

    An unregistered status in 100..999 has the empty phrase (the status line
    is then ``HTTP/1.1 299 \\r\\n``, which RFC 9112 §4 allows); anything else
    raises ValueError.
    """
    phrase = REASON_PHRASES.get(status)
    if phrase is not None:
        return phrase
    if not isinstance(status, int):
        raise TypeError(f"status must be an int, not {type(status).__name__}")
    if not 100 <= status <= 999:
        raise ValueError(f"status {status} is not a three-digit code (100..999)")
    return ""
