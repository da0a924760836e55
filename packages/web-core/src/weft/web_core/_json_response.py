"""json_response and json_bytes_response: a Response whose body is JSON."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any, Final, SupportsInt

from ._helpers import sentinel
from ._response import Response
from ._types import LooseHeaders

__all__ = ["json_bytes_response", "json_response"]

# Compiled, a Final name is a C static, an imported one a lookup in the
# module's dict on every use.
_DUMPS: Final = json.dumps
_SENTINEL: Final = sentinel
_ESCAPE: Final = encode_basestring_ascii  # json's own string escaping
_DEFAULT: Final = json.JSONEncoder().default
_INFINITY: Final = float("inf")
#: Keys of flat objects, escaped with their ": " (see _flat_object).
_KEYS: Final[dict[str, str]] = {}
_KEYS_MAX: Final = 1024
_KEY_MAX: Final = 64


def _no_c_encoder(*args: Any) -> Any:
    raise NotImplementedError("this Python has no C JSON encoder")


# json's C encoder factory (not in typeshed; None without the _json extension).
_MAKE_ENCODER: Final[Callable[..., Any]] = (
    getattr(json.encoder, "c_make_encoder", None) or _no_c_encoder
)


def _encode(data: Any) -> str:
    """``json.dumps(data)`` with its defaults, without its three Python frames.

    What ``json.dumps`` runs for them (``JSONEncoder.encode`` and ``iterencode``
    with ``_one_shot``): the C encoder, made per call with a markers dict of
    its own (so a circular structure is still a ValueError) and the default
    encoder's arguments. Where the C encoder is missing or answers otherwise
    (checked at import), json.dumps itself.
    """
    if type(data) is str:
        return _ESCAPE(data)
    if type(data) is dict:
        flat = _flat_object(data)
        if flat is not None:
            return flat
    encoder = _MAKE_ENCODER({}, _DEFAULT, _ESCAPE, None, ": ", ", ", False, False, True)
    return "".join(encoder(data, 0))


def _flat_object(data: dict[Any, Any]) -> str | None:
    """``json.dumps(data)`` for a dict of str keys and scalar values; None for any other.

    The usual answer of an API (an object of strings and numbers) written
    here, as the C encoder writes it: each key and string by the same
    ``encode_basestring_ascii``, an int by its ``repr``, a float by its
    ``repr`` or json's NaN and Infinity, True, False and None as JSON's
    literals. A subclass of str, int or float, a non-str key or a nested
    value is left to the C encoder (None): those call user code or recurse.
    The keys of an application's answers are few and come back: each is
    escaped once and remembered (a bounded table, emptied when full).
    """
    parts: list[str] = ["{"]
    keys = _KEYS
    for key, value in data.items():
        if type(key) is not str:
            return None
        kind = type(value)
        if kind is str:
            text = _ESCAPE(value)
        elif kind is int:
            text = repr(value)
        elif kind is float:
            if value != value:
                text = "NaN"
            elif value == _INFINITY:
                text = "Infinity"
            elif value == -_INFINITY:
                text = "-Infinity"
            else:
                text = repr(value)
        elif value is None:
            text = "null"
        elif value is True:
            text = "true"
        elif value is False:
            text = "false"
        else:
            return None
        name = keys.get(key)
        if name is None:
            name = _ESCAPE(key) + ": "  # '"key": ', as the encoder writes it
            if len(key) <= _KEY_MAX:
                if len(keys) >= _KEYS_MAX:
                    keys.clear()
                keys[key] = name
        if len(parts) > 1:
            parts.append(", ")
        parts.append(name)
        parts.append(text)
    parts.append("}")
    return "".join(parts)


def _encoder_agrees() -> bool:
    sample: Any = {"a": [1, 2.5, -0.0, float("nan"), float("inf"), None, True], "é\n": "\u2028"}
    flat: Any = {"a": 1, "é\n": "\u2028", "f": -0.0, "n": None, "t": True, "x": float("-inf")}
    try:
        return _encode(sample) == json.dumps(sample) and _encode(flat) == json.dumps(flat)
    except Exception:  # no C encoder, or one that takes other arguments
        return False


#: Whether _encode writes what json.dumps writes here (else json.dumps is called).
_ENCODE_AGREES: Final = _encoder_agrees()


def json_response(
    data: Any = sentinel,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: SupportsInt = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: Callable[[Any], str] = json.dumps,
) -> Response:
    """A Response whose body is ``dumps(data)``, typed application/json."""
    if data is not _SENTINEL:  # json_response(None) sends 'null', as aiohttp
        if text is not None or body is not None:
            raise ValueError("only one of data, text, or body should be specified")
        # (_encode called by its name: compiled, a native call.)
        text = _encode(data) if dumps is _DUMPS and _ENCODE_AGREES else dumps(data)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )


def json_bytes_response(
    data: Any = sentinel,
    *,
    dumps: Callable[[Any], bytes],
    body: bytes | None = None,
    status: SupportsInt = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
) -> Response:
    """A JSON Response from an encoder that returns bytes (orjson.dumps, ...): no str step."""
    if data is not _SENTINEL:
        if body is not None:
            raise ValueError("only one of data or body should be specified")
        body = dumps(data)
    return Response(
        body=body, status=status, reason=reason, headers=headers, content_type=content_type
    )
