"""The HTTP/1.1 server connection without IO: events in, each with the time, actions out.

``Connection`` is what a connection *decides*; ``RequestHandler`` (the
asyncio glue, ``_protocol.py``) is what it *does*. The glue reads the clock
and passes ``now``; the connection never reads a clock, never imports asyncio
and never calls the glue: every method returns the actions to perform, in
order. So every rule below can be tested by feeding bytes and times by hand.

Three machines move side by side, as h11 keeps one state per side::

    Read (the client's side: what the parser is doing)
      AWAIT_HEAD ──first head byte──► IN_HEAD ──head, with a body──► IN_BODY
          ▲  ▲                           │  └──head, no body──► AWAIT_HEAD
          │  └──────────end of body──────┼────────────────────────── IN_BODY
          │                              └─head deadline (not paused)─► STOPPED (408 queued)
          │  head asking to switch protocols (Upgrade, CONNECT) ──► UPGRADE_PENDING
          └──────── declined (resume_http) ─────────────────────── UPGRADE_PENDING
      UPGRADE_PENDING ──accepted (hand_off)──► HANDED_OFF
      any but HANDED_OFF ──parse error, 415, body deadline, client FIN──► STOPPED

    Answer (the server's side: what the connection's task is doing)
      IDLE ──take() returns an item──► HANDLING ──answered() or answer_ended()──► IDLE
      IDLE or HANDLING ──task_ended()──► ENDED

    Lifecycle (the whole connection)
      OPEN ──close() / shutdown, busy──► CLOSING ──task_ended()──► LINGERING or CLOSED
      OPEN / CLOSING ──close() idle, keep-alive deadline, client FIN──► CLOSED
        (but a fresh connection, no request taken yet, closing: its first request,
        queued, arriving, or arriving within FIRST_REQUEST_GRACE of the accept, is
        parsed, taken and answered, and no other; nothing by then: CLOSED)
      OPEN ──task_ended() after an early answer or an error──► LINGERING
      LINGERING ──client FIN, linger deadline──► CLOSED
      any ──connection_lost()──► CLOSED

Forbidden combinations (``check()`` raises on them; the state-machine test
calls it after every step):

* IN_BODY with no request to own the body: the body's request is queued or
  being answered (``Answer.HANDLING``).
* LINGERING with a task (IDLE or HANDLING): lingering starts when the task
  has ended.
* a deadline armed in a state that does not own it: the head deadline only
  in IN_HEAD, the body deadline only in IN_BODY, the keep-alive deadline
  only while IDLE with nothing queued, the linger deadline only while
  LINGERING, the first-request deadline only while fresh and CLOSING;
  nothing in CLOSED.
* reading paused on the transport when neither reason holds, or not paused
  when one does (OPEN or CLOSING, not HANDED_OFF).
* more than ``QUEUE_HIGH`` requests queued (one more for the rejection that
  ends the connection).

Flags beside the states, each with one meaning:

* ``peer_closed``: the client sent its FIN. Over HTTP that closes the
  connection (``eof_received``); an upgraded protocol decides for itself.
* ``last``: the answer in progress, or the next, is the connection's last
  (``close()``, ``keep_alive(False)``; the client's FIN).
* ``linger``: when the task ends, close politely (FIN, then read and
  discard until the client closes or ``lingering_time``), because the client
  may still be sending: closing over unread bytes makes the kernel send a
  reset that can destroy the answer before the client reads it.
* ``consumer_paused`` / ``queue_full``: the two reasons reading stops, a body
  stream (or WebSocket) over its high-water mark, and a queue at
  ``QUEUE_HIGH`` (cleared at ``QUEUE_LOW``); ``transport_paused`` is what the
  glue did about them.

Deadlines are floats in the connection; the glue keeps one timer, armed by
``ArmTimer(at)``. An action is emitted only when a deadline comes *before*
the one armed: a later one (the keep-alive deadline moving with every
request, the body deadline with every read) waits for the armed timer to
fire, and ``timer_fired`` arms the next. So a keep-alive connection arms one
timer per idle period, not one per request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Final, Generic, NamedTuple, TypeVar

from weft.http_parser import (
    BodyChunk,
    EndOfMessage,
    HttpParserError,
    RequestHead,
    RequestParser,
    UnsupportedContentEncoding,
    supported_encodings,
)

__all__ = [
    "CLOSE",
    "FIRST_REQUEST_GRACE",
    "HANDLING",
    "PAUSE_READING",
    "QUEUE_HIGH",
    "QUEUE_LOW",
    "RESUME_READING",
    "UPGRADE_PENDING",
    "WAKE",
    "WRITE_EOF",
    "Answer",
    "ArmTimer",
    "BodyFailure",
    "Connection",
    "EndBody",
    "FailBody",
    "FeedBody",
    "Lifecycle",
    "Read",
    "Rejection",
    "Signal",
]

# Pipelined requests waiting for their turn: at the high mark the connection
# stops reading (and parsing: the parser keeps the rest of the read), at the
# low mark it goes on, so a client that pipelines without reading its answers
# holds a bounded amount of memory (GHSA-4fvr-rgm6-gqmc).
QUEUE_HIGH: Final = 32
QUEUE_LOW: Final = 8

# How long after its accept a connection that has received nothing yet is
# still waited for at close() (the graceful shutdown): a client writes its
# first request as soon as its connect() returns, so the bytes may be in our
# socket, unread, when the shutdown begins. No other process will serve them
# (the kernel gave the connection to this one), and a proxy does not retry a
# request that failed on a fresh connection (nginx: 502). Past this, a
# connection that sent nothing is idle like any other (a browser's
# preconnect), so it cannot hold the shutdown.
FIRST_REQUEST_GRACE: Final = 1.0


class Read(enum.Enum):
    AWAIT_HEAD = "await head"
    IN_HEAD = "in head"
    IN_BODY = "in body"
    UPGRADE_PENDING = "upgrade pending"
    STOPPED = "stopped"
    HANDED_OFF = "handed off"


class Answer(enum.Enum):
    IDLE = "idle"
    HANDLING = "handling"
    ENDED = "ended"


class Lifecycle(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    LINGERING = "lingering"
    CLOSED = "closed"


class Signal(enum.Enum):
    """The actions without arguments."""

    WAKE = "wake the connection's task: something is queued, or it must end"
    PAUSE_READING = "pause reading the transport"
    RESUME_READING = "resume reading the transport"
    WRITE_EOF = "half-close: FIN once the answer is flushed"
    CLOSE = "close the transport"


# What the glue compares with, on its hot path, without a call.
UPGRADE_PENDING: Final = Read.UPGRADE_PENDING
HANDLING: Final = Answer.HANDLING
WAKE: Final = Signal.WAKE
PAUSE_READING: Final = Signal.PAUSE_READING
RESUME_READING: Final = Signal.RESUME_READING
WRITE_EOF: Final = Signal.WRITE_EOF
CLOSE: Final = Signal.CLOSE


class BodyFailure(enum.Enum):
    """Why a request body ends before its end (the glue turns it into the reader's error)."""

    PEER_CLOSED = "the client closed before the body ended"
    LOST = "the connection was lost"
    TIMEOUT = "no body data for read_body_timeout"
    BAD_FRAMING = "the body broke the framing"


B = TypeVar("B")


class FeedBody(Generic[B]):
    """Feed ``data`` to ``body``; ``end``: then the body is complete (one action, not
    two, for the common body that arrives in one read)."""

    __slots__ = ("body", "data", "end")

    def __init__(self, body: B, data: bytes) -> None:
        self.body = body
        self.data = data
        self.end = False


class EndBody(Generic[B]):
    """``body`` is complete (its last bytes came in an earlier read)."""

    __slots__ = ("body",)

    def __init__(self, body: B) -> None:
        self.body = body


class FailBody(Generic[B]):
    __slots__ = ("body", "error", "why")

    def __init__(self, body: B, why: BodyFailure, error: HttpParserError | None = None) -> None:
        self.body = body
        self.why = why
        self.error = error


class ArmTimer:
    """Arm the connection's one timer at ``at`` (replacing the armed one); on firing,
    call ``timer_fired``."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class Rejection(NamedTuple):
    """Takes the place of a request in the queue: answer with this status, then close."""

    status: int
    reason: str
    text: str
    log: str
    headers: tuple[tuple[str, str], ...] = ()


# A Rejection among the actions: the rejection was just queued; the glue reports
# it (Server.observer's request_rejected). The connection knows no Server.
Action = Signal | FeedBody[B] | EndBody[B] | FailBody[B] | ArmTimer | Rejection
# A request: its head, its body as sent (the connection's to feed) and the body
# the handler reads (the same body, or its decoded view). Or a rejection.
Item = tuple[RequestHead, B, B] | Rejection

# Enum members as module globals: a member lookup through its class costs ~60 ns
# on CPython 3.11, and the hot path makes a dozen per request.
_ENDED: Final = Answer.ENDED
_HANDLING: Final = Answer.HANDLING
_IDLE: Final = Answer.IDLE
_CLOSED: Final = Lifecycle.CLOSED
_CLOSING: Final = Lifecycle.CLOSING
_LINGERING: Final = Lifecycle.LINGERING
_OPEN: Final = Lifecycle.OPEN
_AWAIT_HEAD: Final = Read.AWAIT_HEAD
_HANDED_OFF: Final = Read.HANDED_OFF
_IN_BODY: Final = Read.IN_BODY
_IN_HEAD: Final = Read.IN_HEAD
_STOPPED: Final = Read.STOPPED
_UPGRADE_PENDING: Final = Read.UPGRADE_PENDING
_IN_PROGRESS: Final = (_AWAIT_HEAD, _IN_HEAD, _IN_BODY)
_FEEDABLE: Final = (_AWAIT_HEAD, _IN_HEAD, _IN_BODY, _UPGRADE_PENDING)
_DONE: Final = (_LINGERING, _CLOSED)
# The parser's event classes, for the same reason: compiled, a Final name is a C
# static, an imported one a lookup in the module's dict on every use.
_BODY_CHUNK: Final = BodyChunk
_END_OF_MESSAGE: Final = EndOfMessage
_REQUEST_HEAD: Final = RequestHead


class Connection(Generic[B]):
    """One HTTP/1.1 server connection's decisions (see the module doc).

    ``make_body(head)`` returns the (body as sent, body the handler reads) of
    a request with a body; it may raise ``UnsupportedContentEncoding``
    (answered 415). ``no_body`` is the pair for a request without one. The
    bodies are the glue's: the connection only names them in its actions.
    Timeouts of 0 or None are off; ``keepalive_timeout=0`` is no keep-alive.
    """

    __slots__ = (
        "_armed_at",
        "_body",
        "_body_at",
        "_body_timeout",
        "_first_at",
        "_head_at",
        "_head_timeout",
        "_idle_at",
        "_keepalive_timeout",
        "_linger_at",
        "_lingering_time",
        "_made_at",
        "_make_body",
        "_no_body",
        "_out",
        "answer",
        "consumer_paused",
        "fresh",
        "last",
        "lifecycle",
        "linger",
        "parser",
        "peer_closed",
        "queue",
        "queue_full",
        "read",
        "refill",
        "transport_paused",
    )

    def __init__(
        self,
        parser: RequestParser,
        make_body: Callable[[RequestHead], tuple[B, B]],
        no_body: tuple[B, B],
        *,
        keepalive_timeout: float | None = 75.0,
        read_head_timeout: float | None = 20.0,
        read_body_timeout: float | None = 60.0,
        lingering_time: float | None = 10.0,
    ) -> None:
        self.parser = parser
        self._make_body = make_body
        self._no_body = no_body
        self._keepalive_timeout = keepalive_timeout
        self._head_timeout = read_head_timeout or 0.0
        self._body_timeout = read_body_timeout or 0.0
        self._lingering_time = lingering_time or 0.0
        self.read = _AWAIT_HEAD
        self.answer = _IDLE
        self.lifecycle = _OPEN
        # A list, not a deque: an empty deque holds a 64-slot block (~700 bytes on
        # every idle connection), and the queue never holds more than QUEUE_HIGH + 1.
        self.queue: list[Item[B]] = []
        self._body: B | None = None  # the body being received
        self.peer_closed = False
        self.last = False
        self.linger = False
        self.consumer_paused = False
        self.queue_full = False
        self.refill = False
        self.transport_paused = False
        self.fresh = True  # no request taken yet (see FIRST_REQUEST_GRACE)
        self._made_at = 0.0
        self._first_at: float | None = None
        self._head_at: float | None = None
        self._body_at: float | None = None
        self._idle_at: float | None = None
        self._linger_at: float | None = None
        self._armed_at: float | None = None
        self._out: list[Action[B]] = []

    def __repr__(self) -> str:
        return (
            f"<Connection {self.read.name} {self.answer.name} {self.lifecycle.name}"
            f" queued={len(self.queue)}>"
        )

    # -- what the glue asks

    @property
    def handling(self) -> bool:
        return self.answer is _HANDLING

    @property
    def body_timeout(self) -> float:
        return self._body_timeout

    @property
    def serving(self) -> bool:
        """Whether the connection's task goes on (False once lingering or closed)."""
        return self.lifecycle is _OPEN or self.lifecycle is _CLOSING

    @property
    def last_answer(self) -> bool:
        """Whether the answer being prepared must say ``Connection: close``.

        ``keepalive_timeout=0`` is no keep-alive, as in aiohttp, but a request
        already waiting behind this one is answered.
        """
        return self.last or (self._keepalive_timeout == 0 and not self.queue)

    @property
    def can_hand_off(self) -> bool:
        """Whether the request being answered asked to switch protocols (and is the last)."""
        return self.parser.switched and not self.queue and self.read is not _HANDED_OFF

    def deadlines(self) -> dict[str, float]:
        """The deadlines armed, by name (for tests and debugging)."""
        named = {
            "head": self._head_at,
            "body": self._body_at,
            "keep-alive": self._idle_at,
            "linger": self._linger_at,
            "first request": self._first_at,
        }
        return {name: at for name, at in named.items() if at is not None}

    # -- events from the transport

    def connection_made(self, now: float) -> None:
        """The connection was accepted (the first request's grace counts from here)."""
        self._made_at = now

    def data_received(self, data: bytes, now: float) -> list[Action[B]]:
        """Bytes from the client (b"": parse what the parser held back at the queue's cap).

        One function, the parser's events handled inline: this is the hot path.
        """
        out = self._out = []
        if self.read not in _FEEDABLE:
            return out  # read and discarded: after an error, while lingering
        lifecycle = self.lifecycle
        queue = self.queue
        # Closing: a fresh connection's first request is still parsed, and only it.
        first = lifecycle is _CLOSING and self.fresh and not queue
        if lifecycle is not _OPEN and not (
            # Closing: the request in hand still gets its body; nothing after it
            # is parsed, as no request after it will be started.
            first or (lifecycle is _CLOSING and self._body is not None)
        ):
            return out
        # The cap is hard: the parser stops before a head the queue has no room
        # for and keeps its bytes, however many one read holds (GHSA-4fvr-rgm6-gqmc).
        room = max(QUEUE_HIGH - len(queue), 0) if lifecycle is _OPEN else int(first)
        failure: HttpParserError | None = None
        try:
            events = self.parser.feed(data, room)
        except HttpParserError as exc:
            # Requests completed before the error are answered first.
            events = exc.events
            failure = exc
        for event in events:
            kind = type(event)
            if kind is _BODY_CHUNK:
                assert self._body is not None
                out.append(FeedBody(self._body, event.data))  # type: ignore[union-attr]
            elif kind is _REQUEST_HEAD:
                head: RequestHead = event  # type: ignore[assignment]
                self._head_at = None
                has_body = head.chunked or head.content_length
                try:
                    payload, content = self._make_body(head) if has_body else self._no_body
                except UnsupportedContentEncoding as exc:
                    # RFC 9110 §15.5.16: 415, and say which codings would do.
                    self._reject(
                        Rejection(
                            exc.status,
                            exc.reason,
                            f"{exc.status}: {exc}",
                            f"Unsupported request Content-Encoding: {exc}",
                            (("Accept-Encoding", ", ".join(supported_encodings())),),
                        )
                    )
                    return out
                if has_body:
                    self._body = payload
                queue.append((head, payload, content))
                if len(queue) >= QUEUE_HIGH:
                    self.queue_full = True
                    self._apply_reading(now)
            elif kind is _END_OF_MESSAGE:
                body = self._body
                if body is not None:
                    self._body = None
                    self._body_at = None
                    last = out[-1] if out else None
                    if type(last) is FeedBody and last.body is body:
                        last.end = True
                    else:
                        out.append(EndBody(body))
        if failure is not None:
            body = self._body
            if body is not None:
                # The error is in a request's body: that request answers it (its
                # reads fail), then the connection closes (RFC 9112 §9.6).
                self._body = None
                self._stop()
                out.append(FailBody(body, BodyFailure.BAD_FRAMING, failure))
                self._wake()
            else:
                text = f"{failure.status}: {failure}"
                self._reject(
                    Rejection(failure.status, failure.reason, text, f"Bad request: {failure}")
                )
            return out
        if self._body is not None:
            self.read = _IN_BODY
            if self._body_timeout:
                # Restarted by every read; the armed timer is not moved (see the module doc).
                self._body_at = at = now + self._body_timeout
                armed = self._armed_at
                if armed is None or at < armed:
                    self._arm(at)
        elif self.parser.head_pending:
            self.read = _IN_HEAD
            if (
                self._head_timeout
                and self._head_at is None
                # closing: only the fresh connection's first head has a clock
                and (lifecycle is _OPEN or (first and not queue))
            ):
                # The first bytes of a head (alone, or after whole requests in the same
                # read): its clock starts. A head completed in this read stopped the
                # previous clock above.
                self._head_at = at = now + self._head_timeout
                self._arm(at)
        elif self.parser.switched:
            self.read = _UPGRADE_PENDING
        else:
            self.read = _AWAIT_HEAD
        if events and queue and self.answer is _IDLE:
            out.append(WAKE)
        return out

    def eof_received(self) -> list[Action[B]]:
        """The client's FIN ends the connection, as aiohttp's (which leaves the FIN
        to asyncio, which closes the transport).

        A handler that runs goes on (the glue cancels it only with
        ``handler_cancellation``) but its writes fail, which is how a streaming
        handler (SSE, long-poll) learns that its client left; a body still
        arriving fails; requests queued are not started. RFC 9112 §9.6 lets a
        client half-close and still wait for its answer, but aiohttp's users
        cannot rely on that, and a streaming handler could not tell a
        half-close from a departure. Lingering, the FIN is what we waited for.
        """
        out = self._out = []
        self.peer_closed = self.last = True
        if self.read is _HANDED_OFF:
            return out  # the upgraded protocol's business
        self._stop()
        body = self._body
        if body is not None:
            self._body = None
            out.append(FailBody(body, BodyFailure.PEER_CLOSED))
        self._close()
        return out

    def connection_lost(self) -> list[Action[B]]:
        out = self._out = []
        self.lifecycle = _CLOSED
        self._clear_deadlines()
        self.transport_paused = False
        if self.read is not _HANDED_OFF:
            self.read = _STOPPED
        body = self._body
        if body is not None:
            self._body = None
            out.append(FailBody(body, BodyFailure.LOST))
        return out

    def timer_fired(self, now: float) -> list[Action[B]]:
        """The glue's timer fired: act on every deadline at or before ``now``."""
        out = self._out = []
        self._armed_at = None
        if self._head_at is not None and now >= self._head_at:
            self._head_due(now)
        if self._body_at is not None and now >= self._body_at:
            self._body_due(now)
        if self._idle_at is not None and now >= self._idle_at:
            self._idle_at = None
            # A request queued, or a head on its way (the head deadline's
            # business): the next idle period sets the deadline again.
            if not self.queue and self._head_at is None:
                self._close()
        if self._linger_at is not None and now >= self._linger_at:
            self._close()
        if self._first_at is not None and now >= self._first_at:
            self._first_at = None
            if not self.queue and not self.parser.head_pending:
                self._close()  # nothing came: idle after all
        following = [
            at
            for at in (self._head_at, self._body_at, self._idle_at, self._linger_at, self._first_at)
            if at is not None
        ]
        if following:
            self._arm(min(following))
        return out

    # -- events from the body streams' flow control

    def pause_consumer(self) -> list[Action[B]]:
        """A body stream (or the upgraded protocol) is over its high-water mark."""
        out = self._out = []
        self.consumer_paused = True
        self._apply_reading(0.0)
        return out

    def resume_consumer(self, now: float) -> list[Action[B]]:
        out = self._out = []
        self.consumer_paused = False
        self._apply_reading(now)
        return out

    # -- events from the connection's task

    def take(self) -> Item[B] | None:
        """The next request (or rejection) to answer, or None: call ``idle(now)``.

        Taking the request that brings the queue down to its low mark sets
        ``refill``: then call ``refill_queue(now)``. (No clock is needed on a
        request's path, and no list is made.)
        """
        if self.answer is not _IDLE:
            raise RuntimeError(f"take() while the task is {self.answer.value}")
        queue = self.queue
        if not queue or not (
            self.lifecycle is _OPEN or (self.fresh and self.lifecycle is _CLOSING)
        ):
            return None
        self._idle_at = None
        if self.fresh:
            self.fresh = False
            self._first_at = None
        item = queue.pop(0)
        self.answer = _HANDLING
        if self.queue_full and len(queue) <= QUEUE_LOW:
            self.queue_full = False
            self.refill = True
        return item

    def refill_queue(self, now: float) -> list[Action[B]]:
        """The queue is down to its low mark: parse what the parser held back (it may
        fill the queue again), then read again unless a body stream holds reading."""
        self.refill = False
        if self.parser.head_pending and self.read in _IN_PROGRESS:
            out = self.data_received(b"", now)
        else:
            out = self._out = []
        self._apply_reading(now)
        return out

    def idle(self, now: float) -> list[Action[B]]:
        """Nothing to take: the task waits for a WAKE (its keep-alive deadline starts),
        or, when ``serving`` is False after this, ends."""
        out = self._out = []
        if self.answer is not _IDLE:
            raise RuntimeError(f"idle() while the task is {self.answer.value}")
        if self.lifecycle is _CLOSING:
            if self._first_coming(now):
                self._await_first_request()
            else:
                self._close()  # an idle connection closes at once
        elif self.lifecycle is _OPEN and self._keepalive_timeout:
            self._idle_at = at = now + self._keepalive_timeout
            armed = self._armed_at
            if armed is None or at < armed:
                self._arm(at)
        return out

    def answered(self, keep_alive: bool, body_complete: bool) -> bool:
        """The answer went out (``keep_alive``: the response's and the request's wish):
        whether the connection serves another request. See ``answer_ended``."""
        self.answer = _IDLE
        if not body_complete:
            self.linger = True
        if self._keepalive_timeout == 0 and not self.queue:
            return False  # as aiohttp: no keep-alive, but pipelined requests are answered
        return keep_alive and self.lifecycle is _OPEN and not self.last

    def answer_ended(self, body_complete: bool) -> None:
        """The request taken gave up before its answer was out (or ``answered`` said
        so already); ``body_complete``: its body arrived whole (otherwise the client
        may still be sending it: close politely)."""
        self.answer = _IDLE
        if not body_complete:
            self.linger = True

    def task_ended(self, now: float, *, shutting_down: bool, writable: bool) -> list[Action[B]]:
        """The connection's task ended: close now, or linger (see the module doc).

        ``shutting_down``: the server's graceful shutdown let this answer finish;
        the client may have sent more already (pipelined, or before it read
        ``Connection: close``). ``writable``: the transport is open.
        """
        out = self._out = []
        self.queue.clear()  # a rejection queued behind a request that ended the connection
        self.queue_full = False
        self.answer = _ENDED
        failed = self.read is _STOPPED
        if self.read is not _HANDED_OFF:
            # Nothing more is parsed; a body still arriving is read and discarded
            # (its reader was told when its answer was sent).
            self.read = _STOPPED
            self._body = None
        if shutting_down:
            self.linger = True
        if (
            not (self.linger or failed)
            or self.peer_closed
            or not self._lingering_time
            or self.lifecycle in _DONE
            or not writable
        ):
            self._close()
            return out
        self.lifecycle = _LINGERING
        self._head_at = self._body_at = self._idle_at = self._first_at = None
        out.append(WRITE_EOF)
        if self.transport_paused:
            self.transport_paused = False
            out.append(RESUME_READING)
        self._linger_at = at = now + self._lingering_time
        self._arm(at)
        return out

    # -- events from the application

    def close(self, now: float) -> list[Action[B]]:
        """``close()`` and the graceful shutdown: no new request; idle: close now,
        unless the connection is fresh (see ``FIRST_REQUEST_GRACE``)."""
        out = self._out = []
        if self.lifecycle is _OPEN:
            self.lifecycle = _CLOSING
            self._idle_at = None  # no next request: only a fresh one's first (below)
        self.last = True
        if self.lifecycle is _LINGERING:
            self._close()
        elif self.answer is _IDLE:
            if self.lifecycle is _CLOSING and self._first_coming(now):
                self._await_first_request()
            else:
                self._close()
        return out

    def force_close(self) -> list[Action[B]]:
        out = self._out = []
        self._close()
        return out

    def keep_alive(self, value: bool) -> None:
        """``False``: the answer in progress (or the next) is the last; ``True`` undoes
        that, unless the client's FIN or ``close()`` asked for it."""
        self.last = self.peer_closed or self.lifecycle is not _OPEN or not value

    def hand_off(self) -> tuple[bytes, list[Action[B]]]:
        """The upgrade was accepted (101): the bytes after the request belong to the
        new protocol; no HTTP deadline runs from now on."""
        out = self._out = []
        if not self.can_hand_off:
            raise RuntimeError(
                "switch_protocol() is only for the request being answered, and only when it "
                "asked to upgrade (Connection: upgrade and an Upgrade header, HTTP/1.1)"
            )
        self.read = _HANDED_OFF
        self._head_at = self._body_at = None
        if self.transport_paused and self.lifecycle is not _CLOSED:
            self.transport_paused = False
            out.append(RESUME_READING)
        return self.parser.take_trailing_data(), out

    def resume_http(self) -> bytes:
        """The upgrade was declined: the bytes after the request are HTTP again
        (the glue feeds them back as ``data_received``)."""
        if self.read is not _UPGRADE_PENDING or self.lifecycle in _DONE:
            return b""
        data = self.parser.take_trailing_data()
        self.parser.resume_http()  # nothing left in it: the bytes go back through data_received
        self.read = _AWAIT_HEAD
        return data

    # -- invariants

    def check(self) -> None:
        """Raise AssertionError on a forbidden combination (see the module doc)."""
        read, answer, lifecycle = self.read, self.answer, self.lifecycle
        if read is _IN_BODY:
            assert self._body is not None, "IN_BODY without a body"
            assert self.queue or answer is _HANDLING, "a body no request owns"
        else:
            assert self._body is None, f"a body being received in {read}"
        assert lifecycle is not _LINGERING or answer is _ENDED, "lingering task"
        assert self._head_at is None or read is _IN_HEAD, f"head deadline in {read}"
        assert self._body_at is None or read is _IN_BODY, f"body deadline in {read}"
        assert self._idle_at is None or (answer is _IDLE and lifecycle is _OPEN), (
            "keep-alive deadline while busy"
        )
        assert self._linger_at is None or lifecycle is _LINGERING
        assert self._first_at is None or (self.fresh and lifecycle is _CLOSING), (
            "first-request deadline on a connection that is not fresh and closing"
        )
        if lifecycle is _CLOSED:
            assert not self.deadlines(), "a deadline on a closed connection"
        elif lifecycle is not _LINGERING and read is not _HANDED_OFF:
            wanted = self.consumer_paused or self.queue_full
            assert self.transport_paused == wanted, "reading paused for no reason, or not"
        assert len(self.queue) <= QUEUE_HIGH + 1, "the queue past its cap"
        assert not self.queue_full or len(self.queue) > QUEUE_LOW or lifecycle in _DONE

    # -- the rules

    def _reject(self, rejection: Rejection) -> None:
        """Stop parsing; answer ``rejection`` after the requests before it, then close."""
        self._stop()
        self.queue.append(rejection)
        self._wake()
        self._out.append(rejection)  # for the glue to report (Server.observer)

    def _stop(self) -> None:
        self.read = _STOPPED
        self._head_at = self._body_at = None

    def _head_due(self, now: float) -> None:
        if self.transport_paused:
            # We hold reading (an earlier body is not consumed): not the client's fault.
            self._head_at = now + self._head_timeout
            return
        self._head_at = None
        text = (
            "408: Request Timeout\n\n"
            f"The request head did not arrive within {self._head_timeout:g} s"
        )
        self._reject(Rejection(408, "Request Timeout", text, "Request head timed out"))

    def _body_due(self, now: float) -> None:
        if self.transport_paused:
            # The handler is behind, not the client: the body clock restarts.
            self._body_at = now + self._body_timeout
            return
        # The parser is mid-body: nothing after it can be parsed, so the connection ends.
        body = self._body
        assert body is not None
        self._body = None
        self._stop()
        self.linger = True
        self._out.append(FailBody(body, BodyFailure.TIMEOUT))

    def _apply_reading(self, now: float) -> None:
        """Pause or resume the transport as the two reasons to pause say."""
        if self.lifecycle is _CLOSED:
            return
        if self.consumer_paused or self.queue_full:
            if not self.transport_paused and self.lifecycle is not _LINGERING:
                self.transport_paused = True
                self._out.append(PAUSE_READING)
        elif self.transport_paused:
            self.transport_paused = False
            if self._body_at is not None:
                self._body_at = now + self._body_timeout  # the body clock restarts now
            self._out.append(RESUME_READING)

    def _first_coming(self, now: float) -> bool:
        """Closing and idle: whether a fresh connection is not idle yet (its first
        request arrived, is arriving, or may still arrive within the grace). Changes
        nothing: when it holds, the caller calls ``_await_first_request``."""
        # Queued or arriving, it is answered with Connection: close; a head still
        # arriving is bounded by read_head_timeout, as any head.
        return self.fresh and (
            bool(self.queue)
            or self.parser.head_pending
            or now < self._made_at + FIRST_REQUEST_GRACE
        )

    def _await_first_request(self) -> None:
        """A fresh connection kept open at close() for its first request
        (``_first_coming``): when nothing of it came yet, arm the first-request
        deadline, the end of the grace (once)."""
        if self.queue or self.parser.head_pending or self._first_at is not None:
            return
        self._first_at = at = self._made_at + FIRST_REQUEST_GRACE
        self._arm(at)

    def _wake(self) -> None:
        if self.answer is _IDLE:
            self._out.append(WAKE)

    def _close(self) -> None:
        if self.lifecycle is _CLOSED:
            return
        self.lifecycle = _CLOSED
        self._clear_deadlines()
        self._out.append(CLOSE)
        self._wake()

    def _clear_deadlines(self) -> None:
        self._head_at = self._body_at = self._idle_at = self._linger_at = self._first_at = None

    def _arm(self, at: float) -> None:
        armed = self._armed_at
        if armed is None or at < armed:
            self._armed_at = at
            self._out.append(ArmTimer(at))
