"""Every service counting working days applies the official schedules routing announces.

Routing stores them (`routing.calendar_years`) and loads them into its process calendar itself.
Intake and audit keep a replica (`<schema>.calendar_years`, fed by `schedule_subscription` from
`daiban.calendar.year_published.v1`), load it at start (`schedule_job`, which a restarted process
needs: its durable consumer does not hand back the events it already applied) and apply each
event to their process calendar as it comes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, event, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from daiban_common.calendar import default_calendar
from daiban_common.consumer import Subscription, on
from daiban_common.messaging import defined_once
from daiban_common.service import Job
from daiban_common.uow import UnitOfWork
from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.envelope import Envelope
from daiban_contracts.subjects import CopyKind

if TYPE_CHECKING:
    from daiban_common.runtime import ServiceRuntime

# Another process of the service may have applied a year; this one counts with it within a minute.
RELOAD_SECONDS = 60.0


def calendar_years_replica(schema: str, metadata: MetaData | None = None) -> Table:
    """The replica table `<schema>.calendar_years` (defined once per metadata)."""

    def define(md: MetaData) -> Table:
        return Table(
            "calendar_years",
            md,
            Column("year", Integer, primary_key=True, autoincrement=False),
            Column("holidays", ARRAY(Date), nullable=False),
            Column("workdays", ARRAY(Date), nullable=False),
            Column("reference", String, nullable=False),
            schema=schema,
        )

    return defined_once("calendar_years", schema, metadata, define)


def schedule_subscription(runtime: ServiceRuntime) -> Subscription:
    table = calendar_years_replica(runtime.spec.schema)

    async def apply(envelope: Envelope, payload: CalendarYearPublished, uow: UnitOfWork) -> None:
        row = {
            "year": payload.year,
            "holidays": list(payload.holidays),
            "workdays": list(payload.workdays),
            "reference": payload.reference,
        }
        stmt = pg_insert(table).values(row)
        conn = await uow.session.connection()
        await conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.year], set_=row))

        # Into the process calendar once stored (a rolled-back event is tried again whole). Loading
        # replaces the year, so a redelivered event changes nothing.
        def load(_session: object) -> None:
            default_calendar().load_year(payload.year, payload.holidays, payload.workdays)

        event.listen(uow.session.sync_session, "after_commit", load, once=True)

    return Subscription(
        name="calendar",
        handlers=dict([on(CalendarYearPublished, apply)]),
        within=runtime.node_org.county.value,
        copies=[CopyKind.published],
    )


def schedule_job(runtime: ServiceRuntime) -> Job:
    """Loads the replica into the process calendar at start, then again now and then."""
    table = calendar_years_replica(runtime.spec.schema)

    async def load() -> None:
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(select(table))).all()
        calendar = default_calendar()
        for row in rows:
            calendar.load_year(row.year, row.holidays, row.workdays)

    return Job(name="calendar-years", every=RELOAD_SECONDS, run=load, at_start=True)
