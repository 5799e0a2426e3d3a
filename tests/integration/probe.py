"""A deliberately small service used to test the platform's own machinery (libs/common).

It writes notes over HTTP (state + outbox in one unit of work) and applies `note.written` events
in a second service (inbox + state in one unit of work), so the relay, consumers, dead letters,
tracing and org scoping can be tested against real PostgreSQL and NATS without depending on any
product service's rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Column, MetaData, String, Table, Text, func, insert, select

from daiban_common.auth import Principal, Role, ensure_within, require_roles, subtree_clause
from daiban_common.consumer import PermanentFailure, Subscription, on
from daiban_common.db import asyncpg_dsn
from daiban_common.deps import UowDep
from daiban_common.errors import NotFound
from daiban_common.messaging import messaging_tables
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.uow import UnitOfWork
from daiban_contracts.envelope import Envelope, EventData, event_type
from daiban_devtools.embedded import EmbeddedPostgres
from tests.servers import TEMPLATE_DB, Network, Servers

probe_metadata = MetaData()
WRITER, READER = "probe_writer", "probe_reader"

notes = Table(
    "notes",
    probe_metadata,
    Column("id", String(36), primary_key=True),
    Column("org", String(12), nullable=False),
    Column("text", Text, nullable=False),
    schema=WRITER,
)
applied = Table(
    "applied",
    probe_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("note_id", String(36), nullable=False),
    Column("traceparent", Text),
    schema=READER,
)


@event_type("daiban.note.written.v1")
class NoteWritten(EventData):
    note_id: str
    text: str


class NoteIn(BaseModel):
    org: str = Field(pattern=r"^[0-9]{12}$")
    text: str = Field(min_length=1, max_length=200)


Writer = Annotated[Principal, Depends(require_roles(Role.clerk, Role.admin))]


def _writer_router() -> APIRouter:
    router = APIRouter(prefix="/v1/notes")

    @router.post("", status_code=201)
    async def write(body: NoteIn, principal: Writer, uow: UowDep) -> dict[str, Any]:
        ensure_within(principal, body.org)
        async with uow:
            env = uow.emit(
                NoteWritten(note_id="", text=body.text), subject="note", org=body.org, actor=principal.sub
            )
            await uow.session.exec(insert(notes).values(id=env.id, org=body.org, text=body.text))
            await uow.commit()
        return {"id": env.id, "org": body.org}

    @router.get("")
    async def list_notes(principal: Writer, uow: UowDep, org: str | None = Query(None)) -> dict[str, Any]:
        async with uow:
            query = select(notes).where(subtree_clause(notes.c.org, principal.org))
            if org:
                query = query.where(notes.c.org == org)
            rows = (await uow.session.exec(query)).all()  # type: ignore[call-overload]
        return {"items": [dict(r._mapping) for r in rows], "next_cursor": None}

    @router.get("/{note_id}")
    async def read(note_id: str, principal: Writer, uow: UowDep) -> dict[str, Any]:
        async with uow:
            row = (await uow.session.exec(select(notes).where(notes.c.id == note_id))).first()  # type: ignore[call-overload]
        if row is None or not _visible(principal, row.org):
            raise NotFound(detail="记录不存在")
        return dict(row._mapping)

    return router


def _visible(principal: Principal, org: str) -> bool:
    try:
        ensure_within(principal, org)
    except NotFound:
        return False
    return True


async def apply_note(envelope: Envelope, payload: NoteWritten, uow: UnitOfWork) -> None:
    if payload.text == "poison":
        raise RuntimeError("this note can never be applied")
    if payload.text == "unknown-case":
        raise PermanentFailure("案件不存在")
    await uow.session.exec(
        insert(applied).values(event_id=envelope.id, note_id=envelope.id, traceparent=envelope.traceparent)
    )


def reader_subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    return [
        Subscription(
            name="notes",
            handlers=dict([on(NoteWritten, apply_note)]),
        )
    ]


_HERE = Path(__file__).parent
WRITER_SPEC = ServiceSpec(
    name=WRITER,
    title="probe writer",
    description="test",
    migrations=_HERE,
    default_port=8901,
    order=90,
    routers=[_writer_router()],
)
READER_SPEC = ServiceSpec(
    name=READER,
    title="probe reader",
    description="test",
    migrations=_HERE,
    default_port=8902,
    order=91,
    routers=[],
    subscriptions=reader_subscriptions,
)


async def create_probe_tables(runtime: ServiceRuntime) -> None:
    async with runtime.engine.begin() as conn:
        for schema in (WRITER, READER):
            await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.run_sync(probe_metadata.create_all)
        messaging = [messaging_tables(schema) for schema in (WRITER, READER)]
        tables = [t for m in messaging for t in (m.outbox, m.inbox, m.dead_letters)]
        await conn.run_sync(lambda sync: tables[0].metadata.create_all(sync, tables=tables))


async def count(runtime: ServiceRuntime, table: Table) -> int:
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def own_network(network: Network, pg: EmbeddedPostgres, tmp: Path) -> Network:
    """`network`, but on a PostgreSQL of the test's own (for tests that stop it): its template is
    empty, the probe tables come from `create_probe_tables`."""
    conn = await asyncpg.connect(asyncpg_dsn(pg.url()))
    try:
        await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    return Network(
        servers=Servers(pg_url=pg.url(), nats_url=network.servers.nats_url), tmp=tmp, name=network.name
    )
