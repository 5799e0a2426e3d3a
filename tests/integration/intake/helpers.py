"""Building items, tokens and applications for intake's integration tests, and talking to the bus."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import nats
from sqlalchemy import select

from daiban_common.auth import Role, issue_token
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_contracts.case import CaseSummary
from daiban_contracts.catalogue import (
    ItemPublished,
    ItemVersionData,
)
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.ownership import owner
from daiban_contracts.routing import CaseAssigned, CaseForwarded
from daiban_contracts.subjects import Subjects
from daiban_intake.models import ItemReplica
from tests.servers import eventually, node_subjects
from tests.unit.intake.items import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    COUNTY,
    PROMISED_ITEM,
    item,
    materials,
    resident_id,
)

__all__ = [
    "APPLICANT_ID",
    "APPLICANT_NAME",
    "APPLICANT_PHONE",
    "COUNTY",
    "IMMEDIATE_ITEM",
    "OTHER_TOWNSHIP",
    "PROMISED_ITEM",
    "TOWNSHIP",
    "VILLAGE",
    "accept_once_known",
    "application",
    "bearer",
    "complete_materials",
    "emitted",
    "forwarded_and_assigned",
    "item",
    "keyed",
    "materials",
    "progress_when",
    "publish",
    "publish_item",
    "resident_id",
    "status_becomes",
]

TOWNSHIP = "370285101000"
VILLAGE = "370285101295"
OTHER_TOWNSHIP = "370285102000"

IMMEDIATE_ITEM = "QR-00400-001-370285000000-01"


def bearer(
    settings: Settings, role: Role = Role.agent, org: str = VILLAGE, name: str = "李代办"
) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role.value}-{org}", role=role, org=org, name=name)
    return {"Authorization": f"Bearer {token}"}


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


def complete_materials() -> list[dict[str, Any]]:
    return [
        {"code": "M01", "form": "original", "copies": 1},
        {"code": "M02", "form": "copy", "copies": 2},
        {"code": "M03", "form": "copy", "copies": 1},
    ]


def application(
    *, item_code: str = PROMISED_ITEM, org: str = VILLAGE, channel: str = "agent", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "item_code": item_code,
        "org": org,
        "channel": channel,
        "applicant": {
            "kind": "person",
            "name": APPLICANT_NAME,
            "id_number": APPLICANT_ID,
            "phone": APPLICANT_PHONE,
            "address": "莱西市水集街道某村12号",
        },
        "materials": complete_materials(),
    }
    body.update(overrides)
    return body


def subject_of(settings: Settings, envelope: Envelope) -> str:
    return Subjects(settings.subject_root).of(envelope)


async def publish(
    settings: Settings, payload: EventData, *, org: str, subject: str, actor: str = "test"
) -> Envelope:
    """Publish an event to the node's stream as another service (or node) would."""
    envelope = make_envelope(
        payload, source=f"/daiban/test/{owner(payload.event_type)}", subject=subject, org=org, actor=actor
    )
    nc = await nats.connect(settings.nats_url)
    try:
        for subject in node_subjects(settings, envelope):
            msg_id = Subjects.message_id(envelope.id, subject)
            await nc.jetstream().publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()
    return envelope


async def publish_item(settings: Settings, runtime: ServiceRuntime, version: ItemVersionData) -> None:
    """Feed intake's replica as the catalogue would, and wait until intake has recorded it."""
    await publish(settings, ItemPublished(item=version), org=COUNTY, subject=version.implementation_code)

    async def recorded() -> bool:
        async with runtime.engine.connect() as conn:
            row = await conn.scalar(
                select(ItemReplica.version).where(  # type: ignore[call-overload]
                    ItemReplica.implementation_code == version.implementation_code,
                    ItemReplica.version == version.version,
                )
            )
        return row is not None

    await eventually(recorded)


async def forwarded_and_assigned(settings: Settings, number: str, accepted: dict[str, object]) -> None:
    """Routing's events for a village's case carried up to the township and assigned to a window
    (`accepted`: the case as its `CaseAccepted` event carries it)."""
    now = datetime.now(UTC)
    summary = CaseSummary.model_validate(accepted)
    await publish(
        settings,
        CaseForwarded(case=summary, from_org=VILLAGE, to_org=TOWNSHIP, hop=1, forwarded_at=now),
        org=TOWNSHIP,
        subject=number,
    )
    await publish(
        settings,
        CaseAssigned(
            case_number=number,
            accepting_org=VILLAGE,
            org=TOWNSHIP,
            task_id="t1",
            department="township.civil_affairs",
            window="3",
            staff_id="approver-1",
            post="a",
            due_date=date.today(),
            assigned_at=now,
        ),
        org=TOWNSHIP,
        subject=number,
    )


async def emitted(runtime: ServiceRuntime, type_name: str) -> list[Envelope]:
    """Events intake wrote to its outbox (committed with the state they describe)."""
    outbox = runtime.tables.outbox
    async with runtime.engine.connect() as conn:
        # The events themselves: their copies for other nodes share the rows' envelopes.
        found = select(outbox.c.envelope).where(
            outbox.c.type == type_name, outbox.c.subject.not_like("%.copy.%")
        )
        rows = (await conn.execute(found.order_by(outbox.c.seq))).all()
    return [Envelope.model_validate_json(row.envelope) for row in rows]


async def accept_once_known(client: httpx.AsyncClient, agent: dict[str, str], org: str) -> dict[str, Any]:
    """The receipt of an application at `org`, retried until intake's replica knows the org unit
    (routing's seed reaches it a moment after routing has it)."""

    async def accepted() -> dict[str, Any] | None:
        response = await client.post("/v1/applications", json=application(org=org), headers=keyed(agent))
        return response.json() if response.status_code == 201 else None

    receipt = await eventually(accepted)
    assert isinstance(receipt, dict)
    return receipt


async def progress_when(
    client: httpx.AsyncClient, receipt: dict[str, Any], shows: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The case's public progress once it `shows` what is awaited (events travel asynchronously)."""

    async def shown() -> dict[str, Any] | None:
        response = await client.get(
            f"/v1/public/progress/{receipt['case_number']}", params={"query_code": receipt["query_code"]}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if shows(body) else None

    found = await eventually(shown)
    assert isinstance(found, dict)
    return found


async def status_becomes(client: httpx.AsyncClient, settings: Settings, number: str, status: str) -> None:
    """Wait until the case shows `status` to the village agent (events travel asynchronously)."""
    agent = bearer(settings)

    async def reached() -> bool:
        response = await client.get(f"/v1/cases/{number}", headers=agent)
        return bool(response.json()["status"] == status)

    await eventually(reached)
