"""Feeding routing with cases as intake would, and reading what it did, for the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import count
from typing import Any

import httpx
import nats

from daiban_common.auth import issue_token
from daiban_common.settings import Settings
from daiban_contracts.case import (
    ApplicantKind,
    ApplicantRef,
    CaseAccepted,
    CaseSummary,
    Channel,
    ItemRef,
    OnTheSpotResult,
    StaffRef,
)
from daiban_contracts.catalogue import ItemKind, SpecialProcedure, Tier
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.ownership import owner
from daiban_contracts.subjects import Subjects
from daiban_routing.service import SERVICE
from tests.servers import Network, RunningService, eventually, running

COUNTY = "370285000000"
JIANGSHAN = "370285101000"  # 姜山镇
XIAGEZHUANG = "370285102000"  # 夏格庄镇
VILLAGE = "370285101294"  # 姜山社区, a village point of 姜山镇
AGENT = StaffRef(staff_id="js-294-agent", name="许春花", org=VILLAGE)
PROBLEM = "application/problem+json"

_numbers = count(1)


def bearer(settings: Settings, sub: str, role: str, org: str, name: str = "测试") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, sub=sub, role=role, org=org, name=name)}"}


def item(
    level: Tier,
    lead: str,
    *,
    kind: ItemKind = ItemKind.promised,
    others: tuple[str, ...] = (),
    days: int = 5,
    procedures: tuple[SpecialProcedure, ...] = (),
) -> ItemRef:
    return ItemRef(
        implementation_code="XK-00105-001-370285000000-01",
        base_code="XK-00105-001",
        version=1,
        name="测试事项",
        kind=kind,
        handling_level=level,
        implementing_org=COUNTY,
        lead_department=lead,
        other_departments=others,
        statutory_working_days=days * 2,
        promised_working_days=days,
        special_procedures=procedures,
    )


def accepted(
    ref: ItemRef,
    *,
    at: str = VILLAGE,
    responder: StaffRef = AGENT,
    green: bool = False,
    on_the_spot: OnTheSpotResult | None = None,
    accepted_at: datetime | None = None,
) -> tuple[str, CaseAccepted]:
    number = f"T{at}{next(_numbers):05d}"
    summary = CaseSummary(
        case_number=number,
        item=ref,
        accepting_org=at,
        channel=Channel.agent,
        applicant=ApplicantRef(
            kind=ApplicantKind.person, name_masked="张*", id_masked="3702**1234", id_hash="h"
        ),
        first_responder=responder,
        accepted_at=accepted_at or datetime.now(UTC),
        promised_date=datetime.now(UTC).date(),
        green_channel=green,
    )
    return number, CaseAccepted(case=summary, on_the_spot=on_the_spot)


async def publish(settings: Settings, payload: EventData, *, subject: str, org: str) -> Envelope:
    """Publish as another service would, on this test network's subject root."""
    envelope = make_envelope(
        payload, source=f"/daiban/test/{owner(payload.event_type)}", subject=subject, org=org, actor="test"
    )
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        wire = Subjects(settings.subject_root).of(envelope)
        await js.publish(wire, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()
    return envelope


async def accept(settings: Settings, payload: CaseAccepted) -> Envelope:
    return await publish(settings, payload, subject=payload.case.case_number, org=payload.case.accepting_org)


async def stream(settings: Settings) -> list[Envelope]:
    """The events on the node's stream, without the copies sent with them (same envelopes)."""
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(settings.stream_name)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(settings.stream_name, seq)
            if ".copy." not in (msg.subject or ""):
                found.append(Envelope.from_bytes(msg.data or b""))
        return found
    finally:
        await nc.close()


async def events_of(settings: Settings, number: str, type_suffix: str) -> list[Envelope]:
    return [e for e in await stream(settings) if e.subject == number and e.type.endswith(type_suffix + ".v1")]


async def route_when(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    number: str,
    check: Callable[[dict[str, Any]], bool],
    within: float = 15.0,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/cases/{number}/route", headers=headers)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        return body if check(body) else None

    found = await eventually(probe, within=within)
    assert isinstance(found, dict)
    return found


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


Waiter = Callable[[], Awaitable[object]]


@asynccontextmanager
async def seeded_routing(
    network: Network, **overrides: object
) -> AsyncIterator[tuple[Settings, RunningService]]:
    """The county node's routing service, running, with the demo directory loaded."""
    settings = await network.node(COUNTY, **overrides)
    async with running("routing", settings) as routing:
        assert SERVICE.seed is not None
        await SERVICE.seed(routing.runtime)
        yield settings, routing


async def published(settings: Settings, number: str, type_suffix: str, count: int = 1) -> list[Envelope]:
    """The case's events of one type once `count` of them are on the stream (the relay is asynchronous)."""

    async def enough() -> list[Envelope]:
        found = await events_of(settings, number, type_suffix)
        return found if len(found) >= count else []

    found = await eventually(enough)
    assert isinstance(found, list)
    return found


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    """`headers` with an Idempotency-Key (a fresh one unless given): every creating POST needs one."""
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}
