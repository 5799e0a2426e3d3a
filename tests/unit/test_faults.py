"""Infrastructure failures told from the work's own faults, and what consumers and HTTP do with each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import nats.errors
import nats.js.errors
import pytest
from fastapi import FastAPI
from opentelemetry import trace as trace_api
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc

from daiban_common.consumer import EventConsumer, PermanentFailure, Subscription, on
from daiban_common.error_handlers import ServiceUnavailableMiddleware, install_error_handlers
from daiban_common.faults import is_unavailable
from daiban_common.messaging import messaging_tables
from daiban_common.metrics import ServiceMetrics
from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.envelope import MalformedEvent, make_envelope
from tests.servers import eventually


def wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.StatementError:
    """As SQLAlchemy raises a driver error: a DBAPIError with the driver's error as `orig`."""
    return sa_exc.DBAPIError.instance(
        "SELECT 1", None, cast(Exception, orig), Exception, connection_invalidated=invalidated
    )


def raised_while_handling(first: BaseException, second: BaseException) -> BaseException:
    """`second` raised in an except block for `first` (e.g. a rollback after a lost connection)."""
    try:
        try:
            raise first
        except BaseException:
            raise second  # noqa: B904 - the implicit __context__ is what is being tested
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        OSError(113, "No route to host"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.SerializationError("could not serialize access"),
        wrapped(RuntimeError("connection lost"), invalidated=True),
        wrapped(asyncpg.CannotConnectNowError("the database system is shutting down")),
        sa_exc.DisconnectionError("connection closed by the server while in the pool"),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        raised_while_handling(
            ConnectionResetError(104, "reset"), wrapped(asyncpg.InterfaceError("connection is in use"))
        ),
        raised_while_handling(ConnectionResetError(104, "reset"), RuntimeError("rollback failed")),
        ExceptionGroup("task group", [ValueError("x"), ConnectionRefusedError(111, "refused")]),
        nats.errors.ConnectionClosedError(),
        nats.errors.NoServersError(),
        nats.errors.TimeoutError(),
        nats.js.errors.ServiceUnavailableError(),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_infrastructure_failures_are_unavailable(exc: BaseException) -> None:
    assert is_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("this note can never be applied"),
        ValueError("bad value"),
        KeyError("missing"),
        PermanentFailure("案件不存在"),
        MalformedEvent("not a daiban event envelope"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.UndefinedTableError('relation "x" does not exist'),
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        wrapped(asyncpg.UniqueViolationError("duplicate key")),
        wrapped(asyncpg.DataError("invalid input syntax for type integer")),
        FileNotFoundError(2, "No such file or directory"),
        PermissionError(13, "Permission denied"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_faults_of_the_work_itself_are_not(exc: BaseException) -> None:
    assert not is_unavailable(exc)


# ---------------------------------------------------------------------------------------------
# The consumer loop


real_sleep = asyncio.sleep


class FakePull:
    """A pull subscription handing out one batch of messages per fetch, then timing out."""

    def __init__(self, batches: list[list[Any]]) -> None:
        self.batches = batches
        self.fetches = 0

    async def fetch(self, batch: int, timeout: float) -> list[Any]:  # noqa: ASYNC109 - nats-py's signature
        self.fetches += 1
        if self.batches:
            return self.batches.pop(0)
        await real_sleep(0.01)
        raise nats.errors.TimeoutError


def consumer(metrics: ServiceMetrics | None = None) -> EventConsumer:
    subscription = Subscription(name="things", subjects=["x.>"])
    tables = type("Tables", (), {"dead_letters": None, "inbox": None})()
    return EventConsumer(
        subscription=subscription,
        name="n-test-things",
        filter_subjects=["x.>"],
        js=cast(Any, None),
        stream="S",
        engine=cast(Any, None),
        tables=cast(Any, tables),
        uow_factory=cast(Any, None),
        tracer=cast(Any, None),
        metrics=metrics,
    )


async def test_the_loop_survives_an_exception_from_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    events = consumer(ServiceMetrics("test", process_collectors=False))
    seen: list[str] = []

    async def process(msg: Any) -> str:
        seen.append(msg)
        if msg == "boom":
            raise RuntimeError("a bug outside every handler")
        return "applied"

    async def no_wait(seconds: float) -> None:
        await real_sleep(0)

    monkeypatch.setattr(events, "process", process)
    monkeypatch.setattr("daiban_common.consumer.asyncio.sleep", no_wait)
    pull = FakePull([["boom"], ["next"]])
    task = asyncio.create_task(events._run(pull))
    try:

        async def next_one_or_ended() -> bool:
            return "next" in seen or task.done()

        await eventually(next_one_or_ended, within=5)
        assert not task.done(), task
        assert seen == ["boom", "next"]
    finally:
        events.request_stop()
        await asyncio.wait_for(task, 5)
    assert any("unexpected error" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_an_unavailable_database_hands_the_rest_of_the_batch_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = consumer()
    processed: list[Any] = []
    naks: list[tuple[str, float]] = []

    class Msg:
        def __init__(self, name: str) -> None:
            self.name = name

        async def nak(self, delay: float) -> None:
            naks.append((self.name, delay))

        async def in_progress(self) -> None:
            pass

    async def process(msg: Any) -> str:
        processed.append(msg.name)
        return "unavailable"

    async def no_wait(seconds: float) -> None:
        await real_sleep(0)

    monkeypatch.setattr(events, "process", process)
    monkeypatch.setattr("daiban_common.consumer.asyncio.sleep", no_wait)
    await events._step(FakePull([[Msg("a"), Msg("b"), Msg("c")]]))
    # The first met the outage; the others are not tried against it one connect timeout each.
    assert processed == ["a"]
    assert [name for name, _ in naks] == ["b", "c"]


# ---------------------------------------------------------------------------------------------
# HTTP: a lost database met anywhere in the request, even in the unit of work's teardown


@asynccontextmanager
async def closing_session() -> AsyncIterator[None]:
    """Like a unit of work whose rollback finds the connection still busy with the lost query."""
    try:
        yield
    finally:
        raise wrapped(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))


def teardown_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/lost")
    async def lost() -> dict[str, str]:
        async with closing_session():
            raise wrapped(ConnectionResetError(104, "Connection reset by peer"), invalidated=True)

    @app.get("/bug")
    async def bug() -> dict[str, str]:
        raise RuntimeError("not an outage")

    app.add_middleware(ServiceUnavailableMiddleware)
    return app


async def test_an_outage_met_in_teardown_is_a_503_that_does_not_escape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    # raise_app_exceptions: anything escaping the app (to uvicorn, which drops the connection)
    # fails the request here.
    transport = httpx.ASGITransport(app=teardown_app(), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/lost")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"] == "/problems/unavailable"
        with pytest.raises(RuntimeError):
            await client.get("/bug")  # other errors still reach the server's own 500 handling
    unavailable = [r for r in caplog.records if "503" in r.getMessage()]
    assert len(unavailable) == 1 and unavailable[0].exc_info is None


# ---------------------------------------------------------------------------------------------
# One delivery: counted against the event only when it is the event's fault


class FakeMsg:
    def __init__(self, data: bytes, journal: list[str], seq: int = 7) -> None:
        self.data = data
        self.subject = "x.note.written"
        self.headers: dict[str, str] = {}
        self.journal = journal
        self.metadata = type(
            "Meta", (), {"sequence": type("Seq", (), {"stream": seq})(), "num_delivered": 1}
        )()

    async def ack(self) -> None:
        self.journal.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.journal.append("nak")

    async def term(self) -> None:
        self.journal.append("term")

    async def in_progress(self) -> None:
        pass


class FakeEngine:
    """`engine.begin()` for the dead-letter insert; `down` makes it fail as a stopped server would."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.down = False

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Any]:
        if self.down:
            raise ConnectionRefusedError(111, "Connect call failed")
        engine = self

        class Conn:
            async def execute(self, statement: Any) -> Any:
                engine.journal.append("insert")
                # The parked row's id and event id, for the dead letter's log line.
                return SimpleNamespace(one=lambda: SimpleNamespace(id=1, event_id=None))

        yield Conn()
        self.journal.append("commit")


def delivering(
    monkeypatch: pytest.MonkeyPatch, failure: BaseException, *, reachable: bool = True, max_deliver: int = 3
) -> tuple[EventConsumer, Any, list[str], FakeEngine]:
    journal: list[str] = []
    engine = FakeEngine(journal)
    # An event type of the contracts: a test's own one would join the AsyncAPI document.
    supplemented = CaseSupplemented(
        case_number="C1",
        accepting_org="370285101201",
        material_codes=("M01",),
        supplemented_at=datetime.now(UTC),
        recorded_by=StaffRef(staff_id="s", name="测试", org="370285101201"),
    )
    envelope = make_envelope(supplemented, source="/t", subject="C1", org="370285101201", actor="t")
    subscription = Subscription(name="notes", handlers=dict([on(CaseSupplemented, never_called)]))
    tables = type("Tables", (), {"dead_letters": sa_table(), "inbox": None})()
    events = EventConsumer(
        subscription=subscription,
        name="n-test-notes",
        filter_subjects=["x.>"],
        js=cast(Any, None),
        stream="S",
        engine=cast(Any, engine),
        tables=cast(Any, tables),
        uow_factory=cast(Any, None),
        tracer=cast(Any, trace_api.NoOpTracer()),
        max_deliver=max_deliver,
    )

    async def apply(*args: Any) -> bool:
        raise failure

    async def database_reachable() -> bool:
        return reachable

    monkeypatch.setattr(events, "_apply", apply)
    monkeypatch.setattr(events, "_database_reachable", database_reachable)
    return events, FakeMsg(envelope.to_bytes(), journal), journal, engine


async def never_called(envelope: Any, payload: Any, uow: Any) -> None:
    raise AssertionError("_apply is replaced in these tests")


def sa_table() -> Any:
    return messaging_tables("unit_faults", MetaData()).dead_letters


async def test_an_event_that_keeps_failing_is_parked_then_terminated(monkeypatch: pytest.MonkeyPatch) -> None:
    events, msg, journal, _ = delivering(monkeypatch, RuntimeError("never applies"))
    assert [await events.process(msg) for _ in range(3)] == ["retried", "retried", "dead_lettered"]
    # The dead letter is committed before the message is terminated (not acked: the advisory shows it).
    assert journal == ["nak", "nak", "insert", "commit", "term"]


async def test_an_outage_never_counts_against_the_event(monkeypatch: pytest.MonkeyPatch) -> None:
    events, msg, journal, _ = delivering(monkeypatch, ConnectionRefusedError(111, "refused"))
    assert {await events.process(msg) for _ in range(20)} == {"unavailable"}
    assert set(journal) == {"nak"}


async def test_a_failure_while_the_database_does_not_answer_is_the_outage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A handler may wrap a lost connection in an error of its own.
    events, msg, journal, _ = delivering(monkeypatch, RuntimeError("could not load case"), reachable=False)
    assert {await events.process(msg) for _ in range(10)} == {"unavailable"}
    assert set(journal) == {"nak"}


async def test_parking_into_a_database_that_is_away_hands_the_event_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events, msg, journal, engine = delivering(monkeypatch, PermanentFailure("案件不存在"))
    engine.down = True
    assert await events.process(msg) == "unavailable"
    assert journal == ["nak"]
    engine.down = False
    assert await events.process(msg) == "dead_lettered"
    assert journal == ["nak", "insert", "commit", "term"]
