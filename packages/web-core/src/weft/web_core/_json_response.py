"""json_response and json_bytes_response: a Response whose body is JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ._helpers import sentinel
from ._response import Response
from ._types import LooseHeaders

__all__ = ["json_bytes_response", "json_response"]


def json_response(
    data: Any = sentinel,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: Callable[[Any], str] = json.dumps,
) -> Response:
    """A Response whose body is ``dumps(data)``, typed application/json."""
    if data is not sentinel:  # json_response(None) sends 'null', as aiohttp
        if text is not None or body is not None:
            raise ValueError("only one of data, text, or body should be specified")
        text = dumps(data)
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
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
) -> Response:
    """A JSON Response from an encoder that returns bytes (orjson.dumps, ...): no str step."""
    if data is not sentinel:
        if body is not None:
            raise ValueError("only one of data or body should be specified")
        body = dumps(data)
    return Response(
        body=body, status=status, reason=reason, headers=headers, content_type=content_type
    )
