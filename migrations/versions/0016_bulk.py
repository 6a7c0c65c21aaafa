"""projects.periods_checked_id: how far the worker has checked answers against period rows

Revision ID: 0016_bulk
Revises: 0015_settings
Create Date: 2026-12-06 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_bulk"
down_revision = "0015_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of `projects` on SQLite would drop the table, and
    # with foreign keys on, the drop cascades to every row of the project. Null: the first
    # check reads every answer of the project once.
    op.add_column("projects", sa.Column("periods_checked_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "periods_checked_id")
