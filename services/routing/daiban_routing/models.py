"""Tables owned by the routing service (schema `routing`).

Directory: org units with their service points, departments per org unit, windows (with their A
and B posts) and staff. Work: one `cases` row per case this node has seen, its hops between
tiers, tasks (one per department), pauses, the case timeline and the flags supervision has raised.
"""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from daiban_common.db import empty_list
from daiban_common.idempotency import idempotency_table
from daiban_common.messaging import messaging_tables

SCHEMA = "routing"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
# Answers of creating POSTs, for Idempotency-Key replays (daiban_common.idempotency).
idempotency = idempotency_table(SCHEMA)

_TZ = DateTime(timezone=True)
_JSON = JSONB()


def _org_index(table: str) -> Index:
    # Subtree scoping is `org LIKE '370285101%'`; text_pattern_ops lets a btree answer it.
    return Index(f"ix_routing_{table}_org_prefix", "org", postgresql_ops={"org": "text_pattern_ops"})


class OrgUnit(SQLModel, table=True):
    """An org unit (区划单位) from the division codes, with its service point (中心/代办点)."""

    __tablename__ = "org_units"
    __table_args__ = (
        Index("ix_routing_org_units_code_prefix", "code", postgresql_ops={"code": "text_pattern_ops"}),
        {"schema": SCHEMA},
    )

    code: str = Field(primary_key=True, max_length=12)
    name: str
    tier: str = Field(max_length=16)
    parent_code: str | None = Field(default=None, max_length=12, index=True)
    point_name: str = ""
    address: str = ""
    phone: str = ""
    opening_hours: str = ""


class Department(SQLModel, table=True):
    """A department at one org unit: a county bureau at the county, an office at each township."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("org", "code"), _org_index("departments"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=36)
    org: str = Field(max_length=12)
    code: str = Field(max_length=64, description="<tier>.<slug>, as the catalogue names it")
    name: str


class Window(SQLModel, table=True):
    """A window (窗口) of an org unit's hall: the departments it serves and its A and B posts."""

    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("org", "number"), _org_index("windows"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=36)
    org: str = Field(max_length=12)
    number: str = Field(max_length=16)
    name: str
    departments: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String), nullable=False)
    )
    a_post: str | None = Field(default=None, max_length=64)
    b_post: str | None = Field(default=None, max_length=64)


class Staff(SQLModel, table=True):
    """A person; `id` is the subject (`sub`) of their token."""

    __tablename__ = "staff"
    __table_args__ = (_org_index("staff"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=64)
    name: str
    role: str = Field(max_length=16)
    org: str = Field(max_length=12)
    windows: list[str] = Field(
        default_factory=empty_list,
        sa_column=Column(ARRAY(String), nullable=False),
        description="Numbers of the windows of `org` the person works at",
    )
    on_duty: bool = True
    absent_from: datetime | None = Field(default=None, sa_type=_TZ)
    absent_until: datetime | None = Field(default=None, sa_type=_TZ)
    absence_reason: str | None = None


class DirectoryVersion(SQLModel, table=True):
    """One row, counted up by a trigger whenever org units, departments, windows or staff change
    (in the same transaction): the directory cached for assignments (queries.lookup.DirectoryCache)
    is reloaded when it moves, in every process of the node."""

    __tablename__ = "directory_version"
    __table_args__ = ({"schema": SCHEMA},)

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger)


class Case(SQLModel, table=True):
    """Routing's record of a case: where it is, its clock and, once decided, the decision."""

    __tablename__ = "cases"
    __table_args__ = (
        Index(
            "ix_routing_cases_current_org_prefix",
            "current_org",
            postgresql_ops={"current_org": "text_pattern_ops"},
        ),
        Index("ix_routing_cases_status", "status"),
        # Supervision walks the open cases in case-number order (see supervision.candidates).
        Index(
            "ix_routing_cases_open",
            "case_number",
            postgresql_where=text("status IN ('assigned', 'in_review', 'paused', 'escalated')"),
        ),
        {"schema": SCHEMA},
    )

    case_number: str = Field(primary_key=True, max_length=64)
    accepting_org: str = Field(max_length=12)
    # HTTP calls it `holding_org`, as intake does (docs/api-vocabulary.md); the column keeps its name.
    current_org: str = Field(max_length=12)
    deciding_org: str | None = Field(default=None, max_length=12)
    status: str = Field(max_length=32)
    summary: dict[str, Any] = Field(sa_column=Column(_JSON, nullable=False))
    first_responder_id: str = Field(max_length=64, index=True)
    green_channel: bool = False
    accepted_at: datetime = Field(sa_type=_TZ)
    start_date: date
    limit_working_days: int
    extension_working_days: int = 0
    extension_reason: str | None = None
    due_date: date
    due_provisional: bool = False
    supplement_requested: bool = False
    home_visit: bool = False
    escalated_authority: str | None = None
    follow_up_date: date | None = None
    outcome: str | None = Field(default=None, max_length=16)
    result: str | None = None
    reasons: list[str] = Field(default_factory=empty_list, sa_column=Column(_JSON, nullable=False))
    legal_basis: list[str] = Field(default_factory=empty_list, sa_column=Column(_JSON, nullable=False))
    decided_at: datetime | None = Field(default=None, sa_type=_TZ)
    decided_by: dict[str, Any] | None = Field(default=None, sa_column=Column(_JSON))
    last_activity_at: datetime = Field(sa_type=_TZ)


class Hop(SQLModel, table=True):
    """One move of a case between org units, with when it was sent and received."""

    __tablename__ = "hops"
    __table_args__ = (UniqueConstraint("case_number", "direction", "hop"), {"schema": SCHEMA})

    id: str = Field(primary_key=True, max_length=36)
    case_number: str = Field(max_length=64, index=True)
    direction: str = Field(max_length=8)
    hop: int
    from_org: str = Field(max_length=12)
    to_org: str = Field(max_length=12)
    sent_at: datetime = Field(sa_type=_TZ)
    received_at: datetime | None = Field(default=None, sa_type=_TZ)
    received_by: str | None = None


class Task(SQLModel, table=True):
    """The work of one department on one case at the deciding org unit."""

    __tablename__ = "tasks"
    __table_args__ = (
        _org_index("tasks"),
        Index("ix_routing_tasks_queue", "priority", "created_at", "id"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True, max_length=36)
    case_number: str = Field(max_length=64, index=True)
    org: str = Field(max_length=12)
    department: str = Field(max_length=64)
    department_name: str
    lead: bool = True
    kind: str = Field(default="review", max_length=16, description="review | external (escalated)")
    window_id: str | None = Field(default=None, max_length=36)
    window_number: str | None = Field(default=None, max_length=16)
    staff_id: str | None = Field(default=None, max_length=64)
    post: str = Field(max_length=8)
    status: str = Field(max_length=32)
    # 0 for green channel cases (绿色通道): they go to the front of every queue.
    priority: int = 1
    limit_working_days: int
    due_date: date
    created_at: datetime = Field(sa_type=_TZ)
    claimed_at: datetime | None = Field(default=None, sa_type=_TZ)
    decided_at: datetime | None = Field(default=None, sa_type=_TZ)
    decided_by: dict[str, Any] | None = Field(default=None, sa_column=Column(_JSON))
    outcome: str | None = Field(default=None, max_length=16)
    result: str | None = None
    reasons: list[str] = Field(default_factory=empty_list, sa_column=Column(_JSON, nullable=False))
    legal_basis: list[str] = Field(default_factory=empty_list, sa_column=Column(_JSON, nullable=False))


class PauseRecord(SQLModel, table=True):
    """A stretch when the case's clock stood still: a supplement or a special procedure."""

    __tablename__ = "pauses"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True, max_length=36)
    case_number: str = Field(max_length=64, index=True)
    task_id: str | None = Field(default=None, max_length=36)
    kind: str = Field(
        max_length=32, description="supplement | site_survey | expert_review | hearing | public_notice"
    )
    reason: str
    expected_working_days: int = 0
    issues: list[dict[str, Any]] = Field(default_factory=empty_list, sa_column=Column(_JSON, nullable=False))
    started_at: datetime = Field(sa_type=_TZ)
    started_by: str
    ended_at: datetime | None = Field(default=None, sa_type=_TZ)
    ended_by: str | None = None


class TimelineEntry(SQLModel, table=True):
    """What happened to a case, in words for people; the first responder's notifications too."""

    __tablename__ = "timeline"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    case_number: str = Field(max_length=64, index=True)
    first_responder_id: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_type=_TZ)
    org: str = Field(max_length=12)
    actor: str
    kind: str = Field(max_length=32)
    text: str


class RaisedFlag(SQLModel, table=True):
    """The flag the sweep last announced for a case, so it announces each change only once."""

    __tablename__ = "flags"
    __table_args__ = {"schema": SCHEMA}

    case_number: str = Field(primary_key=True, max_length=64)
    org: str = Field(max_length=12)
    level: str = Field(max_length=8)
    reason: str
    due_date: date
    raised_at: datetime = Field(sa_type=_TZ)


class PublishedYear(SQLModel, table=True):
    """A year's official schedule (the State Council's notice) as an administrator loaded it.

    Every routing process loads these into its calendar at start; the event carries them to the
    other services.
    """

    __tablename__ = "calendar_years"
    __table_args__ = {"schema": SCHEMA}

    year: int = Field(primary_key=True)
    holidays: list[date] = Field(sa_column=Column(ARRAY(sa.Date()), nullable=False))
    workdays: list[date] = Field(sa_column=Column(ARRAY(sa.Date()), nullable=False))
    reference: str
    loaded_by: str = Field(max_length=64)
    loaded_at: datetime = Field(sa_type=_TZ)
