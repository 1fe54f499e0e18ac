"""queue order index: drafts (status, urgency_rank DESC, created_at, id)

The review queue is read as `WHERE status = ? ORDER BY urgency_rank DESC, created_at, id
LIMIT/OFFSET`. ix_drafts_queue cannot give that order (mixed directions), so every page
sorted all drafts of the status and computed its columns for each; this index is walked in
order and the scan stops after offset + limit rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_drafts_queue_order",
        "drafts",
        ["status", sa.desc(sa.column("urgency_rank")), "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_drafts_queue_order", table_name="drafts")
