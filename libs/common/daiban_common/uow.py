"""The unit of work: state and outgoing events commit together or not at all."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Protocol, Self, TypeVar, cast

import asyncpg
from sqlalchemy import ARRAY, ClauseElement, Insert, Select, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common import clock
from daiban_common.messaging import MessagingTables
from daiban_common.telemetry import current_traceparent
from daiban_contracts.crossing import Topology
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import Subjects

# The dialect db.create_engine's engines use, with its default JSON serialiser (json.dumps): what
# a Prepared statement's parameters are processed with, as SQLAlchemy would.
_DIALECT: Final = asyncpg_dialect()  # type: ignore[no-untyped-call]


class Prepared:
    """A Core statement compiled once into fixed SQL text, for asyncpg to run as a prepared statement.

    SQLAlchemy's execution of even a cached Core statement (the compile-cache lookup, parameter
    processing, wrapping the result) cost more Python calls than the driver's own work. The text is
    the one SQLAlchemy sends ($n parameters with their casts); the parameters pass through the same
    bind processors (JSON/JSONB serialised to text: SQLAlchemy's asyncpg dialect installs codecs on
    every connection that take JSON text and give back parsed values), so rows are the same.
    """

    def __init__(self, statement: ClauseElement) -> None:
        # What it was compiled from (what tests run through SQLAlchemy to compare the rows).
        self.statement: Final = statement
        # SQLCompiler's attributes (the positional order, the processors) are not on Compiled's type.
        compiled: Any = statement.compile(dialect=_DIALECT)
        self.sql: Final[str] = compiled.string
        processors = compiled._bind_processors
        # Values given in the statement itself (literals SQLAlchemy made parameters of).
        self._fixed = {name: b.value for b, name in compiled.bind_names.items() if not b.required}
        self._steps: Final[tuple[tuple[str, Callable[[Any], Any] | None], ...]] = tuple(
            (name, processors.get(name)) for name in compiled.positiontup or ()
        )

        # An INSERT of one row of VALUES, split before its row: how several rows go in one statement.
        head, values, row = self.sql.rpartition(" VALUES ")
        rows = isinstance(statement, Insert) and values and row.endswith(")") and "RETURNING" not in row
        self.rows: Final = (head + values, row) if rows else None

    @classmethod
    def insert(cls, table: Table, columns: Sequence[str]) -> Prepared:
        """A row of `table` with `columns` (each a parameter of its name and the column's type),
        without the RETURNING of a generated key that SQLAlchemy adds (inline)."""
        values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
        return cls(insert(table).values(values).inline())

    @property
    def width(self) -> int:
        return len(self._steps)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for `params` (by the statement's parameter names)."""
        fixed = self._fixed
        out = []
        for name, process in self._steps:
            value = params[name] if name in params else fixed[name]
            out.append(value if process is None else process(value))
        return out


class CommitWrite(Protocol):
    """What a unit of work writes once, at commit (`UnitOfWork.at_commit`)."""

    async def write(self, uow: UnitOfWork) -> None: ...


W = TypeVar("W", bound=CommitWrite)


class UnitOfWork:
    """`async with uow: ...; await uow.commit()` — anything not committed is rolled back.

    Events emitted inside are written to the outbox in the same transaction as the state, so an
    event exists exactly when the change it describes does; the relay publishes it afterwards.
    With a `topology`, each event's copies for other nodes (daiban_contracts.crossing) are rows of
    the same transaction too, so a copy exists exactly when its event does.
    """

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        source: str,
        subjects: Subjects,
        topology: Topology | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self._source = source
        self._subjects = subjects
        self._topology = topology
        self._on_commit = on_commit
        self._pending: list[Envelope] = []
        self._deferred: dict[Prepared, list[Mapping[str, Any]]] = {}
        self._at_commit: dict[Hashable, CommitWrite] = {}
        self._committed = False
        self._adapted: Any = None
        # Whether a statement of the caller's wrote events' outbox rows (take_outbox).
        self._taken = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self._deferred = {}
        self._at_commit = {}
        self._committed = False
        self._adapted = None
        self._taken = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    @property
    def tables(self) -> MessagingTables:
        return self._tables

    def emit(
        self,
        payload: EventData,
        *,
        subject: str,
        org: str,
        actor: str,
        time: datetime | None = None,
    ) -> Envelope:
        """Queue an event for the outbox; it is written at commit, in the same transaction."""
        envelope = make_envelope(
            payload,
            source=self._source,
            subject=subject,
            org=org,
            actor=actor,
            traceparent=current_traceparent(),
            # The platform's clock, not the envelope's default: the demo history sets it.
            time=time or clock.now(),
        )
        self._pending.append(envelope)
        return envelope

    @property
    def pending_events(self) -> list[Envelope]:
        return list(self._pending)

    async def driver(self) -> asyncpg.Connection:
        """The asyncpg connection under the session's, inside the unit's transaction.

        SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its first statement: begun here if
        no statement has begun it yet, so what runs on the driver is in the same transaction.
        """
        adapted = self._adapted
        if adapted is None:
            conn = await self.session.connection()
            adapted = self._adapted = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        if adapted._transaction is None:
            await adapted._start_transaction()
        driver: asyncpg.Connection = adapted._connection
        return driver

    async def fetchrow(self, statement: Prepared, params: Mapping[str, Any]) -> asyncpg.Record | None:
        """One row of `statement` run on the unit's connection (Prepared: why not through SQLAlchemy)."""
        return await (await self.driver()).fetchrow(statement.sql, *statement.args(params))

    async def fetch(self, statement: Prepared, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await (await self.driver()).fetch(statement.sql, *statement.args(params))
        return rows

    async def fetchval(self, statement: Prepared, params: Mapping[str, Any]) -> Any:
        return await (await self.driver()).fetchval(statement.sql, *statement.args(params))

    async def execute(self, statement: Prepared, params: Mapping[str, Any]) -> None:
        await (await self.driver()).execute(statement.sql, *statement.args(params))

    async def execute_sql(self, sql: str, args: Sequence[Any]) -> None:
        """`sql` with positional `args` on the unit's connection (what Prepared statements build)."""
        await (await self.driver()).execute(sql, *args)

    async def executemany(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """`statement` once per row, in one round trip (asyncpg pipelines the executions)."""
        await (await self.driver()).executemany(statement.sql, [statement.args(row) for row in rows])

    def defer(self, statement: Prepared, params: Mapping[str, Any]) -> None:
        """A write that nothing reads back before the next `flush` (a timeline line, a hop, a task):
        run on the driver at that flush or at `commit`, the rows of each statement in one round trip,
        in the order deferred (statements in the order first used: deferred rows are independent
        of each other). The ORM's flush of the same rows cost several times the Python calls."""
        self._deferred.setdefault(statement, []).append(params)

    def at_commit(self, key: Hashable, make: Callable[[], W]) -> W:
        """The write kept under `key` until commit (`make` makes it the first time in the unit),
        for what a run of events changes together: a running total, a chain's head. A consumer
        applies a batch in one unit and flushes after every event; a write kept here goes once per
        batch, at commit, before the deferred rows. Only for what nothing in the unit reads back
        from the database; a rollback drops it."""
        found = self._at_commit.get(key)
        if found is None:
            found = self._at_commit[key] = make()
        return cast(W, found)

    async def _write_deferred(self) -> None:
        deferred, self._deferred = self._deferred, {}
        combined = _combined(tuple((statement, len(rows)) for statement, rows in deferred.items()))
        if combined is not None:
            args = [
                arg for statement, rows in deferred.items() for row in rows for arg in statement.args(row)
            ]
            await self.execute_sql(combined, args)
            return
        for statement, rows in deferred.items():
            if len(rows) == 1:
                await self.execute(statement, rows[0])
            else:
                await self.executemany(statement, rows)

    @property
    def session_idle(self) -> bool:
        """Whether the session holds no object (none loaded, added or deleted): nothing to flush
        or expunge. A handler working on the driver alone leaves it so; its flush through the
        async session still cost ~40 Python calls an event (the greenlet's round)."""
        session = self.session
        return not session.identity_map and not session.new and not session.deleted

    async def flush(self) -> None:
        """The session's pending changes, then the deferred writes."""
        if not self.session_idle:
            await self.session.flush()
        if self._deferred:
            await self._write_deferred()

    def _subjects_of(self, envelope: Envelope) -> list[str]:
        """The event's own subject, then those of its copies for other nodes."""
        subjects = [self._subjects.of(envelope)]
        if self._topology is not None:
            copies = self._topology.copies(envelope.type, OrgCode.parse(envelope.org), envelope.subject)
            subjects.extend(self._subjects.copy(node, kind, envelope.type) for node, kind in copies)
        return subjects

    def _outbox_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "event_id": env.id,
                "subject": subject,
                "type": env.type,
                "envelope": raw,
                "traceparent": env.traceparent,
            }
            for env in self._pending
            for raw in [env.model_dump_json()]
            for subject in self._subjects_of(env)
        ]

    def take_outbox(self) -> dict[str, list[Any]]:
        """The events emitted so far as `outbox_rows`' parameters, for the caller to write in a
        statement of its own (a data-modifying CTE: no round trip of their own at commit).

        Taken out of the unit: the caller must run that statement in this unit of work.
        """
        rows = self._outbox_rows()
        self._pending = []
        self._taken = self._taken or bool(rows)
        return {f"outbox_{name}": [row[name] for row in rows] for name in OUTBOX_COLUMNS}

    async def commit(self) -> None:
        if self._at_commit:
            writes, self._at_commit = self._at_commit, {}
            for write in writes.values():
                await write.write(self)
        if self._deferred:
            await self._write_deferred()
        if self._pending:
            await self.executemany(_outbox_insert(self._tables.outbox), self._outbox_rows())
        self._adapted = None
        await self.session.commit()
        self._committed = True
        had_events = bool(self._pending) or self._taken
        self._pending = []
        self._taken = False
        if had_events and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending = []
        self._taken = False
        self._deferred = {}
        self._at_commit = {}
        self._adapted = None
        await self.session.rollback()


_PARAMETER: Final = re.compile(r"\$(\d+)")
# PostgreSQL takes at most 65,535 parameters a statement; far fewer are deferred in practice.
_MOST_COMBINED: Final = 5_000


def _shifted(sql: str, by: int) -> str:
    return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + by}", sql) if by else sql


@functools.lru_cache(maxsize=256)
def _combined(shape: tuple[tuple[Prepared, int], ...]) -> str | None:
    """One statement for deferred writes of this shape (each statement with its number of rows):
    each a data-modifying CTE (they see the same snapshot; deferred rows are independent of each
    other), the rows of an INSERT as one VALUES list, in order. None when there is nothing to
    combine or it cannot be: an UPDATE with several rows, too many parameters."""
    if len(shape) == 1 and shape[0][1] == 1:
        return None
    parts: list[str] = []
    offset = 0
    for statement, n in shape:
        if n == 1:
            parts.append(_shifted(statement.sql, offset))
        elif statement.rows is not None:
            head, row = statement.rows
            parts.append(head + ", ".join(_shifted(row, offset + i * statement.width) for i in range(n)))
        else:
            return None
        offset += n * statement.width
    if offset > _MOST_COMBINED:
        return None
    *first, last = parts
    if not first:
        return last
    return "WITH " + ", ".join(f"deferred_{i} AS ({sql})" for i, sql in enumerate(first)) + " " + last


OUTBOX_COLUMNS: Final = ("event_id", "subject", "type", "envelope", "traceparent")


@functools.cache
def _outbox_insert(outbox: Table) -> Prepared:
    """An outbox row, run on the driver: the rows of a commit in one round trip, in order (their seq)."""
    return Prepared.insert(outbox, OUTBOX_COLUMNS)


def outbox_rows(outbox: Table) -> Select[Any]:
    """The rows `UnitOfWork.take_outbox` gives, one array per column, in the order they were
    emitted: `INSERT INTO outbox (...) <this>` numbers them (seq) in that order."""
    rows = (
        func.unnest(
            *(bindparam(f"outbox_{name}", type_=ARRAY(outbox.c[name].type)) for name in OUTBOX_COLUMNS)
        )
        .table_valued(*OUTBOX_COLUMNS, with_ordinality="n")
        .render_derived(name="emitted")
    )
    return select(*(rows.c[name] for name in OUTBOX_COLUMNS)).order_by(rows.c.n)


UnitOfWorkFactory = Callable[[], UnitOfWork]
