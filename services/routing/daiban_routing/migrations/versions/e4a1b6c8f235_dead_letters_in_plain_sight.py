"""dead letters in plain sight: status, org, who settled them

Revision ID: e4a1b6c8f235
Revises: d5a8c2e7f104
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "e4a1b6c8f235"
down_revision: str | None = "d5a8c2e7f104"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.dead_letters_in_plain_sight("routing")


def downgrade() -> None:
    migration_steps.dead_letters_out_of_sight("routing")
