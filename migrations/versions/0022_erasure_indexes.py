"""indexes for erasure: the child rows of a person and of an answer, sought by their key

Revision ID: 0022_erasure_indexes
Revises: 0021_invitations_sent
Create Date: 2026-12-07 19:00:00.000000
"""

from alembic import op

revision = "0022_erasure_indexes"
down_revision = "0021_invitations_sent"
branch_labels = None
depends_on = None

# Erasing a person deletes their person row and their answers. For each row deleted, the
# database looks for the rows whose foreign key points at it (to cascade), and without an
# index leading with that key it reads the whole child table: at a million period answers
# 70-80 ms per erased person on either database, growing with every answer ever stored, and on
# SQLite under the write lock. Theme assignments and alert events pointed at answers the same
# way (and erasure's own DELETE of a person's assignments read them all).
INDEXES = {
    "ix_period_answers_person_id": ("period_answers", ["person_id"]),
    "ix_theme_assignments_response": ("theme_assignments", ["response_id"]),
    "ix_alert_events_response": ("alert_events", ["response_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
