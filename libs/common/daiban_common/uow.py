"""The unit of work: state and outgoing events commit together or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common import clock
from daiban_common.messaging import MessagingTables
from daiban_common.telemetry import current_traceparent
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.subjects import Subjects


class UnitOfWork:
    """`async with uow: ...; await uow.commit()` — anything not committed is rolled back.

    Events emitted inside are written to the outbox in the same transaction as the state, so an
    event exists exactly when the change it describes does; the relay publishes it afterwards.
    """

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        source: str,
        subjects: Subjects,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self._source = source
        self._subjects = subjects
        self._on_commit = on_commit
        self._pending: list[Envelope] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self._committed = False
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

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        if self._pending:
            # On the connection: the session's ORM execution path costs more than the insert.
            conn = await self.session.connection()
            await conn.execute(
                insert(self._tables.outbox),
                [
                    {
                        "event_id": env.id,
                        "subject": self._subjects.of(env),
                        "type": env.type,
                        "envelope": env.model_dump_json(),
                        "traceparent": env.traceparent,
                    }
                    for env in self._pending
                ],
            )
        await self.session.commit()
        self._committed = True
        had_events = bool(self._pending)
        self._pending = []
        if had_events and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]
