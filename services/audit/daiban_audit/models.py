"""Tables owned by the audit service (schema `audit`)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from daiban_audit.domain.chain import GENESIS_HASH
from daiban_common.idempotency import idempotency_table
from daiban_common.messaging import messaging_tables
from daiban_common.orgunits import org_units_replica
from daiban_common.schedules import calendar_years_replica

SCHEMA = "audit"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
# Replays and discards of dead letters take an Idempotency-Key (daiban_common.deadletters).
idempotency = idempotency_table(SCHEMA)
# The county's org units as routing publishes them: whose tokens this service accepts.
org_units = org_units_replica(SCHEMA)
# The official schedules routing announces, loaded into the process calendar at start.
calendar_years = calendar_years_replica(SCHEMA)


def _timestamp(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable)


class ChainHead(SQLModel, table=True):
    """The head of a hash chain; its row lock serialises appends to that chain."""

    __tablename__ = "chain_heads"
    __table_args__ = {"schema": SCHEMA}

    chain: str = Field(primary_key=True, max_length=40)
    size: int = Field(default=0, sa_type=BigInteger)
    head_hash: str = Field(default=GENESIS_HASH, max_length=64)
    checkpointed_size: int = Field(default=0, sa_type=BigInteger)
    checkpointed_at: datetime | None = _timestamp(nullable=True)


class LogEntry(SQLModel, table=True):
    """One entry of the node's log: an event, attributed, chained to the entry before it."""

    __tablename__ = "entries"
    __table_args__ = (
        # text_pattern_ops: org scoping is `org LIKE '<prefix>%'`.
        Index("ix_audit_entries_org", "org", postgresql_ops={"org": "text_pattern_ops"}),
        Index("ix_audit_entries_subject", "subject", "seq"),
        Index("ix_audit_entries_actor", "actor", "seq"),
        Index("ix_audit_entries_type", "type", "seq"),
        Index("ix_audit_entries_time", "time"),
        {"schema": SCHEMA},
    )

    # Assigned by the append (head size + 1), never by a sequence: a chain has no gaps.
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str = Field(max_length=36, unique=True)
    type: str
    source: str
    subject: str
    time: datetime = _timestamp()
    recorded_at: datetime = _timestamp()
    org: str = Field(max_length=12)
    actor: str
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Checkpoint(SQLModel, table=True):
    """A checkpoint this node signed (and sent to its parent); the local copy."""

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("chain", "size"), {"schema": SCHEMA})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    chain: str = Field(max_length=40)
    size: int = Field(sa_type=BigInteger)
    head_hash: str = Field(max_length=64)
    signed_at: datetime = _timestamp()
    public_key: str
    signature: str
    event_id: str = Field(max_length=36, unique=True)


class HeldCheckpoint(SQLModel, table=True):
    """A checkpoint a child node sent us, signature verified: the anchor against its rewrites."""

    __tablename__ = "held_checkpoints"
    __table_args__ = (Index("ix_audit_held_checkpoints_node", "node_org", "size"), {"schema": SCHEMA})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    node_org: str = Field(max_length=12)
    node: str
    chain: str = Field(max_length=40)
    size: int = Field(sa_type=BigInteger)
    head_hash: str = Field(max_length=64)
    signed_at: datetime = _timestamp()
    public_key: str
    signature: str
    event_id: str = Field(max_length=36, unique=True)
    received_at: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class NodeKey(SQLModel, table=True):
    """The public key first seen from a child node; later checkpoints must carry the same one."""

    __tablename__ = "node_keys"
    __table_args__ = {"schema": SCHEMA}

    node_org: str = Field(primary_key=True, max_length=12)
    public_key: str
    first_seen_at: datetime = _timestamp()


class CaseFact(SQLModel, table=True):
    """What statistics need to know about a case from its earlier events."""

    __tablename__ = "case_facts"
    __table_args__ = {"schema": SCHEMA}

    case_number: str = Field(primary_key=True)
    accepting_org: str = Field(max_length=12)
    item_code: str
    kind: str
    channel: str
    department: str
    window: str | None = None
    # The unit the case was assigned in: whose department and window `department` and `window` are.
    window_org: str | None = Field(default=None, max_length=12)
    first_responder: str
    accepted_at: datetime = _timestamp()
    promised_date: date
    deciding_org: str | None = Field(default=None, max_length=12)
    concluded_at: datetime | None = _timestamp(nullable=True)


class StatCounter(SQLModel, table=True):
    """One counter: a metric of a unit (rolled up from below) on one day, overall or per key."""

    __tablename__ = "stat_counters"
    __table_args__ = {"schema": SCHEMA}

    org: str = Field(primary_key=True, max_length=12)
    dimension: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=120)
    metric: str = Field(primary_key=True, max_length=40)
    value: int = Field(default=0, sa_type=BigInteger)
