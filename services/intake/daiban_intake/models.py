"""Tables owned by the intake service (schema `intake`).

`cases` is the citizen-facing record of a case: what was accepted, from whom, under which item
version, and where it stands now (kept current from routing's events). Personal data is stored in
full here, because the window must print it and check identity at handover; it is masked on the
way out (events, public answers). `item_versions` is intake's own replica of the catalogue, so a
point can accept while the county's catalogue is out of reach.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from daiban_common.db import empty_list
from daiban_common.idempotency import idempotency_table
from daiban_common.messaging import messaging_tables
from daiban_common.orgunits import org_units_replica
from daiban_common.schedules import calendar_years_replica
from daiban_common.staffdir import staff_replica

SCHEMA = "intake"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
# The county's org units as routing publishes them: whose tokens this service accepts.
org_units = org_units_replica(SCHEMA)
# The official schedules routing announces, loaded into the process calendar at start.
calendar_years = calendar_years_replica(SCHEMA)
# Who routing's directory says the staff are: only they accept, supplement and hand over.
staff_directory = staff_replica(SCHEMA)
# Answers of creating POSTs, for Idempotency-Key replays (daiban_common.idempotency).
idempotency = idempotency_table(SCHEMA)

_TZ = DateTime(timezone=True)


def _json(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSONB, nullable=nullable))


def _recorded_at() -> Any:
    # Set by the database, so every node writes its own clock.
    return Field(default=None, sa_column=Column(_TZ, nullable=False, server_default=func.now()))


def _org_index(table: str, column: str = "org") -> Index:
    # Subtree scoping is `org LIKE '370285101%'`; text_pattern_ops lets a btree answer it.
    return Index(f"ix_intake_{table}_{column}_prefix", column, postgresql_ops={column: "text_pattern_ops"})


class ItemReplica(SQLModel, table=True):
    """One published (or retired) item version as the catalogue sent it; never updated."""

    __tablename__ = "item_versions"
    __table_args__ = (Index("ix_intake_item_versions_base_code", "base_code"), {"schema": SCHEMA})

    implementation_code: str = Field(primary_key=True, max_length=40)
    version: int = Field(primary_key=True)
    base_code: str = Field(max_length=20)
    implementing_org: str = Field(max_length=12)
    status: str = Field(max_length=16)
    effective_date: date
    # The whole `ItemVersionData`: a case keeps the version it was accepted under.
    data: dict[str, Any] = _json()
    recorded_at: datetime | None = _recorded_at()


class Counter(SQLModel, table=True):
    """The last sequence number handed out per kind (case, notice), org unit and day."""

    __tablename__ = "counters"
    __table_args__ = {"schema": SCHEMA}

    kind: str = Field(primary_key=True, max_length=16)
    org: str = Field(primary_key=True, max_length=12)
    day: date = Field(primary_key=True)
    last: int = 0


class Case(SQLModel, table=True):
    """A case (办件) as the point where the citizen applied knows it."""

    __tablename__ = "cases"
    __table_args__ = (
        _org_index("cases"),
        Index("ix_intake_cases_accepted", "accepted_at", "number"),
        Index("ix_intake_cases_item", "item_code"),
        {"schema": SCHEMA},
    )

    # HTTP says `case_number` (docs/api-vocabulary.md); the column keeps its first name.
    number: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=12, description="The accepting org unit")
    item_code: str = Field(max_length=40)
    item_version: int
    # The `ItemVersionData` accepted under, copied so the case never depends on the replica again.
    item: dict[str, Any] = _json()
    channel: str = Field(max_length=16)
    applicant: dict[str, Any] = _json()
    representative: dict[str, Any] | None = _json(nullable=True)
    # [{code, name, form, copies}] as presented at acceptance.
    materials: list[dict[str, Any]] = _json()
    # [{code, name, due_date, supplied_at}] accepted missing (容缺受理).
    deficiencies: list[dict[str, Any]] = _json()
    # Codes of the conditional materials the applicant said apply (they became required).
    conditions_met: list[str] = Field(
        default_factory=empty_list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'"))
    )
    green_channel: bool = False
    first_responder: dict[str, Any] = _json()
    query_code: str = Field(max_length=16)
    accepted_at: datetime = Field(sa_type=_TZ)
    promised_date: date
    promised_date_provisional: bool = False
    # Promised date as moved by pauses and extensions (routing's CaseResumed / CaseExtended) and
    # by the year's official schedule once loaded (CaseDueRecomputed, which also says if it may
    # still move).
    due_date: date
    due_date_provisional: bool = False
    status: str = Field(max_length=24)
    holding_org: str = Field(max_length=12)
    outcome: str | None = Field(default=None, max_length=16)
    result: str | None = None
    reasons: list[str] = _json()
    legal_basis: list[str] = _json()
    deciding_org: str | None = Field(default=None, max_length=12)
    decided_at: datetime | None = Field(default=None, sa_type=_TZ)
    # The issues of the pending supplement request (补正), empty when none is pending.
    pending_supplement: list[dict[str, Any]] = _json()
    supervision_flag: str | None = Field(default=None, max_length=8)
    handover: dict[str, Any] | None = _json(nullable=True)
    updated_at: datetime | None = _recorded_at()


class CaseStage(SQLModel, table=True):
    """One step of a case's journey as the public progress page shows it (no personal data)."""

    __tablename__ = "case_stages"
    __table_args__ = (Index("ix_intake_case_stages_case", "case_number", "id"), {"schema": SCHEMA})

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    case_number: str = Field(
        sa_column=Column(String(40), ForeignKey(f"{SCHEMA}.cases.number"), nullable=False)
    )
    stage: str = Field(max_length=32)
    org: str = Field(max_length=12)
    note: str = ""
    at: datetime = Field(sa_type=_TZ)


class OneTimeNotice(SQLModel, table=True):
    """A one-time notice (一次性告知): every missing or wrong material, told in one go, kept."""

    __tablename__ = "notices"
    __table_args__ = (_org_index("notices"), {"schema": SCHEMA})

    number: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=12)
    item_code: str = Field(max_length=40)
    item_version: int
    item_name: str
    applicant_name: str
    issued_by: dict[str, Any] = _json()
    # [MaterialIssue as JSON]
    issues: list[dict[str, Any]] = _json()
    # [ConditionalReminder as JSON]: conditional materials not claimed, with their conditions.
    conditional: list[dict[str, Any]] = Field(
        default_factory=empty_list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'"))
    )
    issued_at: datetime = Field(sa_type=_TZ)


class Supplement(SQLModel, table=True):
    """Materials brought in after acceptance: for a supplement request (补正) or a deficiency."""

    __tablename__ = "supplements"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True, max_length=36)
    case_number: str = Field(
        sa_column=Column(String(40), ForeignKey(f"{SCHEMA}.cases.number"), nullable=False)
    )
    kind: str = Field(max_length=16, description="supplement | deficiency")
    materials: list[dict[str, Any]] = _json()
    recorded_by: dict[str, Any] = _json()
    recorded_at: datetime = Field(sa_type=_TZ)


class Evaluation(SQLModel, table=True):
    """The citizen's rating (好差评), one per case."""

    __tablename__ = "evaluations"
    __table_args__ = {"schema": SCHEMA}

    case_number: str = Field(
        sa_column=Column(String(40), ForeignKey(f"{SCHEMA}.cases.number"), primary_key=True)
    )
    level: str = Field(max_length=24)
    scores: dict[str, Any] = _json()
    comment: str = ""
    evaluated_at: datetime = Field(sa_type=_TZ)


class Rectification(SQLModel, table=True):
    """Opened by a dissatisfied rating: the supervisors must see it put right by `due_date`."""

    __tablename__ = "rectifications"
    __table_args__ = (_org_index("rectifications"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=36)
    case_number: str = Field(
        sa_column=Column(String(40), ForeignKey(f"{SCHEMA}.cases.number"), nullable=False)
    )
    org: str = Field(max_length=12)
    reason: str
    due_date: date
    opened_at: datetime = Field(sa_type=_TZ)


class Complaint(SQLModel, table=True):
    """A complaint against a case, a window or a person, for the supervisors."""

    __tablename__ = "complaints"
    __table_args__ = (_org_index("complaints"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=36)
    org: str = Field(max_length=12)
    target: str = Field(max_length=16)
    case_number: str | None = Field(default=None, max_length=40)
    target_ref: str | None = Field(default=None, max_length=100)
    summary: str
    contact_phone: str | None = Field(default=None, max_length=30)
    filed_by: str = Field(max_length=200, description="The staff member's sub, or `public`")
    filed_at: datetime = Field(sa_type=_TZ)


class OutsideSystem(SQLModel, table=True):
    """A township's own system allowed to push events through the door (daiban_contracts.ingress).

    Its HTTP token is random and opaque; only its SHA-256 is kept, so this table leaks no usable
    credential. Revoked systems stay, so what they pushed keeps an attributable actor.
    """

    __tablename__ = "outside_systems"
    __table_args__ = (
        Index("uq_intake_outside_systems_token_hash", "token_hash", unique=True),
        _org_index("outside_systems", "township"),
        {"schema": SCHEMA},
    )

    system: str = Field(primary_key=True, max_length=40)
    township: str = Field(max_length=12)
    name: str = Field(max_length=100)
    types: list[str] = _json()
    token_hash: str = Field(max_length=64)
    issued_at: datetime = Field(sa_type=_TZ)
    issued_by: str = Field(max_length=200)
    revoked_at: datetime | None = Field(default=None, sa_type=_TZ)
    revoked_by: str | None = Field(default=None, max_length=200)
