"""Access logging: AbstractAccessLogger and AccessLogger, as aiohttp's.

One line per answered request through the ``logging`` module, by default on
the ``weft.access`` logger (aiohttp's is ``aiohttp.access``) at INFO level.
The connection asks ``enabled`` once, when it is made: a logger that would
drop INFO records costs nothing per request (no clock read, no formatting).

Format directives (Apache-like, the same as aiohttp's)::

    %%         a percent sign
    %a         remote address (of the proxy, behind one)
    %t         when the request started, [10/Oct/2000:13:55:36 +0200]
    %P         the process id, <1234>
    %r         the request line, GET /path?q=1 HTTP/1.1
    %s         the response status
    %b         the response size (StreamResponse.body_length)
    %T         the time taken, in whole seconds
    %Tf        the time taken, in seconds with a fraction (%06f)
    %D         the time taken, in microseconds
    %{Name}i   a request header ("-" when absent)
    %{Name}o   a response header ("-" when absent)
    %{NAME}e   an environment variable ("-" when unset)

Each value is also passed in the record's ``extra`` under the same names as
aiohttp's (``remote_address``, ``request_header`` -> {name: value}, ...), so
a structured formatter can use them.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
import re
import time as time_mod
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from weft.web_core import BaseRequest, StreamResponse

__all__ = ["AbstractAccessLogger", "AccessLogger", "access_logger"]

access_logger = logging.getLogger("weft.access")


class AbstractAccessLogger(ABC):
    """The interface of an access logger: subclass it and pass it as ``access_log_class``."""

    __slots__ = ("log_format", "logger")

    #: weft's: True has the server time each response's head (a clock read at
    #: the request's start and at the head's write), read in ``log()`` as
    #: ``request.writer.head_time``. False costs nothing per request.
    wants_head_time: ClassVar[bool] = False

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abstractmethod
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Emit one line for ``request`` answered by ``response`` in ``time`` seconds."""

    @property
    def enabled(self) -> bool:
        """False when nothing would be emitted, so the server can skip the call."""
        return True


_Method = Callable[[BaseRequest, StreamResponse, float], object]


class _KeyMethod(NamedTuple):
    key: str | tuple[str, str]
    method: _Method


def _format_a(request: BaseRequest, response: StreamResponse, time: float) -> str:
    ip = request.remote
    return ip if ip is not None else "-"


def _format_t(request: BaseRequest, response: StreamResponse, time: float) -> str:
    start = AccessLogger._local_now() - datetime.timedelta(seconds=time)
    return start.strftime("[%d/%b/%Y:%H:%M:%S %z]")


def _format_P(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return f"<{os.getpid()}>"


def _format_r(request: BaseRequest, response: StreamResponse, time: float) -> str:
    version = request.version
    return f"{request.method} {request.path_qs} HTTP/{version.major}.{version.minor}"


def _format_s(request: BaseRequest, response: StreamResponse, time: float) -> int:
    return response.status


def _format_b(request: BaseRequest, response: StreamResponse, time: float) -> int:
    return response.body_length


def _format_T(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(round(time))


def _format_Tf(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return f"{time:06f}"


def _format_D(request: BaseRequest, response: StreamResponse, time: float) -> str:
    return str(round(time * 1_000_000))


def _format_i(key: str, request: BaseRequest, response: StreamResponse, time: float) -> str:
    return request.headers.get(key, "-")


def _format_o(key: str, request: BaseRequest, response: StreamResponse, time: float) -> str:
    return response.headers.get(key, "-")


def _format_e(key: str, request: BaseRequest, response: StreamResponse, time: float) -> str:
    return os.environ.get(key, "-")


_SIMPLE: dict[str, tuple[str, _Method]] = {
    "a": ("remote_address", _format_a),
    "t": ("request_start_time", _format_t),
    "P": ("process_id", _format_P),
    "r": ("first_request_line", _format_r),
    "s": ("response_status", _format_s),
    "b": ("response_size", _format_b),
    "T": ("request_time", _format_T),
    "Tf": ("request_time_frac", _format_Tf),
    "D": ("request_time_micro", _format_D),
}
_KEYED: dict[str, tuple[str, Callable[[str, BaseRequest, StreamResponse, float], object]]] = {
    "i": ("request_header", _format_i),
    "o": ("response_header", _format_o),
    "e": ("environ", _format_e),
}


class AccessLogger(AbstractAccessLogger):
    """The default access logger; see the module docstring for the directives.

    >>> import logging
    >>> AccessLogger(logging.getLogger("spam"), "%a %{User-Agent}i").log_format
    '%a %{User-Agent}i'
    """

    __slots__ = ("_fmt", "_methods")

    LOG_FORMAT = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    FORMAT_RE = re.compile(r"%(\{([A-Za-z0-9\-_]+)\}([ioe])|[atPrsbD]|Tf?)")
    _TOKEN_RE = re.compile(r"%%|%(?:\{([A-Za-z0-9\-_]+)\}([ioe])|([atPrsbD]|Tf?))")
    _FORMAT_CACHE: ClassVar[dict[str, tuple[str, list[_KeyMethod]]]] = {}

    _cached_tz: ClassVar[datetime.timezone | None] = None
    _cached_tz_expires: ClassVar[float] = 0.0

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        compiled = AccessLogger._FORMAT_CACHE.get(log_format)
        if compiled is None:
            compiled = AccessLogger._FORMAT_CACHE[log_format] = self.compile_format(log_format)
        self._fmt, self._methods = compiled

    @classmethod
    def compile_format(cls, log_format: str) -> tuple[str, list[_KeyMethod]]:
        """Turn ``log_format`` into a %-format of ``%s`` and the methods that fill it.

        ``%%`` is a literal percent sign, as documented (aiohttp's own
        compiler turns it into a broken format); any other ``%`` that starts
        no directive is kept literally.
        """
        methods: list[_KeyMethod] = []
        parts: list[str] = []
        end = 0
        for match in cls._TOKEN_RE.finditer(log_format):
            parts.append(log_format[end : match.start()].replace("%", "%%"))
            end = match.end()
            if match.group(0) == "%%":
                parts.append("%%")
                continue
            parts.append("%s")
            name, kind, simple = match.group(1), match.group(2), match.group(3)
            if name is None:
                key, method = _SIMPLE[simple]
                methods.append(_KeyMethod(key, method))
            else:
                group, keyed = _KEYED[kind]
                methods.append(_KeyMethod((group, name), functools.partial(keyed, name)))
        parts.append(log_format[end:].replace("%", "%%"))
        return "".join(parts), methods

    @classmethod
    def _local_now(cls) -> datetime.datetime:
        # The UTC offset is looked up at most every 30 minutes (DST changes on :00 or :30).
        if cls._cached_tz is None or time_mod.time() >= cls._cached_tz_expires:
            offset = time_mod.localtime().tm_gmtoff
            cls._cached_tz = tz = datetime.timezone(datetime.timedelta(seconds=offset))
            now = datetime.datetime.now(tz)
            later = now + datetime.timedelta(minutes=30)
            later = later.replace(minute=30 if later.minute >= 30 else 0, second=0, microsecond=0)
            cls._cached_tz_expires = later.timestamp()
            return now
        return datetime.datetime.now(cls._cached_tz)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            values: list[object] = []
            extra: dict[str, Any] = {}
            for key, method in self._methods:
                value = method(request, response, time)
                values.append(value)
                if isinstance(key, str):
                    extra[key] = value
                else:
                    extra.setdefault(key[0], {})[key[1]] = value
            self.logger.info(self._fmt % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")
