"""Builders for the events of a case's journey, and publishing them as intake and routing would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

import nats
from sqlalchemy import text

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_contracts.case import (
    ApplicantKind,
    ApplicantRef,
    CaseSummary,
    Channel,
    Deficiency,
    ItemRef,
    StaffRef,
)
from daiban_contracts.catalogue import ItemKind
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.orgcodes import Tier
from daiban_contracts.ownership import owner
from daiban_contracts.subjects import Subjects
from tests.servers import RunningService, eventually

CST = timezone(timedelta(hours=8))
COUNTY, TOWNSHIP, VILLAGE, TOWNSHIP_2 = "370285000000", "370285101000", "370285101201", "370285102000"


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=CST)


def staff(staff_id: str, org: str) -> StaffRef:
    return StaffRef(staff_id=staff_id, name="工作人员", org=org)


def summary(
    case_number: str,
    *,
    org: str,
    kind: ItemKind,
    channel: Channel,
    accepted_at: datetime,
    promised: date,
    department: str,
    responder: str,
    deficient: bool = False,
    level: Tier = Tier.township,
) -> CaseSummary:
    return CaseSummary(
        case_number=case_number,
        item=ItemRef(
            implementation_code="XK-00105-001-370285000000-01",
            base_code="XK-00105-001",
            version=1,
            name="测试事项",
            kind=kind,
            handling_level=level,
            implementing_org=COUNTY,
            lead_department=department,
            statutory_working_days=20,
            promised_working_days=5,
        ),
        accepting_org=org,
        channel=channel,
        applicant=ApplicantRef(
            kind=ApplicantKind.person, name_masked="张*", id_masked="370285********1234", id_hash="ab" * 32
        ),
        first_responder=staff(responder, org),
        accepted_at=accepted_at,
        promised_date=promised,
        deficiencies=(Deficiency(material_code="M1", material_name="户口簿", due_date=promised),)
        if deficient
        else (),
    )


def envelope(
    payload: EventData, *, subject: str, org: str, actor: str, time: datetime | None = None
) -> Envelope:
    return make_envelope(
        payload,
        source=f"/daiban/test/{owner(payload.event_type)}",
        subject=subject,
        org=org,
        actor=actor,
        time=time,
    )


def subject_of(settings: Settings, env: Envelope) -> str:
    return Subjects(settings.subject_root).of(env)


async def publish(settings: Settings, items: Sequence[Envelope | tuple[str, bytes]]) -> None:
    """Publish envelopes (or raw bytes to a subject) in order, as the other services' relays do."""
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        for item in items:
            if isinstance(item, Envelope):
                headers = {"Nats-Msg-Id": item.id}
                await js.publish(subject_of(settings, item), item.to_bytes(), headers=headers)
            else:
                await js.publish(item[0], item[1])
    finally:
        await nc.close()


def bearer(settings: Settings, role: Role = Role.auditor, org: str = COUNTY) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role}@{org}", role=role, org=org, name="审计")
    return {"Authorization": f"Bearer {token}"}


async def scalar(service: RunningService, sql: str, **params: Any) -> Any:
    async with service.runtime.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def execute(service: RunningService, *statements: str) -> None:
    async with service.runtime.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def wait_for_entries(service: RunningService, count: int, within: float = 15.0) -> None:
    async def reached() -> bool:
        return int(await scalar(service, "SELECT count(*) FROM audit.entries")) >= count

    await eventually(reached, within=within)
