"""The log against real PostgreSQL and NATS: a journey recorded in order, tampering found, bad input."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text

from daiban_audit import queries
from daiban_audit.domain.chain import Entry, sealed
from daiban_audit.models import LogEntry
from daiban_common.auth import Role
from daiban_common.settings import Settings
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.case import (
    CaseAccepted,
    CaseEvaluated,
    CaseHandedOver,
    Channel,
    EvaluationLevel,
    HandoverMethod,
    Outcome,
)
from daiban_contracts.catalogue import ItemKind
from daiban_contracts.envelope import Envelope
from daiban_contracts.routing import (
    CaseAssigned,
    CaseDecided,
    CaseForwarded,
    CaseReadyForHandover,
    CaseReceived,
    CaseReturnedDown,
)
from tests.integration.audit.journey import (
    COUNTY,
    TOWNSHIP,
    TOWNSHIP_2,
    VILLAGE,
    at,
    bearer,
    envelope,
    execute,
    publish,
    scalar,
    staff,
    subject_of,
    summary,
    wait_for_entries,
)
from tests.servers import Network, RunningService, eventually, running

pytestmark = pytest.mark.integration

CASE = "370285101201-20261102-0001"
# What the test servers' replica holds of the units the journey names (data/divisions).
DIRECTORY_NAMES = {"370285000000": "莱西市", "370285101000": "姜山镇"}


def journey() -> list[Envelope]:
    """A promised item accepted by a village agent, decided at the township, handed back, rated."""
    case = summary(
        CASE,
        org=VILLAGE,
        kind=ItemKind.promised,
        channel=Channel.agent,
        accepted_at=at(2, 9),
        promised=date(2026, 11, 9),
        department="township.civil_affairs",
        responder="agent-7",
    )
    approver = staff("t-approver-1", TOWNSHIP)
    return [
        envelope(CaseAccepted(case=case), subject=CASE, org=VILLAGE, actor="agent-7", time=at(2, 9)),
        envelope(
            CaseForwarded(case=case, from_org=VILLAGE, to_org=TOWNSHIP, hop=1, forwarded_at=at(2, 10)),
            subject=CASE, org=TOWNSHIP, actor="agent-7", time=at(2, 10),
        ),
        envelope(
            CaseReceived(case_number=CASE, accepting_org=VILLAGE, from_org=VILLAGE, to_org=TOWNSHIP, hop=1,
                         received_at=at(2, 11), received_by="t-clerk-1"),
            subject=CASE, org=TOWNSHIP, actor="t-clerk-1", time=at(2, 11),
        ),
        envelope(
            CaseAssigned(case_number=CASE, accepting_org=VILLAGE, org=TOWNSHIP, task_id="task-1",
                         department="township.civil_affairs", window="W1", staff_id="t-approver-1", post="a",
                         due_date=date(2026, 11, 9), assigned_at=at(2, 12)),
            subject=CASE, org=TOWNSHIP, actor="system:routing", time=at(2, 12),
        ),
        envelope(
            CaseDecided(case_number=CASE, accepting_org=VILLAGE, org=TOWNSHIP, outcome=Outcome.approved,
                        result="证书号 2026-001，联系电话13812345678", decided_by=approver,
                        decided_at=at(4, 15), due_date=date(2026, 11, 9), on_time=True),
            subject=CASE, org=TOWNSHIP, actor="t-approver-1", time=at(4, 15),
        ),
        envelope(
            CaseReturnedDown(case_number=CASE, accepting_org=VILLAGE, from_org=TOWNSHIP, to_org=VILLAGE,
                             outcome=Outcome.approved, returned_at=at(4, 16)),
            subject=CASE, org=VILLAGE, actor="system:routing", time=at(4, 16),
        ),
        envelope(
            CaseReadyForHandover(case_number=CASE, accepting_org=VILLAGE, outcome=Outcome.approved,
                                 deciding_org=TOWNSHIP, ready_at=at(4, 17)),
            subject=CASE, org=VILLAGE, actor="system:routing", time=at(4, 17),
        ),
        envelope(
            CaseHandedOver(case_number=CASE, accepting_org=VILLAGE, method=HandoverMethod.in_person,
                           handed_over_at=at(5, 9), handed_over_by=staff("agent-7", VILLAGE)),
            subject=CASE, org=VILLAGE, actor="agent-7", time=at(5, 9),
        ),
        envelope(
            CaseEvaluated(case_number=CASE, accepting_org=VILLAGE, deciding_org=TOWNSHIP,
                          level=EvaluationLevel.very_satisfied, evaluated_at=at(5, 10)),
            subject=CASE, org=VILLAGE, actor="citizen", time=at(5, 10),
        ),
    ]  # fmt: skip


@pytest.fixture
async def county(network: Network) -> AsyncIterator[tuple[Settings, RunningService, list[Envelope]]]:
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        events = journey()
        await publish(settings, events)
        await wait_for_entries(audit, len(events))
        yield settings, audit, events


async def verify(audit: RunningService, settings: Settings, **params: Any) -> dict[str, Any]:
    response = await audit.client.get("/v1/audit/verify", params=params, headers=bearer(settings))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_event_of_a_journey_appears_once_in_order_attributed(
    county: tuple[Settings, RunningService, list[Envelope]],
) -> None:
    settings, audit, events = county
    # Redelivered without a message id, so the broker cannot drop it: the log must.
    await publish(settings, [(subject_of(settings, events[0]), events[0].to_bytes())])

    async def redelivery_seen() -> bool:
        return 'outcome="duplicate"' in audit.runtime.metrics.exposition().decode()

    await eventually(redelivery_seen)
    response = await audit.client.get(
        "/v1/audit/entries", params={"subject": CASE, "limit": 100}, headers=bearer(settings)
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [e["event_id"] for e in items] == [e.id for e in events]
    assert [e["seq"] for e in items] == list(range(1, len(events) + 1))
    for entry, event in zip(items, events, strict=True):
        assert (entry["type"], entry["actor"], entry["org"]) == (event.type, event.actor, event.org)
        assert datetime.fromisoformat(entry["time"]) == event.time
        # Named from audit's replica of the county's directory; a code it lacks has no name.
        assert entry["org_name"] == DIRECTORY_NAMES.get(event.org)
    assert items[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(items))
    # Personal data in free text is masked in the log.
    assert "138****5678" in items[4]["data"]["result"]
    assert (await verify(audit, settings))["ok"] is True


async def test_an_event_logged_before_is_not_logged_again_though_the_inbox_forgot_it(
    county: tuple[Settings, RunningService, list[Envelope]],
) -> None:
    settings, audit, events = county
    head = "SELECT size || ':' || head_hash FROM audit.chain_heads"
    before = await scalar(audit, head)
    await execute(audit, "DELETE FROM audit.inbox WHERE consumer LIKE '%-log'")
    # Two known events and a new one, redelivered in one fetch: the known ones leave the chain
    # and its head alone, the new one follows the last entry.
    new = envelope(
        CaseReceived(
            case_number=CASE,
            accepting_org=VILLAGE,
            from_org=TOWNSHIP,
            to_org=COUNTY,
            hop=2,
            received_at=at(6, 9),
        ),
        subject=CASE,
        org=COUNTY,
        actor="county-clerk",
        time=at(6, 9),
    )
    await publish(settings, [(subject_of(settings, e), e.to_bytes()) for e in (events[0], events[3])] + [new])

    async def reclaimed() -> bool:
        claimed = "SELECT count(*) FROM audit.inbox WHERE consumer LIKE '%-log'"
        return int(await scalar(audit, claimed)) == 3

    await eventually(reclaimed)
    assert await scalar(audit, "SELECT count(*) FROM audit.entries") == len(events) + 1
    assert (
        await scalar(audit, "SELECT event_id FROM audit.entries WHERE seq = :seq", seq=len(events) + 1)
        == new.id
    )
    assert await scalar(audit, head) != before
    assert (await verify(audit, settings))["ok"] is True


async def test_entries_are_filtered_scoped_and_paginated(
    county: tuple[Settings, RunningService, list[Envelope]],
) -> None:
    settings, audit, _events = county
    auditor = bearer(settings)
    page1 = (await audit.client.get("/v1/audit/entries", params={"limit": 4}, headers=auditor)).json()
    page2 = (
        await audit.client.get(
            "/v1/audit/entries", params={"limit": 4, "cursor": page1["next_cursor"]}, headers=auditor
        )
    ).json()
    assert [e["seq"] for e in page1["items"] + page2["items"]] == list(range(1, 9))
    by_actor = await audit.client.get("/v1/audit/entries", params={"actor": "agent-7"}, headers=auditor)
    assert [e["seq"] for e in by_actor.json()["items"]] == [1, 2, 8]
    by_type = await audit.client.get(
        "/v1/audit/entries", params={"type": "daiban.case.decided.v1", "org": TOWNSHIP}, headers=auditor
    )
    assert [e["seq"] for e in by_type.json()["items"]] == [5]
    in_time = await audit.client.get(
        "/v1/audit/entries", params={"from": "2026-11-04", "to": "2026-11-04"}, headers=auditor
    )
    assert [e["seq"] for e in in_time.json()["items"]] == [5, 6, 7]
    # Another township's supervisor sees nothing of it, and asking for it by org is a 404.
    other = bearer(settings, Role.supervisor, TOWNSHIP_2)
    assert (await audit.client.get("/v1/audit/entries", headers=other)).json()["items"] == []
    hidden = await audit.client.get("/v1/audit/entries", params={"org": TOWNSHIP}, headers=other)
    assert hidden.status_code == 404
    clerk = await audit.client.get("/v1/audit/entries", headers=bearer(settings, Role.clerk))
    assert clerk.status_code == 403


TAMPERING = {
    "edited": ["UPDATE audit.entries SET actor = 'someone-else' WHERE seq = 4"],
    "deleted": ["DELETE FROM audit.entries WHERE seq = 3"],
    "reordered": [
        "UPDATE audit.entries SET seq = -6 WHERE seq = 6",
        "UPDATE audit.entries SET seq = 6 WHERE seq = 7",
        "UPDATE audit.entries SET seq = 7 WHERE seq = -6",
    ],
}


@pytest.mark.parametrize(
    ("how", "reason", "seq"),
    [("edited", "content_changed", 4), ("deleted", "missing", 3), ("reordered", "broken_link", 6)],
)
async def test_tampering_with_rows_is_detected_and_located(
    county: tuple[Settings, RunningService, list[Envelope]], how: str, reason: str, seq: int
) -> None:
    settings, audit, _ = county
    await execute(audit, *TAMPERING[how])
    body = await verify(audit, settings)
    assert body["ok"] is False
    assert (body["failure"]["reason"], body["failure"]["seq"]) == (reason, seq)
    assert body["detail"]


@pytest.mark.parametrize(
    ("how", "reason", "seq"),
    [("edited", "content_changed", 4), ("deleted", "missing", 3), ("reordered", "broken_link", 6)],
)
async def test_verification_in_small_batches_finds_the_same(
    county: tuple[Settings, RunningService, list[Envelope]],
    how: str,
    reason: str,
    seq: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two rows a batch: the chain spans several batches, and a failure leaves the next one in flight.
    monkeypatch.setattr(queries, "VERIFY_BATCH", 2)
    settings, audit, events = county
    body = await verify(audit, settings)
    assert (body["ok"], body["checked"]) == (True, len(events))
    await execute(audit, *TAMPERING[how])
    for _ in range(2):  # the connection is usable again after a failed verification
        body = await verify(audit, settings)
        assert (body["ok"], body["failure"]["reason"], body["failure"]["seq"]) == (False, reason, seq)


async def test_an_inserted_row_is_detected_and_located(
    county: tuple[Settings, RunningService, list[Envelope]],
) -> None:
    settings, audit, _ = county
    # A careful forger: shifts the later rows up and gives the forged row 3 a correct hash.
    row = await scalar(audit, "SELECT row_to_json(e)::text FROM audit.entries e WHERE seq = 3")
    original = json.loads(row)
    prev = await scalar(audit, "SELECT hash FROM audit.entries WHERE seq = 2")
    forged = sealed(
        Entry(
            seq=3, event_id="forged", type=original["type"], source="/forger", subject=CASE,
            time=datetime.fromisoformat(original["time"]),
            recorded_at=datetime.fromisoformat(original["recorded_at"]),
            org=TOWNSHIP, actor="forger", data={"note": "补录"}, prev_hash=prev,
        )
    )  # fmt: skip
    await execute(
        audit,
        "UPDATE audit.entries SET seq = -seq WHERE seq >= 3",
        "UPDATE audit.entries SET seq = -seq + 1 WHERE seq < 0",
    )
    async with audit.runtime.engine.begin() as conn:
        await conn.execute(insert(LogEntry).values(**{n: getattr(forged, n) for n in Entry.__slots__}))
    body = await verify(audit, settings)
    assert (body["ok"], body["failure"]["reason"], body["failure"]["seq"]) == (False, "inserted", 3)


async def test_a_cut_tail_is_caught_by_the_chain_head_and_a_range_can_be_checked(
    county: tuple[Settings, RunningService, list[Envelope]],
) -> None:
    settings, audit, _ = county
    assert (await verify(audit, settings, from_seq=3, to_seq=5))["checked"] == 3
    await execute(audit, "DELETE FROM audit.entries WHERE seq > 6")
    body = await verify(audit, settings)
    assert (body["failure"]["reason"], body["failure"]["seq"]) == ("truncated", 7)


async def test_bad_events_go_to_the_dead_letter_table_and_the_log_keeps_going(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        good = journey()[0]
        unknown = good.model_copy(
            update={"id": "0192f000-0000-7000-8000-000000000001", "type": "daiban.case.teleported.v1"}
        )
        forged = CheckpointSigned(
            node_org=TOWNSHIP, node="n" + TOWNSHIP, size=3, head_hash="a" * 64, signed_at=at(2, 9),
            public_key="A" * 43 + "=", signature="B" * 86 + "==",
        )  # fmt: skip
        bad_signature = envelope(forged, subject="audit-chain", org=COUNTY, actor="system:audit")
        root = settings.subject_root
        await publish(
            settings,
            [
                (f"{root}.370285.101.201.case.accepted", b"{not json"),
                (f"{root}.370285.101.201.case.teleported", unknown.to_bytes()),
                bad_signature,
                good,
            ],
        )
        sql = "SELECT consumer, event_id, error FROM audit.dead_letters ORDER BY id"

        def all_three(errors: list[tuple[Any, ...]]) -> bool:
            return (
                any("not a daiban event envelope" in r[2] for r in errors)
                and any(r[1] == unknown.id and "未知的事件类型" in r[2] for r in errors)
                and any(
                    r[1] == bad_signature.id and "签名无效" in r[2] and r[0].endswith("checkpoints")
                    for r in errors
                )
            )

        async def parked() -> bool:
            # Two consumers may park the same bad event, so a count of rows proves nothing: wait for
            # each of the three, and fail with what was parked if one never comes.
            return all_three([row async for row in _rows(audit, sql)])

        try:
            await eventually(parked, within=15)
        except AssertionError:
            parked_rows = [row async for row in _rows(audit, sql)]
            raise AssertionError(f"not every bad event was parked: {parked_rows}") from None
        # The good event behind the bad ones was logged.
        await eventually(lambda: _has_entry(audit, good.id))


async def _rows(audit: RunningService, sql: str) -> AsyncIterator[tuple[Any, ...]]:
    async with audit.runtime.engine.connect() as conn:
        for row in (await conn.execute(text(sql))).all():
            yield tuple(row)


async def _has_entry(audit: RunningService, event_id: str) -> bool:
    return bool(await scalar(audit, "SELECT count(*) FROM audit.entries WHERE event_id = :id", id=event_id))


BAD_INPUT = [
    ("/v1/audit/entries", {"cases": "x"}, 422, "cases"),
    ("/v1/audit/entries", {"from": "2026-11-05", "to": "2026-11-01"}, 422, "to"),
    ("/v1/audit/entries", {"limit": "101"}, 422, "limit"),
    ("/v1/audit/entries", {"from": "2026-11-05T09:00:00"}, 422, "from"),
    ("/v1/audit/entries", {"org": "12345"}, 422, "org"),
    ("/v1/audit/verify", {"from_seq": "5", "to_seq": "2"}, 422, "to_seq"),
    ("/v1/audit/verify", {"seq": "5"}, 422, "seq"),
    ("/v1/stats", {"from": "2026-11-05", "to": "2026-11-01"}, 422, "to"),
    ("/v1/stats", {"from": "2024-01-01", "to": "2026-11-01"}, 422, "to"),
    ("/v1/stats", {"group_by": "week"}, 422, "group_by"),
    ("/v1/stats", {"orgs": COUNTY}, 422, "orgs"),
    ("/v1/reports/yearly", {}, 422, "period"),
    ("/v1/audit/checkpoints", {"limit": "500"}, 422, "limit"),
]


async def test_bad_input_gets_clear_problem_responses(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        for path, params, status, field in BAD_INPUT:
            response = await audit.client.get(path, params=params, headers=bearer(settings))
            assert response.status_code == status, (path, params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            body = response.json()
            assert field in {e["field"] for e in body["errors"]}, (path, params, body)
            assert body["detail"]
        assert (await audit.client.get("/v1/audit/verify")).status_code == 401
