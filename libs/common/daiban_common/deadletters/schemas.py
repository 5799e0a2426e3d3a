"""What the dead-letter routes take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from daiban_common.deadletters.rules import OUTCOME_LABELS, Status, stored_envelope
from daiban_contracts.text import StoredText

_PARKED_AT = "2026-12-06T09:30:00.123000+08:00"
_OUT_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "consumer": "n370285000000-intake-progress",
    "event_id": "01939a4e-7c1a-7d2e-9f00-3c5b2a1d4e6f",
    "type": "daiban.case.decided.v1",
    "nats_subject": "daiban.370285.101.294.case.decided",
    "org": "370285101000",
    "reason": "本节点没有办件370285101294-20261206-0001",
    "attempts": 1,
    "parked_at": _PARKED_AT,
    "status": "open",
    "status_label": "待处理",
    "resolved_at": None,
    "resolved_by": None,
    "discard_reason": None,
    "replay_outcome": None,
    "replay_attempts": 0,
    "last_replay_at": None,
    "last_replay_error": None,
}


class DeadLetterOut(BaseModel):
    """A parked event: what it is, why it was parked, and where it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OUT_EXAMPLE]})

    id: int
    consumer: str = Field(description="The durable consumer that parked it: <node>-<service>-<name>")
    event_id: str | None = Field(
        default=None, description="The event's id (null when the message was unreadable)"
    )
    type: str | None = Field(
        default=None, description="The event's type (null when the message was unreadable)"
    )
    nats_subject: str = Field(description="The NATS subject it arrived on")
    org: str | None = Field(default=None, description="The org unit it concerns (null: the node's own)")
    reason: str = Field(description="Why the consumer could not apply it")
    attempts: int = Field(description="Deliveries that failed before it was parked")
    parked_at: datetime
    status: Literal["open", "replayed", "discarded"]
    status_label: str = Field(description="待处理 / 已重放 / 已丢弃")
    resolved_at: datetime | None = Field(default=None, description="When it was replayed or discarded")
    resolved_by: str | None = Field(
        default=None, description="Who replayed or discarded it (the token's sub)"
    )
    discard_reason: str | None = None
    replay_outcome: Literal["applied", "duplicate"] | None = Field(
        default=None, description="applied, or duplicate (the consumer had applied the event already)"
    )
    replay_attempts: int = Field(description="Replays tried, failed ones included")
    last_replay_at: datetime | None = None
    last_replay_error: str | None = Field(default=None, description="Why the last failed replay failed")


class DeadLetterDetail(DeadLetterOut):
    """A dead letter with the message as received (and the envelope a corrected replay applied)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _OUT_EXAMPLE
                | {
                    "payload": '{"specversion":"1.0","id":"01939a4e-7c1a-7d2e-9f00-3c5b2a1d4e6f"}',
                    "envelope": {"specversion": "1.0", "id": "01939a4e-7c1a-7d2e-9f00-3c5b2a1d4e6f"},
                    "headers": {"Nats-Msg-Id": "01939a4e-7c1a-7d2e-9f00-3c5b2a1d4e6f"},
                    "replayed_envelope": None,
                }
            ]
        }
    )

    payload: str = Field(description="The message body as received")
    envelope: dict[str, Any] | None = Field(
        default=None, description="The body as JSON, when it is a JSON object"
    )
    headers: dict[str, Any] | None = None
    replayed_envelope: dict[str, Any] | None = Field(
        default=None, description="The corrected envelope a replay applied"
    )


class ReplayIn(BaseModel):
    """Replay as parked (an empty body), or corrected: new `data`, or a whole new `envelope`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"data": {"case_number": "370285101294-20261206-0001"}}]},
    )

    data: dict[str, Any] | None = Field(default=None, description="Corrected `data`; the rest as parked")
    envelope: dict[str, Any] | None = Field(
        default=None, description="A corrected envelope (it keeps the parked event's `id`)"
    )


class ReplayOut(BaseModel):
    """What the replay did: applied it, or found it applied already."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "applied",
                    "outcome_label": "已生效",
                    "dead_letter": _OUT_EXAMPLE
                    | {
                        "status": "replayed",
                        "status_label": "已重放",
                        "resolved_at": "2026-12-06T10:02:00.000000+08:00",
                        "resolved_by": "county-supervisor",
                        "replay_outcome": "applied",
                        "replay_attempts": 1,
                        "last_replay_at": "2026-12-06T10:02:00.000000+08:00",
                    },
                }
            ]
        }
    )

    outcome: Literal["applied", "duplicate"]
    outcome_label: str
    dead_letter: DeadLetterOut


class DiscardIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "测试环境误发的事件，无需处理"}]}
    )

    reason: StoredText = Field(min_length=1, max_length=500, description="Why, in Chinese")


def dead_letter_out(row: Row[Any]) -> DeadLetterOut:
    return DeadLetterOut.model_validate(_fields(row))


def dead_letter_detail(row: Row[Any]) -> DeadLetterDetail:
    replayed = stored_envelope(row.replayed_envelope) if row.replayed_envelope else None
    return DeadLetterDetail.model_validate(
        _fields(row)
        | {
            "payload": row.payload,
            "envelope": stored_envelope(row.payload),
            "headers": row.headers,
            "replayed_envelope": replayed,
        }
    )


def replay_out(outcome: Literal["applied", "duplicate"], row: Row[Any]) -> ReplayOut:
    return ReplayOut(outcome=outcome, outcome_label=OUTCOME_LABELS[outcome], dead_letter=dead_letter_out(row))


def _fields(row: Row[Any]) -> dict[str, Any]:
    found = dict(row._mapping)
    return found | {
        "reason": row.error,
        "parked_at": row.created_at,
        "nats_subject": row.subject,
        "status_label": Status(row.status).label,
    }
