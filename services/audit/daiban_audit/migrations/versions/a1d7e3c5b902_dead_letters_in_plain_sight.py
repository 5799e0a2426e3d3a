"""dead letters in plain sight: status, org, who settled them (and the idempotency table of the platform)

Revision ID: a1d7e3c5b902
Revises: f7c3a9e5b224
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "a1d7e3c5b902"
down_revision: str | None = "f7c3a9e5b224"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.dead_letters_in_plain_sight("audit")
    migration_steps.create_idempotency_table("audit")


def downgrade() -> None:
    migration_steps.drop_idempotency_table("audit")
    migration_steps.dead_letters_out_of_sight("audit")
