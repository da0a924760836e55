"""From a parsed request-line and field section to a RequestHead: the framing rules.

The body's length is decided here, once, and the rules are those of RFC 9112
§6 with every ambiguity refused rather than guessed, since two parsers that
guess differently are how requests get smuggled:

- Transfer-Encoding and Content-Length together: 400 (§6.1 allows a server to
  reject; one front-end reading one and a back-end the other is the classic
  smuggling attack).
- Transfer-Encoding in an HTTP/1.0 request: 400 (§6.1: the framing is faulty).
- Transfer-Encoding whose final coding is not chunked: 400 (§6.3 point 4);
  chunked twice: 400 (§7); any other coding before chunked: 501, since this
  parser decodes only chunked (§6.1).
- Content-Length must be 1*DIGIT, ASCII digits only; values above 2**63-1 are
  400. It is a singleton: repeated lines or a list ("42, 42") are 400 even
  when every value is the same. RFC 9110 §8.6 lets a recipient fold identical
  values, but a hop that does not fold them frames the body differently, and
  refusing costs an honest client nothing.
- No Transfer-Encoding and no Content-Length: no body (§6.3 point 7).
- Host: missing in HTTP/1.1, repeated, or not ``host[:port]``: 400 (§3.2).
- Content-Type repeated: 400 (two media types for one body; which one a
  component reads decides how it parses the body, so two components can read
  two different bodies). With Host and Content-Length these are the singleton
  fields; the README's "Singleton fields" says why each.
- Tokens are compared after lowering ASCII letters only (``ascii_lower``):
  with Unicode rules U+212A KELVIN SIGN lowers to ``k``, and
  ``Transfer-Encoding: chun\u212aed`` would frame a body as chunked that a
  proxy in front reads otherwise (aiohttp's CVE-2025-69224). A non-ASCII byte
  in a framing field (Transfer-Encoding, Content-Length, Connection, and
  Upgrade when Connection names it) is 400: tokens are ASCII (RFC 9110
  §5.6.2), so such a value is malformed, not merely unknown.
- Upgrade (with ``Connection: upgrade``, HTTP/1.1) switches protocols only
  when it names at least one protocol: ``Upgrade = #protocol`` allows an
  empty list, which names nothing to switch to (RFC 9110 §7.8).
- A CONNECT request has no content (RFC 9110 §9.3.6): a Transfer-Encoding or a
  non-zero Content-Length on it is 400 rather than being left for the tunnel.
"""

from __future__ import annotations

import re
from typing import Final

from multidict import CIMultiDictProxy, istr

from ._errors import BadRequest, NotImplementedCoding, PayloadTooLarge
from ._request_line import RequestLine
from ._token import TOKEN_STR, ascii_lower
from ._types import HttpVersion, HttpVersion10, HttpVersion11, RawHeaders, RequestHead, TargetForm

__all__ = [
    "CONNECTION",
    "CONTENT_ENCODING",
    "CONTENT_LENGTH",
    "TRANSFER_ENCODING",
    "build_head",
    "check_ascii",
    "check_singletons",
    "check_transfer_encoding",
    "content_coding",
    "framing_tokens",
    "message_length",
    "parse_content_length",
    "tokens",
]

# Field names as istr: multidict then skips case-folding the key of each lookup.
HOST: Final = istr("Host")
TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
CONTENT_LENGTH: Final = istr("Content-Length")
CONNECTION: Final = istr("Connection")
UPGRADE: Final = istr("Upgrade")
EXPECT: Final = istr("Expect")
CONTENT_ENCODING: Final = istr("Content-Encoding")
CONTENT_TYPE: Final = istr("Content-Type")

_HOST_VALUE: Final = re.compile(
    r"(?:\[[0-9A-Za-z:.\-_~!$&'()*+,;=%]++\]|[0-9A-Za-z\-._~!$&'()*+,;=%]*+)(?::[0-9]*+)?"
)
_MAX_LENGTH: Final = 2**63 - 1
_NO_TOKENS: Final[frozenset[str]] = frozenset()

_token_cache: Final[dict[str, frozenset[str]]] = {}
# Valid Host values seen: a server sees the same few again and again.
_good_hosts: Final[set[str]] = set()
_GOOD_HOSTS_MAX: Final = 256


def _check_host(value: str) -> bool:
    if _HOST_VALUE.fullmatch(value) is None:
        return False
    if len(_good_hosts) < _GOOD_HOSTS_MAX:
        _good_hosts.add(value)
    return True


_TOKEN_CACHE_MAX: Final = 256


def tokens(values: list[str] | None) -> frozenset[str]:
    """The lowercased elements of comma-separated list values: ``["keep-alive, Upgrade"]``.

    Only ASCII letters are lowered (see ``ascii_lower``), so a non-ASCII
    element never equals an ASCII token.
    """
    if values is None:
        return _NO_TOKENS
    if len(values) == 1:
        value = values[0]
        found = _token_cache.get(value)
        if found is None:
            ascii = value.isascii()
            lowered = value.lower() if ascii else ascii_lower(value)
            found = frozenset(filter(None, [e.strip(" \t") for e in lowered.split(",")]))
            # Only ASCII values are cached: a hit is known to be ASCII (framing_tokens).
            if ascii and len(_token_cache) < _TOKEN_CACHE_MAX:
                _token_cache[value] = found
        return found
    return frozenset().union(*map(tokens, ([v] for v in values)))


def framing_tokens(values: list[str] | None, name: str) -> frozenset[str]:
    """``tokens(values)`` of the framing field ``name``; BadRequest if one is not ASCII."""
    if values is not None and len(values) == 1:
        found = _token_cache.get(values[0])
        if found is not None:  # the common case: a value seen before, so ASCII
            return found
    check_ascii(values, name)
    return tokens(values)


def check_ascii(values: list[str] | None, name: str) -> None:
    """Raise BadRequest if a value of the framing field ``name`` holds a non-ASCII character."""
    if values is not None:
        for value in values:
            if not value.isascii():
                raise BadRequest(
                    f"non-ASCII byte in the {name} field {value[:60]!r}: its tokens are "
                    "ASCII (RFC 9110 §5.6.2), and a parser that matches them with Unicode "
                    "case rules (U+212A KELVIN SIGN lowers to 'k') frames the message "
                    "differently from one that does not"
                )


def parse_content_length(values: list[str]) -> int:
    """The length in the Content-Length field(s): one value, ASCII digits, below 2**63."""
    if len(values) == 1:
        value = values[0]
        # str.isdigit() alone also accepts non-ASCII digits ("\u0661", "\u00b2").
        if value.isdigit() and value.isascii() and len(value) < 19:
            return int(value)
    if len(values) > 1 or "," in values[0]:
        raise BadRequest(
            f"Content-Length is repeated ({', '.join(values)[:60]!r}): send it once. Even "
            "identical values are refused: a hop that does not fold them frames the body "
            "differently (RFC 9110 §8.6)"
        )
    value = values[0].strip(" \t")
    if not (value.isdigit() and value.isascii()):
        raise BadRequest(
            f"invalid Content-Length {value[:40]!r}: it must be a decimal number of "
            "bytes, ASCII digits only (RFC 9110 §8.6)"
        )
    # At most 4300 digits reach int() (the limit of Python's int parser): the
    # value is bounded by max_field_size, and leading zeros are dropped.
    digits = value.lstrip("0")
    if len(digits) > 19 or int(digits or "0") > _MAX_LENGTH:
        raise BadRequest(f"Content-Length {value[:40]} is too large")
    return int(digits or "0")


def check_singletons(headers: CIMultiDictProxy[str]) -> None:
    """Raise BadRequest if Content-Type is repeated (README "Singleton fields").

    Content-Length (``parse_content_length``) and Host (``interpret``) are
    the other singletons, checked where they are read.
    """
    types = headers.getall(CONTENT_TYPE, None)
    if types is not None and len(types) > 1:
        raise BadRequest(
            f"Content-Type is repeated ({', '.join(types)[:80]!r}): a body has one media "
            "type, and components that pick different ones parse different bodies"
        )


def check_transfer_encoding(values: list[str], noun: str = "request") -> None:
    """Accept exactly ``chunked`` as the only coding; raise 400 or 501 otherwise.

    For a response, a final coding other than chunked is valid framing (the
    body then runs to the close, RFC 9112 §6.3) but a coding this parser
    cannot undo, so it is 501 rather than 400. Codings are ASCII tokens: a
    non-ASCII character is 400 whatever ``str.lower()`` would make of it.
    """
    if len(values) == 1:
        value = values[0]
        if value == "chunked" or (value.isascii() and value.lower() == "chunked"):
            return
    check_ascii(values, "Transfer-Encoding")
    # Every value is ASCII now, so lower() is exact.
    codings = [e.strip(" \t").lower() for value in values for e in value.split(",")]
    codings = [c for c in codings if c]
    if not codings:
        raise BadRequest("empty Transfer-Encoding: it must name the codings, ending in chunked")
    for coding in codings:
        if TOKEN_STR.fullmatch(coding) is None:
            raise BadRequest(f"invalid transfer coding {coding[:40]!r} in Transfer-Encoding")
    if codings[-1] != "chunked" and noun == "response":
        raise NotImplementedCoding(
            f"transfer coding {codings[-1]!r} is not implemented: only chunked is (RFC 9112 §6.1)"
        )
    if codings[-1] != "chunked":
        raise BadRequest(
            f"Transfer-Encoding {', '.join(codings)[:100]!r} does not end in chunked, so the "
            f"{noun} body's length cannot be determined (RFC 9112 §6.3)"
        )
    if "chunked" in codings[:-1]:
        raise BadRequest("chunked is applied more than once in Transfer-Encoding (RFC 9112 §7)")
    if len(codings) == 1:
        return
    raise NotImplementedCoding(
        f"transfer coding {codings[0]!r} is not implemented: only chunked is (RFC 9112 §6.1)"
    )


def message_length(
    headers: CIMultiDictProxy[str], http10: bool, noun: str, section: str
) -> tuple[bool, int | None]:
    """A message's framing fields (RFC 9112 §6): (chunked, Content-Length or None).

    Refuses Transfer-Encoding in HTTP/1.0 and both fields together (``section``
    is the RFC 9112 section the error cites), and any coding but ``chunked``.
    """
    te = headers.getall(TRANSFER_ENCODING, None)
    cl = headers.getall(CONTENT_LENGTH, None)
    if te is not None:
        if http10:
            raise BadRequest(
                f"Transfer-Encoding in an HTTP/1.0 {noun}: the framing is faulty (RFC 9112 §6.1)"
            )
        if cl is not None:
            raise BadRequest(
                f"a {noun} must not have both Transfer-Encoding and Content-Length: its "
                f"length is ambiguous (RFC 9112 {section})"
            )
        check_transfer_encoding(te, noun)
        return True, None
    if cl is not None:
        return False, parse_content_length(cl)
    return False, None


def content_coding(headers: CIMultiDictProxy[str]) -> str | None:
    """The Content-Encoding fields as one lower-cased list, or None."""
    encodings = headers.getall(CONTENT_ENCODING, None)
    return None if encodings is None else ascii_lower(", ".join(encodings).strip(" \t"))


def _names_a_protocol(values: list[str] | None) -> bool:
    """Upgrade lists at least one protocol (``Upgrade: ,`` names none); non-ASCII is 400."""
    return bool(framing_tokens(values, "Upgrade"))


def build_head(
    line: RequestLine, headers: CIMultiDictProxy[str], max_body_size: int | None
) -> RequestHead:
    """The RequestHead of a validated request-line and fields; raise on bad framing."""
    method, target, path, query, form, version = line
    return interpret(method, target, path, query, form, version, headers, None, max_body_size)


def interpret(
    method: str,
    target: str,
    path: str,
    query: str,
    form: TargetForm,
    version: HttpVersion,
    headers: CIMultiDictProxy[str],
    raw: RawHeaders | None,
    max_body_size: int | None,
) -> RequestHead:
    """Apply the framing and connection rules to a head's fields."""
    # The parser's versions are these objects: "is" settles the usual cases.
    http10 = version is HttpVersion10 or (version is not HttpVersion11 and version == HttpVersion10)

    hosts = headers.getall(HOST, None)
    if hosts is None:
        if not http10:
            raise BadRequest("an HTTP/1.1 request must have a Host header (RFC 9112 §3.2)")
    elif len(hosts) > 1:
        raise BadRequest("the Host header is repeated: send it once (RFC 9112 §3.2)")
    elif hosts[0] not in _good_hosts and not _check_host(hosts[0]):
        raise BadRequest(
            f"invalid Host header {hosts[0][:100]!r}: expected host[:port] (RFC 9112 §3.2)"
        )

    if hosts is not None and len(headers) == 1:
        # Host is the only field (a common short request): every field looked
        # up below is absent, so its rules give their defaults.
        should_close = http10  # HTTP/1.0 closes unless Connection says keep-alive
        chunked = upgrade = expect_continue = False
        content_length: int | None = None
        content_encoding: str | None = None
    else:
        getall = headers.getall  # bound once: compiled, cheaper from the third call
        chunked, content_length = message_length(headers, http10, "request", "§6.1")
        if (
            content_length is not None
            and max_body_size is not None
            and content_length > max_body_size
        ):
            raise PayloadTooLarge(
                f"the body is {content_length} bytes, more than max_body_size={max_body_size}"
            )

        if method == "CONNECT" and (chunked or content_length):
            raise BadRequest("a CONNECT request has no content (RFC 9110 §9.3.6)")

        check_singletons(headers)

        connection = framing_tokens(getall(CONNECTION, None), "Connection")
        if http10:
            should_close = "keep-alive" not in connection or "close" in connection
            upgrade = expect_continue = False
        else:
            should_close = "close" in connection
            # RFC 9110 §7.8 and §10.1.1: both are ignored in HTTP/1.0 requests.
            upgrade = "upgrade" in connection and _names_a_protocol(getall(UPGRADE, None))
            expect_continue = "100-continue" in tokens(getall(EXPECT, None))

        content_encoding = content_coding(headers)

    return RequestHead(
        method,
        target,
        path,
        query,
        version,
        headers,
        raw,
        should_close,
        chunked,
        content_length,
        upgrade,
        expect_continue,
        content_encoding,
        form,
    )
