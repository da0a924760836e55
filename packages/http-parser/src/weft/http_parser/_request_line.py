"""The request-line and the four forms of request-target (RFC 9112 §3).

::

    request-line   = method SP request-target SP HTTP-version
    method         = token
    HTTP-version   = "HTTP/" DIGIT "." DIGIT
    request-target = origin-form      "/where?q=1"           any method but CONNECT
                   / absolute-form    "http://host/where"    any method but CONNECT
                   / authority-form   "host:port"            CONNECT only
                   / asterisk-form    "*"                    OPTIONS only

The target must be printable ASCII: other bytes have to be percent-encoded
(RFC 3986 §2.1), and a fragment ("#") is never part of a request-target.
The authority of an absolute-form or authority-form target is
``host [":" port]`` as RFC 3986 §3.2.2-3.2.3 defines it (a non-empty
reg-name, IPv4 address or bracketed IPv6/IPvFuture literal; a port of at most
65535, required for CONNECT): anything else would be a host that the parser,
yarl and the next hop each read differently, so it is 400.
HTTP/1.x with a minor version above 1 is processed as HTTP/1.1, as RFC 9110
§2.5 asks of a recipient; other major versions get 505.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, NoReturn, TypeAlias

from ._errors import BadRequest, VersionNotSupported
from ._fields import TCHAR, TOKEN
from ._types import HttpVersion, HttpVersion10, HttpVersion11, TargetForm

__all__ = [
    "MAX_METHOD_SIZE",
    "NOT_SPLIT",
    "REQUEST_LINE",
    "REQUEST_LINE_TEXT",
    "RequestLine",
    "parse_request_line",
    "request_line_from_match",
    "split_origin_line",
]

#: method, target, path, query_string, form, version
RequestLine: TypeAlias = tuple[str, str, str, str, TargetForm, HttpVersion]

#: The longest method accepted. Registered methods have at most 17 bytes
#: (UPDATEREDIRECTREF); a longer run of token bytes is another protocol's
#: data, refused at its 33rd byte rather than at the end of the line.
MAX_METHOD_SIZE: Final = 32

REQUEST_LINE: Final = re.compile(
    rb"([%s]{1,%d}+) ([\x21-\x7e]++) HTTP/([0-9])\.([0-9])" % (TCHAR, MAX_METHOD_SIZE)
)
#: The same regex for a head decoded as text (UTF-8 with surrogateescape): it
#: matches ASCII only, where decoding changes nothing, so it matches the same
#: lines, and ends at the same offset as in the bytes.
REQUEST_LINE_TEXT: Final = re.compile(REQUEST_LINE.pattern.decode("ascii"))
_VERSION: Final = re.compile(rb"HTTP/([0-9]{1,9})(?:\.([0-9]++))?")
_BAD_TARGET_BYTE: Final = re.compile(rb"[^\x21-\x7e]")
_ABSOLUTE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*+://([^/?#]*+)([^?#]*+)(?:\?([^#]*+))?")
# RFC 3986 §3.2.2: IP-literal / IPv4address / reg-name (IPv4 is a reg-name
# here); the IPv6 address inside brackets is checked with ipaddress.
_IP_LITERAL: Final = r"\[(?:([0-9A-Fa-f:.]++)|[vV][0-9A-Fa-f]++\.[0-9A-Za-z\-._~!$&'()*+,;=:]++)\]"
_REG_NAME: Final = r"(?:[0-9A-Za-z\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})++"
_HOST: Final = rf"(?:{_IP_LITERAL}|{_REG_NAME})"
#: authority-form (CONNECT): host ":" port; groups: IPv6 address, port.
_AUTHORITY: Final = re.compile(_HOST + r":([0-9]++)")
#: The authority of an absolute-form target: host [":" port] (the port may be empty).
_ABSOLUTE_AUTHORITY: Final = re.compile(_HOST + r"(?::([0-9]*+))?+")
_MAX_PORT: Final = 65535
_USERINFO_AUTHORITY: Final = re.compile(r"[^@]*+@")


#: split_origin_line's answer for a line it does not take (its method is "").
NOT_SPLIT: Final = ("", "", "", "", HttpVersion11)


def split_origin_line(text: str, ascii_text: bool) -> tuple[str, str, str, str, HttpVersion]:
    """Split the request-line that starts ``text`` (a decoded head) by hand.

    Only the common line: GET, POST, HEAD, PUT, DELETE, OPTIONS or PATCH, an
    origin-form target without a fragment, HTTP/1.1 or HTTP/1.0, CRLF. Its
    parts are method, target, path, query ("" without a "?") and version, as
    parse_request_line gives them. Any other line gives NOT_SPLIT, and the
    general way reads it. ``ascii_text``: the head decoded to as many
    characters as it has bytes, so no character of ``text`` came from a
    multi-byte UTF-8 sequence (those it may hold came from single bytes above
    0x7f, as surrogates).

    This costs less than a regex match and its groups, on the line every
    request has: the method is compared, not cut out and looked up (the
    constant returned has its hash already, for the router's lookup), and
    the line's end is one slice compared with two constants.
    """
    # A chain, not a loop over a table: compiled, a Final tuple of pairs is
    # rebuilt (eight tuples) at each use, and this is every request's line.
    if text.startswith("GET "):
        method = "GET"
    elif text.startswith("POST "):
        method = "POST"
    elif text.startswith("HEAD "):
        method = "HEAD"
    elif text.startswith("PUT "):
        method = "PUT"
    elif text.startswith("DELETE "):
        method = "DELETE"
    elif text.startswith("OPTIONS "):
        method = "OPTIONS"
    elif text.startswith("PATCH "):
        method = "PATCH"
    else:
        return NOT_SPLIT
    start = len(method) + 1
    end = text.find(" ", start)
    if end < 0:
        return NOT_SPLIT
    line_end = text[end : end + 11]
    if line_end == " HTTP/1.1\r\n":
        version = HttpVersion11
    elif line_end == " HTTP/1.0\r\n":
        version = HttpVersion10
    else:  # HTTP/1.2 to 1.9 (read as 1.1) go the general way, as any other end
        return NOT_SPLIT
    target = text[start:end]
    # Printable ASCII, no fragment. The target holds no space, having ended at
    # the first; a surrogate (a byte above 0x7f) is not printable, and any
    # other character beyond ASCII comes with a multi-byte sequence.
    if (
        not target.startswith("/")
        or not target.isprintable()
        or "#" in target
        or (not ascii_text and not target.isascii())
    ):
        return NOT_SPLIT
    query_at = target.find("?")
    if query_at < 0:
        return method, target, target, "", version
    return method, target, target[:query_at], target[query_at + 1 :], version


def parse_request_line(buf: bytes, start: int, end: int) -> RequestLine:
    """Parse ``buf[start:end]`` (a request-line without CRLF); raise what is wrong.

    The scanner has refused a method over MAX_METHOD_SIZE before this is called.
    """
    if REQUEST_LINE.fullmatch(buf, start, end) is None:
        _diagnose(bytes(buf[start:end]))
    # It matched, so it is ASCII: the text regex matches the decoded line the same way.
    match = REQUEST_LINE_TEXT.fullmatch(buf[start:end].decode("ascii"))
    assert match is not None
    return request_line_from_match(match)


def request_line_from_match(match: re.Match[str]) -> RequestLine:
    """The parts of a request-line that REQUEST_LINE_TEXT matched."""
    method, target, major, minor = match.groups()
    if major != "1":
        raise VersionNotSupported(
            f"HTTP/{major}.{minor} is not supported: this server speaks HTTP/1.1"
        )
    version = HttpVersion10 if minor == "0" else HttpVersion11
    if target[0] == "/" and method != "CONNECT":
        if "#" in target:
            raise _fragment(target)
        path, _, query = target.partition("?")
        return method, target, path, query, "origin", version
    return _other_form(method, target, version)


def _other_form(method: str, target: str, version: HttpVersion) -> RequestLine:
    if method == "CONNECT":
        if not _valid_authority(_AUTHORITY.fullmatch(target)):
            raise BadRequest(
                f"CONNECT needs an authority-form target 'host:port' (a port up to "
                f"{_MAX_PORT}), not {target[:100]!r} (RFC 9112 §3.2.3)"
            )
        return method, target, target, "", "authority", version
    if target == "*":
        if method != "OPTIONS":
            raise BadRequest(f"the asterisk-form target '*' is only for OPTIONS, not {method}")
        return method, target, "*", "", "asterisk", version
    if "#" in target:
        raise _fragment(target)
    match = _ABSOLUTE.fullmatch(target)
    if match is None:
        raise BadRequest(
            f"invalid request-target {target[:100]!r}: expected '/path' (origin-form), "
            "'scheme://host/path' (absolute-form), 'host:port' (CONNECT only) or "
            "'*' (OPTIONS only), RFC 9112 §3.2"
        )
    authority, path, query = match.groups()
    if not authority or _USERINFO_AUTHORITY.match(authority) is not None:
        raise BadRequest(
            f"invalid authority in absolute-form target {target[:100]!r}: it needs a "
            "host and must not hold userinfo (RFC 9110 §4.2)"
        )
    if not _valid_authority(_ABSOLUTE_AUTHORITY.fullmatch(authority)):
        raise BadRequest(
            f"invalid authority {authority[:100]!r} in absolute-form target: expected "
            f"host[:port] with a port up to {_MAX_PORT} (RFC 9112 §3.2.2, RFC 3986 §3.2)"
        )
    return method, target, path or "/", query or "", "absolute", version


def _valid_authority(match: re.Match[str] | None) -> bool:
    """The authority matched, its IPv6 literal is an address, its port is at most 65535."""
    if match is None:
        return False
    ipv6, port = match.groups()
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError:
            return False
    if port:
        # Leading zeros are allowed (port = *DIGIT); dropping them first keeps
        # int() to at most 5 digits however long the run of zeros.
        digits = port.lstrip("0")
        return len(digits) <= 5 and int(digits or "0") <= _MAX_PORT
    return True


def _fragment(target: str) -> BadRequest:
    return BadRequest(
        f"request-target {target[:100]!r} contains '#': a fragment is never sent in a "
        "request (RFC 9112 §3.2); percent-encode it as %23 if it is data"
    )


def _diagnose(line: bytes) -> NoReturn:
    """Raise the error that explains why ``line`` is not a request-line."""
    parts = line.split(b" ")
    if len(parts) != 3 or not all(parts):
        raise BadRequest(
            f"malformed request-line {line[:100]!r}: expected "
            "'METHOD SP request-target SP HTTP/1.1', single spaces (RFC 9112 §3)"
        )
    method, target, version = parts
    if TOKEN.fullmatch(method) is None:
        raise BadRequest(f"invalid method {method[:50]!r}: a method must be a token (RFC 9110 §9)")
    bad = _BAD_TARGET_BYTE.search(target)
    if bad is not None:
        raise BadRequest(
            f"byte 0x{bad[0][0]:02x} is not allowed in the request-target {target[:100]!r}: "
            "percent-encode it (RFC 3986 §2.1)"
        )
    match = _VERSION.fullmatch(version)
    if match is None:
        raise BadRequest(
            f"invalid HTTP version {version[:20]!r}: expected 'HTTP/1.1' or 'HTTP/1.0'"
        )
    if int(match[1]) != 1:
        raise VersionNotSupported(
            f"{version[:20].decode('latin-1')} is not supported: this server speaks HTTP/1.1"
        )
    raise BadRequest(f"invalid HTTP version {version[:20]!r}: expected 'HTTP/1.1' or 'HTTP/1.0'")
