"""directory version: counted up by a trigger on every change of the directory's tables

Revision ID: f2b9d4c6e813
Revises: e4a1b6c8f235
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b9d4c6e813"
down_revision: str | None = "e4a1b6c8f235"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What assignments read from the cached directory (daiban_routing.queries.lookup.DirectoryCache).
TABLES = ("org_units", "departments", "windows", "staff")


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="routing",
    )
    op.execute("INSERT INTO routing.directory_version (id, version) VALUES (1, 0)")
    # Statement-level and in the writer's transaction: a reader that sees the new version sees the
    # change (a sequence would move before the change commits, and a cache could keep the old rows
    # under the new number).
    op.execute(
        """
        CREATE FUNCTION routing.directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE routing.directory_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON routing.{table} FOR EACH STATEMENT EXECUTE FUNCTION routing.directory_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_directory_changed ON routing.{table}")
    op.execute("DROP FUNCTION routing.directory_changed()")
    op.drop_table("directory_version", schema="routing")
