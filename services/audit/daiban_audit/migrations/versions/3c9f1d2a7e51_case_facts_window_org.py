"""case facts: the unit a case was assigned in

Window and department counters are keyed by org unit from this revision on (`<org>:<code>`);
counters kept before stay under their bare codes (docs/operations.md, "Statistics by window and
department").

Revision ID: 3c9f1d2a7e51
Revises: 8646a31e5448
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9f1d2a7e51"
down_revision: str | None = "8646a31e5448"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "case_facts",
        sa.Column("window_org", sa.String(length=12), nullable=True),
        schema="audit",
    )


def downgrade() -> None:
    op.drop_column("case_facts", "window_org", schema="audit")
