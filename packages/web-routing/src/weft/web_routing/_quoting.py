"""Percent-encoding for paths, done once per request and once per registration.

Matching happens on the *path-safe* form of a path, the form yarl's
``URL.path_safe`` gives: every ``%XX`` escape is decoded except ``%2F`` (``/``)
and ``%25`` (``%``), so a decoded ``/`` never looks like a separator and a
decoded ``%`` never looks like an escape.  Escapes that are not valid UTF-8
stay as they were written; ``%2f`` is normalised to ``%2F``.  A matched
variable is then fully decoded with ``unquote_value``.

Building URLs goes the other way: ``quote_value`` percent-encodes a variable's
value the way yarl encodes a path, and ``requote`` normalises a literal part
of a route's path without decoding the escapes already in it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# One or more consecutive escapes; a lone '%' or '%zz' is not an escape.
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")

# RFC 3986 pchar minus the unreserved characters quote() always keeps.
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = _SUB_DELIMS + ":@/"
_SEGMENT_SAFE = _SUB_DELIMS + ":@"


def _decode_run(match: re.Match[str]) -> str:
    text = match.group()
    data = bytes.fromhex(text.replace("%", ""))
    out: list[str] = []
    pos = 0
    while pos < len(data):
        try:
            chunk = data[pos:].decode("utf-8")
        except UnicodeDecodeError as exc:
            chunk = data[pos : pos + exc.start].decode("utf-8")
            # Invalid bytes stay as the escapes the client wrote.
            bad = text[(pos + exc.start) * 3 : (pos + exc.end) * 3]
            out.append(chunk.replace("%", "%25").replace("/", "%2F"))
            out.append(bad)
            pos += exc.end
            continue
        out.append(chunk.replace("%", "%25").replace("/", "%2F"))
        break
    return "".join(out)


def decode_path_safe(path: str) -> str:
    """Decode a raw path like ``URL.path_safe``: ``'/a%20b%2Fc'`` -> ``'/a b%2Fc'``."""
    if "%" not in path:
        return path
    return _ESCAPES.sub(_decode_run, path)


def unquote_value(value: str) -> str:
    """Finish decoding a path-safe variable value: ``'a%2Fb%25'`` -> ``'a/b%'``."""
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")


def requote(path: str) -> str:
    """Encode what must be, keep every ``%``: ``'/a b%20 100%'`` -> ``'/a%20b%20%20100%'``.

    A registered path is matched as written (see ``_template``), so a ``%``
    written in it, escape or not, stays as it is: the URL built from it then
    routes back to it, as aiohttp's ``_requote_path`` does.
    """
    return quote(path, safe=_PATH_SAFE + "%")


def quote_value(value: str, *, keep_slash: bool) -> str:
    """Percent-encode a variable's value for a path: ``'a b?'`` -> ``'a%20b%3F'``.

    ``/`` is kept only when ``keep_slash`` (a variable whose pattern spans
    segments, like ``{tail:.*}``); otherwise it becomes ``%2F`` so the value
    stays one segment and matches back to the same variable.
    """
    return quote(value, safe=_PATH_SAFE if keep_slash else _SEGMENT_SAFE)
