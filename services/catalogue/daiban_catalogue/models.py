"""Tables owned by the catalogue service (schema `catalogue`).

`item_versions` is the record: one immutable row per published version, the whole
`ItemVersionData` in `data` plus copies of the fields people filter and search on (written once,
with the row, and never updated). `items` holds what changes: the draft being edited and which
version is current. Search and lists read the current version's row, never the draft, so an
unpublished edit is invisible to the public.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from daiban_common.idempotency import idempotency_table
from daiban_common.messaging import messaging_tables
from daiban_common.orgunits import org_units_replica

SCHEMA = "catalogue"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
# Answers of creating POSTs, for Idempotency-Key replays (daiban_common.idempotency).
idempotency = idempotency_table(SCHEMA)
# The county's org units as routing publishes them: whose tokens this service accepts.
org_units = org_units_replica(SCHEMA)


def _timestamp() -> Any:
    # Set by the database (None until the row is flushed), so every node writes its own clock.
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Department(SQLModel, table=True):
    """The department ids items may name, with the name printed in the handbook."""

    __tablename__ = "departments"
    __table_args__ = {"schema": SCHEMA}

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    tier: str = Field(max_length=16)


class Item(SQLModel, table=True):
    """An item's identity, its draft and its current version number (None until first published)."""

    __tablename__ = "items"
    __table_args__ = {"schema": SCHEMA}

    implementation_code: str = Field(primary_key=True, max_length=40)
    base_code: str = Field(max_length=20)
    implementing_org: str = Field(max_length=12)
    # draft (never published) | published | retired: the status of the current version.
    status: str = Field(max_length=16)
    draft: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    current_version: int | None = None
    created_at: datetime | None = _timestamp()
    draft_updated_at: datetime | None = _timestamp()


class ItemVersion(SQLModel, table=True):
    """One published version, never updated after insert."""

    __tablename__ = "item_versions"
    __table_args__ = (
        Index("ix_catalogue_item_versions_recorded", "recorded_at", "implementation_code"),
        Index("ix_catalogue_item_versions_effective", "effective_date"),
        Index("ix_catalogue_item_versions_acceptable_tiers", "acceptable_tiers", postgresql_using="gin"),
        Index("ix_catalogue_item_versions_departments", "departments", postgresql_using="gin"),
        Index(
            "ix_catalogue_item_versions_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        {"schema": SCHEMA},
    )

    implementation_code: str = Field(
        sa_column=Column(
            Text, ForeignKey(f"{SCHEMA}.items.implementation_code"), primary_key=True, nullable=False
        )
    )
    version: int = Field(primary_key=True)
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    base_code: str = Field(max_length=20)
    name: str
    name_pinyin: str
    name_initials: str
    # Normalised name, pinyin, initials, codes and keywords, one per line (see domain.search).
    search_text: str = Field(sa_type=Text)
    keywords: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    type: str = Field(max_length=40, index=True)
    kind: str = Field(max_length=16, index=True)
    handling_level: str = Field(max_length=16, index=True)
    status: str = Field(max_length=16)
    acceptable_tiers: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    departments: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    implementing_org: str = Field(max_length=12, index=True)
    online_available: bool
    # True on the version a delegation (or its reversal) created.
    moved_level: bool = False
    effective_date: date
    published_at: datetime = Field(sa_type=DateTime(timezone=True))
    # When this node recorded the version: what `updated_since` compares, for replicas catching up.
    recorded_at: datetime | None = _timestamp()
