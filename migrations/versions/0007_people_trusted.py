"""people.trusted: written by the secret-key API or a verified widget visit

Revision ID: 0007_people_trusted
Revises: 0006_period_answers
Create Date: 2026-12-06 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_people_trusted"
down_revision = "0006_period_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of `people` on SQLite drops the table, and with
    # foreign keys on, that drop cascades to every answer of every person.
    op.add_column(
        "people", sa.Column("trusted", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Who wrote an existing person is not known: every identified one is taken as the
    # server's, so that an unverified widget visit can no longer change it. Anonymous visitors
    # were only ever written by the widget.
    people = sa.table("people", sa.column("trusted", sa.Boolean), sa.column("anonymous", sa.Boolean))
    op.execute(people.update().where(people.c.anonymous.is_(False)).values(trusted=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), for the reason given in upgrade().
    op.drop_column("people", "trusted")
