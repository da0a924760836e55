"""A structured access log: one record per request with its fields as a dict.

``StructuredAccessLogger`` (an ``access_log_class``) emits the same INFO
record as ``AccessLogger`` (its message is the format-string line, so a plain
handler prints what it always printed) and adds ``record.weft_access``, a
dict of the request's fields (``FIELDS`` below). ``JsonAccessFormatter``
writes any record as one JSON object per line, those fields included.

Each field is computed on its own: one that raises is None in the record
and named under ``errors``; the request, already answered, is never touched
by it, and the other fields are kept.

The time until the head is measured by the response's writer
(``StreamWriter.time_head``): ``wants_head_time`` asks the Server to start
that clock for every request. Access loggers that do not ask pay nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from weft.web_core import FORWARDED_CLIENT, BaseRequest, ForwardedClient, StreamResponse

from ._access_log import AccessLogger

__all__ = ["JsonAccessFormatter", "StructuredAccessLogger"]

AccessField = Callable[[BaseRequest, StreamResponse, float], object]


def _client(request: BaseRequest) -> ForwardedClient | None:
    return request.get(FORWARDED_CLIENT)


def _remote(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    client = _client(request)
    return request.remote if client is None else client.remote


def _scheme(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    client = _client(request)
    return request.scheme if client is None else client.scheme


def _host(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    client = _client(request)
    return request.host if client is None else client.host


def _version(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    version = request.version
    return f"{version.major}.{version.minor}"


def _head_time(request: BaseRequest, response: StreamResponse, duration: float) -> object:
    return request.writer.head_time


def _header(name: str) -> AccessField:
    def field(request: BaseRequest, response: StreamResponse, duration: float) -> object:
        return request.headers.get(name)

    return field


class StructuredAccessLogger(AccessLogger):
    """An access logger whose records carry the request's fields as ``record.weft_access``.

    Use it as ``access_log_class`` (``run_app``, ``AppRunner``, ``Server``,
    gunicorn's workers through the app's ``handler_args``)::

        run_app(app, access_log_class=StructuredAccessLogger)

    The fields (``None`` when unknown):

    ============== =========================================================
    ``start``      when the request began, ISO 8601 in UTC
    ``remote``     the client: as trusted proxies name it (``FORWARDED_CLIENT``,
                   set by ``trusted_proxies_middleware``), else the peer
    ``peer``       the connection's peer address (the proxy, behind one)
    ``scheme``     ``http`` / ``https``, as trusted proxies name it
    ``host``       the requested host, as trusted proxies name it
    ``method``     ``GET``
    ``path``       the path as sent (percent-encoded)
    ``query``      the query string as sent, without ``?`` (``""`` for none)
    ``version``    ``1.1``
    ``status``     the response's status
    ``body_bytes`` the response body's bytes (``%b``)
    ``bytes_sent`` every byte written for the response, head included
    ``referer``, ``user_agent``  the request's headers
    ``duration``   seconds from the request's start until its end was written
    ``head_time``  seconds until the response's head was written (the first
                   byte; a streamed response's is far below its ``duration``)
    ============== =========================================================

    Add fields by extending ``FIELDS`` in a subclass; a field is any
    ``f(request, response, duration) -> value`` that JSON can take (others
    are written with ``str()`` by ``JsonAccessFormatter``).
    """

    __slots__ = ()

    wants_head_time: ClassVar[bool] = True

    FIELDS: ClassVar[Mapping[str, AccessField]] = {
        "remote": _remote,
        "peer": lambda request, response, duration: request.remote,
        "scheme": _scheme,
        "host": _host,
        "method": lambda request, response, duration: request.method,
        "path": lambda request, response, duration: request.rel_url.raw_path,
        "query": lambda request, response, duration: request.rel_url.raw_query_string,
        "version": _version,
        "status": lambda request, response, duration: response.status,
        "body_bytes": lambda request, response, duration: response.body_length,
        "bytes_sent": lambda request, response, duration: request.writer.output_size,
        "referer": _header("Referer"),
        "user_agent": _header("User-Agent"),
        "duration": lambda request, response, duration: duration,
        "head_time": _head_time,
    }

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        fields = self.fields(request, response, time)
        try:
            message = self._fmt % tuple(
                method(request, response, time) for _, method in self._methods
            )
        except Exception as exc:  # the line is a convenience; the fields are the record
            message = f"{fields.get('method')} {fields.get('path')} {fields.get('status')}"
            fields.setdefault("errors", {})["message"] = repr(exc)
        self.logger.info(message, extra={"weft_access": fields})

    def fields(
        self, request: BaseRequest, response: StreamResponse, duration: float
    ) -> dict[str, Any]:
        """The record's ``weft_access`` dict: a field that raises is None, named in ``errors``."""
        values: dict[str, Any] = {"start": _utc_iso(_wall_clock() - duration)}
        errors: dict[str, str] = {}
        for name, field in self.FIELDS.items():
            try:
                values[name] = field(request, response, duration)
            except Exception as exc:
                values[name] = None
                errors[name] = repr(exc)
        if errors:
            values["errors"] = errors
        return values


def _wall_clock() -> float:
    return time.time()


def _utc_iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(
        timespec="microseconds"
    )


class JsonAccessFormatter(logging.Formatter):
    """Formats each record as one line of JSON, ``record.weft_access``'s fields included.

    ``{"time": "2026-12-06T06:00:00.123456+00:00", "level": "INFO",
    "logger": "weft.access", "message": "...", "remote": "203.0.113.7", ...}``

    Any record can go through it (``weft.server`` errors too: they get
    ``exc_info`` as an ``"exception"`` string). Values JSON cannot encode are
    written with ``str()``; newlines in header values are escaped, so a
    client cannot forge a second log line.
    """

    # Keys the formatter writes itself: an access field by one of these names is
    # written as "field_<name>" rather than replace it.
    RESERVED: ClassVar[frozenset[str]] = frozenset(
        {"time", "level", "logger", "message", "exception"}
    )

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "weft_access", None)
        if isinstance(fields, Mapping):
            for name, value in fields.items():
                entry[f"field_{name}" if name in self.RESERVED else str(name)] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, separators=(",", ":"))
