"""The sans-IO connection core (``_connection.Connection``) with no socket, no loop, no clock.

A ``Glue`` plays the asyncio glue's part: it performs the core's actions on
plain objects (a body that records what it was fed, a "transport" of flags,
one timer), and the time is whatever number the test passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from weft.http_parser import ContentDecoder, RequestHead, RequestParser
from weft.web_runner._connection import (
    CLOSE,
    FIRST_REQUEST_GRACE,
    PAUSE_READING,
    QUEUE_HIGH,
    QUEUE_LOW,
    RESUME_READING,
    WAKE,
    WRITE_EOF,
    Action,
    ArmTimer,
    BodyFailure,
    Connection,
    EndBody,
    FailBody,
    FeedBody,
    Lifecycle,
    Read,
    Rejection,
)

EPSILON = 1e-6
HOST = b"Host: x\r\n"


class Body:
    """A request body as the glue's BodyStream would hold it, with its flow control."""

    def __init__(self, head: RequestHead | None, high_water: int) -> None:
        self.head = head
        self.high_water = high_water
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.ended = False
        self.failure: FailBody[Body] | None = None
        self.paused = False

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


class Glue:
    """Performs the core's actions the way RequestHandler does, on recorded state."""

    def __init__(self, *, high_water: int = 1 << 20, **options: Any) -> None:
        self.high_water = high_water
        self.empty = Body(None, high_water)
        self.empty.ended = True
        self.core: Connection[Body] = Connection(
            RequestParser(), self.make_body, (self.empty, self.empty), **options
        )
        self.core.connection_made(0.0)
        self.actions: list[Action[Body]] = []
        self.reading_paused = False
        self.closed = False
        self.fin_sent = False
        self.wakes = 0
        self.timer: float | None = None
        self.arms: list[float] = []
        self.rejected: list[int] = []  # what RequestHandler reports to Server.observer

    def make_body(self, head: RequestHead) -> tuple[Body, Body]:
        assert head.chunked or head.content_length, "asked for a body a request has not"
        if head.content_encoding:
            ContentDecoder(head.content_encoding, max_size=None)  # 415 when unsupported
        body = Body(head, self.high_water)
        return body, body

    def perform(self, actions: Sequence[Action[Body]]) -> list[Action[Body]]:
        self.actions.extend(actions)
        for action in actions:
            if isinstance(action, FeedBody):
                body = action.body
                assert not body.ended, "fed after its end"
                body.chunks.append(action.data)
                body.buffered += len(action.data)
                body.ended = action.end
                if body.buffered > body.high_water and not body.paused:
                    body.paused = True  # as BodyStream: once per crossing
                    self.perform(self.core.pause_consumer())
            elif isinstance(action, EndBody):
                assert not action.body.ended, "ended twice"
                action.body.ended = True
            elif isinstance(action, FailBody):
                action.body.failure = action
            elif isinstance(action, ArmTimer):
                self.timer = action.at
                self.arms.append(action.at)
            elif isinstance(action, Rejection):
                # Reported as it is queued (the glue tells Server.observer).
                assert action in self.core.queue, "reported a rejection not queued"
                self.rejected.append(action.status)
            elif action is WAKE:
                self.wakes += 1
            elif action is PAUSE_READING:
                assert not self.reading_paused, "paused twice"
                self.reading_paused = True
            elif action is RESUME_READING:
                assert self.reading_paused, "resumed while reading"
                self.reading_paused = False
            elif action is CLOSE:
                assert not self.closed, "closed twice"
                self.closed = True
            else:
                assert action is WRITE_EOF
                self.fin_sent = True
        return list(actions)

    # -- what a test asks (methods, so that a type checker does not keep what it saw)

    def is_closed(self) -> bool:
        return self.closed

    def paused(self) -> bool:
        return self.reading_paused

    def last_answer(self) -> bool:
        return self.core.last_answer

    def read(self) -> Read:
        return self.core.read

    def lifecycle(self) -> Lifecycle:
        return self.core.lifecycle

    # -- what a test does

    def send(self, data: bytes, now: float = 0.0) -> list[Action[Body]]:
        return self.perform(self.core.data_received(data, now))

    def advance(self, now: float) -> list[Action[Body]]:
        """The loop at ``now``: the timer fires if it is due."""
        if self.timer is None or now < self.timer:
            return []
        self.timer = None
        return self.perform(self.core.timer_fired(now))

    def take(self, now: float = 0.0) -> Any:
        """What the glue's task does: take, refill at the low mark, or go idle."""
        item = self.core.take()
        if item is None:
            self.perform(self.core.idle(now))
        elif self.core.refill:
            self.perform(self.core.refill_queue(now))
        return item

    def finish(
        self, item: Any, *, keep_alive: bool = True, now: float = 0.0
    ) -> tuple[bool, list[Action[Body]]]:
        """The handler answered ``item``; the task goes on or ends."""
        payload = item[1]
        going_on = self.core.answered(keep_alive and payload.ended, payload.ended)
        if going_on:
            return True, []
        return False, self.end(now)

    def end(self, now: float = 0.0, *, shutting_down: bool = False) -> list[Action[Body]]:
        return self.perform(
            self.core.task_ended(now, shutting_down=shutting_down, writable=not self.closed)
        )

    def consume(self, body: Body, now: float = 0.0) -> None:
        """The handler reads everything buffered (BodyStream resumes below its low mark)."""
        body.buffered = 0
        if body.paused:
            body.paused = False
            self.perform(self.core.resume_consumer(now))


def failure(body: Body) -> FailBody[Body] | None:
    return body.failure


def failed_with(body: Body) -> BodyFailure | None:
    return None if body.failure is None else body.failure.why


def request_at(glue: Glue, index: int) -> tuple[RequestHead, Body, Body]:
    item = glue.core.queue[index]
    assert not isinstance(item, Rejection)
    return item


def get(path: str, *extra: bytes) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST + b"".join(extra) + b"\r\n"


def post(path: str, body: bytes) -> bytes:
    length = b"Content-Length: %d\r\n" % len(body)
    return b"POST " + path.encode() + b" HTTP/1.1\r\n" + HOST + length + b"\r\n" + body


def chunked(path: str, *chunks: bytes) -> bytes:
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    head = b"POST " + path.encode() + b" HTTP/1.1\r\n" + HOST
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + framed


def paths(items: list[Any]) -> list[str]:
    return [item[0].path for item in items]


# -- bytes split anywhere


PIPELINE = chunked("/a", b"hello ", b"world") + post("/b", b"0123456789") + get("/c")


@pytest.mark.parametrize("cut", range(1, len(PIPELINE)))
def test_a_pipeline_split_at_any_offset_parses_the_same(cut: int) -> None:
    """Two reads cut anywhere (inside a request line, a field, a chunk size, a body)
    queue the same three requests with the same bodies, each body ended once."""
    glue = Glue()
    glue.send(PIPELINE[:cut], now=1.0)
    glue.core.check()
    glue.send(PIPELINE[cut:], now=2.0)
    glue.core.check()
    queue = list(glue.core.queue)
    assert paths(queue) == ["/a", "/b", "/c"]
    assert request_at(glue, 0)[1].data == b"hello world"
    assert request_at(glue, 0)[1].ended
    assert request_at(glue, 1)[1].data == b"0123456789"
    assert request_at(glue, 1)[1].ended
    assert queue[2][1] is glue.empty
    ends = [a for a in glue.actions if isinstance(a, EndBody) or getattr(a, "end", False)]
    assert len(ends) == 2
    assert glue.read() is Read.AWAIT_HEAD
    assert glue.core.deadlines() == {}  # no head or body on its way
    assert glue.wakes >= 1


def test_a_request_fed_byte_by_byte_starts_its_head_clock_once() -> None:
    """The head deadline runs from the head's first byte, not from its last read."""
    glue = Glue(read_head_timeout=5.0)
    request = get("/slow")
    for i, byte in enumerate(request[:-1]):
        glue.send(bytes([byte]), now=float(i))
        assert glue.core.deadlines() == {"head": 5.0}
    glue.send(request[-1:], now=100.0)  # the timer never ran: the loop was not asked
    assert paths(list(glue.core.queue)) == ["/slow"]
    assert glue.core.deadlines() == {}


# -- the pipeline queue's marks


def test_a_pipeline_over_the_queue_marks_pauses_once_and_is_answered_in_order() -> None:
    """100 requests in one read: 32 queued and reading paused, the rest kept by the
    parser and parsed as the queue drains to 8, reading resumed once the parser is dry,
    and every request taken in order."""
    glue = Glue()
    glue.send(b"".join(get(f"/{i}") for i in range(100)))
    assert len(glue.core.queue) == QUEUE_HIGH
    assert glue.paused()
    taken: list[str] = []
    longest = 0
    while glue.core.queue:
        item = glue.take()
        taken.append(item[0].path)
        longest = max(longest, len(glue.core.queue))
        glue.core.check()
        assert glue.paused() == (glue.core.parser.head_pending or glue.core.queue_full)
        glue.finish(item)
    assert taken == [f"/{i}" for i in range(100)]
    assert longest == QUEUE_HIGH  # refilled to the cap as it drains, never past it
    assert not glue.paused()
    assert glue.actions.count(PAUSE_READING) == 1
    assert glue.actions.count(RESUME_READING) == 1


def test_the_queue_resumes_reading_at_its_low_mark() -> None:
    """Exactly 32 queued: taking down to 9 keeps reading paused, the take that leaves 8
    resumes it."""
    glue = Glue()
    glue.send(b"".join(get(f"/{i}") for i in range(QUEUE_HIGH)))
    assert glue.paused()
    while len(glue.core.queue) > QUEUE_LOW + 1:
        glue.finish(glue.take())
    assert glue.paused()
    glue.finish(glue.take())
    assert len(glue.core.queue) == QUEUE_LOW
    assert not glue.paused()


def test_a_slow_reader_holds_reading_and_no_clock_runs_against_the_client() -> None:
    """A handler that reads its body slowly: reading pauses once past the stream's mark;
    while paused, neither the body deadline nor the next request's head deadline fires,
    whatever the time; once the handler catches up reading resumes and the body clock
    starts from then."""
    glue = Glue(high_water=4, read_body_timeout=10.0, read_head_timeout=5.0)
    glue.send(post("/up", b"0123456789")[:-3], now=0.0)
    item = glue.take()
    body = item[1]
    assert glue.paused()
    assert glue.actions.count(PAUSE_READING) == 1
    glue.advance(10.0)  # the body deadline, while paused: the clock restarts
    assert failure(body) is None
    assert glue.core.deadlines() == {"body": 20.0}
    glue.advance(20.0)
    assert failure(body) is None
    glue.consume(body, now=25.0)
    assert not glue.paused()
    assert glue.core.deadlines() == {"body": 35.0}
    glue.send(b"789", now=26.0)
    assert body.ended
    assert body.data == b"0123456789"


def test_a_head_behind_a_paused_body_does_not_time_out() -> None:
    """A head pipelined behind a body the handler has not consumed: its clock does not
    run out while the server holds reading."""
    glue = Glue(high_water=4, read_head_timeout=5.0)
    glue.send(post("/a", b"0123456789") + b"GET /b HT", now=0.0)
    assert glue.paused()
    assert glue.read() is Read.IN_HEAD
    glue.advance(5.0)
    glue.advance(10.0)
    assert not any(isinstance(i, Rejection) for i in glue.core.queue)
    assert glue.core.deadlines() == {"head": 15.0}


# -- each deadline at deadline-ε and at the deadline


def test_the_head_deadline() -> None:
    glue = Glue(read_head_timeout=20.0)
    glue.send(b"GET / HTTP/1.1\r\nHo", now=100.0)
    assert glue.timer == 120.0
    early = glue.perform(glue.core.timer_fired(120.0 - EPSILON))  # a timer that fires early
    assert [a.at for a in early if isinstance(a, ArmTimer)] == [120.0]
    assert len(early) == 1
    assert not glue.core.queue
    glue.advance(120.0)
    (rejection,) = glue.core.queue
    assert isinstance(rejection, Rejection)
    assert rejection.status == 408
    assert glue.rejected == [408]  # reported once, as it was queued
    assert glue.read() is Read.STOPPED
    assert glue.wakes == 1


def test_the_body_deadline_runs_from_the_last_read() -> None:
    glue = Glue(read_body_timeout=60.0)
    glue.send(post("/", b"0123456789")[:-5], now=0.0)
    body = glue.take()[1]
    glue.send(b"56", now=30.0)  # the deadline moves to 90; the armed timer stays at 60
    assert glue.timer == 60.0
    glue.advance(60.0)
    assert failure(body) is None
    assert glue.timer == 90.0
    glue.advance(90.0 - EPSILON)
    assert failure(body) is None
    glue.advance(90.0)
    assert failed_with(body) is BodyFailure.TIMEOUT
    assert glue.read() is Read.STOPPED
    assert glue.core.linger


def test_the_keepalive_deadline() -> None:
    glue = Glue(keepalive_timeout=75.0)
    assert glue.take(now=5.0) is None  # idle from 5
    glue.advance(80.0 - EPSILON)
    assert not glue.is_closed()
    glue.advance(80.0)
    assert glue.is_closed()
    assert glue.lifecycle() is Lifecycle.CLOSED
    assert glue.wakes == 1  # the task wakes to end


def test_the_keepalive_deadline_spares_a_request_that_came_before_the_task_woke() -> None:
    """A request queued in the idle period's last moment is answered: the deadline
    passes it by, and the next idle period sets a new one."""
    glue = Glue(keepalive_timeout=75.0)
    glue.take(now=0.0)
    glue.send(get("/late"), now=75.0 - EPSILON)
    glue.advance(75.0)
    assert not glue.is_closed()
    assert glue.core.deadlines() == {}
    assert glue.take(now=75.0)[0].path == "/late"


def test_the_keepalive_deadline_arms_one_timer_for_many_requests() -> None:
    """Going idle after each request moves the deadline but arms no timer: the armed
    one fires early, finds the newer deadline and arms it."""
    glue = Glue(keepalive_timeout=75.0)
    glue.take(now=0.0)
    for t in range(1, 50):
        glue.send(get("/"), now=float(t))
        glue.finish(glue.take(now=float(t)))
        assert glue.take(now=float(t)) is None
    assert glue.arms == [75.0]
    glue.advance(75.0)
    assert not glue.is_closed()
    assert glue.arms == [75.0, 124.0]
    glue.advance(124.0)
    assert glue.is_closed()


def test_the_linger_deadline() -> None:
    """After an answer that left its body unread, the connection half-closes, reads
    and discards, and closes at lingering_time or at the client's FIN."""
    glue = Glue(lingering_time=10.0)
    glue.send(post("/", b"0123456789")[:-5], now=0.0)
    item = glue.take()
    going_on, actions = glue.finish(item, now=3.0)
    assert not going_on
    assert actions[0] is WRITE_EOF
    assert glue.timer == 13.0
    assert glue.lifecycle() is Lifecycle.LINGERING
    assert glue.send(b"56789", now=4.0) == []  # discarded
    glue.advance(13.0 - EPSILON)
    assert not glue.is_closed()
    glue.advance(13.0)
    assert glue.is_closed()


def test_a_fin_ends_lingering_at_once() -> None:
    glue = Glue()
    glue.send(post("/", b"0123456789")[:-5])
    glue.finish(glue.take())
    assert glue.lifecycle() is Lifecycle.LINGERING
    glue.perform(glue.core.eof_received())
    assert glue.is_closed()


# -- faults


def test_disconnect_mid_body() -> None:
    """The body fails (the handler's reads raise), nothing is armed, nothing more parsed."""
    glue = Glue()
    glue.send(post("/", b"0123456789")[:-4])
    body = glue.take()[1]
    glue.perform(glue.core.connection_lost())
    assert failed_with(body) is BodyFailure.LOST
    assert glue.lifecycle() is Lifecycle.CLOSED
    assert glue.core.deadlines() == {}
    assert glue.send(b"6789") == []
    glue.core.check()


def test_disconnect_mid_response() -> None:
    """Lost while the handler writes: its end closes nothing twice and lingers not."""
    glue = Glue()
    glue.send(get("/") + get("/next"))
    item = glue.take()
    glue.perform(glue.core.connection_lost())
    glue.closed = True
    going_on, actions = glue.finish(item)
    assert not going_on
    assert actions == []
    assert glue.lifecycle() is Lifecycle.CLOSED
    assert not glue.core.queue  # /next is not started


def test_a_fin_while_handling_closes_and_starts_nothing_more() -> None:
    """As aiohttp: the client's FIN closes the connection at once; the handler in
    hand runs on (its writes fail), and the request pipelined behind it is never
    taken."""
    glue = Glue()
    glue.send(get("/one") + get("/two"))
    item = glue.take()
    assert glue.perform(glue.core.eof_received()) == [CLOSE]
    assert glue.core.handling
    assert not glue.core.answered(True, True)
    assert glue.take() is None
    assert glue.end() == []  # closed already: no lingering
    assert item[0].path == "/one"


def test_a_fin_mid_body_fails_the_body_and_closes() -> None:
    glue = Glue()
    glue.send(post("/", b"0123456789")[:-4])
    body = glue.take()[1]
    glue.perform(glue.core.eof_received())
    assert failed_with(body) is BodyFailure.PEER_CLOSED
    assert glue.is_closed()
    assert glue.core.deadlines() == {}


def test_half_close_when_idle_closes() -> None:
    glue = Glue()
    glue.take()
    glue.send(b"GET / HT")
    glue.perform(glue.core.eof_received())
    assert glue.is_closed()
    assert glue.core.deadlines() == {}


def test_a_bad_chunk_fails_its_body_and_stops_reading() -> None:
    glue = Glue()
    glue.send(chunked("/", b"ok")[:-12] + b"zz\r\n")
    body = glue.take()[1]
    assert failed_with(body) is BodyFailure.BAD_FRAMING
    assert body.failure is not None
    assert body.failure.error is not None
    assert body.failure.error.status == 400
    assert glue.read() is Read.STOPPED
    assert glue.send(get("/after")) == []


def test_a_bad_request_is_answered_after_the_requests_before_it() -> None:
    """RFC 9112 §9.6 and §9.3.2: the error takes its place in the queue."""
    glue = Glue()
    glue.send(get("/a") + b"BAD\x00 / HTTP/1.1\r\n\r\n" + get("/never"))
    _, rejection = glue.core.queue
    assert request_at(glue, 0)[0].path == "/a"
    assert isinstance(rejection, Rejection)
    assert rejection.status == 400
    assert glue.rejected == [400]
    glue.finish(glue.take())
    assert glue.take() is rejection
    # After a framing error the client may still be sending: FIN, then read and discard.
    assert glue.end()[0] is WRITE_EOF
    assert glue.lifecycle() is Lifecycle.LINGERING


def test_an_unsupported_content_encoding_is_415() -> None:
    glue = Glue()
    glue.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: snappy\r\nContent-Length: 2\r\n\r\nhi"
    )
    (rejection,) = glue.core.queue
    assert isinstance(rejection, Rejection)
    assert rejection.status == 415
    assert glue.rejected == [415]
    assert dict(rejection.headers)["Accept-Encoding"]


# -- the application's controls


def test_close_when_idle_closes_and_when_busy_lets_the_answer_finish() -> None:
    idle = Glue()
    idle.send(get("/a"))
    assert idle.finish(idle.take())[0]
    idle.take()
    idle.perform(idle.core.close(0.0))  # answered a request: not fresh, idle
    assert idle.is_closed()
    busy = Glue()
    busy.send(get("/a") + get("/b"))
    item = busy.take()
    busy.perform(busy.core.close(0.0))
    assert not busy.is_closed()
    assert busy.lifecycle() is Lifecycle.CLOSING
    assert busy.last_answer()
    going_on, actions = busy.finish(item)
    assert not going_on
    assert actions == [CLOSE]


def test_a_graceful_shutdown_lingers_after_the_last_answer() -> None:
    glue = Glue()
    glue.send(get("/a"))
    item = glue.take()
    glue.perform(glue.core.close(0.0))
    glue.send(get("/sent-after"))  # not parsed: no request after it is started
    assert not glue.core.queue
    glue.core.answer_ended(True)
    fin, timer = glue.end(5.0, shutting_down=True)
    assert fin is WRITE_EOF
    assert isinstance(timer, ArmTimer)
    assert timer.at == 15.0
    assert glue.lifecycle() is Lifecycle.LINGERING
    assert item[0].path == "/a"


def test_a_fresh_connection_closed_answers_its_first_request_only() -> None:
    """Closed (the graceful shutdown) before any request: the first, already sent or
    arriving within the grace, is parsed, taken and answered as the last; the
    request pipelined behind it is not parsed, and the task ends."""
    glue = Glue(read_head_timeout=2.0)
    assert glue.take() is None  # the task waits
    glue.perform(glue.core.close(0.5))
    assert not glue.is_closed()
    assert glue.core.deadlines() == {"first request": FIRST_REQUEST_GRACE}
    glue.take(0.5)  # the task wakes for nothing: still waiting, not closed
    assert not glue.is_closed()
    glue.send(get("/first") + get("/second"), 0.7)
    assert len(glue.core.queue) == 1  # room for the first request only
    assert request_at(glue, 0)[0].path == "/first"
    item = glue.take(0.7)
    assert item[0].path == "/first"
    assert glue.core.deadlines() == {}  # taken: the grace has done its work
    assert glue.last_answer()
    assert glue.core.deadlines() == {}  # the held-back second head has no clock
    assert not glue.core.answered(True, True)
    assert glue.end(0.8, shutting_down=True)[0] is WRITE_EOF
    assert glue.lifecycle() is Lifecycle.LINGERING
    assert not glue.core.queue


def test_a_fresh_connection_closed_with_its_first_request_queued_takes_it() -> None:
    glue = Glue()
    glue.send(get("/first"))  # parsed before the task ran
    glue.perform(glue.core.close(2 * FIRST_REQUEST_GRACE))  # however late: it is here
    assert not glue.is_closed()
    assert glue.take(2 * FIRST_REQUEST_GRACE)[0].path == "/first"


def test_a_fresh_connection_that_sends_nothing_closes_when_the_grace_ends() -> None:
    glue = Glue()
    glue.take()
    glue.perform(glue.core.close(0.25))
    assert glue.timer == FIRST_REQUEST_GRACE  # counted from the accept, not from close()
    glue.advance(FIRST_REQUEST_GRACE - EPSILON)
    assert not glue.is_closed()
    assert CLOSE in glue.advance(FIRST_REQUEST_GRACE)
    assert glue.core.take() is None
    assert not glue.core.serving


def test_a_fresh_connection_closed_after_the_grace_is_idle() -> None:
    glue = Glue()
    glue.take()
    glue.perform(glue.core.close(FIRST_REQUEST_GRACE))
    assert glue.is_closed()


def test_a_head_arriving_at_the_grace_is_waited_for_as_any_head() -> None:
    glue = Glue(read_head_timeout=2.0)
    glue.take()
    glue.perform(glue.core.close(0.0))
    glue.send(b"GET /slow HTTP/1.1\r\n", 0.5)
    glue.advance(FIRST_REQUEST_GRACE)
    assert not glue.is_closed()  # the head deadline's business now
    glue.send(HOST + b"\r\n", 2.0)
    assert glue.take(2.0)[0].path == "/slow"


def test_a_fresh_connection_whose_head_times_out_is_answered_408() -> None:
    glue = Glue(read_head_timeout=2.0)
    glue.take()
    glue.perform(glue.core.close(0.0))
    glue.send(b"GET /slow HTTP/1.1\r\n", 0.5)
    glue.advance(FIRST_REQUEST_GRACE)
    glue.advance(2.5)
    rejection = glue.take(2.5)
    assert isinstance(rejection, Rejection)
    assert rejection.status == 408


def test_keep_alive_false_then_true() -> None:
    glue = Glue()
    glue.core.keep_alive(False)
    assert glue.last_answer()
    glue.core.keep_alive(True)
    assert not glue.last_answer()
    glue.perform(glue.core.eof_received())
    glue.core.keep_alive(True)  # the client's FIN is not undone
    assert glue.last_answer()


def test_keepalive_timeout_zero_answers_what_is_queued_then_closes() -> None:
    glue = Glue(keepalive_timeout=0)
    glue.send(get("/a") + get("/b"))
    first = glue.take()
    assert not glue.last_answer()  # /b waits behind it
    assert glue.finish(first)[0]
    second = glue.take()
    assert glue.last_answer()
    going_on, actions = glue.finish(second)
    assert not going_on
    assert actions == [CLOSE]
    assert glue.arms == []  # no keep-alive deadline at all


def test_an_accepted_upgrade_hands_the_bytes_after_it_over() -> None:
    glue = Glue(read_head_timeout=5.0)
    upgrade = get("/ws", b"Connection: Upgrade\r\n", b"Upgrade: websocket\r\n")
    glue.send(upgrade + b"\x81\x00", now=0.0)
    assert glue.read() is Read.UPGRADE_PENDING
    assert glue.core.deadlines() == {}
    glue.take()
    data, actions = glue.core.hand_off()
    assert data == b"\x81\x00"
    assert actions == []
    assert glue.read() is Read.HANDED_OFF
    with pytest.raises(RuntimeError):
        glue.core.hand_off()


def test_a_declined_upgrade_goes_back_to_http() -> None:
    glue = Glue()
    upgrade = get("/ws", b"Connection: Upgrade\r\n", b"Upgrade: h2c\r\n")
    glue.send(upgrade + get("/next"))
    item = glue.take()
    assert glue.finish(item)[0]
    data = glue.core.resume_http()
    assert data == get("/next")
    assert glue.read() is Read.AWAIT_HEAD
    glue.send(data)
    assert paths(list(glue.core.queue)) == ["/next"]


# -- the state machine, driven at random


# The kinds that end a connection are rarer, so that most runs go on long enough
# to meet the rules' interleavings.
KINDS = st.sampled_from(["get"] * 4 + ["post"] * 2 + ["chunked"] * 2 + ["close", "bad"])
# A rule that ends the connection (or the client's side) acts on one draw in RARE.
RARE = st.integers(0, 9)


def request(kind: str, seq: int, data: bytes) -> bytes:
    path = f"/{seq}"
    if kind == "get":
        return get(path)
    if kind == "close":
        return get(path, b"Connection: close\r\n")
    if kind == "post":
        return post(path, data)
    if kind == "chunked":
        return chunked(path, *(data[i : i + 7] for i in range(0, len(data), 7)))
    return b"BAD\x00 / HTTP/1.1\r\n\r\n"


class ConnectionMachine(RuleBasedStateMachine):
    """Random clients, handlers, timers and faults against one Connection.

    After every step: no forbidden combination (``Connection.check``). Always:
    requests are started one at a time, in the order they were sent, each
    answered at most once; none is started after the connection closed or was
    asked to close; no timer closes a connection with a request in hand or
    queued; once the task has ended, every started request was answered, or
    the connection closed before its answer.
    """

    @initialize(
        keepalive=st.sampled_from([None, 0, 5.0]),
        head=st.sampled_from([None, 2.0]),
        body=st.sampled_from([None, 3.0]),
        linger=st.sampled_from([0, 4.0]),
        high_water=st.sampled_from([8, 1 << 20]),
    )
    def start(
        self,
        keepalive: float | None,
        head: float | None,
        body: float | None,
        linger: float,
        high_water: int,
    ) -> None:
        self.glue = Glue(
            high_water=high_water,
            keepalive_timeout=keepalive,
            read_head_timeout=head,
            read_body_timeout=body,
            lingering_time=linger,
        )
        self.now = 0.0
        self.pending = b""
        self.fin = False
        self.lost = False
        self.task = "waiting"  # the connection's task: waiting, handling, ended
        self.item: Any = None
        self.started: list[str] = []
        self.answered: dict[int, int] = {}
        self.closed_before_answer: set[int] = set()
        self.close_asked = False
        self.fresh_when_closed = False
        self.seq = 0

    def _alive(self) -> bool:
        return not (self.glue.closed or self.lost)

    @rule(kind=KINDS, data=st.binary(max_size=40))
    def client_writes(self, kind: str, data: bytes) -> None:
        self.pending += request(kind, self.seq, data)
        self.seq += 1

    @precondition(lambda self: self.pending and not self.fin and not self.lost)
    @rule(size=st.integers(1, 200))
    def socket_delivers(self, size: int) -> None:
        if self.glue.reading_paused or self.glue.closed:
            return  # the transport holds the bytes (or dropped them)
        data, self.pending = self.pending[:size], self.pending[size:]
        self.glue.send(data, self.now)

    @precondition(lambda self: not self.fin and not self.lost and not self.glue.closed)
    @rule(draw=RARE)
    def client_fin(self, draw: int) -> None:
        if draw:
            return
        self.fin = True
        self.glue.perform(self.glue.core.eof_received())

    @precondition(lambda self: not self.lost)
    @rule(draw=RARE)
    def connection_lost(self, draw: int) -> None:
        if draw:
            return
        self.lost = True
        if self.task == "handling":
            self.closed_before_answer.add(len(self.started) - 1)
        self.glue.perform(self.glue.core.connection_lost())
        self.glue.closed = True

    @rule(dt=st.sampled_from([EPSILON, 0.5, 1.0, 2.0, 5.0, 10.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        if self.lost:
            return
        core = self.glue.core
        idle = self.task != "handling" and not core.queue
        lingering = core.lifecycle is Lifecycle.LINGERING
        if CLOSE in self.glue.advance(self.now):
            # A deadline closes an idle connection (keep-alive) or a lingering one,
            # never one with a request in hand or waiting: that one gets its answer.
            assert idle or lingering, "a timer closed a connection with a request to answer"

    @precondition(lambda self: self.task == "waiting")
    @rule()
    def task_runs(self) -> None:
        closing = self.close_asked or not self._alive()
        item = self.glue.take(self.now)
        if item is None:
            if not self.glue.core.serving:
                self.task = "ended"
                self.glue.end(self.now)
            return
        # Closed while fresh: its first request may still come (FIRST_REQUEST_GRACE).
        first_of_fresh = self.fresh_when_closed and not self.started and self._alive()
        assert not closing or first_of_fresh, (
            "a request started after the connection closed or was closed"
        )
        self.started.append(item[0].path if not isinstance(item, Rejection) else "!")
        if isinstance(item, Rejection):
            self.answered[len(self.started) - 1] = 1
            self.task = "ended"
            self.glue.end(self.now)
            return
        self.task = "handling"
        self.item = item

    @precondition(lambda self: self.task == "handling")
    @rule(keep_alive=st.booleans())
    def handler_answers(self, keep_alive: bool) -> None:
        index = len(self.started) - 1
        if not self._alive():
            self.closed_before_answer.add(index)
        self.answered[index] = self.answered.get(index, 0) + 1
        going_on, _ = self.glue.finish(self.item, keep_alive=keep_alive, now=self.now)
        self.item = None
        self.task = "waiting" if going_on else "ended"

    @precondition(lambda self: self.task == "handling")
    @rule()
    def handler_reads(self) -> None:
        self.glue.consume(self.item[1], self.now)

    @rule(draw=RARE)
    def server_closes(self, draw: int) -> None:
        if draw:
            return
        if not self.close_asked:
            self.fresh_when_closed = not self.started
        self.close_asked = True
        self.glue.perform(self.glue.core.close(self.now))

    @rule(draw=RARE)
    def handler_says_keep_alive_false(self, draw: int) -> None:
        if not draw:
            self.glue.core.keep_alive(False)

    @invariant()
    def no_forbidden_state(self) -> None:
        if hasattr(self, "glue"):
            self.glue.core.check()
            if self.glue.core.handling:
                assert self.task == "handling"

    @invariant()
    def each_request_answered_once_or_closed(self) -> None:
        if not hasattr(self, "glue"):
            return
        assert all(count == 1 for count in self.answered.values())
        if self.task == "ended":
            for index in range(len(self.started)):
                assert index in self.answered or index in self.closed_before_answer

    @invariant()
    def started_in_the_order_sent(self) -> None:
        if not hasattr(self, "glue"):
            return
        numbered = [int(p[1:]) for p in self.started if p != "!"]
        assert numbered == sorted(set(numbered))


ConnectionMachine.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_connection_state_machine = ConnectionMachine.TestCase
