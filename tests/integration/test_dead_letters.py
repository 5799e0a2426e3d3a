"""Dead letters in plain sight, against real PostgreSQL and nats-server: an event the audit log
cannot apply is parked, listed with its reason and logged; a replay after correction applies it
once; a discard needs a reason; both are audited with the person as actor; only supervisors and
admins of the event's subtree see it."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats
import pytest

from daiban_common.auth import Role, issue_token
from daiban_common.jsonlog import JsonFormatter
from daiban_common.settings import Settings
from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.subjects import Subjects
from tests.servers import RunningService, Servers, eventually, new_network, running

pytestmark = pytest.mark.integration

COUNTY, TOWNSHIP, OTHER_TOWNSHIP = "370285000000", "370285101000", "370285102000"
LOG_CONSUMER = "-audit-log"

Audit = tuple[RunningService, Settings]


@pytest.fixture(scope="module")
async def audit(migrated: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Audit]:
    network = new_network(migrated, tmp_path_factory.mktemp("dead-letters"))
    settings = await network.node(COUNTY)
    async with running("audit", settings) as service:
        yield service, settings


def bearer(settings: Settings, role: Role, org: str) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role}@{org}", role=role, org=org, name="测试人员")
    return {"Authorization": f"Bearer {token}"}


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return headers | {"Idempotency-Key": key or uuid.uuid4().hex}


def supplemented(org: str) -> Envelope:
    case_number = f"{org[:9]}201-20261206-{uuid.uuid4().int % 10000:04d}"
    payload = CaseSupplemented(
        case_number=case_number,
        accepting_org=org,
        material_codes=("M1",),
        supplemented_at=datetime(2026, 12, 6, 2, 0, tzinfo=UTC),
        recorded_by=StaffRef(staff_id=f"clerk@{org}", name="窗口人员", org=org),
    )
    return make_envelope(
        payload, source="/daiban/test/intake", subject=case_number, org=org, actor=f"clerk@{org}"
    )


async def park(settings: Settings, good: Envelope) -> dict[str, Any]:
    """Publish `good` with its materials left out (data that does not fit its type): parked at once."""
    broken = good.model_dump(mode="json")
    del broken["data"]["material_codes"]
    nc = await nats.connect(settings.nats_url)
    try:
        subject = Subjects(settings.subject_root).of(good)
        await nc.jetstream().publish(subject, json.dumps(broken).encode(), headers={"Nats-Msg-Id": good.id})
    finally:
        await nc.close()
    return broken


async def parked(service: RunningService, headers: dict[str, str], event_id: str) -> dict[str, Any]:
    async def listed() -> dict[str, Any] | None:
        response = await service.client.get(
            "/v1/dead-letters", params={"type": "daiban.case.supplemented.v1", "limit": 100}, headers=headers
        )
        assert response.status_code == 200, response.text
        found = [d for d in response.json()["items"] if d["event_id"] == event_id]
        return found[0] if found else None

    found = await eventually(listed, within=15)
    assert isinstance(found, dict)
    return found


async def entries(service: RunningService, settings: Settings, **params: str) -> list[dict[str, Any]]:
    response = await service.client.get(
        "/v1/audit/entries", params=params | {"limit": "100"}, headers=bearer(settings, Role.auditor, COUNTY)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_parked_event_is_listed_logged_and_applies_once_when_replayed_corrected(
    audit: Audit, caplog: pytest.LogCaptureFixture
) -> None:
    service, settings = audit
    supervisor = bearer(settings, Role.supervisor, TOWNSHIP)
    good = supplemented(TOWNSHIP)
    caplog.set_level(logging.WARNING, logger="daiban.dead_letters")
    await park(settings, good)

    letter = await parked(service, supervisor, good.id)
    assert letter["consumer"].endswith(LOG_CONSUMER)
    assert letter["status"] == "open" and letter["status_label"] == "待处理"
    assert letter["org"] == TOWNSHIP and letter["nats_subject"] == Subjects(settings.subject_root).of(good)
    assert "material_codes" in letter["reason"]

    # One JSON line per dead letter, with what identifies it and why.
    # Logged right after the row commits, by the consumer's task: the API may show the row first.
    def logged_lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if getattr(r, "event_id", None) == good.id]

    async def logged_once() -> bool:
        return bool(logged_lines())

    await eventually(logged_once, within=10)
    lines = logged_lines()
    assert len(lines) == 1
    line = json.loads(JsonFormatter("audit").format(lines[0]))
    assert line["dead_letter_id"] == letter["id"] and line["consumer"] == letter["consumer"]
    assert (line["type"], line["subject"], line["org"]) == (good.type, letter["nats_subject"], TOWNSHIP)
    assert "material_codes" in line["reason"]

    shown = await service.client.get(f"/v1/dead-letters/{letter['id']}", headers=supervisor)
    assert shown.status_code == 200
    assert (
        shown.json()["envelope"]["id"] == good.id and "material_codes" not in shown.json()["envelope"]["data"]
    )

    # As parked it fails again: the attempt is recorded, the dead letter stays open.
    again = await service.client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=keyed(supervisor))
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "/problems/dead-letter-replay-failed"
    assert again.json()["replay_attempts"] == 1 and "material_codes" in again.json()["reason"]

    # Corrected data that still does not fit: 422 naming the field.
    wrong = await service.client.post(
        f"/v1/dead-letters/{letter['id']}/replay",
        json={"data": good.data | {"material_codes": "M1"}},
        headers=keyed(supervisor),
    )
    assert wrong.status_code == 422, wrong.text
    assert "data.material_codes" in {e["field"] for e in wrong.json()["errors"]}

    # A corrected envelope meets the checks a delivery meets: one claiming a service that does not
    # own the type fails like it, and applies nothing.
    forged = good.model_dump(mode="json") | {"source": "/daiban/test/routing"}
    claimed = await service.client.post(
        f"/v1/dead-letters/{letter['id']}/replay", json={"envelope": forged}, headers=keyed(supervisor)
    )
    assert claimed.status_code == 409, claimed.text
    assert "routing" in claimed.json()["reason"] and "intake" in claimed.json()["reason"]

    key = uuid.uuid4().hex
    replay = await service.client.post(
        f"/v1/dead-letters/{letter['id']}/replay", json={"data": good.data}, headers=keyed(supervisor, key)
    )
    assert replay.status_code == 200, replay.text
    body = replay.json()
    assert body["outcome"] == "applied"
    assert body["dead_letter"]["status"] == "replayed"
    assert body["dead_letter"]["resolved_by"] == f"supervisor@{TOWNSHIP}"
    assert body["dead_letter"]["replay_attempts"] == 3

    # A retry of the same request replays its answer; another replay is a conflict.
    retry = await service.client.post(
        f"/v1/dead-letters/{letter['id']}/replay", json={"data": good.data}, headers=keyed(supervisor, key)
    )
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    second = await service.client.post(
        f"/v1/dead-letters/{letter['id']}/replay", json={"data": good.data}, headers=keyed(supervisor)
    )
    assert second.status_code == 409 and second.json()["type"] == "/problems/dead-letter-settled"

    # Applied once, and the replays (the two failed ones and the good one) audited with the person.
    async def logged() -> bool:
        replays = await entries(service, settings, subject=good.subject, type="daiban.deadletter.replayed.v1")
        return len(replays) == 3

    await eventually(logged, within=15)
    assert len(await entries(service, settings, subject=good.subject, type=good.type)) == 1
    replays = await entries(service, settings, subject=good.subject, type="daiban.deadletter.replayed.v1")
    assert {e["actor"] for e in replays} == {f"supervisor@{TOWNSHIP}"}
    assert sorted(e["data"]["outcome"] for e in replays) == ["applied", "failed", "failed"]
    assert {e["data"]["service"] for e in replays} == {"audit"}


async def test_a_discard_needs_a_reason_in_chinese_and_is_audited(audit: Audit) -> None:
    service, settings = audit
    admin = bearer(settings, Role.admin, COUNTY)
    good = supplemented(TOWNSHIP)
    await park(settings, good)
    letter = await parked(service, admin, good.id)
    url = f"/v1/dead-letters/{letter['id']}/discard"

    for reason in ("   ", "sent by mistake"):
        refused = await service.client.post(url, json={"reason": reason}, headers=keyed(admin))
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["reason"]
    missing = await service.client.post(url, json={}, headers=keyed(admin))
    assert missing.status_code == 422 and "reason" in {e["field"] for e in missing.json()["errors"]}

    discarded = await service.client.post(url, json={"reason": "测试误发，无需处理"}, headers=keyed(admin))
    assert discarded.status_code == 200, discarded.text
    assert discarded.json()["status"] == "discarded"
    assert discarded.json()["discard_reason"] == "测试误发，无需处理"
    assert discarded.json()["resolved_by"] == f"admin@{COUNTY}"
    again = await service.client.post(url, json={"reason": "再次丢弃"}, headers=keyed(admin))
    assert again.status_code == 409
    replay = await service.client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=keyed(admin))
    assert replay.status_code == 409

    listed = await service.client.get("/v1/dead-letters", params={"status": "discarded"}, headers=admin)
    assert letter["id"] in {d["id"] for d in listed.json()["items"]}

    async def logged() -> list[dict[str, Any]]:
        return await entries(service, settings, subject=good.subject, type="daiban.deadletter.discarded.v1")

    found = await eventually(logged, within=15)
    assert isinstance(found, list) and len(found) == 1
    entry = found[0]
    assert entry["actor"] == f"admin@{COUNTY}" and entry["data"]["reason"] == "测试误发，无需处理"
    assert entry["data"]["parked_event_id"] == good.id


async def test_only_supervisors_and_admins_of_the_subtree_see_a_dead_letter(audit: Audit) -> None:
    service, settings = audit
    good = supplemented(TOWNSHIP)
    await park(settings, good)
    letter = await parked(service, bearer(settings, Role.supervisor, TOWNSHIP), good.id)
    url = f"/v1/dead-letters/{letter['id']}"

    other = bearer(settings, Role.supervisor, OTHER_TOWNSHIP)
    assert (await service.client.get(url, headers=other)).status_code == 404
    assert (await service.client.post(f"{url}/replay", headers=keyed(other))).status_code == 404
    discard = await service.client.post(f"{url}/discard", json={"reason": "越权丢弃"}, headers=keyed(other))
    assert discard.status_code == 404
    listed = await service.client.get("/v1/dead-letters", headers=other)
    assert letter["id"] not in {d["id"] for d in listed.json()["items"]}
    outside = await service.client.get("/v1/dead-letters", params={"org": TOWNSHIP}, headers=other)
    assert outside.status_code == 404

    clerk = bearer(settings, Role.clerk, TOWNSHIP)
    assert (await service.client.get(url, headers=clerk)).status_code == 403
    assert (await service.client.get("/v1/dead-letters", headers=clerk)).status_code == 403
    assert (await service.client.post(f"{url}/replay", headers=keyed(clerk))).status_code == 403

    supervisor = bearer(settings, Role.supervisor, TOWNSHIP)
    unknown = await service.client.get("/v1/dead-letters", params={"event_type": "x"}, headers=supervisor)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "event_type"
    backwards = await service.client.get(
        "/v1/dead-letters", params={"from": "2026-12-06", "to": "2026-12-01"}, headers=supervisor
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    assert (await service.client.get("/v1/dead-letters/0", headers=supervisor)).status_code == 422
    assert (await service.client.get(url, headers=bearer(settings, Role.admin, COUNTY))).status_code == 200


async def test_a_replay_stays_in_the_callers_subtree_and_needs_its_consumer(audit: Audit) -> None:
    service, settings = audit
    supervisor = bearer(settings, Role.supervisor, TOWNSHIP)
    good = supplemented(TOWNSHIP)
    await park(settings, good)
    letter = await parked(service, supervisor, good.id)
    url = f"/v1/dead-letters/{letter['id']}/replay"

    elsewhere = good.model_dump(mode="json") | {"org": OTHER_TOWNSHIP}
    moved = await service.client.post(url, json={"envelope": elsewhere}, headers=keyed(supervisor))
    assert moved.status_code == 422 and [e["field"] for e in moved.json()["errors"]] == ["envelope.org"]
    both = await service.client.post(
        url, json={"data": good.data, "envelope": elsewhere}, headers=keyed(supervisor)
    )
    assert both.status_code == 422 and [e["field"] for e in both.json()["errors"]] == ["envelope"]

    # A consumer of an earlier release that this one no longer runs.
    table = service.runtime.tables.dead_letters
    async with service.runtime.engine.begin() as conn:
        await conn.execute(
            table.update().where(table.c.id == letter["id"]).values(consumer="retired-audit-consumer")
        )
    gone = await service.client.post(url, json={"data": good.data}, headers=keyed(supervisor))
    assert gone.status_code == 409 and gone.json()["type"] == "/problems/dead-letter-consumer-gone"
    still = await service.client.get(f"/v1/dead-letters/{letter['id']}", headers=supervisor)
    assert still.json()["status"] == "open" and still.json()["replay_attempts"] == 0
