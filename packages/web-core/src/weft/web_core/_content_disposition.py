"""Content-Disposition: parsing (RFC 6266, RFC 8187 / 5987, RFC 2231 continuations) and building.

Reading::

    header = "form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC.txt"
    disptype, params = parse_content_disposition(header)
    content_disposition_filename(params, "filename")  # '€.txt'

``parse_content_disposition`` returns the lower-cased disposition type and
the parameters (names lower-cased). An extended parameter (``filename*``) is
stored decoded under its own name; continuation segments (``filename*0``,
``filename*1*``) are stored raw and joined by ``content_disposition_filename``,
which prefers ``name*`` over ``name`` over the continuations. Leading ``/``
and ``\\`` are stripped from plain values (``filename="/etc/passwd"`` is
``etc/passwd``), as aiohttp does. A malformed header gives ``(None, {})``: a
part without a usable name, never an error.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote, unquote_to_bytes

from ._token import TOKEN

__all__ = [
    "content_disposition_filename",
    "content_disposition_header",
    "parse_content_disposition",
]

_CONTINUATION = re.compile(r"([^*]+)\*([0-9]+)(\*?)")  # ASCII digits: int() takes any
# RFC 8187 §3.2.1 attr-char, the characters an ext-value keeps unescaped.
_ATTR_SAFE = "!#$&+-.^_`|~"


def _skip_ows(header: str, pos: int) -> int:
    n = len(header)
    while pos < n and header[pos] in " \t":
        pos += 1
    return pos


def _quoted_string(header: str, pos: int) -> tuple[str, int] | None:
    """The unescaped content of the quoted-string at ``header[pos] == '"'`` and the end."""
    close = header.find('"', pos + 1)
    if close < 0:
        return None  # unterminated
    content = header[pos + 1 : close]
    if "\\" not in content:  # no quoted-pair: the first quote ends it
        return content, close + 1
    out: list[str] = []
    i = pos + 1
    n = len(header)
    while i < n:
        ch = header[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < n:
            out.append(header[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return None  # unterminated


def _decode_ext_value(value: str) -> str | None:
    """RFC 8187 ext-value ``charset'language'pct-encoded``, or None when invalid."""
    if value.count("'") < 2:
        return None
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    if not _is_text_encoding(charset or "utf-8"):
        return None
    try:
        return unquote(encoded, charset or "utf-8", "strict")
    except (LookupError, UnicodeDecodeError, ValueError):
        return None


def _is_text_encoding(charset: str) -> bool:
    """True for a known text codec (the charset is the client's choice: no rot13, no zlib)."""
    try:
        return codecs.lookup(charset)._is_text_encoding
    except LookupError:
        return False


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a Content-Disposition value into its type and parameters; ``(None, {})`` if bad."""
    if not header:
        return None, {}
    n = len(header)
    pos = _skip_ows(header, 0)
    match = TOKEN.match(header, pos)
    if match is None:
        return None, {}
    disptype = match.group().lower()
    pos = match.end()
    params: dict[str, str] = {}
    while True:
        pos = _skip_ows(header, pos)
        if pos >= n:
            break
        if header[pos] != ";":
            return None, {}
        pos = _skip_ows(header, pos + 1)
        if pos >= n:
            break  # a trailing ";" is tolerated
        if header[pos] == ";":
            continue  # so is an empty parameter
        match = TOKEN.match(header, pos)
        if match is None:
            return None, {}
        key = match.group().lower()
        pos = _skip_ows(header, match.end())
        if pos >= n or header[pos] != "=":
            return None, {}
        pos = _skip_ows(header, pos + 1)
        if pos < n and header[pos] == '"':
            quoted = _quoted_string(header, pos)
            if quoted is None:
                return None, {}
            value, pos = quoted
        else:
            # A token, leniently: anything up to the next ";" (senders put spaces in names).
            end = header.find(";", pos)
            end = n if end < 0 else end
            value = header[pos:end].strip()
            pos = end
            if not value:
                return None, {}
        if key in params:
            return None, {}  # RFC 6266 §4.1: a parameter must not occur twice
        if key.endswith("*") and key.count("*") == 1:
            decoded = _decode_ext_value(value)
            if decoded is None:
                continue  # an undecodable filename* is ignored; filename may still serve
            value = decoded
        elif "*" not in key:
            # aiohttp strips leading slashes and backslashes from every plain value, so
            # that filename="/etc/passwd" cannot name an absolute path; the same here,
            # for the same names (and the same defence) as an aiohttp app sees.
            value = value.lstrip("\\/")
        params[key] = value
    return disptype, params


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """The value of parameter ``name``: ``name*``, else ``name``, else joined continuations."""
    if not params:
        return None
    extended = params.get(f"{name}*")
    if extended is not None:
        return extended
    plain = params.get(name)
    if plain is not None:
        return plain
    segments: dict[int, tuple[str, bool]] = {}
    for key, value in params.items():
        match = _CONTINUATION.fullmatch(key)
        if match is not None and match.group(1) == name:
            segments[int(match.group(2))] = (value, bool(match.group(3)))
    if not segments:
        return None
    charset = "us-ascii"
    parts: list[bytes] = []
    for index in range(len(segments)):
        if index not in segments:
            break
        value, extended_segment = segments[index]
        if extended_segment:
            if index == 0:
                if value.count("'") < 2:
                    return None
                charset, _, rest = value.partition("'")
                _, _, value = rest.partition("'")
                charset = charset or "utf-8"
                if not _is_text_encoding(charset):
                    return None
            parts.append(unquote_to_bytes(value))
        else:
            parts.append(value.encode("utf-8"))
    try:
        return b"".join(parts).decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def _check_header_safe(value: str) -> None:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(f"Newline or NUL in a header value is not allowed: {value!r}")


def content_disposition_header(
    disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
) -> str:
    """Build a Content-Disposition value (aiohttp's ``content_disposition_header``).

    With ``quote_fields`` a printable-ASCII value is sent as a quoted-string
    and any other as an RFC 8187 ext-value (``filename*=utf-8''%E2%82%AC``);
    without it, values are sent as quoted-strings of raw characters (the
    RFC 7578 form browsers use for multipart/form-data).
    """
    if not disptype or TOKEN.fullmatch(disptype) is None:
        raise ValueError(f"bad content disposition type {disptype!r}")
    items = [disptype]
    for key, val in params.items():
        if not key or TOKEN.fullmatch(key) is None:
            raise ValueError(f"bad content disposition parameter {key!r}={val!r}")
        _check_header_safe(val)
        escaped = val.replace("\\", "\\\\").replace('"', '\\"')
        if not quote_fields or all(" " <= ch <= "~" for ch in val):
            items.append(f'{key}="{escaped}"')
        else:
            encoded = quote(val, safe=_ATTR_SAFE, encoding=_charset)
            items.append(f"{key}*={_charset}''{encoded}")
    return "; ".join(items)
