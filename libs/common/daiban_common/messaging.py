"""The tables behind reliable messaging, one set per service schema.

outbox: events written in the same transaction as the state they describe.
inbox: (consumer, event id) pairs already applied, so a redelivered event changes nothing.
dead_letters: events a consumer could not apply, kept with the reason, never dropped, until a person
replays or discards them (daiban_common.deadletters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel


@dataclass(frozen=True)
class MessagingTables:
    schema: str
    outbox: Table
    inbox: Table
    dead_letters: Table


T = TypeVar("T")

# The platform's tables of each service schema, by (what, metadata, schema): SQLAlchemy refuses a
# table defined twice in one MetaData, and every service, test and migration asks for them.
_DEFINED: dict[tuple[str, int, str], Any] = {}


def defined_once(what: str, schema: str, metadata: MetaData | None, define: Callable[[MetaData], T]) -> T:
    """`define(metadata)` the first time `what` is asked for in `schema` of `metadata`, then the same."""
    metadata = metadata if metadata is not None else SQLModel.metadata
    key = (what, id(metadata), schema)
    if key not in _DEFINED:
        _DEFINED[key] = define(metadata)
    return cast(T, _DEFINED[key])


def messaging_tables(schema: str, metadata: MetaData | None = None) -> MessagingTables:
    """The outbox, inbox and dead-letter tables of `schema` (defined once per metadata)."""
    return defined_once("messaging", schema, metadata, lambda md: _define(schema, md))


def _define(schema: str, metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        # An event and its copies for other nodes share the id (daiban_contracts.crossing).
        Column("event_id", String(36), nullable=False),
        Column("subject", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("envelope", Text, nullable=False),
        Column("traceparent", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index(f"ix_{schema}_outbox_pending", "seq", postgresql_where=text("published_at IS NULL")),
        UniqueConstraint("event_id", "subject", name=f"uq_{schema}_outbox_event_subject"),
        schema=schema,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(120), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("type", Text, nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
        schema=schema,
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("consumer", String(120), nullable=False),
        Column("event_id", String(64)),
        Column("subject", Text, nullable=False),
        Column("type", Text),
        Column("payload", Text, nullable=False),
        Column("headers", JSONB),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # What a person needs to find, read and settle a dead letter (daiban_common.deadletters):
        # the org that scopes who may see it (the event's, else its subject's), where it stands,
        # and who settled it when, how.
        Column("org", String(12)),
        Column("status", String(16), nullable=False, server_default=text("'open'")),
        Column("resolved_at", DateTime(timezone=True)),
        Column("resolved_by", String(128)),
        Column("discard_reason", Text),
        Column("replay_outcome", String(16)),
        Column("replay_attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_replay_at", DateTime(timezone=True)),
        Column("last_replay_error", Text),
        # The envelope a replay applied, when it was a corrected one; `payload` stays as received.
        Column("replayed_envelope", Text),
        Index(f"ix_{schema}_dead_letters_status", "status", "id"),
        schema=schema,
    )
    return MessagingTables(schema=schema, outbox=outbox, inbox=inbox, dead_letters=dead_letters)
