"""Migration steps for the platform's tables, which every service keeps in its own schema (the
outbox, inbox and dead letters; the idempotency record; the replicas of the county's org units
and of the official schedules).

A service's revision calls these instead of spelling the tables out again. Each function is a
step of history: once released it never changes, or databases migrated before would differ from
new ones; a change to a platform table is a new function that each service's next revision calls.
`tests/integration/test_migrations.py` holds the result against the models (`alembic check`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def create_messaging_tables(schema: str) -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id"),
        schema=schema,
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
        schema=schema,
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("traceparent", sa.Text(), nullable=True),
        _created_at(),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        schema=schema,
    )
    op.create_index(
        f"ix_{schema}_outbox_pending",
        "outbox",
        ["seq"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def drop_messaging_tables(schema: str) -> None:
    op.drop_index(
        f"ix_{schema}_outbox_pending",
        table_name="outbox",
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox", schema=schema)
    op.drop_table("inbox", schema=schema)
    op.drop_table("dead_letters", schema=schema)


def create_org_units_replica(schema: str) -> None:
    op.create_table(
        "org_units",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("code"),
        schema=schema,
    )


def drop_org_units_replica(schema: str) -> None:
    op.drop_table("org_units", schema=schema)


def create_staff_replica(schema: str) -> None:
    """`daiban_common.staffdir.staff_replica`: who the directory's staff are and where they work."""
    op.create_table(
        "staff_directory",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
        schema=schema,
    )


def drop_staff_replica(schema: str) -> None:
    op.drop_table("staff_directory", schema=schema)


def create_idempotency_table(schema: str) -> None:
    op.create_table(
        "idempotency",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("scope", "operation", "key"),
        schema=schema,
    )
    op.create_index(
        f"ix_{schema}_idempotency_created_at", "idempotency", ["created_at"], unique=False, schema=schema
    )


def drop_idempotency_table(schema: str) -> None:
    op.drop_index(f"ix_{schema}_idempotency_created_at", table_name="idempotency", schema=schema)
    op.drop_table("idempotency", schema=schema)


def create_calendar_years_replica(schema: str) -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("workdays", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
        schema=schema,
    )


def drop_calendar_years_replica(schema: str) -> None:
    op.drop_table("calendar_years", schema=schema)


def outbox_rows_per_subject(schema: str) -> None:
    """An event and its copies for other nodes (daiban_contracts.crossing) are rows of their own:
    one per (event id, subject) rather than one per event id."""
    op.drop_constraint("outbox_event_id_key", "outbox", schema=schema, type_="unique")
    op.create_unique_constraint(
        f"uq_{schema}_outbox_event_subject", "outbox", ["event_id", "subject"], schema=schema
    )


def outbox_rows_per_event(schema: str) -> None:
    op.drop_constraint(f"uq_{schema}_outbox_event_subject", "outbox", schema=schema, type_="unique")
    op.create_unique_constraint("outbox_event_id_key", "outbox", ["event_id"], schema=schema)


def dead_letters_in_plain_sight(schema: str) -> None:
    """Dead letters a person can find, replay and discard (daiban_common.deadletters): the org that
    scopes them, their status, who settled them when and how. Rows parked before get the org their
    subject is addressed to (`<root>.<county6>.<township3>.<village3>.…`)."""
    for column in (
        sa.Column("org", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("discard_reason", sa.Text(), nullable=True),
        sa.Column("replay_outcome", sa.String(length=16), nullable=True),
        sa.Column("replay_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_replay_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_replay_error", sa.Text(), nullable=True),
        sa.Column("replayed_envelope", sa.Text(), nullable=True),
    ):
        op.add_column("dead_letters", column, schema=schema)
    org_tokens = r"^[a-z][a-z0-9_]*[.]([0-9]{6})[.]([0-9]{3})[.]([0-9]{3})[.]"
    op.execute(
        f"UPDATE {schema}.dead_letters SET org = m[1] || m[2] || m[3] "
        f"FROM (SELECT id AS dl, regexp_match(subject, '{org_tokens}') AS m FROM {schema}.dead_letters) "
        "AS found WHERE found.dl = id AND m IS NOT NULL"
    )
    op.create_index(f"ix_{schema}_dead_letters_status", "dead_letters", ["status", "id"], schema=schema)


def dead_letters_out_of_sight(schema: str) -> None:
    op.drop_index(f"ix_{schema}_dead_letters_status", table_name="dead_letters", schema=schema)
    for name in (
        "replayed_envelope",
        "last_replay_error",
        "last_replay_at",
        "replay_attempts",
        "replay_outcome",
        "discard_reason",
        "resolved_by",
        "resolved_at",
        "status",
        "org",
    ):
        op.drop_column("dead_letters", name, schema=schema)
