"""invitations: an index on sent_at for the per-minute send cap

Revision ID: 0021_invitations_sent
Revises: 0020_period_scores
Create Date: 2026-12-07 15:30:00.000000
"""

from alembic import op

revision = "0021_invitations_sent"
down_revision = "0020_period_scores"
branch_labels = None
depends_on = None


# The dispatcher counts the messages every dispatcher sent in the last minute before each
# batch (SEND_CAP_PER_MINUTE): without an index that count read every invitation ever made.
def upgrade() -> None:
    op.create_index("ix_invitations_sent", "invitations", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_invitations_sent", table_name="invitations")
