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
from daiban_contracts.crossing import Topology
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import Subjects


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

    def _subjects_of(self, envelope: Envelope) -> list[str]:
        """The event's own subject, then those of its copies for other nodes."""
        subjects = [self._subjects.of(envelope)]
        if self._topology is not None:
            copies = self._topology.copies(envelope.type, OrgCode.parse(envelope.org), envelope.subject)
            subjects.extend(self._subjects.copy(node, kind, envelope.type) for node, kind in copies)
        return subjects

    async def commit(self) -> None:
        if self._pending:
            # On the connection: the session's ORM execution path costs more than the insert.
            conn = await self.session.connection()
            await conn.execute(
                insert(self._tables.outbox),
                [
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
