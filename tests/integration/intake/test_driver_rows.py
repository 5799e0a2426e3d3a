"""Statements run on the driver (daiban_common.uow.Prepared) write the rows SQLAlchemy wrote.

Each statement acceptance sends on the asyncpg connection is run twice in one transaction (so
that now() is the same), once through SQLAlchemy's Core execution of the statement it was compiled
from and once as the prepared statement, with the same values but for a key; the two rows must be
the same as PostgreSQL prints them (JSONB text, SQL NULL against JSON null, timestamps, dates).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Executable, text

from daiban_common.idempotency import _statements
from daiban_common.uow import Prepared, UnitOfWork, _outbox_insert
from daiban_intake.domain.progress import Stage
from daiban_intake.handlers.common import _CASE_COLUMNS, _NUMBERING, _opening, stage_row
from tests.integration.intake.conftest import Intake

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)


def _case(number: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "number": number,
        "org": "370285101000",
        "item_code": "11370285MB0000000A000123456700001",
        "item_version": 3,
        "item": {
            "name": "测试事项",
            "materials": [{"code": "M1", "copies": 1}],
            "nested": {"a": [1.5, None]},
        },
        "channel": "window",
        "applicant": {"name": "张三", "phone": "13800000000", "emoji": "\u2603"},
        "representative": None,
        "materials": [{"code": "M1", "name": "身份证", "form": "original", "copies": 1}],
        "conditions_met": [],
        "deficiencies": [{"code": "M2", "name": "证明", "due_date": "2026-03-09", "supplied_at": None}],
        "green_channel": True,
        "first_responder": {"staff_id": "s1", "name": "李四", "org": "370285101000"},
        "query_code": "ABCD1234",
        "accepted_at": AT,
        "promised_date": date(2026, 3, 16),
        "promised_date_provisional": False,
        "due_date": date(2026, 3, 16),
        "due_date_provisional": True,
        "status": "accepted",
        "holding_org": "370285101000",
        "reasons": ['理由"引号"'],
        "legal_basis": [],
        "pending_supplement": [],
    }
    return {c.name: values.get(c.name) for c in _CASE_COLUMNS}


async def _both(
    uow: UnitOfWork, prepared: Prepared, via_sqlalchemy: dict[str, Any], via_driver: dict[str, Any]
) -> None:
    conn = await uow.session.connection()
    # Every Prepared statement is an executable one (insert, select).
    await conn.execute(cast(Executable, prepared.statement), via_sqlalchemy)
    await uow.execute(prepared, via_driver)


async def _rows(uow: UnitOfWork, sql: str, **params: str) -> list[str]:
    conn = await uow.session.connection()
    return [str(r[0]) for r in (await conn.execute(text(sql), params)).all()]


def _kept(key: str) -> dict[str, Any]:
    return {
        "kept_scope": "staff-1",
        "kept_operation": "POST /v1/applications",
        "kept_key": key,
        "kept_fingerprint": "f" * 64,
        "kept_status_code": 201,
        "kept_media_type": "application/json",
        "kept_body": '{"number":"办件1"}',
        "kept_headers": {"Location": "/v1/cases/办件1", "ETag": '"1"'},
    }


def _key(kept: dict[str, Any]) -> dict[str, Any]:
    """What idempotency.claim is given: the record's key and fingerprint, without the answer."""
    return {name: kept[name] for name in ("kept_scope", "kept_operation", "kept_key", "kept_fingerprint")}


def _queued(event_id: str) -> dict[str, Any]:
    """Two outbox rows of one event (its own subject, then a copy's), as UnitOfWork.take_outbox gives."""
    return {
        "outbox_event_id": [event_id, event_id],
        "outbox_subject": ["x.370285.101.case.accepted", "x.copy.370285.case.accepted"],
        "outbox_type": ["case.accepted", "case.accepted"],
        "outbox_envelope": ['{"data":{"名称":"值"}}', '{"data":{"名称":"值"}}'],
        "outbox_traceparent": ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", None],
    }


async def test_a_case_its_stages_record_and_events_on_the_driver_are_the_rows_sqlalchemy_wrote(
    intake: Intake,
) -> None:
    prepared = _opening(2)
    stages = [
        stage_row(Stage.accepted, "370285101000", AT),
        stage_row(Stage.concluded_on_the_spot, "370285101000", AT, "准予"),
    ]

    def params(number: str) -> dict[str, Any]:
        out = _case(number) | _kept(f"k-{number}") | _queued(f"e-{number}")
        for i, stage in enumerate(stages):
            out |= {f"stage{i}_{name}": value for name, value in stage.items()}
        return out

    def numbering(org: str) -> dict[str, Any]:
        return _key(_kept(f"k-A-{org}")) | {"kind": "case", "org": org, "day": date(2026, 3, 2), "first": 7}

    async with intake.runtime.uow() as uow:
        # The key claimed and the number taken first (claim_number), the answer written by the
        # case's statement.
        await _both(uow, _NUMBERING, numbering("SA"), numbering("DRIVER"))
        # Claimed again (a retry): no row, and the counter is left as it is.
        assert await uow.fetchval(_NUMBERING, numbering("DRIVER")) is None
        await _both(uow, prepared, params("A-SA"), params("A-DRIVER"))
        counters = await _rows(
            uow,
            "SELECT (kind, day, last)::text FROM intake.counters WHERE org IN ('SA', 'DRIVER') ORDER BY org",
        )
        cases = await _rows(
            uow,
            "SELECT c::text FROM intake.cases c WHERE number IN ('A-SA', 'A-DRIVER') ORDER BY number DESC",
        )
        stage_rows = await _rows(
            uow,
            "SELECT (s.stage, s.org, s.at, s.note)::text FROM intake.case_stages s"
            " WHERE case_number IN ('A-SA', 'A-DRIVER') ORDER BY case_number DESC, id",
        )
        nulls = await _rows(
            uow,
            "SELECT (representative IS NULL, jsonb_typeof(representative), handover IS NULL)::text"
            " FROM intake.cases WHERE number IN ('A-SA', 'A-DRIVER') ORDER BY number DESC",
        )
        records = await _rows(
            uow,
            "SELECT (scope, operation, fingerprint, status_code, media_type, body, headers, created_at)::text"
            " FROM intake.idempotency WHERE key IN ('k-A-SA', 'k-A-DRIVER') ORDER BY key DESC",
        )
        # In the order given (seq), each statement's rows together.
        events = await _rows(
            uow,
            "SELECT (subject, type, envelope, traceparent, created_at, published_at)::text"
            " FROM intake.outbox WHERE event_id IN ('e-A-SA', 'e-A-DRIVER') ORDER BY seq",
        )
    assert len(cases) == 2
    assert cases[0].replace("A-SA", "#") == cases[1].replace("A-DRIVER", "#")
    assert stage_rows[:2] == stage_rows[2:]
    assert nulls[0] == nulls[1]
    assert len(records) == 2 and records[0] == records[1]
    assert counters == ["(case,2026-03-02,7)", "(case,2026-03-02,7)"]
    assert len(events) == 4 and events[:2] == events[2:]
    assert "x.370285.101" in events[0] and "x.copy" in events[1]


async def test_an_idempotency_record_on_the_driver_is_the_row_sqlalchemy_wrote(intake: Intake) -> None:
    statements = _statements("intake")

    async with intake.runtime.uow() as uow:
        await _both(uow, statements.keep, _kept("k-sa"), _kept("k-driver"))
        # Claimed, then settled (acceptance's pair): the same row as one kept at once.
        await uow.execute(statements.claim, _key(_kept("k-settled")))
        await uow.execute(statements.settle, _kept("k-settled"))
        rows = await _rows(
            uow,
            "SELECT (scope, operation, fingerprint, status_code, media_type, body, headers, created_at)::text"
            " FROM intake.idempotency WHERE key IN ('k-sa', 'k-driver', 'k-settled') ORDER BY key DESC",
        )
        found = await uow.fetchrow(
            statements.find, {"scope": "staff-1", "operation": "POST /v1/applications", "key": "k-sa"}
        )
    assert len(rows) == 3 and rows[0] == rows[1] == rows[2]
    assert found is not None and dict(found["headers"]) == _kept("k-sa")["kept_headers"]


async def test_an_outbox_row_on_the_driver_is_the_row_sqlalchemy_wrote(intake: Intake) -> None:
    prepared = _outbox_insert(intake.runtime.tables.outbox)

    def params(event_id: str) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "subject": "x.370285.101.case.accepted",
            "type": "case.accepted",
            "envelope": '{"data":{"名称":"值"}}',
            "traceparent": None,
        }

    async with intake.runtime.uow() as uow:
        await _both(uow, prepared, params("e-sa"), params("e-driver"))
        rows = await _rows(
            uow,
            "SELECT (subject, type, envelope, traceparent, created_at, published_at)::text"
            " FROM intake.outbox WHERE event_id IN ('e-sa', 'e-driver') ORDER BY event_id DESC",
        )
    assert len(rows) == 2 and rows[0] == rows[1]
