"""dead letters in plain sight: status, org, who settled them

Revision ID: c2e8f4a6d013
Revises: b5c8d2e4f635
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "c2e8f4a6d013"
down_revision: str | None = "b5c8d2e4f635"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.dead_letters_in_plain_sight("catalogue")


def downgrade() -> None:
    migration_steps.dead_letters_out_of_sight("catalogue")
